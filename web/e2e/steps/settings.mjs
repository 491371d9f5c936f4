// Settings in the browser journey (see e2e/run.mjs for `ctx`): a member's effective permissions
// with the reasons for their denials, and the founder's audit log with this journey's events and
// a passing chain verification; then the health dashboard's figures and charts.
import assert from "node:assert/strict";

/** The member the founder creates; later steps can sign in as them too. */
const MEMBER = { username: "mira", password: "a member's long passphrase" };

/**
 * The CSRF token of the page's session, for API calls made with `page.request` (which shares the
 * browser's cookies): `/auth/me` returns it to cookie sessions.
 */
async function csrfToken(page) {
  const res = await page.request.get("/api/v1/auth/me");
  assert.equal(res.status(), 200, `GET /api/v1/auth/me answered ${res.status()}`);
  const me = await res.json();
  assert.ok(me.session?.csrf_token, "GET /api/v1/auth/me carries the session's CSRF token");
  return me.session.csrf_token;
}

/**
 * Whether a step whose name matches `re` is part of this run: all of them without `--only`,
 * else those listed (the audit step expects the document and vault events only if those ran).
 */
function ran(re) {
  const i = process.argv.indexOf("--only");
  if (i < 0) return true;
  return (process.argv[i + 1] ?? "").split(",").some((n) => re.test(n));
}

