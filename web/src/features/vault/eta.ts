/**
 * Transfer speed and time remaining for the vault's progress bars. The speed is an exponentially
 * weighted moving average whose weight depends on the time between samples (so bursty progress,
 * one tus chunk at a time, smooths the same as a steady trickle), and nothing is estimated until
 * enough time has passed for the figure to mean something: the bar shows "—" until then.
 */

export interface Rate {
  /** When the transfer (re)started and how many bytes were done then. */
  t0: number;
  b0: number;
  /** The last sample taken into the average. */
  tLast: number;
  bLast: number;
  /** Smoothed bytes per second; null before the first usable sample. */
  bps: number | null;
}

/** Time constant of the average: a change in speed shows about this fast. */
export const TAU_MS = 4000;
/** Samples closer together than this are folded into the next one (no spikes, no ÷0). */
export const MIN_SAMPLE_MS = 200;
/** No estimate before the transfer has run this long. */
export const MIN_ELAPSED_MS = 1500;

export function startRate(now: number, bytes = 0): Rate {
  return { t0: now, b0: bytes, tLast: now, bLast: bytes, bps: null };
}

/** Takes a progress sample (`bytes` done at `now`, in ms) into the average. */
export function sampleRate(r: Rate, bytes: number, now: number, tauMs = TAU_MS): Rate {
  // Progress going backwards means the transfer restarted (e.g. a resumed upload): start over.
  if (bytes < r.bLast) return startRate(now, bytes);
  const dt = now - r.tLast;
  if (!(dt >= MIN_SAMPLE_MS)) return r;
  const inst = ((bytes - r.bLast) * 1000) / dt;
  const alpha = 1 - Math.exp(-dt / tauMs);
  const bps = r.bps === null ? inst : r.bps + alpha * (inst - r.bps);
  return { ...r, tLast: now, bLast: bytes, bps };
}

/**
 * Seconds left, or null when there is not enough data (too early, no speed yet, or a speed of
 * zero). A finished transfer has 0 left.
 */
export function etaSeconds(r: Rate, done: number, total: number, now: number): number | null {
  if (total > 0 && done >= total) return 0;
  if (!(total > 0) || r.bps === null || !(r.bps > 0)) return null;
  if (now - r.t0 < MIN_ELAPSED_MS) return null;
  return (total - done) / r.bps;
}

/** "—" for no estimate; "8 s", "2 min 05 s", "1 h 07 min" otherwise. */
export function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return "—";
  const s = Math.ceil(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  const m = Math.round(s / 60);
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
}

/** Whole percent done, clamped to 0..100 (0 while the size is unknown). */
export function percent(done: number, total: number): number {
  if (!(total > 0)) return 0;
  return Math.max(0, Math.min(100, Math.floor((done / total) * 100)));
}
