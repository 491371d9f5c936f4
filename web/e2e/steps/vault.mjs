// The vault in the browser: create the vault identity, upload a 50 MB file of random bytes
// (encrypted in the page, sent with tus), download it again (decrypted in the page), and check
// that it is byte-identical and that the server's disk holds no plaintext; lock and unlock.
// Then folders, rename, move, trash, restore and purge; sharing with a teammate and unsharing
// (which re-encrypts the content); and a tampered blob, which must save nothing.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const SIZE = 50 * 1024 * 1024;
const NAME = "vault-50mb.bin";
const PASSPHRASE = "a long vault passphrase for the journey";

/** Writes `size` random bytes in 1 MiB pieces; returns the SHA-256 (hex) and the first 64 bytes. */
async function writeRandom(path, size) {
  const hash = createHash("sha256");
  const out = createWriteStream(path);
  let head = null;
  for (let done = 0; done < size; ) {
    const piece = randomBytes(Math.min(1 << 20, size - done));
    if (!head) head = Buffer.from(piece.subarray(0, 64));
    hash.update(piece);
    if (!out.write(piece)) await new Promise((r) => out.once("drain", r));
    done += piece.length;
  }
  await new Promise((res, rej) => out.end((e) => (e ? rej(e) : res())));
  return { sha256: hash.digest("hex"), head };
}

async function sha256Of(path) {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk);
  return hash.digest("hex");
}

function filesUnder(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? filesUnder(join(dir, d.name)) : [join(dir, d.name)],
  );
}

/** Waits for a transfer's progress bar to finish; returns the values it was seen at. */
async function waitForTransfer(page, label, timeoutMs) {
  const bar = page.getByRole("progressbar", { name: label });
  await bar.waitFor();
  const row = page.locator("li[data-transfer]").filter({ has: bar });
  const seen = new Set();
  const until = Date.now() + timeoutMs;
  for (;;) {
    const state = await row.getAttribute("data-transfer");
    seen.add(await bar.getAttribute("aria-valuenow"));
    if (state === "done") return seen;
    if (state === "error" || state === "cancelled") {
      throw new Error(`${label}: ${state}: ${await row.getByRole("alert").textContent().catch(() => "")}`);
    }
    if (Date.now() > until) throw new Error(`${label}: not finished after ${timeoutMs / 1000} s (at ${[...seen].pop()}%)`);
    await page.waitForTimeout(200);
  }
}

/** The live items list, and one row of it by exact name. */
const items = (page) => page.getByRole("region", { name: "Items" });
const rowOf = (page, name) => items(page).locator("li").filter({ has: page.getByText(name, { exact: true }) });

/** Opens the Vault from the main navigation (a fresh mount: the list is read again). */
async function openVault(page) {
  const nav = page.getByRole("navigation", { name: "Main" });
  await nav.getByRole("link", { name: "Chat" }).click();
  await nav.getByRole("link", { name: "Vault" }).click();
  await page.getByRole("button", { name: "Lock vault" }).waitFor();
}

async function openFolder(page, name) {
  await items(page).getByRole("link", { name, exact: true }).click();
  await page.getByRole("navigation", { name: "Folder path" }).locator('[aria-current="page"]', { hasText: name }).waitFor();
}

async function toTop(page) {
  await page.getByRole("navigation", { name: "Folder path" }).getByRole("link", { name: "All files" }).click();
  await page.waitForURL((u) => u.pathname === "/vault");
}

async function newFolder(page, name) {
  await page.getByRole("button", { name: "New folder" }).click();
  const dialog = page.getByRole("dialog", { name: "New folder" });
  await dialog.getByLabel("Folder name").fill(name);
  await dialog.getByRole("button", { name: "Create folder" }).click();
  await rowOf(page, name).waitFor();
}

