// Sequence bookkeeping: what `since` a rejoin sends, and which replayed events are repeats.
import { describe, expect, it } from "vitest";
import { SequenceBook } from "./sequence";

describe("sequence book", () => {
  it("asks for a snapshot first, then resumes from the last event seen", () => {
    const b = new SequenceBook();
    expect(b.since("r")).toBeUndefined();
    b.snapshot("r", 12);
    expect(b.since("r")).toBe(12);
    expect(b.observe("r", 13)).toBe("apply");
    // A gap (an event for the host only) is normal.
    expect(b.observe("r", 15)).toBe("apply");
    expect(b.since("r")).toBe(15);
  });

  it("drops repeats but never replies numbered 0", () => {
    const b = new SequenceBook();
    b.snapshot("r", 5);
    expect(b.observe("r", 5, "chat")).toBe("stale");
    expect(b.observe("r", 4, "chat")).toBe("stale");
    expect(b.observe("r", 0)).toBe("apply");
    expect(b.observe("r", 0)).toBe("apply");
    expect(b.since("r")).toBe(5);
  });

  it("one event's two messages (stress to the room, support to the host) both apply", () => {
    const b = new SequenceBook();
    b.snapshot("r", 5);
    expect(b.observe("r", 6, "stress")).toBe("apply");
    expect(b.observe("r", 6, "support")).toBe("apply");
    expect(b.observe("r", 6, "support")).toBe("stale");
    expect(b.observe("r", 5, "chat")).toBe("stale");
    expect(b.since("r")).toBe(6);
  });

  it("a snapshot replaces a higher number (bad_sequence, or a server restart)", () => {
    const b = new SequenceBook();
    b.snapshot("r", 40);
    b.snapshot("r", 7);
    expect(b.since("r")).toBe(7);
    expect(b.observe("r", 8)).toBe("apply");
  });

  it("a resume moves forward only, and rooms are independent", () => {
    const b = new SequenceBook();
    b.snapshot("a", 3);
    b.observe("a", 9);
    b.resumed("a", 6);
    expect(b.since("a")).toBe(9);
    b.resumed("a", 11);
    expect(b.since("a")).toBe(11);
    b.snapshot("b", 1);
    b.forget("a");
    expect(b.since("a")).toBeUndefined();
    expect(b.since("b")).toBe(1);
  });
});