/** Polls `check` until it holds (a filtered table keeps its old rows until the new page arrives). */
async function until(check, what, ms = 15_000) {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The event types of the rows shown. */
const typesOf = (rows) => rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-event-type")));

/** Filters the audit table to one event type and waits until only such rows are shown. */
async function filterTo(filters, rows, type) {
  await filters.getByLabel("Event type").fill(type);
  await filters.getByRole("button", { name: "Apply filters" }).click();
  await until(async () => {
    const types = await typesOf(rows);
    return types.length > 0 && types.every((t) => t === type);
  }, `only ${type} entries in the audit table`);
}

/** Opens Settings on a page and returns the dialog. */
async function openSettings(page) {
  await page.getByRole("button", { name: "Settings" }).click();
  const dialog = page.getByRole("dialog", { name: "Settings" });
  await dialog.waitFor();
  return dialog;
}

export const steps = [
  {
    name: "member-permissions",
    async run(ctx) {
      const { page, state } = ctx;
      // The founder creates a member account through the admin API.
      const csrf = await csrfToken(page);
      const res = await page.request.post("/api/v1/admin/users", {
        headers: { "X-CSRF-Token": csrf },
        data: { username: MEMBER.username, password: MEMBER.password, role: "member" },
      });
      assert.equal(res.status(), 201, `creating the member answered ${res.status()}: ${await res.text()}`);
      const { user } = await res.json();
      assert.equal(user.role, "member");
      state.member = { ...MEMBER, id: user.id };

      // Someone else signs in as that member.
      const person = await ctx.newPerson();
      const p = person.page;
      try {
        await p.goto("/");
        await p.getByRole("heading", { name: "Sign in to Selah" }).waitFor();
        await p.getByLabel("Username").fill(MEMBER.username);
        await p.getByLabel("Password").fill(MEMBER.password);
        await p.getByRole("button", { name: "Sign in" }).click();
        await p.getByRole("navigation", { name: "Main" }).waitFor();
        // A member has no health dashboard.
        assert.equal(await p.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Health" }).count(), 0);

        const dialog = await openSettings(p);
        await dialog.getByRole("tab", { name: "Permissions" }).click();
        const list = dialog.getByRole("list", { name: "Permissions" });
        await list.getByRole("listitem").first().waitFor();
        // Computed in the member's current context: Local.
        await dialog.getByText("Local (personal)").waitFor();
        // Nor may a member read the audit log: that tab is absent.
        assert.equal(await dialog.getByRole("tab", { name: "Audit log" }).count(), 0);

        await dialog.getByRole("radio", { name: /^Denied/ }).check();
        const manageUsers = list.getByRole("listitem").filter({ hasText: "admin.manage_users" });
        await manageUsers.waitFor();
        const text = await manageUsers.textContent();
        assert.match(text, /Denied/);
        assert.match(text, /Not part of the member role/);
        const founderAll = list.getByRole("listitem").filter({ hasText: "founder.all" });
        assert.match(await founderAll.textContent(), /Only the founder holds this/);
        // Granted keys are filtered out, and every item shown is a denial.
        assert.equal(await list.getByRole("listitem").filter({ hasText: "chat.use" }).count(), 0);
        const shown = await list.getByRole("listitem").count();
        assert.ok(shown >= 5, `expected several denials, saw ${shown}`);
        assert.equal(await list.locator('li[data-granted="true"]').count(), 0);

        // The text filter narrows further.
        await dialog.getByLabel("Filter permissions").fill("audit");
        await list.locator('li[data-permission="admin.view_audit"]').waitFor();
        assert.equal(await list.getByRole("listitem").count(), 1);
        await ctx.shot("member-permissions-denied", p);
      } finally {
        await person.context.close();
      }
    },
  },
  {
    name: "admin-audit",
    async run(ctx) {
      const { page, state } = ctx;
      const dialog = await openSettings(page);
      await dialog.getByRole("tab", { name: "Audit log" }).click();
      const table = dialog.getByRole("table", { name: "Audit entries" });
      const rows = table.locator("tr[data-event-type]");
      await rows.first().waitFor();

      // The newest page holds the member's sign-in and the account the founder made for them.
      const types = await typesOf(rows);
      assert.ok(types.includes("auth.login"), `no auth.login among ${types.join(", ")}`);
      const created = table.locator('tr[data-event-type="user.created"]');
      assert.ok((await created.count()) >= 1, `no user.created among ${types.join(", ")}`);
      if (state.member) assert.match(await created.first().textContent(), new RegExp(`username: ${state.member.username}`));

      // Older events through the event-type filter: the document and the vault uploads.
      const expected = [];
      if (ran(/doc/)) expected.push("docs.document_created");
      if (ran(/vault/)) expected.push("vault.version_uploaded");
      const filters = dialog.getByRole("form", { name: "Audit log filters" });
      for (const type of expected) await filterTo(filters, rows, type);

      // The CSV export carries the same filters and the events.
      await filterTo(filters, rows, "user.created");
      const href = await filters.getByRole("link", { name: "Export CSV" }).getAttribute("href");
      assert.equal(href, "/api/v1/admin/audit-log/export.csv?event_type=user.created");
      const csv = await page.request.get(href);
      assert.equal(csv.status(), 200);
      assert.match(csv.headers()["content-type"] ?? "", /text\/csv/);
      assert.match(await csv.text(), /user\.created/);
      await filters.getByRole("button", { name: "Clear filters" }).click();

      // Chain verification passes.
      await dialog.getByRole("button", { name: "Verify chain" }).click();
      const verdict = dialog.locator("[data-verified]");
      await verdict.waitFor();
      assert.equal(await verdict.getAttribute("data-verified"), "ok", await verdict.textContent());
      assert.match(await verdict.textContent(), /Chain intact\. [\d,.\s]+ records checked/);
    },
  },
  {
    // The admin's health dashboard: score, figures, and charts that fill as it polls.
    name: "health-dashboard",
    async run({ page }) {
      // A fresh page: the audit step leaves the settings dialog open over the header.
      await page.goto("/chat");
      await page.getByRole("link", { name: "Health", exact: true }).click();
      await page.waitForURL(/\/status$/);
      await page.getByRole("heading", { name: "Health", level: 1 }).waitFor();
      await page.locator("[data-status]").first().waitFor();
      const badge = await page.locator("[data-status]").first().textContent();
      assert.match(badge, /score \d+\/100/);
      // Two polls five seconds apart give the memory chart a drawn line.
      const memory = page.locator("figure").filter({ hasText: "Memory" }).locator("path");
      await assert.doesNotReject(
        (async () => {
          for (let i = 0; i < 60; i++) {
            const d = await memory.first().getAttribute("d").catch(() => null);
            if (d && d.split(/[ML]/).filter(Boolean).length >= 2) return;
            await new Promise((r) => setTimeout(r, 500));
          }
          throw new Error("the memory chart never drew a line");
        })(),
      );
      for (const title of ["Latency percentiles", "Error rate (5xx)", "Engine queue"]) {
        await page.locator("figure").filter({ hasText: title }).first().waitFor();
      }
    },
  },
];
