// The viewer's citation query, viewer paths and search requests.
import { describe, expect, it } from "vitest";
import { buildSearch, documentIdOf, formatScore, parseViewerQuery, viewerPath } from "./query";

describe("parseViewerQuery", () => {
  it("reads chunk, start and end from a full path", () => {
    expect(parseViewerQuery("/documents/d1?chunk=17&start=120&end=480")).toEqual({ chunk: "17", start: 120, end: 480 });
  });
  it("reads a bare query string and works without a chunk", () => {
    expect(parseViewerQuery("?start=0&end=5")).toEqual({ chunk: null, start: 0, end: 5 });
    expect(parseViewerQuery("start=3&end=9")).toEqual({ chunk: null, start: 3, end: 9 });
  });
  it("swaps a reversed pair", () => {
    expect(parseViewerQuery("?start=9&end=3")).toEqual({ chunk: null, start: 3, end: 9 });
  });
  it("has no target without both numbers, for an empty span, or for junk", () => {
    expect(parseViewerQuery("/documents/d1")).toBeNull();
    expect(parseViewerQuery("?chunk=4&start=10")).toBeNull();
    expect(parseViewerQuery("?start=5&end=5")).toBeNull();
    expect(parseViewerQuery("?start=-1&end=5")).toBeNull();
    expect(parseViewerQuery("?start=1.5&end=5")).toBeNull();
    expect(parseViewerQuery("?start=abc&end=5")).toBeNull();
    expect(parseViewerQuery("?start=&end=5")).toBeNull();
  });
  it("ignores a fragment", () => {
    expect(parseViewerQuery("?start=1&end=2#top")).toEqual({ chunk: null, start: 1, end: 2 });
  });
});

describe("viewerPath", () => {
  it("round-trips through parseViewerQuery", () => {
    const path = viewerPath("doc 1", { chunk: "42", start: 10, end: 20 });
    expect(path).toBe("/documents/doc%201?chunk=42&start=10&end=20");
    expect(parseViewerQuery(path)).toEqual({ chunk: "42", start: 10, end: 20 });
  });
  it("is the bare document path without a target", () => {
    expect(viewerPath("abc")).toBe("/documents/abc");
  });
});

describe("documentIdOf", () => {
  it("decodes the first segment, and is null on the list", () => {
    expect(documentIdOf(["doc%201"])).toBe("doc 1");
    expect(documentIdOf([])).toBeNull();
    expect(documentIdOf(["%E0%A4%A"])).toBe("%E0%A4%A");
  });
});

describe("buildSearch", () => {
  it("trims and builds a documents-only search of the current context", () => {
    const r = buildSearch("  Ardenwick generator ");
    expect(r).toEqual({
      ok: true,
      q: "Ardenwick generator",
      path: "/api/v1/search?q=Ardenwick+generator&k=10&source=documents&scope=current",
    });
  });
  it("searches everywhere and within one document on request, with k clamped", () => {
    const r = buildSearch("x", { everywhere: true, doc: "d&1", k: 500 });
    expect(r.ok && r.path).toBe("/api/v1/search?q=x&k=50&source=documents&scope=all&doc=d%261");
  });
  it("refuses an empty query", () => {
    expect(buildSearch("   ")).toEqual({ ok: false, reason: "Type something to search for." });
  });
  it("counts characters as the server does (1000 emoji are allowed, 1001 are not)", () => {
    expect(buildSearch("😀".repeat(1000)).ok).toBe(true);
    expect(buildSearch("😀".repeat(1001)).ok).toBe(false);
  });
});

describe("formatScore", () => {
  it("shows three decimals and a dash for junk", () => {
    expect(formatScore(0.81234)).toBe("0.812");
    expect(formatScore(NaN)).toBe("–");
  });
});
