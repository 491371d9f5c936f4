// Colours per person and the list of editors from awareness states.
import { describe, expect, it } from "vitest";
import { colourFor, editorsFrom, lightColourFor, PALETTE } from "./people";

function luminance(hex: string): number {
  const c = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
  return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
}

describe("people", () => {
  it("gives each user a stable palette colour", () => {
    expect(colourFor("user-1")).toBe(colourFor("user-1"));
    expect(PALETTE).toContain(colourFor("user-1"));
    const spread = new Set(Array.from({ length: 50 }, (_, i) => colourFor("u" + i)));
    expect(spread.size).toBeGreaterThan(4);
    expect(lightColourFor("x")).toBe(colourFor("x") + "33");
  });

  it("every colour carries white text at AA contrast", () => {
    for (const c of PALETTE) expect((1.05 / (luminance(c) + 0.05))).toBeGreaterThanOrEqual(4.5);
  });

  it("lists each editor once, skipping states without a user", () => {
    const list = editorsFrom([{ user: { name: "ann", color: "#b91c1c" } }, {}, null, { user: { name: "ann" } }, { user: { name: "bo" } }]);
    expect(list).toEqual([
      { name: "ann", color: "#b91c1c" },
      { name: "bo", color: PALETTE[0] },
    ]);
  });
});
