import { describe, expect, it } from "vitest";
import { contextOf } from "./context";

const teams = [{ id: "t1", name: "Clinic" }];

describe("context badge rules", () => {
  it("an item without a team is Local and green", () => {
    const c = contextOf(null, teams);
    expect(c.kind).toBe("local");
    expect(c.label).toBe("Local");
    expect(c.className).toContain("green");
  });
  it("an item of a known team shows the team's name in blue", () => {
    const c = contextOf("t1", teams);
    expect(c).toMatchObject({ kind: "team", label: "Clinic" });
    expect(c.className).toContain("blue");
  });
  it("an item of a team the user left is still a team item", () => {
    expect(contextOf("gone", teams)).toMatchObject({ kind: "team", label: "Team" });
  });
  it("an empty team id is the personal context", () => {
    expect(contextOf("", teams).kind).toBe("local");
  });
});
