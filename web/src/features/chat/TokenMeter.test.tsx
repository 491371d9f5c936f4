import { afterEach, describe, expect, it } from "vitest";
import { cleanup, render, screen } from "@testing-library/react";
import { TokenMeter } from "./TokenMeter";
import { useChat } from "./chatStore";

function meter(total: number, limit = 2048) {
  return {
    model: "local:test",
    prompt_tokens: Math.floor(total / 4),
    completion_tokens: total - Math.floor(total / 4),
    total_tokens: total,
    context_window: limit,
    used_percent: (total / limit) * 100,
    warning: false,
  };
}

afterEach(() => {
  cleanup();
  useChat.setState({ meter: null, meterError: "" });
});

describe("TokenMeter", () => {
  it("shows used / limit with the breakdown, green below 60%", () => {
    useChat.setState({ meter: meter(1024), meterError: "" });
    const { container } = render(<TokenMeter />);
    expect(screen.getByTestId("token-meter").textContent).toBe("1,024 / 2,048 tokens (50%)");
    expect(screen.getByText("Prompt 256 · Replies 768")).toBeTruthy();
    expect(container.querySelector("[data-level]")?.getAttribute("data-level")).toBe("green");
    expect(screen.getByRole("meter").getAttribute("aria-valuenow")).toBe("50");
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("turns yellow past 60% and red past 85%", () => {
    useChat.setState({ meter: meter(1500) });
    const { container, rerender } = render(<TokenMeter />);
    expect(container.querySelector("[data-level]")?.getAttribute("data-level")).toBe("yellow");
    useChat.setState({ meter: meter(1800) });
    rerender(<TokenMeter />);
    expect(container.querySelector("[data-level]")?.getAttribute("data-level")).toBe("red");
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("warns from 90%", () => {
    useChat.setState({ meter: meter(1844) });
    render(<TokenMeter />);
    expect(screen.getByRole("alert").textContent).toContain("90%");
  });

  it("says why when the count failed", () => {
    useChat.setState({ meter: null, meterError: "the model is gone" });
    render(<TokenMeter />);
    expect(screen.getByRole("alert").textContent).toBe("Token count unavailable: the model is gone");
  });
});
