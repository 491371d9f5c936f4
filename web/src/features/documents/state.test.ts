// Document state labels, polling, sizes and the optimistic list edits.
import { describe, expect, it } from "vitest";
import {
  clampPercent,
  describeState,
  formatBytes,
  formatLabel,
  needsPolling,
  pollDelay,
  prependDoc,
  removeDoc,
  replaceDoc,
  restoreDoc,
  withPending,
} from "./state";

describe("describeState", () => {
  it("queued waits and is not final", () => {
    expect(describeState({ state: "queued", progress: 0 })).toEqual({
      label: "Queued",
      reason: null,
      percent: null,
      final: false,
      tone: "waiting",
    });
  });
  it("indexing shows its percent", () => {
    const s = describeState({ state: "indexing", progress: 42 });
    expect(s.label).toBe("Indexing 42%");
    expect(s.percent).toBe(42);
    expect(s.final).toBe(false);
  });
  it("ready is final", () => {
    expect(describeState({ state: "ready", progress: 100 })).toMatchObject({ label: "Ready", final: true, tone: "ok" });
  });
  it("failed carries the server's reason, or says there was none", () => {
    expect(describeState({ state: "failed", progress: 0, error: "the document has no text" })).toMatchObject({
      label: "Failed",
      reason: "the document has no text",
      final: true,
    });
    expect(describeState({ state: "failed", progress: 0, error: "  " }).reason).toBe("the server gave no reason");
  });
  it("an unknown state is shown and treated as final", () => {
    expect(describeState({ state: "archived", progress: 0 })).toMatchObject({ label: "archived", final: true });
  });
});

describe("clampPercent", () => {
  it("rounds and clamps to 0–100, junk to 0", () => {
    expect(clampPercent(99.6)).toBe(100);
    expect(clampPercent(-3)).toBe(0);
    expect(clampPercent(250)).toBe(100);
    expect(clampPercent(NaN)).toBe(0);
    expect(clampPercent(37.2)).toBe(37);
  });
});

describe("needsPolling", () => {
  it("polls while anything is queued or indexing, not when all are final", () => {
    expect(needsPolling([{ state: "ready", progress: 100 }, { state: "indexing", progress: 5 }])).toBe(true);
    expect(needsPolling([{ state: "ready", progress: 100 }, { state: "queued", progress: 0 }])).toBe(true);
    expect(needsPolling([{ state: "ready", progress: 100 }, { state: "failed", progress: 0 }])).toBe(false);
    expect(needsPolling([])).toBe(false);
  });
});

describe("formatBytes", () => {
  it("uses binary units", () => {
    expect(formatBytes(812)).toBe("812 B");
    expect(formatBytes(1536)).toBe("1.5 KB");
    expect(formatBytes(200 * 1024 * 1024)).toBe("200 MB");
    expect(formatBytes(-1)).toBe("");
  });
});

describe("list edits", () => {
  const a = { id: "a", title: "A" };
  const b = { id: "b", title: "B" };
  const c = { id: "c", title: "C" };

  it("replaceDoc swaps the item of the same id only", () => {
    expect(replaceDoc([a, b], { id: "b", title: "B2" })).toEqual([a, { id: "b", title: "B2" }]);
    expect(replaceDoc([a], { id: "z", title: "Z" })).toEqual([a]);
  });
  it("prependDoc puts the new item first without duplicating it", () => {
    expect(prependDoc([a, b], { id: "b", title: "B2" })).toEqual([{ id: "b", title: "B2" }, a]);
  });
  it("removeDoc and restoreDoc round-trip to the same order", () => {
    const r = removeDoc([a, b, c], "b");
    expect(r.list).toEqual([a, c]);
    expect(r.removed).toBe(b);
    expect(r.index).toBe(1);
    expect(restoreDoc(r.list, b, r.index)).toEqual([a, b, c]);
  });
  it("restoreDoc does not duplicate an item a refresh already brought back", () => {
    expect(restoreDoc([a, b], b, 0)).toEqual([a, b]);
  });
  it("removeDoc of an unknown id removes nothing", () => {
    expect(removeDoc([a], "z")).toEqual({ list: [a], removed: null, index: -1 });
  });
  it("withPending keeps in-flight renames and deletes over a fresh poll", () => {
    const fresh = [a, b, c];
    const out = withPending(fresh, { renames: new Map([["a", "A renamed"]]), deletes: new Set(["c"]) });
    expect(out).toEqual([{ id: "a", title: "A renamed" }, b]);
  });
});

describe("formatLabel", () => {
  it("names formats, and every note is a Note", () => {
    expect(formatLabel("docx")).toBe("Word (DOCX)");
    expect(formatLabel("markdown", "note")).toBe("Note");
    expect(formatLabel("rtf")).toBe("RTF");
  });
});

describe("pollDelay", () => {
  it("starts quick and settles at 5 s", () => {
    expect([0, 1, 2, 3, 4, 5, 50].map((n) => pollDelay(n))).toEqual([1000, 1500, 2000, 3000, 4000, 5000, 5000]);
  });
  it("waits at least as long as the server's Retry-After", () => {
    expect(pollDelay(0, 30)).toBe(30_000);
    expect(pollDelay(9, 2)).toBe(5000);
  });
});
