// Note validation against the server's limits, and minimal edits.
import { describe, expect, it } from "vitest";
import { MAX_NOTE_BYTES, notePatch, noteProblem } from "./notes";

describe("noteProblem", () => {
  it("accepts a titled note with text", () => {
    expect(noteProblem(" Rota ", "# Week 1\nSam on nights")).toBeNull();
  });
  it("needs a title of 1–200 characters (counted as code points, after trimming)", () => {
    expect(noteProblem("   ", "x")).toBe("Give the note a title.");
    expect(noteProblem("😀".repeat(200), "x")).toBeNull();
    expect(noteProblem("a".repeat(201), "x")).toMatch(/at most 200/);
  });
  it("refuses a blank body and one over 1 MiB of UTF-8", () => {
    expect(noteProblem("t", " \n ")).toBe("The note is empty.");
    // 'é' is two bytes: half a MiB of them plus one byte is over.
    expect(noteProblem("t", "é".repeat(MAX_NOTE_BYTES / 2))).toBeNull();
    expect(noteProblem("t", "é".repeat(MAX_NOTE_BYTES / 2) + "x")).toMatch(/1 MiB/);
  });
});

describe("notePatch", () => {
  const before = { title: "Rota", body: "a" };
  it("is null when nothing changed (whitespace around the title does not count)", () => {
    expect(notePatch(before, { title: " Rota ", body: "a" })).toBeNull();
  });
  it("sends only what changed", () => {
    expect(notePatch(before, { title: "Rota 2", body: "a" })).toEqual({ title: "Rota 2" });
    expect(notePatch(before, { title: "Rota", body: "b" })).toEqual({ body: "b" });
    expect(notePatch(before, { title: "X", body: "b" })).toEqual({ title: "X", body: "b" });
  });
});
