// Titles taken from a first message, and the list order.
import { describe, expect, it } from "vitest";
import { shouldAutoTitle, sortSessions, titleFrom } from "./sessions";
import type { ChatSession } from "./types";

describe("titleFrom", () => {
  it("keeps a short first line", () => {
    expect(titleFrom("  What is   a lighthouse?\nMore text")).toBe("What is a lighthouse?");
  });
  it("skips blank leading lines", () => {
    expect(titleFrom("\n\n  Hello\n")).toBe("Hello");
  });
  it("cuts long lines at a word with an ellipsis", () => {
    const t = titleFrom("Please summarise the attached quarterly report on coastal erosion in detail");
    expect(t).toBe("Please summarise the attached quarterly report…");
    expect(t.length).toBeLessThanOrEqual(48);
  });
  it("cuts a long word hard", () => {
    expect(titleFrom("x".repeat(80))).toBe("x".repeat(47) + "…");
  });
  it("falls back to the default title", () => {
    expect(titleFrom("   \n ")).toBe("New chat");
  });
});

describe("shouldAutoTitle", () => {
  it("names only untitled empty chats", () => {
    expect(shouldAutoTitle({ title: "New chat" }, 0)).toBe(true);
    expect(shouldAutoTitle({ title: "New chat" }, 2)).toBe(false);
    expect(shouldAutoTitle({ title: "Mine" }, 0)).toBe(false);
    expect(shouldAutoTitle(null, 0)).toBe(false);
  });
});

describe("sortSessions", () => {
  it("puts the most recently changed first", () => {
    const s = (id: string, updated_at: number) => ({ id, updated_at }) as ChatSession;
    expect(sortSessions([s("a", 1), s("b", 3), s("c", 2)]).map((x) => x.id)).toEqual(["b", "c", "a"]);
  });
});
