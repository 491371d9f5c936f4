// Tests for the dashboard's number formatting.
import { describe, expect, it } from "vitest";
import { formatBytes, formatMs, formatShare, formatUptime } from "./format";

describe("format", () => {
  it("formats bytes in binary units", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1536)).toBe("1.50 KiB");
    expect(formatBytes(300 * 1024 * 1024)).toBe("300.0 MiB");
    expect(formatBytes(null)).toBe("—");
  });
  it("formats milliseconds", () => {
    expect(formatMs(0.4219)).toBe("0.42 ms");
    expect(formatMs(12.6)).toBe("13 ms");
    expect(formatMs(1830)).toBe("1.83 s");
    expect(formatMs(null)).toBe("—");
    expect(formatMs(0)).toBe("0 ms");
  });
  it("formats shares as percentages", () => {
    expect(formatShare(0)).toBe("0%");
    expect(formatShare(0.0123)).toBe("1.23%");
    expect(formatShare(0.5)).toBe("50.0%");
  });
  it("formats uptime", () => {
    expect(formatUptime(42)).toBe("42 s");
    expect(formatUptime(125)).toBe("2 min 5 s");
    expect(formatUptime(93784)).toBe("1 d 2 h 3 min");
  });
});
