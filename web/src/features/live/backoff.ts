/**
 * Reconnect timing (docs/LIVE.md "Reconnecting"): exponential backoff with full jitter — a
 * random wait between 0 and min(30 s, 0.5 s × 2^attempt) — reset after a connection that
 * lasted a minute. Full jitter spreads a crowd of clients that lost the server at one moment.
 */

export const BACKOFF_BASE_MS = 500;
export const BACKOFF_CAP_MS = 30_000;
/** A connection that lasted this long counts as healthy: the next drop starts from attempt 0. */
export const STABLE_AFTER_MS = 60_000;

/** The upper bound of the wait before retry number `attempt` (from 0). */
export function backoffCeiling(attempt: number): number {
  // 2^attempt overflows to Infinity for huge attempts, which the cap absorbs.
  return Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempt));
}

/** The wait before retry `attempt`: uniform in [0, ceiling). `random` is Math.random's shape. */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.floor(r * backoffCeiling(attempt));
}

/** The attempt number to use after a connection that stayed up `connectedForMs` (null if it
 * never got that far). */
export function attemptAfterDrop(attempt: number, connectedForMs: number | null): number {
  return connectedForMs !== null && connectedForMs >= STABLE_AFTER_MS ? 0 : attempt;
}
