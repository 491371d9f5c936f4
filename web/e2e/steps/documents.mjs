// Documents: upload a small text file with a made-up fact through the file input, wait until the
// real embedding model has indexed it, find it with the search box (the matching words marked),
// open the passage in the viewer (marked and scrolled to), and hand the document to the chat's
// cited-answer step that runs next (ctx.state.document).
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

const TITLE = "Ardenwick clinic logistics";
const FACT =
  "At the Ardenwick field clinic, the backup generator is refuelled every Thursday at 06:30 by the night porter, " +
  "before the morning vaccination queue opens.";

export const steps = [
  {
    name: "upload-document",
    async run({ page, state, scratch }) {
      const file = join(scratch, `${TITLE}.txt`);
      writeFileSync(
        file,
        [
          "Ardenwick field clinic: site notes",
          "",
          "The clinic runs two consulting rooms and a small pharmacy. Water is delivered by tanker on Mondays.",
          "",
          FACT,
          "",
          "Spare fuel cans are kept in the locked shed behind the pharmacy; the key hangs in the duty office.",
          "",
        ].join("\n"),
      );

      await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Documents" }).click();
      await page.getByRole("heading", { name: "Documents", level: 1 }).waitFor();
      await page.getByLabel("Files to upload").setInputFiles(file);

      // The upload row reports success, then the list shows the document until it is ready.
      await page.locator('[data-upload="done"]').first().waitFor();
      const item = page.getByRole("list", { name: "Documents" }).getByRole("listitem").filter({ hasText: TITLE });
      await item.waitFor();
      const id = await item.getAttribute("data-document-id");
      assert.ok(id, "the list item carries the document id");
      // Local context: the inline badge says so.
      assert.equal(await item.locator("[data-context]").getAttribute("data-context"), "local");
      await page.locator(`li[data-document-id="${id}"][data-state="ready"]`).waitFor({ timeout: 90_000 });
      assert.match(await item.textContent(), /Ready/);

      // Search for a word of the fact: the passage comes back with the word marked.
      await page.getByRole("searchbox", { name: "Search documents" }).fill("generator refuelled");
      await page.getByRole("button", { name: "Search", exact: true }).click();
      const results = page.getByRole("region", { name: "Search results" });
      const hit = results.getByRole("listitem").filter({ hasText: "Thursday at 06:30" }).first();
      await hit.waitFor();
      const marks = await hit.locator("mark").allTextContents();
      assert.ok(
        marks.some((m) => /generator/i.test(m)),
        `a mark on "generator" in the passage, got ${JSON.stringify(marks)}`,
      );
      assert.match(await hit.textContent(), /score \d\.\d{3}/);

      // The hit opens the viewer at the passage: that span is marked and on screen.
      await hit.getByRole("link", { name: TITLE }).click();
      await page.getByRole("heading", { name: TITLE, level: 1 }).waitFor();
      assert.match(page.url(), new RegExp(`/documents/${id}\\?chunk=\\d+&start=\\d+&end=\\d+`));
      const cited = page.getByLabel("Document text").locator("mark");
      await cited.waitFor();
      assert.match(await cited.textContent(), /generator is refuelled every Thursday at 06:30/);
      assert.ok(await cited.isVisible());

      state.document = {
        id,
        title: TITLE,
        question: "When is the backup generator at the Ardenwick field clinic refuelled?",
        expect: "Thursday",
      };
    },
  },
];
