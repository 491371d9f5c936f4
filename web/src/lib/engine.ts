/** The activity light's rules: green idle, yellow processing, red error (or unreachable). */
import type { Schemas } from "../api/client";

export type Light = "green" | "yellow" | "red" | "grey";

export function lightFor(status: Schemas["EngineStatus"] | null, pollError: string): Light {
  if (pollError) return "red";
  if (!status) return "grey";
  if (status.status === "error") return "red";
  if (status.status === "processing" || status.queue.in_flight > 0 || status.queue.pending > 0) return "yellow";
  return "green";
}

/** The tooltip: queue depth and last activity, in words. */
export function engineTooltip(status: Schemas["EngineStatus"] | null, pollError: string, now = Date.now()): string {
  if (pollError) return `Engine unreachable: ${pollError}`;
  if (!status) return "Engine status loading";
  const last = status.last_activity ? `last activity ${ago(now - status.last_activity)}` : "no activity yet";
  const err = status.error ? ` — ${status.error}` : "";
  return `Engine ${status.status}${err}: queue depth ${status.queue_depth}, ${last}`;
}

/** "just now", "42 s ago", "5 min ago", "3 h ago". */
export function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 5) return "just now";
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}
