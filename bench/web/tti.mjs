// Time to interactive on loopback: a fresh browser context (empty cache) opens Selah and waits
// until the first screen answers input (the sign-in form accepts typing). Repeats RUNS times
// and prints the median and worst of: first byte, DOMContentLoaded, load, interactive; then the
// same with a warm cache (the service worker and HTTP cache in place).
import { chromium } from "../../web/node_modules/playwright-core/index.mjs";

const url = process.argv[2];
const runs = Number(process.env.RUNS ?? 10);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});

async function once(page) {
  const t0 = Date.now();
  await page.goto(url, { waitUntil: "commit" });
  // Interactive: the username field exists, is enabled and takes a keystroke.
  const field = page.getByLabel("Username");
  await field.fill("x");
  const interactive = Date.now() - t0;
  const nav = await page.evaluate(() => {
    const n = performance.getEntriesByType("navigation")[0];
    return { ttfb: n.responseStart, dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd };
  });
  return { ...nav, interactive };
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return `median ${s[Math.floor(s.length / 2)].toFixed(0)} ms, worst ${s[s.length - 1].toFixed(0)} ms`;
};

for (const mode of ["cold", "warm"]) {
  const results = [];
  const ctx = await browser.newContext();
  for (let i = 0; i < runs; i++) {
    const page = mode === "cold" ? await (await browser.newContext()).newPage() : await ctx.newPage();
    if (mode === "warm" && i === 0) await once(page); // fill the caches
    results.push(await once(page));
    await page.close();
  }
  console.log(`${mode} cache (${runs} runs):`);
  for (const k of ["ttfb", "dcl", "load", "interactive"]) console.log(`  ${k.padEnd(11)} ${stats(results.map((r) => r[k]))}`);
}
await browser.close();
