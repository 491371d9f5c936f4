/**
 * Hot slots: the models kept loaded, each slot's estimated memory, the RAM meter (use against
 * the 75 % limit and the machine), assigning a model to a slot and ejecting it. The server
 * refuses an assignment over the limit with its own message, shown as it is.
 */
import { useCallback, useEffect, useState } from "react";
import { api, type Schemas } from "../../api/client";
import { canBeHot, formatBytes, ramMeter } from "./format";

type View = Schemas["HotSlotsView"];
type Slot = Schemas["SlotView"];

interface Props {
  models: Schemas["ModelInfo"][];
  admin: boolean;
  /** Bumped by the parent when the slots may have changed (an import). */
  version: number;
  /** Called after a change, so the model list shows the new slots. */
  onChange: () => void;
}

export function HotSlots({ models, admin, version, onChange }: Props) {
  const [view, setView] = useState<View | null>(null);
  const [error, setError] = useState("");

  const load = useCallback(async () => {
    try {
      setView(await api<View>("/api/v1/chat/models/hot-slots"));
      setError("");
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load, version]);

  const updated = (v: View) => {
    setView(v);
    onChange();
  };

  const meter = view ? ramMeter(view) : null;
  return (
    <section aria-labelledby="slots-heading" className="card flex flex-col gap-3">
      <h2 id="slots-heading" className="text-lg font-semibold">
        Hot slots
      </h2>
      <p className="text-sm text-slate-700">Models in a hot slot stay loaded and answer at once. Together they may use at most 75% of the machine's RAM.</p>
      {error && (
        <p role="alert" className="error-text">
          {error}
        </p>
      )}
      {!view && !error && <p className="text-sm text-slate-700">Loading hot slots…</p>}
      {view && meter && (
        <div className="flex flex-col gap-1">
          <div
            role="meter"
            aria-label="RAM used by hot slots"
            aria-valuemin={0}
            aria-valuemax={view.ram_total_gb}
            aria-valuenow={view.total_gb}
            aria-valuetext={meter.text}
            className="relative h-3 w-full overflow-hidden rounded-full bg-slate-200"
          >
            <div className={`h-full ${meter.over ? "bg-red-600" : "bg-sky-700"}`} style={{ width: `${meter.usedPercent}%` }} />
            <div aria-hidden className="absolute inset-y-0 w-0.5 bg-slate-900" style={{ left: `${meter.limitPercent}%` }} title="75% limit" />
          </div>
          <p className={`text-sm font-medium ${meter.over ? "text-red-800" : "text-slate-800"}`} data-testid="ram-meter">
            {meter.text}
          </p>
        </div>
      )}
      {view && (
        <ul className="flex flex-col gap-2">
          {view.slots.map((s) => (
            <SlotRow key={s.slot_num} slot={s} models={models} admin={admin} onUpdated={updated} />
          ))}
        </ul>
      )}
    </section>
  );
}

function SlotRow({ slot, models, admin, onUpdated }: { slot: Slot; models: Schemas["ModelInfo"][]; admin: boolean; onUpdated: (v: View) => void }) {
  const [choice, setChoice] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const candidates = models.filter((m) => canBeHot(m) && m.id !== slot.model);

  async function run(f: () => Promise<View>) {
    setBusy(true);
    setError("");
    try {
      onUpdated(await f());
      setChoice("");
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  }

  const url = `/api/v1/chat/models/hot-slots/${slot.slot_num}`;
  return (
    <li className="rounded-lg border border-slate-200 p-3" data-slot={slot.slot_num}>
      <div className="flex flex-wrap items-center gap-x-3 gap-y-1 text-sm">
        <span className="font-semibold">Slot {slot.slot_num}</span>
        <span className="font-mono break-all text-slate-900">{slot.model ?? "empty"}</span>
        {slot.model && <span className="text-slate-700">≈ {formatBytes(slot.estimated_bytes)}</span>}
        {slot.model && <span className={slot.loaded ? "text-green-800" : "text-slate-700"}>{slot.loaded ? "loaded" : "not loaded yet"}</span>}
      </div>
      {slot.error && <p className="error-text mt-1">Failed to load: {slot.error}</p>}
      {admin && (
        <div className="mt-2 flex flex-wrap items-center gap-2">
          <select
            className="input w-auto max-w-full"
            aria-label={`Model for slot ${slot.slot_num}`}
            value={choice}
            onChange={(e) => setChoice(e.target.value)}
            disabled={busy}
          >
            <option value="">Choose a model…</option>
            {candidates.map((m) => (
              <option key={m.id} value={m.id}>
                {m.id}
              </option>
            ))}
          </select>
          <button className="btn" disabled={!choice || busy} onClick={() => void run(() => api<View>(url, { body: { model: choice } }))}>
            Assign to slot {slot.slot_num}
          </button>
          {slot.model && (
            <button className="btn-secondary" disabled={busy} onClick={() => void run(() => api<View>(url, { method: "DELETE" }))}>
              Eject slot {slot.slot_num}
            </button>
          )}
        </div>
      )}
      {error && (
        <p role="alert" className="error-text mt-1">
          {error}
        </p>
      )}
    </li>
  );
}
