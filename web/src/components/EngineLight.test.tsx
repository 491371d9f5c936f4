import { afterEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { EngineLight } from "./EngineLight";
import { useEngine, type EngineStatus } from "../stores/engine";

function status(over: Partial<EngineStatus>): EngineStatus {
  return {
    status: "idle",
    queue_depth: 0,
    queue: { pending: 0, in_flight: 0, avg_wait_ms: 0 },
    queue_fill: 0,
    models: [],
    backends: [],
    last_activity: null,
    ...over,
  } as EngineStatus;
}

afterEach(() => {
  cleanup();
  useEngine.setState({ status: null, pollError: "" });
});

describe("EngineLight", () => {
  it("is yellow while generating and tells the queue depth", () => {
    useEngine.setState({ status: status({ status: "processing", queue_depth: 2, queue: { pending: 1, in_flight: 1, avg_wait_ms: 40 } }) });
    render(<EngineLight />);
    const button = screen.getByRole("button");
    expect(button.getAttribute("data-light")).toBe("yellow");
    expect(button.getAttribute("title")).toContain("queue depth 2");
  });

  it("is red when the engine cannot be polled", () => {
    useEngine.setState({ status: status({}), pollError: "Selah cannot be reached." });
    render(<EngineLight />);
    expect(screen.getByRole("button").getAttribute("data-light")).toBe("red");
  });

  it("opens the performance panel with pending, in flight and average wait", () => {
    useEngine.setState({
      status: status({
        queue: { pending: 3, in_flight: 1, avg_wait_ms: 123.4 },
        models: [{ id: "local:m", loaded: true, in_flight: 1, pending: 3, memory_bytes: 1 }],
      }),
    });
    render(<EngineLight />);
    fireEvent.click(screen.getByRole("button"));
    const fig = (label: string) => document.querySelector(`[data-figure="${label}"]`)?.textContent;
    expect(fig("Pending")).toBe("3");
    expect(fig("In flight")).toBe("1");
    expect(fig("Average wait")).toBe("123 ms");
    expect(screen.getByText("local:m")).toBeTruthy();
  });
});
