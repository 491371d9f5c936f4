/**
 * The meditation countdown and the breathing phase, mirroring `selah_live::timer` exactly: the
 * server owns every start time, and each participant computes (never counts down) the same
 * answer from the shared numbers and its estimate of the server's clock. Keep this in step with
 * crates/selah-live/src/timer.rs — the tests below port that file's tests.
 */

export type MeditationState = "idle" | "running" | "paused" | "ended";

/** A room's meditation timer as the server sends it (the `meditation` message's body). */
export interface Meditation {
  state: MeditationState;
  /** Server time it started (ms since the Unix epoch; 0 while idle). */
  started_at: number;
  duration_ms: number;
  /** A bell every this many ms of meditation (0: only at the start and the end). */
  bell_interval_ms: number;
  /** Total time spent paused before the current pause. */
  paused_ms: number;
  /** Server time of the current pause, while paused. */
  paused_at: number | null;
}

export const IDLE_MEDITATION: Meditation = {
  state: "idle",
  started_at: 0,
  duration_ms: 0,
  bell_interval_ms: 0,
  paused_ms: 0,
  paused_at: null,
};

const clamp = (x: number, lo: number, hi: number) => Math.min(Math.max(x, lo), hi);

/** Meditation time elapsed at server time `now` (pauses excluded), capped at the duration. */
export function elapsedAt(m: Meditation, now: number): number {
  let raw: number;
  switch (m.state) {
    case "idle":
      raw = 0;
      break;
    case "running":
    case "ended":
      raw = now - m.started_at - m.paused_ms;
      break;
    case "paused":
      raw = (m.paused_at ?? now) - m.started_at - m.paused_ms;
      break;
  }
  // Rust's clamp(0, duration): the lower bound wins only when duration ≥ 0, which it always is.
  return clamp(raw, 0, m.duration_ms);
}

/** Time left at server time `now`. */
export function remainingAt(m: Meditation, now: number): number {
  if (m.state === "idle") return m.duration_ms;
  if (m.state === "ended") return 0;
  return m.duration_ms - elapsedAt(m, now);
}

/** Whether the duration has run out by `now` (a running timer nobody ended counts too). */
export function finishedAt(m: Meditation, now: number): boolean {
  return m.state === "ended" || (m.state === "running" && remainingAt(m, now) === 0);
}

/** Bells rung so far at `now`: one at the start, then one per interval. */
export function bellsAt(m: Meditation, now: number): number {
  if (m.state === "idle") return 0;
  const elapsed = elapsedAt(m, now);
  return 1 + (m.bell_interval_ms > 0 ? Math.floor(elapsed / m.bell_interval_ms) : 0);
}

/** The server's own transitions (`Meditation::started`, `pause`, `resume`, `end`), for checking
 * that the client reads the states they produce the way the server does. */
export function started(now: number, duration_ms: number, bell_interval_ms: number): Meditation {
  return { state: "running", started_at: now, duration_ms, bell_interval_ms, paused_ms: 0, paused_at: null };
}

export function paused(m: Meditation, now: number): Meditation {
  if (finishedAt(m, now) || m.state !== "running") throw new Error("the meditation is not running");
  return { ...m, state: "paused", paused_at: now };
}

export function resumed(m: Meditation, now: number): Meditation {
  if (m.state !== "paused") throw new Error("the meditation is not paused");
  return { ...m, paused_ms: m.paused_ms + now - (m.paused_at ?? now), paused_at: null, state: "running" };
}

export function ended(m: Meditation, now: number): Meditation {
  if (m.state === "idle" || m.state === "ended") throw new Error("no meditation is under way");
  const duration_ms = elapsedAt(m, now);
  const paused_ms = m.paused_at !== null ? m.paused_ms + now - m.paused_at : m.paused_ms;
  return { ...m, duration_ms, paused_ms, paused_at: null, started_at: now - duration_ms - paused_ms, state: "ended" };
}

