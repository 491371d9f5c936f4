/**
 * The meditation bell, synthesised with Web Audio oscillators (no audio files to ship or cache):
 * a fundamental and an inharmonic partial, as a struck bowl has, fading over a few seconds.
 * Browsers only start audio after a click, so the screen calls `unlockAudio` from one.
 */

let ctx: AudioContext | null = null;

type AudioCtor = typeof AudioContext;

/** Creates (or resumes) the audio context; call from a click. Returns whether sound can play. */
export function unlockAudio(): boolean {
  const Ctor: AudioCtor | undefined =
    typeof window === "undefined" ? undefined : (window.AudioContext ?? (window as unknown as { webkitAudioContext?: AudioCtor }).webkitAudioContext);
  if (!Ctor) return false;
  if (!ctx) ctx = new Ctor();
  if (ctx.state === "suspended") void ctx.resume().catch((e) => console.warn("live: audio could not start", e));
  return true;
}

export function audioReady(): boolean {
  return ctx !== null && ctx.state === "running";
}

function strike(at: number, freq: number, gain: number, seconds: number): void {
  if (!ctx) return;
  const out = ctx.createGain();
  out.gain.setValueAtTime(0.0001, at);
  out.gain.exponentialRampToValueAtTime(gain, at + 0.015);
  out.gain.exponentialRampToValueAtTime(0.0001, at + seconds);
  out.connect(ctx.destination);
  // A bowl's partials are not whole multiples: 2.76× gives the bell-like shimmer.
  for (const [mult, level] of [
    [1, 1],
    [2.76, 0.35],
    [5.4, 0.12],
  ] as const) {
    const osc = ctx.createOscillator();
    const g = ctx.createGain();
    osc.type = "sine";
    osc.frequency.setValueAtTime(freq * mult, at);
    g.gain.setValueAtTime(level, at);
    osc.connect(g);
    g.connect(out);
    osc.start(at);
    osc.stop(at + seconds + 0.05);
  }
}

/** Rings the bell: one strike at the start and each interval, three at the end. */
export function ringBell(kind: "start" | "interval" | "end"): void {
  if (!ctx || ctx.state !== "running") return;
  const t = ctx.currentTime + 0.02;
  if (kind === "end") {
    for (let i = 0; i < 3; i++) strike(t + i * 1.6, 528, 0.35, 4);
  } else {
    strike(t, kind === "start" ? 528 : 594, 0.35, 4);
  }
}
