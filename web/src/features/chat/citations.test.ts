// Citation links use exactly the viewer's URL shape, and repeats are dropped.
import { describe, expect, it } from "vitest";
import { citationHref, citationLabel, uniqueCitations } from "./citations";

const c = { document_id: "doc_1", title: "Notes.md", passage_id: 12, char_start: 100, char_end: 350 };

describe("citations", () => {
  it("links to the viewer at the passage", () => {
    expect(citationHref(c)).toBe("/documents/doc_1?chunk=12&start=100&end=350");
  });
  it("escapes odd document ids", () => {
    expect(citationHref({ ...c, document_id: "a/b?c" })).toBe("/documents/a%2Fb%3Fc?chunk=12&start=100&end=350");
  });
  it("keeps each passage once, in order", () => {
    const other = { ...c, passage_id: 13 };
    expect(uniqueCitations([c, other, { ...c }])).toEqual([c, other]);
    expect(uniqueCitations(null)).toEqual([]);
  });
  it("names the link with its number and document", () => {
    expect(citationLabel(c, 0)).toBe("Source 1: Notes.md, characters 100–350");
  });
});
