// Tests for the session descriptions.
import { describe, expect, it } from "vitest";
import { describeAgent } from "./sessions";

describe("describeAgent", () => {
  it("names common browsers and systems", () => {
    expect(describeAgent("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36")).toBe(
      "Chrome on Linux",
    );
    expect(describeAgent("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/130.0 Safari/537.36 Edg/130.0")).toBe(
      "Edge on Windows",
    );
    expect(describeAgent("Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:128.0) Gecko/20100101 Firefox/128.0")).toBe("Firefox on macOS");
    expect(
      describeAgent("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"),
    ).toBe("Safari on iOS");
    expect(describeAgent("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/130.0.0.0 Safari/537.36")).toBe(
      "Headless Chrome on Linux",
    );
  });

  it("names programs and copes with nothing", () => {
    expect(describeAgent("curl/8.5.0")).toBe("curl");
    expect(describeAgent(null)).toBe("Unknown device");
    expect(describeAgent("  ")).toBe("Unknown device");
  });
});
