/**
 * Stress check-ins: one's level 0–10 with optional factor tags and the opt-in to be seen by name;
 * the room's aggregate (count, mean, distribution, trend — nobody's level without their opt-in);
 * one's own history from /api/v1/wellbeing/stress; and, for the host, support notifications when
 * someone who shared checks in at 8 or more.
 */
import { useCallback, useEffect, useState, type FormEvent } from "react";
import { api, type Schemas } from "../../api/client";
import { DistributionChart, HistoryLine } from "./charts";
import type { RoomState } from "./roomState";
import { formatMean, levelWord, trendText } from "./stressView";
import { messageOf, useLiveConnection } from "./useLive";

const FACTORS = ["work", "sleep", "health", "family", "money", "relationships"];
const MAX_FACTORS = 8;

export function StressPanel({ state, roomId }: { state: RoomState; roomId: string }) {
  const history = useHistory();
  return (
    <div className="space-y-4">
      {state.role === "host" && <SupportNotes state={state} />}
      <CheckIn roomId={roomId} onDone={history.reload} />
      <section className="card" aria-labelledby="aggregate-heading">
        <h3 id="aggregate-heading" className="font-semibold">
          The room
        </h3>
        <dl className="mt-2 grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-sm">
          <dt className="text-slate-700">Check-ins</dt>
          <dd className="font-medium text-slate-900" data-stress-count>
            {state.stress.count}
          </dd>
          <dt className="text-slate-700">Mean level</dt>
          <dd className="font-medium text-slate-900">{state.stress.count ? formatMean(state.stress.mean) : "—"}</dd>
          <dt className="text-slate-700">Trend</dt>
          <dd className="font-medium text-slate-900">{trendText(state.stress.trend, state.stress.count)}</dd>
        </dl>
        <div className="mt-3">
          <DistributionChart distribution={state.stress.distribution} label="Check-ins per level" />
        </div>
        {state.stress.shared.length > 0 && (
          <>
            <h4 className="mt-3 text-sm font-semibold">Shared by name</h4>
            <ul className="mt-1 space-y-1 text-sm text-slate-800">
              {state.stress.shared.map((s) => (
                <li key={s.user}>
                  <span className="font-medium">{s.username}</span>: {s.level}
                  {s.factors.length > 0 && <span className="text-slate-700"> ({s.factors.join(", ")})</span>}
                </li>
              ))}
            </ul>
          </>
        )}
      </section>
      <section className="card" aria-labelledby="history-heading">
        <h3 id="history-heading" className="font-semibold">
          Your history
        </h3>
        {history.error && <p role="alert" className="error-text mt-1">{history.error}</p>}
        {history.data && (
          <>
            <p className="mt-1 text-sm text-slate-700">
              {history.data.count} check-ins{history.data.count > 0 && `, mean ${formatMean(history.data.mean)}`} — {trendText(history.data.trend, history.data.count)}
            </p>
            <div className="mt-2">
              {/* The API lists newest first; the line reads left to right in time. */}
              <HistoryLine levels={history.data.checkins.slice(0, 30).map((c) => c.level).reverse()} label="Your stress levels over time" />
            </div>
          </>
        )}
      </section>
    </div>
  );
}

function useHistory() {
  const [data, setData] = useState<Schemas["StressHistory"] | null>(null);
  const [error, setError] = useState("");
  const [version, setVersion] = useState(0);
  useEffect(() => {
    let live = true;
    api<Schemas["StressHistory"]>("/api/v1/wellbeing/stress")
      .then((d) => {
        if (!live) return;
        setData(d);
        setError("");
      })
      .catch((e) => live && setError(messageOf(e)));
    return () => {
      live = false;
    };
  }, [version]);
  return { data, error, reload: useCallback(() => setVersion((v) => v + 1), []) };
}

