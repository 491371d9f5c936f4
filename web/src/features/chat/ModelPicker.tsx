/**
 * The session's model selector: checks the memory fit of a local model before switching and,
 * when it does not fit, asks first (Cancel / Load anyway); "Reset to default" clears the choice.
 */
import { useState } from "react";
import { api, type Schemas } from "../../api/client";
import { Modal } from "../../components/Modal";
import { fitSummary } from "../../lib/fit";
import { useChat } from "./chatStore";
import { hasFitCheck, modelOptionLabel, switchStep } from "./modelSwitch";

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function ModelPicker() {
  const { current, models, defaultModel, modelsError, setModel, streamingSession } = useChat();
  const [busy, setBusy] = useState("");
  const [error, setError] = useState("");
  const [pending, setPending] = useState<{ model: string; fit: Schemas["FitReport"] } | null>(null);
  if (!current) return null;
  const chosen = current.active_model ?? "";
  const streaming = streamingSession === current.id;

  async function apply(model: string | null) {
    setBusy(model ? "Switching model…" : "Resetting…");
    setError("");
    try {
      await setModel(model);
    } catch (e) {
      setError(message(e));
    } finally {
      setBusy("");
    }
  }

  async function choose(model: string) {
    if (model === "") return apply(null);
    setError("");
    let fit: Schemas["FitReport"] | null = null;
    if (hasFitCheck(model)) {
      setBusy("Checking memory…");
      try {
        fit = await api<Schemas["FitReport"]>("/api/v1/chat/models/check-fit", { body: { model } });
      } catch (e) {
        setBusy("");
        setError(`Could not check whether the model fits: ${message(e)}`);
        return;
      }
    }
    if (fit && switchStep(fit) === "warn") {
      setBusy("");
      setPending({ model, fit });
      return;
    }
    await apply(model);
  }

  // A chosen model that is no longer listed still shows, so the select never lies.
  const listed = models.some((m) => m.id === chosen);
  return (
    <div className="flex flex-wrap items-center gap-2">
      <label className="flex min-w-0 max-w-full flex-wrap items-center gap-2 text-sm text-slate-800">
        Model
        <select
          aria-label="Model"
          className="input w-auto max-w-full"
          value={chosen}
          disabled={!!busy || streaming}
          onChange={(e) => void choose(e.target.value)}
        >
          <option value="">Default{defaultModel ? ` (${defaultModel})` : ""}</option>
          {chosen && !listed && <option value={chosen}>{chosen}</option>}
          {models.map((m) => (
            <option key={m.id} value={m.id}>
              {modelOptionLabel(m)}
            </option>
          ))}
        </select>
      </label>
      <button className="btn-secondary" onClick={() => void apply(null)} disabled={!current.active_model || !!busy || streaming}>
        Reset to default
      </button>
      {busy && (
        <span role="status" className="text-sm text-slate-700">
          {busy}
        </span>
      )}
      {(error || modelsError) && (
        <p role="alert" className="error-text w-full">
          {error || `Models could not be listed: ${modelsError}`}
        </p>
      )}
      <Modal title="This model may not fit in memory" open={pending !== null} onClose={() => setPending(null)}>
        {pending && (
          <div className="space-y-3 text-sm text-slate-800">
            <p>
              <strong className="break-all">{pending.model}</strong>: {fitSummary(pending.fit)}.
            </p>
            <p>{pending.fit.recommendation}</p>
            <p>Loading it anyway may slow the machine down or fail.</p>
            <div className="flex flex-wrap justify-end gap-2">
              <button className="btn-secondary" onClick={() => setPending(null)}>
                Cancel
              </button>
              <button
                className="btn-danger"
                onClick={() => {
                  const m = pending.model;
                  setPending(null);
                  void apply(m);
                }}
              >
                Load anyway
              </button>
            </div>
          </div>
        )}
      </Modal>
    </div>
  );
}
