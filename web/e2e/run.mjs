#!/usr/bin/env node
// The browser journey: starts the real `selah` binary on a free port with a fresh data directory
// and the real models, drives Debian's Chromium through playwright-core, and runs the steps of
// e2e/steps/*.mjs in order (each saves a screenshot in e2e/screenshots/).
//
//   node e2e/run.mjs [--binary PATH] [--url http://127.0.0.1:5000] [--only name,name] [--headed]
//
// --url skips starting a server (use a running one, e.g. the Vite dev server in front of Selah).
// Environment: SELAH_BIN, CHROMIUM_PATH (default /usr/bin/chromium), SELAH_TEST_MODEL (GGUF),
// SELAH_TEST_EMBED_MODEL (all-MiniLM-L6-v2 directory).
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, linkSync, copyFileSync, cpSync, existsSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir, homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { JOURNEY } from "./journey.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const args = parseArgs(process.argv.slice(2));
// axe-core, injected into pages after each step (see accessibility()).
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

const shots = join(here, "screenshots");
// Each run starts from an empty folder, so a screenshot is always from this run.
rmSync(shots, { recursive: true, force: true });
mkdirSync(shots, { recursive: true });

const cache = process.env.SELAH_CACHE_DIR ?? join(homedir(), ".cache/selah");
const model = process.env.SELAH_TEST_MODEL ?? join(cache, "models/SmolLM2-135M-Instruct.Q4_1.gguf");
const embed = process.env.SELAH_TEST_EMBED_MODEL ?? join(cache, "models/all-MiniLM-L6-v2");

let server = null;
let dataDir = null;
let baseURL = args.url;
let browser = null;
let failed = false;
try {
  if (!baseURL) ({ server, dataDir, baseURL } = await startSelah());
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    headless: !args.headed,
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
  const ctx = await makeContext(browser, baseURL, dataDir);
  if (server) {
    ctx.stopServer = async () => {
      if (server.exitCode !== null) return;
      server.kill("SIGTERM");
      await new Promise((r) => server.once("exit", r));
    };
  }
  const only = args.only ? new Set(args.only.split(",")) : null;
  let n = 0;
  for (const step of JOURNEY) {
    n += 1;
    if (only && !only.has(step.name)) continue;
    const t0 = Date.now();
    process.stdout.write(`e2e: ${String(n).padStart(2, "0")} ${step.name} … `);
    try {
      await step.run(ctx);
      await ctx.shot(`${String(n).padStart(2, "0")}-${step.name}`);
      await accessibility(ctx.page, step.name);
      console.log(`ok (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    } catch (e) {
      failed = true;
      console.log("FAILED");
      console.error(e);
      if (ctx.consoleLog.length) console.error("browser console:\n  " + ctx.consoleLog.slice(-40).join("\n  "));
      await ctx.shot(`${String(n).padStart(2, "0")}-${step.name}-FAILED`).catch(() => {});
      break;
    }
  }
} finally {
  await browser?.close().catch(() => {});
  if (server && server.exitCode === null) {
    server.kill("SIGTERM");
    await new Promise((r) => server.once("exit", r));
  }
  if (dataDir && !failed) rmSync(dataDir, { recursive: true, force: true });
  else if (dataDir) console.error(`e2e: the server's data directory is kept at ${dataDir}`);
}
process.exit(failed ? 1 : 0);

/**
 * WCAG 2.1 A and AA rules (axe-core) on the page each step leaves behind, contrast included;
 * any violation fails the step. `evaluate` is not subject to the page's CSP, so the app's policy
 * stays as served.
 */
async function accessibility(page, where) {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => `${n.target.join(" ")} — ${n.failureSummary.split("\n").slice(1).join(" ")}`),
    }));
  });
  if (violations.length) {
    const text = violations.map((v) => `${v.id} (${v.impact}): ${v.help}\n      ${v.nodes.join("\n      ")}`).join("\n    ");
    throw new Error(`accessibility violations after ${where}:\n    ${text}`);
  }
}