function CheckIn({ roomId, onDone }: { roomId: string; onDone: () => void }) {
  const conn = useLiveConnection();
  const [level, setLevel] = useState(5);
  const [factors, setFactors] = useState<string[]>([]);
  const [other, setOther] = useState("");
  const [share, setShare] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const [done, setDone] = useState("");

  function toggle(f: string) {
    setFactors((list) => (list.includes(f) ? list.filter((x) => x !== f) : list.length < MAX_FACTORS ? [...list, f] : list));
  }
  function addOther() {
    const f = other.trim().slice(0, 32);
    if (f && !factors.includes(f) && factors.length < MAX_FACTORS) setFactors([...factors, f]);
    setOther("");
  }
  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError("");
    setDone("");
    try {
      await conn.request({ type: "stress.checkin", room: roomId, level, factors, share });
      setDone(`Checked in at ${level}${share ? ", shared with the room" : ""}.`);
      setFactors([]);
      onDone();
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  }
  const custom = factors.filter((f) => !FACTORS.includes(f));
  return (
    <section className="card" aria-labelledby="checkin-heading">
      <h3 id="checkin-heading" className="font-semibold">
        Check in
      </h3>
      <form onSubmit={submit} className="mt-2 space-y-3">
        <label className="block text-sm font-medium text-slate-800">
          Stress level: <span data-level>{level}</span> — {levelWord(level)}
          <input
            type="range"
            min={0}
            max={10}
            step={1}
            value={level}
            onChange={(e) => setLevel(Number(e.target.value))}
            aria-valuetext={`${level}, ${levelWord(level)}`}
            className="mt-1 block w-full accent-sky-700"
          />
        </label>
        <fieldset>
          <legend className="text-sm font-medium text-slate-800">What is weighing on you? (optional)</legend>
          <div className="mt-1 flex flex-wrap gap-2">
            {[...FACTORS, ...custom].map((f) => {
              const on = factors.includes(f);
              return (
                <button
                  key={f}
                  type="button"
                  aria-pressed={on}
                  onClick={() => toggle(f)}
                  className={`rounded-full border px-3 py-1 text-sm ${on ? "border-sky-800 bg-sky-800 text-white" : "border-slate-300 bg-white text-slate-800 hover:bg-slate-100"}`}
                >
                  {f}
                </button>
              );
            })}
          </div>
          <div className="mt-2 flex flex-wrap gap-2">
            <label className="sr-only" htmlFor="other-factor">
              Another factor
            </label>
            <input
              id="other-factor"
              className="input max-w-56 placeholder:text-slate-600"
              value={other}
              maxLength={32}
              placeholder="Another factor"
              onChange={(e) => setOther(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === "Enter") {
                  e.preventDefault();
                  addOther();
                }
              }}
            />
            <button type="button" className="btn-secondary" onClick={addOther} disabled={!other.trim() || factors.length >= MAX_FACTORS}>
              Add factor
            </button>
          </div>
        </fieldset>
        <label className="flex items-center gap-2 text-sm text-slate-800">
          <input type="checkbox" checked={share} onChange={(e) => setShare(e.target.checked)} />
          Share my level and name with the room (otherwise only the anonymous totals include it)
        </label>
        <button className="btn" disabled={busy}>
          Check in
        </button>
        {error && <p role="alert" className="error-text">{error}</p>}
        {done && <p role="status" className="text-sm text-green-800">{done}</p>}
      </form>
    </section>
  );
}

function SupportNotes({ state }: { state: RoomState }) {
  return (
    <section className="card border-amber-300 bg-amber-50" aria-labelledby="support-heading">
      <h3 id="support-heading" className="font-semibold text-slate-900">
        Support notifications
      </h3>
      {state.support.length === 0 ? (
        <p className="mt-1 text-sm text-slate-800">Nobody who shared has checked in at 8 or more since you opened this room.</p>
      ) : (
        <ul role="alert" className="mt-1 space-y-1 text-sm text-slate-900">
          {state.support.map((s) => (
            <li key={s.seq}>
              <span className="font-medium">{s.username}</span> checked in at {s.level}
              {s.factors.length > 0 && ` (${s.factors.join(", ")})`} at {new Date(s.at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })} — a
              word from you may help.
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
