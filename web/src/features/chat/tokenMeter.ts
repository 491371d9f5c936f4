/**
 * The token meter's rules: how full the session's context window is, in words and colour.
 * Green up to 60 %, yellow up to 85 %, red above; a warning from 90 % (the server's own
 * threshold, `WARN_PERCENT` in chat_sessions/tokens.rs).
 */
import type { TokenCount } from "./types";

export type MeterLevel = "green" | "yellow" | "red";

export const GREEN_UP_TO = 60;
export const YELLOW_UP_TO = 85;
export const WARN_FROM = 90;

export function meterLevel(percent: number): MeterLevel {
  if (percent <= GREEN_UP_TO) return "green";
  if (percent <= YELLOW_UP_TO) return "yellow";
  return "red";
}

export function meterWarning(percent: number): boolean {
  return percent >= WARN_FROM;
}

/** The share of the window used, in percent with one decimal (the server's figure if it sent one). */
export function usedPercent(tc: Pick<TokenCount, "total_tokens" | "context_window"> & { used_percent?: number }): number {
  if (typeof tc.used_percent === "number" && Number.isFinite(tc.used_percent)) return tc.used_percent;
  if (tc.context_window <= 0) return 100;
  return Math.round((tc.total_tokens * 1000) / tc.context_window) / 10;
}

/** "1,234 / 2,048 tokens (60.3%)". */
export function meterText(used: number, limit: number, percent: number): string {
  return `${count(used)} / ${count(limit)} tokens (${formatPercent(percent)})`;
}

/** "Prompt 900 · Replies 334". */
export function breakdownText(tc: Pick<TokenCount, "prompt_tokens" | "completion_tokens">): string {
  return `Prompt ${count(tc.prompt_tokens)} · Replies ${count(tc.completion_tokens)}`;
}

export function formatPercent(p: number): string {
  const r = Math.round(p * 10) / 10;
  return `${Number.isInteger(r) ? r.toFixed(0) : r.toFixed(1)}%`;
}

/** The bar's width: the percentage, clamped to the bar. */
export function barWidth(percent: number): string {
  return `${Math.min(100, Math.max(0, percent))}%`;
}

/** Bar and text classes per level; the text colours are AA on white (green-800, yellow-900, red-800). */
export const LEVEL_CLASS: Record<MeterLevel, { bar: string; text: string }> = {
  green: { bar: "bg-green-600", text: "text-green-800" },
  yellow: { bar: "bg-yellow-500", text: "text-yellow-900" },
  red: { bar: "bg-red-600", text: "text-red-800" },
};

function count(n: number): string {
  return n.toLocaleString("en-US");
}
