/**
 * The shared meditation timer: the host starts (duration, interval bells), pauses, resumes and
 * ends it; everyone's countdown is computed from the server's start time and the clock offset
 * (time.ts), so all screens show the same time however late a message came. Bells are rung
 * locally when the computed count changes; participants can mark the sit completed.
 */
import { useEffect, useRef, useState, type FormEvent } from "react";
import { audioReady, ringBell, unlockAudio } from "./bell";
import type { RoomState } from "./roomState";
import { bellMark, bellToRing, countdownMs, elapsedAt, finishedAt, formatClock, serverTime, type BellMark } from "./time";
import { messageOf, useLiveConnection, useTicker } from "./useLive";

const STATE_TEXT = { idle: "Not started", running: "Running", paused: "Paused", ended: "Finished" } as const;

export function MeditationPanel({ state, roomId, meId }: { state: RoomState; roomId: string; meId?: string }) {
  const conn = useLiveConnection();
  const m = state.meditation;
  const live = m.state === "running";
  // Four looks a second keep the displayed second within a quarter second of every other screen.
  useTicker(250, live);
  const now = serverTime(conn.clientNow(), conn.offsetMs);
  const remaining = countdownMs(m, conn.clientNow(), conn.offsetMs);
  const finished = finishedAt(m, now);
  const isHost = state.role === "host";
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const [minutes, setMinutes] = useState("10");
  const [bellMinutes, setBellMinutes] = useState("0");
  const [sound, setSound] = useState(audioReady());
  const done = !!meId && state.completedBy.includes(meId);

  // Ring on every change of the computed bell count (and at the end), never on joining.
  const lastBell = useRef<BellMark | null>(null);
  const mark = bellMark(m, now);
  useEffect(() => {
    const ring = bellToRing(lastBell.current, mark);
    lastBell.current = mark;
    if (ring) ringBell(ring);
  });

  async function send(type: "meditation.pause" | "meditation.resume" | "meditation.end" | "meditation.complete") {
    setBusy(true);
    setError("");
    try {
      await conn.request({ type, room: roomId });
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  }

  async function start(e: FormEvent) {
    e.preventDefault();
    // The click that starts is also what lets the browser play the bell.
    setSound(unlockAudio());
    const duration_s = Math.round(Number(minutes) * 60);
    const bell_interval_s = Math.round(Number(bellMinutes) * 60);
    if (!(duration_s >= 1 && duration_s <= 14_400)) {
      setError("The duration is between 1 second and 240 minutes.");
      return;
    }
    if (!(bell_interval_s >= 0)) {
      setError("The bell interval is 0 (start and end only) or more minutes.");
      return;
    }
    setBusy(true);
    setError("");
    try {
      await conn.request({ type: "meditation.start", room: roomId, duration_s, bell_interval_s });
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  }

  const fraction = m.duration_ms > 0 ? elapsedAt(m, now) / m.duration_ms : 0;
  return (
    <section className="card space-y-4" aria-labelledby="meditation-heading">
      <h3 id="meditation-heading" className="font-semibold">
        Meditation
      </h3>
      <div className="flex flex-col items-center gap-2 py-2">
        <p role="timer" aria-label="Time remaining" data-countdown className="font-mono text-6xl font-semibold tabular-nums text-slate-900">
          {formatClock(remaining)}
        </p>
        <p className="text-sm text-slate-700" data-meditation-state={finished ? "ended" : m.state}>
          {finished ? STATE_TEXT.ended : STATE_TEXT[m.state]}
          {m.bell_interval_ms > 0 && m.state !== "idle" && ` · a bell every ${formatClock(m.bell_interval_ms)}`}
          {` · ${state.completed} completed`}
        </p>
        <div className="h-2 w-full max-w-md overflow-hidden rounded-full bg-slate-200" aria-hidden>
          <div className="h-full bg-sky-700" style={{ width: `${Math.round(fraction * 1000) / 10}%` }} />
        </div>
      </div>

      <div className="flex flex-wrap items-center gap-2">
        <button className="btn-secondary" aria-pressed={sound} onClick={() => setSound(unlockAudio())}>
          {sound ? "Bell sound on" : "Turn on bell sound"}
        </button>
        {m.state !== "idle" && (
          <button className="btn-secondary" disabled={busy || done} onClick={() => void send("meditation.complete")}>
            {done ? "You completed this sit" : "Mark completed"}
          </button>
        )}
      </div>

      {isHost && (
        <div className="space-y-3 border-t border-slate-200 pt-3">
          {(m.state === "idle" || finished) && (
            <form onSubmit={start} className="flex flex-wrap items-end gap-3">
              <label className="flex flex-col text-sm font-medium text-slate-800">
                Duration (minutes)
                <input className="input mt-1 w-28" type="number" min={0.1} max={240} step="any" value={minutes} onChange={(e) => setMinutes(e.target.value)} required />
              </label>
              <label className="flex flex-col text-sm font-medium text-slate-800">
                Bell every (minutes, 0 for start and end only)
                <input className="input mt-1 w-28" type="number" min={0} max={240} step="any" value={bellMinutes} onChange={(e) => setBellMinutes(e.target.value)} required />
              </label>
              <button className="btn" disabled={busy}>
                Start meditation
              </button>
            </form>
          )}
          {!finished && m.state !== "idle" && (
            <div className="flex flex-wrap gap-2">
              {m.state === "running" && (
                <button className="btn-secondary" disabled={busy} onClick={() => void send("meditation.pause")}>
                  Pause
                </button>
              )}
              {m.state === "paused" && (
                <button className="btn" disabled={busy} onClick={() => void send("meditation.resume")}>
                  Resume
                </button>
              )}
              <button className="btn-danger" disabled={busy} onClick={() => void send("meditation.end")}>
                End
              </button>
            </div>
          )}
        </div>
      )}
      {!isHost && m.state === "idle" && <p className="text-sm text-slate-700">The host starts the timer; it shows here for everyone at once.</p>}
      {error && <p role="alert" className="error-text">{error}</p>}
    </section>
  );
}
