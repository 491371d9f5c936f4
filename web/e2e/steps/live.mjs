// Live sessions, two people at once: a meditation countdown that agrees on both screens (computed
// from the server's start time and each page's clock offset), and a collaborative document that
// converges after both type into it at the same time. The second person is a second browser
// context signed in as the founder (personal rooms are visible to their owner only).
import assert from "node:assert/strict";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** "09:58" or "1:02:05" → seconds. */
function seconds(text) {
  const parts = text.trim().split(":").map(Number);
  assert.ok(parts.length >= 2 && parts.every(Number.isInteger), `not a countdown: ${JSON.stringify(text)}`);
  return parts.reduce((acc, p) => acc * 60 + p, 0);
}

async function openLive(page) {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Live" }).click();
  await page.getByRole("heading", { name: "Create a room" }).waitFor();
  await page.locator('[data-live-status="connected"]').waitFor();
}

/** Creates a room of `kind` in the current context and returns its id (from /live/<id>). */
async function createRoom(page, name, kind) {
  await openLive(page);
  await page.getByLabel("Room name").fill(name);
  await page.getByLabel("Kind").selectOption({ label: kind });
  await page.getByRole("button", { name: "Create room" }).click();
  await page.waitForURL((u) => /^\/live\/[^/]+$/.test(u.pathname));
  await page.getByRole("heading", { name, level: 2 }).waitFor();
  return decodeURIComponent(new URL(page.url()).pathname.split("/")[2]);
}

/** The second person: a new browser context, signed in through the login form (made once). */
async function secondPerson(ctx) {
  if (ctx.state.livePerson) return ctx.state.livePerson;
  const person = await ctx.newPerson();
  const { page } = person;
  await page.goto("/");
  await page.getByRole("heading", { name: "Sign in to Selah" }).waitFor();
  await page.getByLabel("Username").fill(ctx.state.founder.username);
  await page.getByLabel("Password").fill(ctx.state.founder.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("navigation", { name: "Main" }).waitFor();
  ctx.state.livePerson = person;
  return person;
}

async function enterRoom(page, id, name) {
  await page.goto(`/live/${encodeURIComponent(id)}`);
  await page.getByRole("heading", { name, level: 2 }).waitFor();
  await page.locator('[data-live-status="connected"]').waitFor();
}

const countdown = (page) => page.getByRole("timer", { name: "Time remaining" });
const editor = (page) => page.getByRole("textbox", { name: "Shared document" });

/** The document's text as shown: the editor's lines, without the other people's cursor widgets
 * (their carets and name labels sit inside the lines). */
function documentText(page) {
  return editor(page).evaluate((content) => {
    const lines = [...content.querySelectorAll(".cm-line")].map((line) => {
      const copy = line.cloneNode(true);
      copy.querySelectorAll(".cm-ySelectionCaret, .cm-widgetBuffer").forEach((w) => w.remove());
      return copy.textContent.replace(/\u2060/g, "");
    });
    return lines.join("\n");
  });
}

export const steps = [
  {
    name: "meditation-sync",
    async run(ctx) {
      const { page } = ctx;
      const name = "Morning sit (e2e)";
      const id = await createRoom(page, name, "Meditation");
      const other = (await secondPerson(ctx)).page;
      await enterRoom(other, id, name);
      assert.equal(await countdown(other).textContent(), "00:00", "nothing runs before the host starts");
      // Only the host has the controls; a 10-minute sit with no interval bells.
      await page.getByLabel("Duration (minutes)").fill("10");
      await page.getByLabel(/^Bell every/).fill("0");
      await page.getByRole("button", { name: "Start meditation" }).click();
      for (const p of [page, other]) await p.locator('[data-meditation-state="running"]').waitFor();
      // Give each page's clock-offset pings (5 over a second) time to answer.
      await sleep(1500);
      const readings = [];
      for (let i = 0; i < 6; i++) {
        const [a, b] = await Promise.all([countdown(page).textContent(), countdown(other).textContent()]);
        const [sa, sb] = [seconds(a), seconds(b)];
        readings.push(`${a}/${b}`);
        assert.ok(Math.abs(sa - sb) <= 1, `the two countdowns disagree: ${a} against ${b}`);
        assert.ok(sa <= 600 && sa >= 560, `a 10-minute countdown shows ${a}`);
        await sleep(450);
      }
      // The display moves: the last reading is below the first.
      assert.ok(seconds(readings[readings.length - 1].split("/")[0]) < seconds(readings[0].split("/")[0]), readings.join(" "));
      await ctx.shot("live-meditation-host", page);
      await ctx.shot("live-meditation-participant", other);

      // Paused, both show the very same frozen time (computed from the server's pause time).
      await page.getByRole("button", { name: "Pause" }).click();
      for (const p of [page, other]) await p.locator('[data-meditation-state="paused"]').waitFor();
      const [pa, pb] = await Promise.all([countdown(page).textContent(), countdown(other).textContent()]);
      assert.equal(pa, pb, "a paused countdown is the same everywhere");
      await sleep(1200);
      assert.equal(await countdown(other).textContent(), pb, "a paused countdown does not move");
      await page.getByRole("button", { name: "Resume" }).click();
      for (const p of [page, other]) await p.locator('[data-meditation-state="running"]').waitFor();
      // The participant marks the sit completed; the host ends it for everyone.
      await other.getByRole("button", { name: "Mark completed" }).click();
      await page.getByText("1 completed", { exact: false }).waitFor();
      await page.getByRole("button", { name: "End", exact: true }).click();
      for (const p of [page, other]) await p.locator('[data-meditation-state="ended"]').waitFor();
      assert.equal(await countdown(other).textContent(), "00:00");
    },
  },
  {
    name: "collab-converges",
    async run(ctx) {
      const { page } = ctx;
      const name = "Shared notes (e2e)";
      const id = await createRoom(page, name, "Collaboration");
      const other = (await secondPerson(ctx)).page;
      await enterRoom(other, id, name);
      for (const p of [page, other]) {
        await editor(p).waitFor();
        await p.locator('[data-doc-status="synced"]').waitFor();
      }
      const mine = "Alpha: the founder writes here.";
      const theirs = "Beta: a second window writes too.";
      // Both type at the same time, key by key.
      await Promise.all([
        (async () => {
          await editor(page).click();
          await page.keyboard.type(mine, { delay: 15 });
        })(),
        (async () => {
          await editor(other).click();
          await other.keyboard.type(theirs, { delay: 15 });
        })(),
      ]);
      let a = "";
      let b = "";
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        [a, b] = await Promise.all([documentText(page), documentText(other)]);
        if (a === b && a.includes(mine) && a.includes(theirs)) break;
        await sleep(200);
      }
      assert.equal(a, b, "both editors show the same document");
      assert.ok(a.includes(mine) && a.includes(theirs), `the document has both texts: ${JSON.stringify(a)}`);
      await ctx.shot("live-collab-founder", page);
      await ctx.shot("live-collab-second", other);

      // Stored before relayed: a fresh load of the room shows the same document.
      await other.reload();
      await editor(other).waitFor();
      await other.locator('[data-doc-status="synced"]').waitFor();
      const reloadedBy = Date.now() + 10_000;
      let reloaded = "";
      while (Date.now() < reloadedBy && reloaded !== a) {
        reloaded = await documentText(other);
        if (reloaded !== a) await sleep(200);
      }
      assert.equal(reloaded, a, "the reloaded document is the one both typed");
      await ctx.state.livePerson.context.close();
      ctx.state.livePerson = null;
    },
  },
];
