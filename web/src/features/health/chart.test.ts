// Tests for the line charts' geometry.
import { describe, expect, it } from "vitest";
import { linePath, maxOf, niceBytes, niceMax } from "./chart";

describe("niceMax", () => {
  it("rounds up to 1, 2, 2.5 or 5 times a power of ten", () => {
    expect(niceMax(0.7)).toBe(1);
    expect(niceMax(1)).toBe(1);
    expect(niceMax(1.2)).toBe(2);
    expect(niceMax(2.2)).toBe(2.5);
    expect(niceMax(37)).toBe(50);
    expect(niceMax(501)).toBe(1000);
    expect(niceMax(0)).toBe(1);
  });
});

describe("linePath", () => {
  const box = { width: 100, height: 50, span: 10_000, end: 10_000, yMax: 10 };
  it("maps time to x and value to y, top is the maximum", () => {
    expect(
      linePath(
        [
          { at: 0, value: 0 },
          { at: 5000, value: 5 },
          { at: 10_000, value: 10 },
        ],
        box,
      ),
    ).toBe("M0 50 L50 25 L100 0");
  });
  it("breaks the line at a missing value, clips above the maximum and drops points before the span", () => {
    expect(
      linePath(
        [
          { at: -1000, value: 3 },
          { at: 1000, value: 2 },
          { at: 2000, value: null },
          { at: 3000, value: 40 },
          { at: 4000, value: 10 },
        ],
        box,
      ),
    ).toBe("M10 40 l0 0 M30 0 L40 0");
  });
});

describe("niceBytes", () => {
  it("rounds in MiB", () => {
    expect(niceBytes(250 * 1024 * 1024)).toBe(250 * 1024 * 1024);
    expect(niceBytes(260 * 1024 * 1024)).toBe(500 * 1024 * 1024);
  });
});

describe("maxOf", () => {
  it("ignores nulls across series", () => {
    expect(maxOf([[1, null, 3], [null, 2]])).toBe(3);
    expect(maxOf([[null]])).toBe(0);
  });
});