/** What every step receives. */
async function makeContext(browser, baseURL, dataDir) {
  const context = await browser.newContext({ baseURL, viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  // The browsers' errors and warnings, printed when a step fails.
  const consoleLog = [];
  const listen = (p, who) => {
    p.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") consoleLog.push(`[${who}] ${m.type()}: ${m.text()}`);
    });
    p.on("pageerror", (e) => consoleLog.push(`[${who}] page error: ${e.message}`));
    p.on("response", (r) => {
      if (r.status() >= 400) consoleLog.push(`[${who}] ${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`);
    });
  };
  listen(page, "first");
  const ctx = {
    consoleLog,
    browser,
    baseURL,
    dataDir,
    context,
    page,
    /** Shared between steps: accounts, ids, file paths. */
    state: { founder: { username: "founder", password: "correct horse battery staple" } },
    /** A second, independent browser context (another person), already on baseURL. */
    async newPerson() {
      const c = await browser.newContext({ baseURL, viewport: { width: 1100, height: 800 } });
      const p = await c.newPage();
      p.setDefaultTimeout(30_000);
      listen(p, "other");
      return { context: c, page: p };
    },
    async shot(name, p = ctx.page) {
      await p.screenshot({ path: join(shots, `${name}.png`), fullPage: false });
    },
    /** A scratch directory for files the steps create. */
    scratch: mkdtempSync(join(tmpdir(), "selah-e2e-files-")),
  };
  return ctx;
}

async function startSelah() {
  const target = process.env.CARGO_TARGET_DIR ?? join(here, "../../target");
  const bin = resolve(args.binary ?? process.env.SELAH_BIN ?? join(target, "debug/selah"));
  if (!existsSync(bin)) throw new Error(`no selah binary at ${bin} (pass --binary or SELAH_BIN)`);
  if (!existsSync(model)) throw new Error(`no test model at ${model} (run make models)`);
  const dataDir = mkdtempSync(join(tmpdir(), "selah-e2e-"));
  const models = join(dataDir, "models");
  mkdirSync(models);
  // Two names for the one small model, so the journey can switch models for real.
  place(model, join(models, "SmolLM2-135M-Instruct.Q4_1.gguf"));
  place(model, join(models, "SmolLM2-second.Q4_1.gguf"));
  if (existsSync(embed)) cpSync(embed, join(models, "all-MiniLM-L6-v2"), { recursive: true });
  const port = await freePort();
  const env = {
    ...process.env,
    SELAH_DATA_DIR: dataDir,
    SELAH_BIND: `127.0.0.1:${port}`,
    SELAH_LOG__TO_FILE: "false",
    SELAH_LOG__LEVEL: process.env.SELAH_LOG__LEVEL ?? "warn",
    SELAH_AI__DEFAULT_MODEL: "local:SmolLM2-135M-Instruct.Q4_1",
    SELAH_AI__CONTEXT_SIZE: "2048",
    // Every person in the journey comes from 127.0.0.1, so one IP carries several users' calls.
    SELAH_RATE_LIMIT__PER_MINUTE: "1000",
  };
  delete env.SELAH_BIN; // the runner's, not a setting of the server
  const server = spawn(bin, ["serve"], { env, stdio: ["ignore", "inherit", "inherit"] });
  const baseURL = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i++) {
    if (server.exitCode !== null) throw new Error(`selah exited with ${server.exitCode}`);
    try {
      const r = await fetch(`${baseURL}/api/v1/setup/status`);
      if (r.ok) return { server, dataDir, baseURL };
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("selah did not start within 60 s");
}

function place(src, dest) {
  try {
    linkSync(src, dest);
  } catch {
    copyFileSync(src, dest);
  }
}

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
    s.on("error", rej);
  });
}

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--headed") out.headed = true;
    else if (a.startsWith("--")) out[a.slice(2)] = argv[++i];
  }
  return out;
}

