// Highlight splitting: character (code point) offsets, and hostile spans that must not break it.
import { describe, expect, it } from "vitest";
import { codePointLength, normalizeSpans, spansOf, splitBySpans, utf16Offsets } from "./spans";

const marked = (text: string, spans: { start: number; end: number }[]) =>
  splitBySpans(text, spans)
    .filter((s) => s.mark)
    .map((s) => s.text);

describe("splitBySpans", () => {
  it("cuts plain text into marked and unmarked runs that rebuild the text", () => {
    const segs = splitBySpans("the generator is refuelled", [{ start: 4, end: 13 }]);
    expect(segs).toEqual([
      { text: "the ", mark: false },
      { text: "generator", mark: true },
      { text: " is refuelled", mark: false },
    ]);
  });

  it("counts characters as code points, like the server (emoji and astral CJK)", () => {
    // "😀" is two UTF-16 units but one character to the server.
    const text = "😀 Straße 𠮷 generator";
    expect(codePointLength(text)).toBe(20);
    expect(marked(text, [{ start: 2, end: 8 }])).toEqual(["Straße"]);
    expect(marked(text, [{ start: 11, end: 20 }])).toEqual(["generator"]);
    expect(marked(text, [{ start: 9, end: 10 }])).toEqual(["𠮷"]);
  });

  it("matches the server's own multibyte test (Span 8..14 and 17..23)", () => {
    expect(marked("Ünïcode straße — Straße!", [{ start: 8, end: 14 }, { start: 17, end: 23 }])).toEqual([
      "straße",
      "Straße",
    ]);
  });

  it("merges overlapping, nested and touching spans into one mark", () => {
    expect(marked("abcdefghij", [{ start: 1, end: 4 }, { start: 3, end: 6 }, { start: 2, end: 3 }])).toEqual(["bcdef"]);
    expect(marked("abcdefghij", [{ start: 0, end: 2 }, { start: 2, end: 4 }])).toEqual(["abcd"]);
  });

  it("sorts unsorted spans and keeps separate ones separate", () => {
    expect(marked("abcdefghij", [{ start: 7, end: 9 }, { start: 0, end: 1 }])).toEqual(["a", "hi"]);
  });

  it("clamps out-of-range spans and drops empty, reversed-empty and non-finite ones", () => {
    expect(marked("abcdef", [{ start: -5, end: 2 }])).toEqual(["ab"]);
    expect(marked("abcdef", [{ start: 4, end: 999 }])).toEqual(["ef"]);
    expect(marked("abcdef", [{ start: 50, end: 60 }])).toEqual([]);
    expect(marked("abcdef", [{ start: 3, end: 3 }])).toEqual([]);
    expect(marked("abcdef", [{ start: NaN, end: 3 }, { start: 0, end: Infinity }])).toEqual([]);
  });

  it("treats a reversed span as its forward range", () => {
    expect(marked("abcdef", [{ start: 4, end: 1 }])).toEqual(["bcd"]);
  });

  it("always rebuilds the original text exactly", () => {
    const text = "a😀b𠮷c\nd";
    const spans = [{ start: 1, end: 3 }, { start: 2, end: 5 }, { start: -1, end: 0 }, { start: 6, end: 100 }];
    expect(
      splitBySpans(text, spans)
        .map((s) => s.text)
        .join(""),
    ).toBe(text);
  });

  it("returns nothing for empty text and one plain run without spans", () => {
    expect(splitBySpans("", [{ start: 0, end: 3 }])).toEqual([]);
    expect(splitBySpans("plain", [])).toEqual([{ text: "plain", mark: false }]);
  });
});

describe("helpers", () => {
  it("normalizeSpans truncates fractions", () => {
    expect(normalizeSpans([{ start: 1.7, end: 3.2 }], 10)).toEqual([{ start: 1, end: 3 }]);
  });
  it("utf16Offsets maps ascending code-point offsets and clamps past the end", () => {
    expect(utf16Offsets("😀ab", [0, 1, 2, 3, 9])).toEqual([0, 2, 3, 4, 4]);
  });
  it("spansOf keeps only objects with numeric start and end", () => {
    expect(spansOf([{ start: 1, end: 2 }, { start: "1", end: 2 }, null, 5, { start: 0 }])).toEqual([{ start: 1, end: 2 }]);
    expect(spansOf("nope")).toEqual([]);
  });
});