/** The server's clock as this client estimates it: whole ms, as the server's own math uses. */
export function serverTime(clientNow: number, offsetMs: number): number {
  return Math.floor(clientNow + offsetMs);
}

/** The countdown a participant sees: time left at the client's `clientNow`, corrected by the
 * clock offset (server minus client). */
export function countdownMs(m: Meditation, clientNow: number, offsetMs: number): number {
  return remainingAt(m, serverTime(clientNow, offsetMs));
}

/**
 * "mm:ss" (or "h:mm:ss" from an hour), rounding up: a 10-minute sit shows 10:00 at its first
 * instant and 00:00 only once it is over.
 */
export function formatClock(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = String(m).padStart(2, "0");
  const ss = String(s).padStart(2, "0");
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** Seconds shown by `formatClock` (used to compare two displays). */
export function parseClock(text: string): number {
  const parts = text.trim().split(":").map(Number);
  if (parts.length < 2 || parts.some((p) => !Number.isInteger(p) || p < 0)) return NaN;
  return parts.reduce((acc, p) => acc * 60 + p, 0);
}

// ---------------------------------------------------------------------------------------------
// Breathing

/** A breathing pattern in ms per phase, as the server sends it. */
export interface Pattern {
  inhale_ms: number;
  hold_in_ms: number;
  exhale_ms: number;
  hold_out_ms: number;
  /** Cycles (0: until stopped). */
  cycles: number;
}

/** The same pattern in seconds, as clients send it and presets store it. */
export interface PatternSecs {
  inhale_s: number;
  hold_in_s: number;
  exhale_s: number;
  hold_out_s: number;
  cycles: number;
}

export type Phase = "waiting" | "inhale" | "hold_in" | "exhale" | "hold_out" | "done";

export interface PhaseAt {
  phase: Phase;
  /** Which cycle, from 0. */
  cycle: number;
  into_ms: number;
  left_ms: number;
  /** How far through the phase, 0–1 (1 for a finished pattern). */
  progress: number;
  /** Every cycle is done. */
  done: boolean;
}

export function cycleMs(p: Pattern): number {
  return p.inhale_ms + p.hold_in_ms + p.exhale_ms + p.hold_out_ms;
}

function at(phase: Phase, cycle: number, into_ms: number, left_ms: number): PhaseAt {
  const len = into_ms + left_ms;
  const progress = phase === "done" ? 1 : phase === "waiting" || len <= 0 ? 0 : into_ms / len;
  return { phase, cycle, into_ms, left_ms, progress, done: phase === "done" };
}

/** The phase of `pattern`, started at server time `startedAt`, at server time `now`
 * (`selah_live::timer::phase_at`). */
export function phaseAt(pattern: Pattern, startedAt: number, now: number): PhaseAt {
  const cycle_ms = Math.max(cycleMs(pattern), 1);
  const t = now - startedAt;
  if (t < 0) return at("waiting", 0, 0, -t);
  const cycle = Math.floor(t / cycle_ms);
  if (pattern.cycles > 0 && cycle >= pattern.cycles) return at("done", pattern.cycles, 0, 0);
  let into = t % cycle_ms;
  const phases: [Phase, number][] = [
    ["inhale", pattern.inhale_ms],
    ["hold_in", pattern.hold_in_ms],
    ["exhale", pattern.exhale_ms],
    ["hold_out", pattern.hold_out_ms],
  ];
  for (const [phase, len] of phases) {
    if (into < len) return at(phase, cycle, into, len - into);
    into -= len;
  }
  // Only reachable when the last phases are zero-length.
  return at("inhale", cycle + 1, 0, pattern.inhale_ms);
}

/** What the label says for each phase. */
export const PHASE_LABEL: Record<Phase, string> = {
  waiting: "Get ready",
  inhale: "Breathe in",
  hold_in: "Hold",
  exhale: "Breathe out",
  hold_out: "Hold",
  done: "Done",
};

/** The smallest scale of the breathing circle (lungs empty). */
export const MIN_SCALE = 0.45;

/** The circle's scale for a phase: grows on the in-breath, shrinks on the out-breath, eased so
 * the turn at each end is gentle. */
export function breathScale(p: PhaseAt): number {
  const ease = (x: number) => (1 - Math.cos(Math.PI * clamp(x, 0, 1))) / 2;
  switch (p.phase) {
    case "inhale":
      return MIN_SCALE + (1 - MIN_SCALE) * ease(p.progress);
    case "hold_in":
      return 1;
    case "exhale":
      return 1 - (1 - MIN_SCALE) * ease(p.progress);
    default:
      return MIN_SCALE;
  }
}

/** Seconds to ms per phase, refusing what the server refuses (`Pattern::validate`) so the form
 * can say so before sending. */
export function patternFromSecs(s: PatternSecs): { pattern: Pattern } | { error: string } {
  const vals = [s.inhale_s, s.hold_in_s, s.exhale_s, s.hold_out_s];
  if (vals.some((v) => !Number.isFinite(v))) return { error: "Phase lengths are numbers of seconds." };
  const ms = (v: number) => Math.round(v * 1000);
  const pattern: Pattern = {
    inhale_ms: ms(s.inhale_s),
    hold_in_ms: ms(s.hold_in_s),
    exhale_ms: ms(s.exhale_s),
    hold_out_ms: ms(s.hold_out_s),
    cycles: s.cycles,
  };
  const phases = [pattern.inhale_ms, pattern.hold_in_ms, pattern.exhale_ms, pattern.hold_out_ms];
  if (phases.some((p) => p < 0 || p > 60_000)) return { error: "Each phase lasts between 0 and 60 seconds." };
  if (pattern.inhale_ms < 500 || pattern.exhale_ms < 500) return { error: "Inhale and exhale last at least half a second." };
  if (!Number.isInteger(s.cycles) || s.cycles < 0 || s.cycles > 1000) return { error: "Cycles are a whole number from 0 (until stopped) to 1000." };
  return { pattern };
}

/** A preset's stored pattern (seconds, holds and cycles optional as the server accepts). */
export function secsFromPreset(p: Record<string, unknown>): PatternSecs {
  const n = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : 0);
  return { inhale_s: n(p.inhale_s), hold_in_s: n(p.hold_in_s), exhale_s: n(p.exhale_s), hold_out_s: n(p.hold_out_s), cycles: n(p.cycles) };
}

