// Bundle sizes of web/dist: the JavaScript and CSS a first visit loads (index.html's script,
// its static imports and styles) versus what loads later (lazy screens and settings tabs),
// raw and gzipped. Prints a Markdown table; exits 1 when the initial JS is over the budget.
import { readFileSync, readdirSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const dist = join(dirname(fileURLToPath(import.meta.url)), "../../web/dist");
const BUDGET_GZIP = 250 * 1024;

const html = readFileSync(join(dist, "index.html"), "utf8");
const entry = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1].slice(1));

// Follow static imports from the entry chunks (Vite writes them as `from"./x.js"` or
// `import"./x.js"`); dynamic `import("./x.js")` chunks are lazy and not followed.
const initial = new Set();
const queue = [...entry];
while (queue.length) {
  const f = queue.pop();
  if (initial.has(f)) continue;
  initial.add(f);
  if (!f.endsWith(".js")) continue;
  const src = readFileSync(join(dist, f), "utf8");
  for (const m of src.matchAll(/(?:from|import)\s*"\.\/([^"]+\.js)"/g)) queue.push("assets/" + m[1]);
}

const rows = [];
for (const f of readdirSync(join(dist, "assets"))) {
  const path = "assets/" + f;
  const buf = readFileSync(join(dist, path));
  rows.push({ file: path, raw: buf.length, gzip: gzipSync(buf, { level: 9 }).length, initial: initial.has(path) });
}
rows.sort((a, b) => Number(b.initial) - Number(a.initial) || b.gzip - a.gzip);
const kb = (n) => (n / 1024).toFixed(1);
const sum = (pred, key) => rows.filter(pred).reduce((s, r) => s + r[key], 0);
const isJs = (r) => r.file.endsWith(".js");
console.log("| file | loaded | raw KiB | gzip KiB |\n|---|---|---|---|");
for (const r of rows) console.log(`| ${r.file} | ${r.initial ? "initial" : "lazy"} | ${kb(r.raw)} | ${kb(r.gzip)} |`);
const initJs = sum((r) => r.initial && isJs(r), "gzip");
console.log(`\ninitial JS: ${kb(sum((r) => r.initial && isJs(r), "raw"))} KiB raw, ${kb(initJs)} KiB gzip (budget ${kb(BUDGET_GZIP)} KiB)`);
console.log(`initial CSS: ${kb(sum((r) => r.initial && !isJs(r), "gzip"))} KiB gzip`);
console.log(`lazy JS: ${kb(sum((r) => !r.initial && isJs(r), "gzip"))} KiB gzip in ${rows.filter((r) => !r.initial && isJs(r)).length} chunks`);
process.exit(initJs > BUDGET_GZIP ? 1 : 0);
