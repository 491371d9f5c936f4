/**
 * Shared breathing: the host starts a pattern (inhale, hold, exhale, hold, cycles) or a saved
 * preset; everyone's circle follows the phase computed from the server's start time every
 * animation frame (grows on the in-breath, shrinks on the out-breath). With reduced motion the
 * circle stays still; the text label is always there.
 */
import { useEffect, useRef, useState, type FormEvent } from "react";
import { api, type Schemas } from "../../api/client";
import { ContextBadge } from "../../components/ContextBadge";
import type { RoomState } from "./roomState";
import {
  breathScale,
  describePattern,
  PHASE_LABEL,
  patternFromSecs,
  phaseAt,
  secsFromPreset,
  serverTime,
  type Pattern,
  type PatternSecs,
  type PhaseAt,
} from "./time";
import { messageOf, useLiveConnection, usePrefersReducedMotion } from "./useLive";

type Preset = Schemas["PresetView"];

const DEFAULT: PatternSecs = { inhale_s: 4, hold_in_s: 4, exhale_s: 4, hold_out_s: 4, cycles: 6 };

export function BreathingPanel({ state, roomId, meId }: { state: RoomState; roomId: string; meId?: string }) {
  const conn = useLiveConnection();
  const b = state.breathing;
  const isHost = state.role === "host";
  const [form, setForm] = useState<PatternSecs>(DEFAULT);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const presets = usePresets(state.info.team_id);

  async function start(body: { pattern: PatternSecs } | { preset: string }) {
    setBusy(true);
    setError("");
    try {
      await conn.request({ type: "breathing.start", room: roomId, ...body });
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  }

  function startForm(e: FormEvent) {
    e.preventDefault();
    const checked = patternFromSecs(form);
    if ("error" in checked) {
      setError(checked.error);
      return;
    }
    void start({ pattern: form });
  }

  async function stop() {
    setBusy(true);
    setError("");
    try {
      await conn.request({ type: "breathing.stop", room: roomId });
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="space-y-4">
      <section className="card" aria-labelledby="breathing-heading">
        <h3 id="breathing-heading" className="font-semibold">
          Breathing
        </h3>
        {b.state === "running" && b.pattern && b.started_at !== null ? (
          <Breather pattern={b.pattern} startedAt={b.started_at} />
        ) : (
          <p className="py-6 text-center text-slate-700">{isHost ? "Choose a pattern below and start it for everyone." : "Waiting for the host to start a pattern."}</p>
        )}
        {isHost && b.state === "running" && (
          <button className="btn-secondary mt-2" disabled={busy} onClick={() => void stop()}>
            Stop breathing
          </button>
        )}
        {error && <p role="alert" className="error-text mt-2">{error}</p>}
      </section>

      {isHost && (
        <section className="card" aria-labelledby="pattern-heading">
          <h3 id="pattern-heading" className="font-semibold">
            Pattern
          </h3>
          <form onSubmit={startForm} className="mt-2 flex flex-wrap items-end gap-3">
            <NumberField label="Inhale (s)" value={form.inhale_s} onChange={(v) => setForm({ ...form, inhale_s: v })} />
            <NumberField label="Hold after inhale (s)" value={form.hold_in_s} onChange={(v) => setForm({ ...form, hold_in_s: v })} />
            <NumberField label="Exhale (s)" value={form.exhale_s} onChange={(v) => setForm({ ...form, exhale_s: v })} />
            <NumberField label="Hold after exhale (s)" value={form.hold_out_s} onChange={(v) => setForm({ ...form, hold_out_s: v })} />
            <NumberField label="Cycles (0 = until stopped)" value={form.cycles} step={1} onChange={(v) => setForm({ ...form, cycles: v })} />
            <button className="btn" disabled={busy}>
              Start breathing
            </button>
          </form>
          <SavePreset form={form} teamId={state.info.team_id} onSaved={presets.reload} />
        </section>
      )}

      <section className="card" aria-labelledby="presets-heading">
        <h3 id="presets-heading" className="font-semibold">
          Presets
        </h3>
        {presets.error && <p role="alert" className="error-text mt-1">{presets.error}</p>}
        {presets.list.length === 0 && !presets.error && <p className="mt-1 text-sm text-slate-700">No saved presets yet.</p>}
        <ul className="mt-2 divide-y divide-slate-200">
          {presets.list.map((p) => {
            const secs = secsFromPreset(p.pattern as Record<string, unknown>);
            return (
              <li key={p.id} className="flex flex-wrap items-center gap-2 py-2">
                <span className="font-medium text-slate-900">{p.name}</span>
                <span className="text-sm text-slate-700">{describePattern(secs)}</span>
                <ContextBadge teamId={p.team_id} />
                <span className="ml-auto flex flex-wrap gap-2">
                  {isHost && (
                    <>
                      <button className="btn-secondary" onClick={() => setForm(secs)} aria-label={`Use ${p.name} in the form`}>
                        Use
                      </button>
                      <button className="btn" disabled={busy} onClick={() => void start({ preset: p.id })} aria-label={`Start ${p.name}`}>
                        Start
                      </button>
                    </>
                  )}
                  {p.owner_id === meId && (
                    <button className="btn-secondary" onClick={() => void presets.remove(p)} aria-label={`Delete ${p.name}`}>
                      Delete
                    </button>
                  )}
                </span>
              </li>
            );
          })}
        </ul>
      </section>
    </div>
  );
}

function NumberField({ label, value, onChange, step = 0.5 }: { label: string; value: number; onChange: (v: number) => void; step?: number }) {
  return (
    <label className="flex flex-col text-sm font-medium text-slate-800">
      {label}
      <input
        className="input mt-1 w-24"
        type="number"
        min={0}
        step={step}
        value={Number.isFinite(value) ? value : ""}
        onChange={(e) => onChange(e.target.value === "" ? NaN : Number(e.target.value))}
        required
      />
    </label>
  );
}

/**
 * The circle and the phase label. The circle's transform is set straight on the element every
 * animation frame (no React render per frame); the label re-renders only when its text changes.
 */
function Breather({ pattern, startedAt }: { pattern: Pattern; startedAt: number }) {
  const conn = useLiveConnection();
  const reduced = usePrefersReducedMotion();
  const circle = useRef<HTMLDivElement>(null);
  const [phase, setPhase] = useState<PhaseAt>(() => phaseAt(pattern, startedAt, serverTime(conn.clientNow(), conn.offsetMs)));
  useEffect(() => {
    let frame = 0;
    let lastKey = "";
    const tick = () => {
      const p = phaseAt(pattern, startedAt, serverTime(conn.clientNow(), conn.offsetMs));
      if (circle.current) circle.current.style.transform = `scale(${reduced ? 0.75 : breathScale(p)})`;
      const key = `${p.phase}/${p.cycle}/${Math.ceil(p.left_ms / 1000)}`;
      if (key !== lastKey) {
        lastKey = key;
        setPhase(p);
      }
      if (!p.done) frame = requestAnimationFrame(tick);
    };
    frame = requestAnimationFrame(tick);
    return () => cancelAnimationFrame(frame);
  }, [conn, pattern, startedAt, reduced]);
  const secs = Math.ceil(phase.left_ms / 1000);
  const cycles = pattern.cycles > 0 ? ` of ${pattern.cycles}` : "";
  return (
    <div className="flex flex-col items-center gap-3 py-4">
      <div className="flex h-56 w-56 items-center justify-center">
        <div
          ref={circle}
          aria-hidden
          data-breathing-circle
          className="h-56 w-56 rounded-full bg-sky-200 ring-4 ring-sky-700/40"
          style={{ transform: `scale(${reduced ? 0.75 : breathScale(phase)})`, willChange: "transform" }}
        />
      </div>
      {/* Announced when the phase changes, not every second. */}
      <p aria-live="polite" data-phase={phase.phase} className="text-2xl font-semibold text-slate-900">
        {PHASE_LABEL[phase.phase]}
      </p>
      <p className="text-sm text-slate-700">
        {phase.done ? `All ${pattern.cycles} cycles done` : `${secs} s · cycle ${Math.min(phase.cycle + 1, pattern.cycles || Infinity)}${cycles}`}
      </p>
    </div>
  );
}

/** Presets one may use here: one's own, and the team's when the room is a team's. */
function usePresets(teamId: string | null | undefined) {
  const [list, setList] = useState<Preset[]>([]);
  const [error, setError] = useState("");
  const [version, setVersion] = useState(0);
  useEffect(() => {
    let live = true;
    // An empty X-Selah-Team asks for the personal context whatever the header's switcher says.
    const personal = api<Preset[]>("/api/v1/live/breathing-presets", { headers: { "X-Selah-Team": "" } });
    const team = teamId ? api<Preset[]>("/api/v1/live/breathing-presets", { headers: { "X-Selah-Team": teamId } }) : Promise.resolve([]);
    Promise.all([personal, team])
      .then(([a, b]) => {
        if (!live) return;
        const seen = new Set<string>();
        setList([...b, ...a].filter((p) => !seen.has(p.id) && (seen.add(p.id), true)));
        setError("");
      })
      .catch((e) => live && setError(messageOf(e)));
    return () => {
      live = false;
    };
  }, [teamId, version]);
  return {
    list,
    error,
    reload: () => setVersion((v) => v + 1),
    async remove(p: Preset) {
      try {
        await api(`/api/v1/live/breathing-presets/${encodeURIComponent(p.id)}`, {
          method: "DELETE",
          headers: { "X-Selah-Team": p.team_id ?? "" },
        });
        setVersion((v) => v + 1);
      } catch (e) {
        setError(messageOf(e));
      }
    },
  };
}

/** Saves the form's pattern as a preset: personal, or shared with the room's team. */
function SavePreset({ form, teamId, onSaved }: { form: PatternSecs; teamId: string | null | undefined; onSaved: () => void }) {
  const [name, setName] = useState("");
  const [share, setShare] = useState(false);
  const [error, setError] = useState("");
  const [saved, setSaved] = useState("");
  async function save(e: FormEvent) {
    e.preventDefault();
    setError("");
    setSaved("");
    const checked = patternFromSecs(form);
    if ("error" in checked) {
      setError(checked.error);
      return;
    }
    try {
      await api("/api/v1/live/breathing-presets", {
        body: { name: name.trim(), pattern: form },
        headers: { "X-Selah-Team": share && teamId ? teamId : "" },
      });
      setSaved(share && teamId ? `Saved “${name.trim()}” for the team.` : `Saved “${name.trim()}”.`);
      setName("");
      onSaved();
    } catch (err) {
      setError(messageOf(err));
    }
  }
  return (
    <form onSubmit={save} className="mt-4 flex flex-wrap items-end gap-3 border-t border-slate-200 pt-3">
      <label className="min-w-40 flex-1 text-sm font-medium text-slate-800">
        Preset name
        <input className="input mt-1" value={name} maxLength={100} onChange={(e) => setName(e.target.value)} required />
      </label>
      {teamId && (
        <label className="flex items-center gap-2 text-sm text-slate-800">
          <input type="checkbox" checked={share} onChange={(e) => setShare(e.target.checked)} />
          Share with the team
        </label>
      )}
      <button className="btn-secondary" disabled={!name.trim()}>
        Save as preset
      </button>
      {error && <p role="alert" className="error-text w-full">{error}</p>}
      {saved && <p role="status" className="w-full text-sm text-green-800">{saved}</p>}
    </form>
  );
}
