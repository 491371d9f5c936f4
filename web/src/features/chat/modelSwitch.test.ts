// Fit-warning decisions for the model switch, and which model the header names.
import { describe, expect, it } from "vitest";
import { effectiveModel, hasFitCheck, modelOptionLabel, switchStep } from "./modelSwitch";

const report = (fits: boolean) => ({
  fits,
  model_size_gb: 0.1,
  estimated_runtime_gb: fits ? 0.2 : 9.5,
  available_gb: 6,
  recommendation: fits ? "It fits." : "Choose a smaller quantisation.",
});

describe("fit decisions", () => {
  it("checks models the engine runs, not remote ones", () => {
    expect(hasFitCheck("local:SmolLM2-second.Q4_1")).toBe(true);
    expect(hasFitCheck("ollama:llama3:8b")).toBe(true);
    expect(hasFitCheck("remote-ollama:llama3:8b")).toBe(false);
    expect(hasFitCheck("openai/work:gpt-4o")).toBe(false);
  });
  it("switches at once when it fits", () => {
    expect(switchStep(report(true))).toBe("switch");
  });
  it("warns when it does not fit", () => {
    expect(switchStep(report(false))).toBe("warn");
  });
  it("never warns without a report", () => {
    expect(switchStep(null)).toBe("switch");
  });
});

describe("effectiveModel", () => {
  it("prefers the session's choice, then the meter's model, then the default", () => {
    expect(effectiveModel({ active_model: "local:a" }, "local:b", "local:c")).toBe("local:a");
    expect(effectiveModel({ active_model: null }, "local:b", "local:c")).toBe("local:b");
    expect(effectiveModel({ active_model: null }, null, "local:c")).toBe("local:c");
    expect(effectiveModel(null, null, null)).toBeNull();
  });
});

describe("modelOptionLabel", () => {
  it("names the model and its provider", () => {
    expect(modelOptionLabel({ name: "m.Q4_1", provider: "local", available: true })).toBe("m.Q4_1 (local)");
    expect(modelOptionLabel({ name: "x", provider: "remote-ollama", available: false })).toBe("x (remote-ollama) — unavailable");
  });
});
