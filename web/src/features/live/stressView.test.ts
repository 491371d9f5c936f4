// Aggregate display helpers: words for the mean and trend, and the two charts' geometry.
import { describe, expect, it } from "vitest";
import { describeDistribution, distributionBars, formatMean, levelWord, linePoints, pointsAttr, trendText } from "./stressView";

describe("stress display", () => {
  it("says the trend in words, negative being calmer", () => {
    expect(trendText(-4, 4)).toBe("calmer (−4.0)");
    expect(trendText(1.25, 6)).toBe("more stressed (+1.3)");
    expect(trendText(0.01, 6)).toBe("steady");
    expect(trendText(-3, 1)).toBe("not enough check-ins for a trend yet");
    expect(formatMean(5)).toBe("5.0");
    expect(formatMean(4.67)).toBe("4.7");
    expect(levelWord(0)).toBe("calm");
    expect(levelWord(8)).toBe("very stressed");
    expect(levelWord(10)).toBe("overwhelmed");
  });

  it("draws bars scaled to the tallest level", () => {
    const d = [0, 0, 1, 0, 0, 0, 0, 0, 2, 0, 0];
    const bars = distributionBars(d, 220, 100);
    expect(bars).toHaveLength(11);
    expect(bars[8]).toEqual({ level: 8, count: 2, x: 8 * 20 + 1, y: 0, width: 18, height: 100 });
    expect(bars[2].height).toBe(50);
    expect(bars[2].y).toBe(50);
    expect(bars[0].height).toBe(0);
    // An empty distribution draws nothing (no division by zero).
    expect(distributionBars([], 220, 100).every((b) => b.height === 0)).toBe(true);
    expect(describeDistribution(d)).toBe("1 at level 2, 2 at level 8");
    expect(describeDistribution(Array(11).fill(0))).toBe("no check-ins yet");
  });

  it("draws the history line with high levels at the top", () => {
    const pts = linePoints([0, 5, 10], 200, 100);
    expect(pts).toEqual([
      { x: 0, y: 100 },
      { x: 100, y: 50 },
      { x: 200, y: 0 },
    ]);
    expect(linePoints([7], 200, 100)).toEqual([{ x: 100, y: 30 }]);
    expect(linePoints([15, -2], 100, 10)).toEqual([
      { x: 0, y: 0 },
      { x: 100, y: 10 },
    ]);
    expect(pointsAttr([{ x: 1.234, y: 5.678 }, { x: 2, y: 3 }])).toBe("1.2,5.7 2,3");
  });
});
