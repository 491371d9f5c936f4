import { describe, expect, it } from "vitest";
import { ago, engineTooltip, lightFor } from "./engine";
import type { Schemas } from "../api/client";

function status(over: Partial<Schemas["EngineStatus"]> = {}): Schemas["EngineStatus"] {
  return {
    status: "idle",
    queue_depth: 0,
    queue: { pending: 0, in_flight: 0, avg_wait_ms: 0 },
    queue_fill: 0,
    models: [],
    backends: [],
    last_activity: null,
    ...over,
  } as Schemas["EngineStatus"];
}

describe("engine light", () => {
  it("is green when idle, yellow when busy, red on error or when unreachable", () => {
    expect(lightFor(status(), "")).toBe("green");
    expect(lightFor(status({ status: "processing" }), "")).toBe("yellow");
    expect(lightFor(status({ queue: { pending: 2, in_flight: 0, avg_wait_ms: 0 } }), "")).toBe("yellow");
    expect(lightFor(status({ status: "error" }), "")).toBe("red");
    expect(lightFor(status(), "network down")).toBe("red");
    expect(lightFor(null, "")).toBe("grey");
  });
  it("the tooltip names the queue depth and the last activity", () => {
    const t = engineTooltip(status({ queue_depth: 3, last_activity: 1_000 }), "", 61_000);
    expect(t).toContain("queue depth 3");
    expect(t).toContain("1 min ago");
    expect(engineTooltip(status(), "")).toContain("no activity yet");
  });
  it("words durations", () => {
    expect(ago(2_000)).toBe("just now");
    expect(ago(42_000)).toBe("42 s ago");
    expect(ago(7_200_000)).toBe("2 h ago");
  });
});
