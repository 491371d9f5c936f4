// The app shell: usable at phone width, and opening with the network down (the service worker's
// cached shell). The offline step stops the server, so it runs last.
import assert from "node:assert/strict";

const SCREENS = [
  ["/chat", "Chat"],
  ["/documents", "Documents"],
  ["/vault", "Vault"],
  ["/live", "Live"],
  ["/models", "Models"],
];

export const phoneSteps = [
  {
    name: "phone-layout",
    async run(ctx) {
      const { page } = ctx;
      await page.setViewportSize({ width: 390, height: 844 });
      try {
        for (const [path, label] of SCREENS) {
          await page.goto(path);
          await page.getByRole("navigation", { name: "Main" }).waitFor();
          await page.getByRole("link", { name: label, exact: true }).waitFor();
          await page.waitForLoadState("networkidle");
          // Nothing wider than the screen: no sideways scrolling.
          const [scroll, inner] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
          assert.ok(scroll <= inner, `${path} is ${scroll}px wide at a ${inner}px viewport`);
          await ctx.shot(`phone${path.replace("/", "-")}`);
        }
      } finally {
        await page.setViewportSize({ width: 1280, height: 800 });
      }
    },
  },
];

export const offlineSteps = [
  {
    name: "offline-shell",
    async run(ctx) {
      const { page, context } = ctx;
      await page.goto("/chat");
      await page.getByRole("navigation", { name: "Main" }).waitFor();
      // The service worker installed and controls the page (a controlled load after it activated).
      await page.evaluate(async () => {
        await navigator.serviceWorker.ready;
      });
      await page.reload();
      assert.ok(await page.evaluate(() => navigator.serviceWorker.controller !== null), "the service worker controls the page");
      // The network goes down: the browser is offline and, when this run started Selah, the
      // server is gone too.
      await ctx.stopServer?.();
      await context.setOffline(true);
      try {
        await page.reload();
        // The shell opens from the cache and says what is going on.
        await page.getByRole("status").filter({ hasText: "You are offline" }).waitFor();
        await page.getByRole("heading", { name: "Selah cannot be reached" }).waitFor();
        await page.getByRole("button", { name: "Try again" }).waitFor();
        // Even a deep link opens.
        await page.goto("/documents/some-id");
        await page.getByRole("heading", { name: "Selah cannot be reached" }).waitFor();
      } finally {
        await context.setOffline(false);
      }
    },
  },
];