/** Calls the API as `username` with a bearer token (no cookie, so no CSRF token needed). */
async function apiAs(baseURL, auth, method, path, body) {
  const headers = { "Content-Type": "application/json" };
  if (auth.token) headers.Authorization = `Bearer ${auth.token}`;
  const res = await fetch(new URL(path, baseURL), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

async function login(baseURL, username, password) {
  return apiAs(baseURL, {}, "POST", "/api/v1/auth/login", { username, password });
}

/** Every file under the data directory but the models, as a list of paths. */
function dataFiles(dir) {
  return filesUnder(dir).filter((f) => !f.startsWith(join(dir, "models")));
}

export const steps = [
  {
    name: "vault-50mb",
    async run({ page, scratch, dataDir, state }) {
      await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Vault" }).click();

      // A new user has no vault: create it (the scrypt wrapping runs in a worker).
      await page.getByRole("heading", { name: "Create your vault" }).waitFor();
      await page.getByLabel("Vault passphrase", { exact: true }).fill(PASSPHRASE);
      await page.getByLabel("Repeat vault passphrase").fill(PASSPHRASE);
      const create = page.getByRole("button", { name: "Create vault" });
      assert.equal(await create.isDisabled(), true, "creating needs the loss warning acknowledged");
      await page.getByLabel(/I understand that if I lose this passphrase/).check();
      await create.click();
      await page.getByRole("button", { name: "Lock vault" }).waitFor({ timeout: 60_000 });
      await page.getByText("Your vault is empty.").waitFor();

      // 50 MB of random bytes, uploaded through the file input.
      const source = join(scratch, NAME);
      const plain = await writeRandom(source, SIZE);
      await page.getByLabel("Upload files").setInputFiles(source);
      const seen = await waitForTransfer(page, `Uploading ${NAME}`, 240_000);
      assert.ok(seen.has("100"), `the upload bar reached 100% (seen ${[...seen].join(", ")})`);
      const row = page.getByRole("region", { name: "Items" }).locator("li", { hasText: NAME });
      await row.waitFor();
      assert.equal(await row.locator("[data-context]").getAttribute("data-context"), "local");

      // The server's disk holds ciphertext only.
      const dir = dataDir ?? process.env.SELAH_DATA_DIR;
      if (dir) {
        const blobs = filesUnder(join(dir, "vault", "blobs"));
        assert.ok(
          blobs.some((f) => statSync(f).size > SIZE),
          `a blob of the encrypted file is under ${join(dir, "vault", "blobs")} (found ${blobs.length} files)`,
        );
        for (const f of filesUnder(join(dir, "vault"))) {
          assert.equal(readFileSync(f).indexOf(plain.head), -1, `${f} must not contain the plaintext`);
        }
      } else {
        console.warn("e2e: vault-50mb: no data directory known (--url without SELAH_DATA_DIR); the blob check was skipped");
      }

      // Download through the page: decrypted in the browser, saved by the browser.
      const [download] = await Promise.all([
        page.waitForEvent("download", { timeout: 240_000 }),
        row.getByRole("button", { name: `Download ${NAME}` }).click(),
      ]);
      assert.equal(download.suggestedFilename(), NAME);
      const saved = join(scratch, `${NAME}.downloaded`);
      await download.saveAs(saved);
      assert.equal(await download.failure(), null);
      assert.equal(statSync(saved).size, SIZE);
      assert.equal(await sha256Of(saved), plain.sha256, "the downloaded file is byte-identical to the uploaded one");
      await waitForTransfer(page, `Downloading ${NAME}`, 10_000);

      // Locking forgets the key; a wrong passphrase is refused, the right one opens the vault again.
      await page.getByRole("button", { name: "Lock vault" }).click();
      await page.getByRole("heading", { name: "Unlock your vault" }).waitFor();
      await page.getByLabel("Vault passphrase").fill("not the vault passphrase");
      await page.getByRole("button", { name: "Unlock vault" }).click();
      await page.getByRole("alert").filter({ hasText: "Wrong vault passphrase." }).waitFor({ timeout: 60_000 });
      await page.getByLabel("Vault passphrase").fill(PASSPHRASE);
      await page.getByRole("button", { name: "Unlock vault" }).click();
      await page.getByRole("region", { name: "Items" }).locator("li", { hasText: NAME }).waitFor({ timeout: 60_000 });
      state.vaultPassphrase = PASSPHRASE;
    },
  },
  {
    name: "vault-folders",
    async run({ page, scratch, dataDir }) {
      // A folder, a file uploaded into it, and a rename.
      await newFolder(page, "Taxes");
      await openFolder(page, "Taxes");
      await page.getByText("This folder is empty.").waitFor();
      const receipt = join(scratch, "receipt.txt");
      writeFileSync(receipt, "Receipt: 42 EUR, paid in cash (e2e)\n");
      await page.getByLabel("Upload files").setInputFiles(receipt);
      await waitForTransfer(page, "Uploading receipt.txt", 60_000);
      await rowOf(page, "receipt.txt").getByRole("button", { name: "Rename receipt.txt" }).click();
      const rename = page.getByRole("dialog", { name: "Rename receipt.txt" });
      await rename.getByLabel("New name").fill("receipt-2025.txt");
      await rename.getByRole("button", { name: "Rename", exact: true }).click();
      await rowOf(page, "receipt-2025.txt").waitFor();

      // Up through the breadcrumbs; the big file moves into the folder.
      await toTop(page);
      await rowOf(page, "Taxes").waitFor();
      await rowOf(page, NAME).getByRole("button", { name: `Move ${NAME}`, exact: true }).click();
      const move = page.getByRole("dialog", { name: `Move ${NAME}` });
      await move.getByLabel("Move to").selectOption({ label: "Taxes" });
      await move.getByRole("button", { name: "Move", exact: true }).click();
      await rowOf(page, NAME).waitFor({ state: "detached" });

      // Trashing the folder takes its contents along; restoring brings them back.
      await rowOf(page, "Taxes").getByRole("button", { name: "Trash Taxes" }).click();
      await page.getByText("Your vault is empty.").waitFor();
      await page.getByRole("link", { name: "Trash", exact: true }).click();
      const trash = page.getByRole("region", { name: "Trash" });
      await trash.getByRole("button", { name: "Restore Taxes" }).click();
      await trash.getByText("The trash is empty.").waitFor();
      await page.getByRole("link", { name: "Back to files" }).click();
      await openFolder(page, "Taxes");
      await rowOf(page, "receipt-2025.txt").waitFor();
      await rowOf(page, NAME).waitFor();

      // Delete forever: gone from the trash too.
      await toTop(page);
      await newFolder(page, "Old papers");
      await rowOf(page, "Old papers").getByRole("button", { name: "Trash Old papers" }).click();
      await rowOf(page, "Old papers").waitFor({ state: "detached" });
      await page.getByRole("link", { name: "Trash", exact: true }).click();
      await trash.getByRole("button", { name: "Delete Old papers forever" }).click();
      await page.getByRole("dialog", { name: "Delete Old papers forever?" }).getByRole("button", { name: "Delete forever" }).click();
      await trash.getByText("The trash is empty.").waitFor();
      await page.getByRole("link", { name: "Back to files" }).click();
      await rowOf(page, "Taxes").waitFor();

      // The server never saw a name.
      const dir = dataDir ?? process.env.SELAH_DATA_DIR;
      if (dir) {
        for (const f of dataFiles(dir)) {
          const bytes = readFileSync(f);
          for (const name of ["receipt-2025", "Old papers", "42 EUR"]) assert.equal(bytes.indexOf(name), -1, `${f} must not contain "${name}"`);
        }
      }
    },
  },
  {
    name: "vault-share",
    async run(ctx) {
      const { page, baseURL, state } = ctx;
      // A teammate: a member account in a team with the founder (set up through the API).
      const founder = await login(baseURL, state.founder.username, state.founder.password);
      const mate = { username: "vaultmate", password: "another long password for the mate" };
      await apiAs(baseURL, founder, "POST", "/api/v1/admin/users", { ...mate, role: "member" });
      const team = await apiAs(baseURL, founder, "POST", "/api/v1/teams", { name: "Vault team" });
      const invite = await apiAs(baseURL, founder, "POST", `/api/v1/teams/${team.id}/invitations`, { role: "member" });
      await apiAs(baseURL, await login(baseURL, mate.username, mate.password), "POST", "/api/v1/teams/join", { code: invite.code });

      // The teammate signs in and creates their vault in their own browser.
      const person = await ctx.newPerson();
      const other = person.page;
      await other.goto("/");
      await other.getByLabel("Username").fill(mate.username);
      await other.getByLabel("Password").fill(mate.password);
      await other.getByRole("button", { name: "Sign in" }).click();
      await other.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Vault" }).click();
      await other.getByLabel("Vault passphrase", { exact: true }).fill("the mate's own vault passphrase");
      await other.getByLabel("Repeat vault passphrase").fill("the mate's own vault passphrase");
      await other.getByLabel(/I understand that if I lose this passphrase/).check();
      await other.getByRole("button", { name: "Create vault" }).click();
      await other.getByText("Your vault is empty.").waitFor({ timeout: 60_000 });

      // The founder shares the receipt: its header is rewrapped in the page for both keys.
      await openFolder(page, "Taxes");
      await rowOf(page, "receipt-2025.txt").getByRole("button", { name: "Share receipt-2025.txt" }).click();
      const share = page.getByRole("dialog", { name: "Share receipt-2025.txt" });
      await share.getByLabel(mate.username).check();
      await share.getByRole("button", { name: "Save recipients" }).click();
      await share.waitFor({ state: "detached" });
      await rowOf(page, "receipt-2025.txt").getByText("Shared with 1 person").waitFor();

      // The teammate sees it (at their top level: the folder is not shared) and opens it.
      await openVault(other);
      const theirs = rowOf(other, "receipt-2025.txt");
      await theirs.getByText("Shared with you").waitFor();
      const [download] = await Promise.all([other.waitForEvent("download"), theirs.getByRole("button", { name: "Download receipt-2025.txt" }).click()]);
      const got = join(ctx.scratch, "receipt-from-mate.txt");
      await download.saveAs(got);
      assert.equal(readFileSync(got, "utf8"), "Receipt: 42 EUR, paid in cash (e2e)\n");

      // Unsharing rewraps again and re-encrypts the content under a new key.
      await rowOf(page, "receipt-2025.txt").getByRole("button", { name: "Share receipt-2025.txt" }).click();
      await share.getByLabel(mate.username).uncheck();
      await share.getByRole("button", { name: "Save recipients" }).click();
      await share.waitFor({ state: "detached" });
      await waitForTransfer(page, "Re-encrypting receipt-2025.txt", 60_000);
      await rowOf(page, "receipt-2025.txt").getByText("Shared with 1 person").waitFor({ state: "detached" });
      await openVault(other);
      await other.getByText("Your vault is empty.").waitFor();
      await person.context.close();
    },
  },
  {
    name: "vault-tamper",
    async run({ page, context, dataDir }) {
      const row = rowOf(page, "receipt-2025.txt");
      const id = await row.getAttribute("data-item");
      const failedDownload = page.locator('li[data-transfer="error"]').filter({ hasText: "receipt-2025.txt" });
      let saved = false;
      const onDownload = () => (saved = true);
      page.on("download", onDownload);
      try {
        // 1. A byte flipped on the wire (the server's copy is fine): age's chunk tag fails in
        //    the page, and nothing is saved.
        const url = `**/api/v1/vault/items/${id}/content*`;
        await context.route(url, async (route) => {
          const res = await route.fetch();
          const body = Buffer.from(await res.body());
          body[body.length - 20] ^= 0x01;
          await route.fulfill({ response: res, body });
        });
        await row.getByRole("button", { name: "Download receipt-2025.txt" }).click();
        await failedDownload.getByRole("alert").filter({ hasText: /could not be decrypted: it is damaged or incomplete.*Nothing was saved\./ }).waitFor();
        await context.unroute(url);
        await failedDownload.getByRole("button", { name: "Dismiss receipt-2025.txt" }).click();

        // 2. A byte flipped in the server's stored blob: the server's SHA-256 check cuts the
        //    download off, and again nothing is saved. Only against a Selah this run started
        //    (ctx.dataDir): a development proxy (--url with Vite) holds such a broken response
        //    open, which the page gives up on only after a minute without data.
        const dir = dataDir;
        if (!dir) {
          console.warn("e2e: vault-tamper: --url (behind a proxy): the on-disk case was skipped");
        } else {
          const item = await page.evaluate(async (i) => (await fetch(`/api/v1/vault/items/${i}`)).json(), id);
          const blob = join(dir, "vault", "blobs", item.current_version_id.slice(-2), item.current_version_id);
          const original = readFileSync(blob);
          const bad = Buffer.from(original);
          bad[bad.length - 20] ^= 0x01;
          writeFileSync(blob, bad);
          try {
            await row.getByRole("button", { name: "Download receipt-2025.txt" }).click();
            await failedDownload.getByRole("alert").filter({ hasText: "Nothing was saved." }).waitFor();
          } finally {
            writeFileSync(blob, original);
          }
        }
        await page.waitForTimeout(1000);
        assert.equal(saved, false, "a file that fails authentication must not be saved");
      } finally {
        page.off("download", onDownload);
      }
    },
  },
  {
    name: "vault-team",
    async run({ page, scratch, state }) {
      // The team made in vault-share shows in the context switcher after a reload, which also
      // forgets the unlocked key: unlock again.
      await page.reload();
      await page.getByRole("heading", { name: "Unlock your vault" }).waitFor();
      await page.getByLabel("Vault passphrase").fill(state.vaultPassphrase);
      await page.getByRole("button", { name: "Unlock vault" }).click();
      await page.getByRole("button", { name: "Lock vault" }).waitFor({ timeout: 60_000 });
      await toTop(page);

      // In the team's context the vault is the team's: empty, and what is added wears its badge.
      await page.getByLabel("Context").selectOption({ label: "Team: Vault team" });
      await page.getByText("Your vault is empty.").waitFor();
      const plan = join(scratch, "team-plan.txt");
      writeFileSync(plan, "The team's plan (e2e)\n");
      await page.getByLabel("Upload files").setInputFiles(plan);
      await waitForTransfer(page, "Uploading team-plan.txt", 60_000);
      const row = rowOf(page, "team-plan.txt");
      await row.waitFor();
      assert.equal(await row.locator("[data-context]").getAttribute("data-context"), "team");
      assert.equal(await row.locator("[data-context]").textContent(), "Vault team");
      const [download] = await Promise.all([page.waitForEvent("download"), row.getByRole("button", { name: "Download team-plan.txt" }).click()]);
      const got = join(scratch, "team-plan.downloaded.txt");
      await download.saveAs(got);
      assert.equal(readFileSync(got, "utf8"), "The team's plan (e2e)\n");

      // Back to Local: the personal vault again, still unlocked.
      await page.getByLabel("Context").selectOption({ label: "Local (personal)" });
      await rowOf(page, "Taxes").waitFor();
    },
  },
];
