// Figures on the models screen, and the RAM meter's arithmetic.
import { describe, expect, it } from "vitest";
import { canBeHot, formatBytes, formatContext, formatParams, ramMeter } from "./format";

describe("formatBytes", () => {
  it.each([
    [null, "—"],
    [512, "512 B"],
    [92_000, "92 kB"],
    [91_500_000, "92 MB"],
    [1_234_000_000, "1.2 GB"],
    [14_400_000_000, "14 GB"],
  ] as const)("%s → %s", (b, s) => {
    expect(formatBytes(b)).toBe(s);
  });
});

describe("formatParams", () => {
  it.each([
    [null, "—"],
    [134_515_008, "135M"],
    [1_711_376_384, "1.7B"],
    [7_000_000_000, "7B"],
    [70_553_706_496, "71B"],
    [50_000, "50K"],
  ] as const)("%s → %s", (n, s) => {
    expect(formatParams(n)).toBe(s);
  });
});

describe("formatContext", () => {
  it("groups digits", () => {
    expect(formatContext(131072)).toBe("131,072");
    expect(formatContext(null)).toBe("—");
  });
});

describe("ramMeter", () => {
  const view = {
    total_bytes: 4e9,
    limit_bytes: 12e9,
    ram_total_bytes: 16e9,
    total_gb: 4,
    limit_gb: 12,
    ram_total_gb: 16,
  };
  it("places use and limit on the RAM bar", () => {
    expect(ramMeter(view)).toEqual({
      usedPercent: 25,
      limitPercent: 75,
      over: false,
      text: "Hot slots use 4.0 GB; limit 12.0 GB of 16.0 GB RAM",
    });
  });
  it("flags use over the limit and clamps the bar", () => {
    const m = ramMeter({ ...view, total_bytes: 13e9, total_gb: 13 });
    expect(m.over).toBe(true);
    expect(m.usedPercent).toBe(81.3);
    expect(ramMeter({ ...view, total_bytes: 20e9 }).usedPercent).toBe(100);
  });
  it("copes with an unknown RAM size", () => {
    expect(ramMeter({ ...view, ram_total_bytes: 0 }).usedPercent).toBe(0);
  });
});

describe("canBeHot", () => {
  it("allows local models only", () => {
    expect(canBeHot({ provider: "local" })).toBe(true);
    expect(canBeHot({ provider: "ollama" })).toBe(true);
    expect(canBeHot({ provider: "openai/work" })).toBe(false);
  });
});
