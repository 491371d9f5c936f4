import { describe, expect, it } from "vitest";
import { fitSummary, gb, needsFitWarning } from "./fit";

const report = (fits: boolean, need: number, avail: number) => ({
  fits,
  model_size_gb: need / 2,
  estimated_runtime_gb: need,
  available_gb: avail,
  recommendation: "",
});

describe("memory fit", () => {
  it("warns only when the server says the model does not fit", () => {
    expect(needsFitWarning(report(false, 9, 6))).toBe(true);
    expect(needsFitWarning(report(true, 0.2, 12))).toBe(false);
    // No report (a remote model): nothing to warn about.
    expect(needsFitWarning(null)).toBe(false);
  });
  it("words the verdict with the figures", () => {
    expect(fitSummary(report(true, 0.2, 12.5))).toBe("Fits: needs 0.2 GB of 13 GB available");
    expect(fitSummary(report(false, 9.1, 6))).toBe("Too big: needs 9.1 GB of 6.0 GB available");
  });
  it("rounds large sizes to whole gigabytes", () => {
    expect(gb(9.94)).toBe("9.9 GB");
    expect(gb(10.4)).toBe("10 GB");
  });
});