/** "4-7-8-0 × 5" style summary of a pattern in seconds. */
export function describePattern(p: PatternSecs): string {
  const parts = [p.inhale_s, p.hold_in_s, p.exhale_s, p.hold_out_s].map((v) => String(v)).join("-");
  return p.cycles > 0 ? `${parts} s × ${p.cycles}` : `${parts} s, until stopped`;
}

// ---------------------------------------------------------------------------------------------
// Bells

/** What a client last saw of the timer, to decide whether a bell is due. */
export interface BellMark {
  startedAt: number;
  bells: number;
  finished: boolean;
}

export function bellMark(m: Meditation, now: number): BellMark {
  return { startedAt: m.started_at, bells: bellsAt(m, now), finished: finishedAt(m, now) };
}

/**
 * The bell to ring between two looks at the timer: the start bell at a fresh start, one per
 * interval, and the end bell when the sit finishes (ended by the host or run out). Someone who
 * joins mid-sit (no previous look) hears nothing until the next bell is due.
 */
export function bellToRing(prev: BellMark | null, next: BellMark): "start" | "interval" | "end" | null {
  if (!prev) return null;
  if (next.finished && !prev.finished) return "end";
  if (next.startedAt !== prev.startedAt) return !next.finished && next.bells === 1 ? "start" : null;
  if (!next.finished && next.bells > prev.bells) return "interval";
  return null;
}
