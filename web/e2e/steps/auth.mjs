// First run and sign-in: the setup wizard creates the founder, shows the bundled models' memory
// fit, then the founder signs out and back in.
import assert from "node:assert/strict";

export const steps = [
  {
    name: "setup",
    async run({ page, state }) {
      await page.goto("/");
      await page.getByRole("heading", { name: "Welcome to Selah" }).waitFor();
      await page.getByLabel("Username").fill(state.founder.username);
      await page.getByLabel("Password", { exact: true }).fill(state.founder.password);
      await page.getByLabel("Repeat password").fill(state.founder.password);
      await page.getByRole("button", { name: "Create founder account" }).click();
      await page.getByRole("heading", { name: /Step 2 of 2/ }).waitFor();
      // The bundled model is listed with a real fit verdict from the server.
      const fit = page.locator("[data-fits]").first();
      await fit.waitFor();
      assert.match(await fit.textContent(), /Fits: needs [\d.]+ GB of [\d.]+ GB available/);
    },
  },
  {
    name: "login",
    async run({ page, state }) {
      await page.getByRole("button", { name: "Start chatting" }).click();
      await page.getByRole("button", { name: "Sign out" }).click();
      await page.getByRole("heading", { name: "Sign in to Selah" }).waitFor();
      await page.getByLabel("Username").fill(state.founder.username);
      await page.getByLabel("Password").fill("not the password");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("alert").waitFor();
      await page.getByLabel("Password").fill(state.founder.password);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("navigation", { name: "Main" }).waitFor();
      // The context badge starts on Local (green).
      assert.equal(await page.locator("header [data-context]").first().getAttribute("data-context"), "local");
    },
  },
];
