// The token meter's thresholds at their edges, and its wording.
import { describe, expect, it } from "vitest";
import { barWidth, breakdownText, formatPercent, meterLevel, meterText, meterWarning, usedPercent } from "./tokenMeter";

describe("meterLevel", () => {
  it.each([
    [0, "green"],
    [59, "green"],
    [60, "green"],
    [60.1, "yellow"],
    [61, "yellow"],
    [85, "yellow"],
    [85.1, "red"],
    [86, "red"],
    [100, "red"],
    [130, "red"],
  ] as const)("%s percent is %s", (p, level) => {
    expect(meterLevel(p)).toBe(level);
  });
});

describe("meterWarning", () => {
  it.each([
    [85, false],
    [89, false],
    [89.9, false],
    [90, true],
    [91, true],
    [120, true],
  ] as const)("%s percent warns: %s", (p, warn) => {
    expect(meterWarning(p)).toBe(warn);
  });
});

describe("wording", () => {
  it("reads used / limit tokens (percent)", () => {
    expect(meterText(312, 2048, 15.2)).toBe("312 / 2,048 tokens (15.2%)");
    expect(meterText(1229, 2048, 60)).toBe("1,229 / 2,048 tokens (60%)");
  });
  it("formats percentages with at most one decimal", () => {
    expect(formatPercent(0)).toBe("0%");
    expect(formatPercent(33.333)).toBe("33.3%");
    expect(formatPercent(89.96)).toBe("90%");
  });
  it("breaks down prompt and replies", () => {
    expect(breakdownText({ prompt_tokens: 900, completion_tokens: 1334 })).toBe("Prompt 900 · Replies 1,334");
  });
  it("prefers the server's percentage and computes one otherwise", () => {
    expect(usedPercent({ total_tokens: 100, context_window: 2048, used_percent: 4.9 })).toBe(4.9);
    expect(usedPercent({ total_tokens: 1024, context_window: 2048 })).toBe(50);
    expect(usedPercent({ total_tokens: 1, context_window: 3 })).toBe(33.3);
    expect(usedPercent({ total_tokens: 5, context_window: 0 })).toBe(100);
  });
  it("clamps the bar", () => {
    expect(barWidth(-3)).toBe("0%");
    expect(barWidth(42.5)).toBe("42.5%");
    expect(barWidth(140)).toBe("100%");
  });
});
