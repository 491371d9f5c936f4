/**
 * Settings → Models: the user's chat preferences (`GET|PUT /api/v1/chat/preferences`) — the
 * default model for new chats and standing instructions put first in every prompt. The free-form
 * `preferences` object is kept as it is (other screens may write it).
 */
import { useEffect, useState, type FormEvent } from "react";
import { api, type Schemas } from "../../api/client";
import { errorMessage } from "./ui";

type Preferences = Schemas["Preferences"];
type ModelInfo = Schemas["ModelInfo"];

/** The server's limit on the system prompt (preferences.rs). */
const MAX_PROMPT = 8000;

export default function ModelsTab() {
  const [prefs, setPrefs] = useState<Preferences | null>(null);
  const [models, setModels] = useState<ModelInfo[]>([]);
  const [serverDefault, setServerDefault] = useState<string | null>(null);
  const [model, setModel] = useState("");
  const [prompt, setPrompt] = useState("");
  const [loadError, setLoadError] = useState("");
  const [modelsError, setModelsError] = useState("");
  const [saveError, setSaveError] = useState("");
  const [saved, setSaved] = useState("");
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let live = true;
    api<Preferences>("/api/v1/chat/preferences")
      .then((p) => {
        if (!live) return;
        setPrefs(p);
        setModel(p.default_model ?? "");
        setPrompt(p.system_prompt ?? "");
      })
      .catch((e: unknown) => live && setLoadError(errorMessage(e)));
    api<Schemas["ModelList"]>("/api/v1/chat/models")
      .then((l) => {
        if (!live) return;
        setModels(l.models);
        setServerDefault(l.default_model ?? null);
      })
      .catch((e: unknown) => live && setModelsError(errorMessage(e)));
    return () => {
      live = false;
    };
  }, []);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!prefs) return;
    setBusy(true);
    setSaveError("");
    setSaved("");
    try {
      const body: Preferences = {
        default_model: model || null,
        system_prompt: prompt.trim() || null,
        preferences: prefs.preferences ?? {},
      };
      const p = await api<Preferences>("/api/v1/chat/preferences", { method: "PUT", body });
      setPrefs(p);
      setModel(p.default_model ?? "");
      setPrompt(p.system_prompt ?? "");
      setSaved("Saved. New chats use these settings.");
    } catch (err) {
      setSaveError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  if (loadError)
    return (
      <p role="alert" className="error-text">
        {loadError}
      </p>
    );
  if (!prefs) return <p className="text-sm text-slate-700">Loading…</p>;

  const known = models.some((m) => m.id === model);
  return (
    <form onSubmit={(e) => void submit(e)} className="flex flex-col gap-4">
      <label className="flex flex-col gap-1 text-sm">
        <span className="font-semibold">Default model</span>
        <select className="input" value={model} onChange={(e) => setModel(e.target.value)}>
          <option value="">Server's choice{serverDefault && !prefs.default_model ? ` (now ${serverDefault})` : ""}</option>
          {models.map((m) => (
            <option key={m.id} value={m.id} disabled={!m.available}>
              {m.name} — {m.provider}
              {m.quantization ? `, ${m.quantization}` : ""}
              {m.available ? "" : " (unreachable)"}
            </option>
          ))}
          {model && !known && <option value={model}>{model} (not found)</option>}
        </select>
        <span className="text-xs text-slate-700">New chats start with this model; a chat can still switch.</span>
      </label>
      {modelsError && (
        <p role="alert" className="error-text">
          Models could not be listed: {modelsError}
        </p>
      )}
      <label className="flex flex-col gap-1 text-sm">
        <span className="font-semibold">Instructions for every chat</span>
        <textarea
          className="input min-h-28"
          value={prompt}
          maxLength={MAX_PROMPT}
          onChange={(e) => setPrompt(e.target.value)}
          placeholder="e.g. Answer briefly, in British English."
        />
        <span className="text-xs text-slate-700">
          Put first in every prompt. {prompt.length.toLocaleString()} of {MAX_PROMPT.toLocaleString()} characters.
        </span>
      </label>
      <div className="flex flex-wrap items-center gap-3">
        <button className="btn" disabled={busy}>
          {busy ? "Saving…" : "Save preferences"}
        </button>
        {saved && (
          <span role="status" className="text-sm text-green-800">
            {saved}
          </span>
        )}
      </div>
      {saveError && (
        <p role="alert" className="error-text">
          {saveError}
        </p>
      )}
    </form>
  );
}
