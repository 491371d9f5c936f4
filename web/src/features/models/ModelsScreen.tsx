/**
 * The models screen: every model Selah can run with its metadata and memory fit, importing a
 * GGUF from a path on the server, and the hot slots (models kept loaded) with their RAM use.
 */
import { useCallback, useEffect, useState } from "react";
import { api, type Schemas } from "../../api/client";
import { FitBadge } from "../../components/FitBadge";
import { isAdmin } from "../../components/Header";
import { useSession } from "../../stores/session";
import { canBeHot, formatBytes, formatContext, formatParams } from "./format";
import { HotSlots } from "./HotSlots";

type ModelInfo = Schemas["ModelInfo"];

export default function ModelsScreen() {
  const admin = isAdmin(useSession((s) => s.me?.user.role));
  const [list, setList] = useState<Schemas["ModelList"] | null>(null);
  const [error, setError] = useState("");
  const [slotsVersion, setSlotsVersion] = useState(0);

  const load = useCallback(async () => {
    try {
      setList(await api<Schemas["ModelList"]>("/api/v1/chat/models"));
      setError("");
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  const changed = useCallback(() => {
    void load();
    setSlotsVersion((v) => v + 1);
  }, [load]);

  return (
    <div className="flex flex-col gap-4">
      <h1 className="text-xl font-semibold">Models</h1>
      {error && (
        <p role="alert" className="error-text">
          {error}
        </p>
      )}
      <HotSlots models={list?.models ?? []} admin={admin} version={slotsVersion} onChange={() => void load()} />
      <section aria-labelledby="models-heading" className="flex flex-col gap-2">
        <h2 id="models-heading" className="text-lg font-semibold">
          All models
        </h2>
        {list && (
          <p className="text-sm text-slate-700">
            New chats use {list.default_model ? <span className="font-mono break-all">{list.default_model}</span> : "no model (none is available)"}.
          </p>
        )}
        {!list && !error && <p className="text-sm text-slate-700">Loading models…</p>}
        {list && list.models.length === 0 && <p className="text-sm text-slate-700">No models yet. Import a GGUF file below.</p>}
        <ul className="grid gap-3 lg:grid-cols-2">
          {list?.models.map((m) => <ModelCard key={m.id} m={m} />)}
        </ul>
      </section>
      {admin ? (
        <ImportForm onImported={changed} />
      ) : (
        <p className="text-sm text-slate-700">Importing models and changing hot slots is for administrators.</p>
      )}
    </div>
  );
}

function ModelCard({ m }: { m: ModelInfo }) {
  return (
    <li className="card flex flex-col gap-2" aria-label={m.id} data-model={m.id}>
      <div className="flex flex-wrap items-center gap-2">
        <h3 className="min-w-0 font-semibold break-all">{m.name}</h3>
        <Tag>{m.provider}</Tag>
        {m.loaded ? <Tag tone="green">Loaded</Tag> : <Tag>Not loaded</Tag>}
        {m.hot_slot != null && <Tag tone="blue">Hot slot {m.hot_slot}</Tag>}
        {m.read_only && <Tag>Read-only</Tag>}
        {!m.available && <Tag tone="red">Unavailable</Tag>}
      </div>
      <dl className="grid grid-cols-2 gap-x-4 gap-y-1 text-sm sm:grid-cols-3">
        <Field label="Architecture" value={m.architecture ?? "—"} />
        <Field label="Parameters" value={formatParams(m.parameters)} />
        <Field label="Quantisation" value={m.quantization ?? "—"} />
        <Field label="Context length" value={formatContext(m.context_length)} />
        <Field label="File size" value={formatBytes(m.file_size)} />
        <Field label="Chat template" value={m.has_chat_template ? "yes" : "no"} />
      </dl>
      <div>{canBeHot(m) ? <FitBadge model={m.id} /> : <span className="text-xs text-slate-700">Runs on a remote server; its memory is that server's.</span>}</div>
      <p className="font-mono text-xs break-all text-slate-700">{m.id}</p>
    </li>
  );
}

function Field({ label, value }: { label: string; value: string }) {
  return (
    <div>
      <dt className="text-xs text-slate-700">{label}</dt>
      <dd className="text-slate-900">{value}</dd>
    </div>
  );
}

const TONES = {
  slate: "bg-slate-100 text-slate-800",
  green: "bg-green-100 text-green-800",
  blue: "bg-blue-100 text-blue-800",
  red: "bg-red-100 text-red-800",
};

function Tag({ children, tone = "slate" }: { children: string | (string | number)[]; tone?: keyof typeof TONES }) {
  return <span className={`rounded-full px-2 py-0.5 text-xs font-medium ${TONES[tone]}`}>{children}</span>;
}

function ImportForm({ onImported }: { onImported: () => void }) {
  const [path, setPath] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const [done, setDone] = useState("");

  async function submit() {
    setBusy(true);
    setError("");
    setDone("");
    try {
      const m = await api<ModelInfo>("/api/v1/chat/models/import", { body: { path: path.trim() } });
      setDone(`Imported ${m.id}.`);
      setPath("");
      onImported();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="import-heading" className="card flex flex-col gap-2">
      <h2 id="import-heading" className="text-lg font-semibold">
        Import a GGUF model
      </h2>
      <p className="text-sm text-slate-700">
        Give the absolute path of a <code>.gguf</code> file on the server. Selah checks it and its memory fit, then copies it
        into its models directory.
      </p>
      <form
        className="flex flex-wrap gap-2"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <label className="flex min-w-0 flex-1 basis-64 flex-col gap-1 text-sm text-slate-800">
          GGUF file path on the server
          <input
            className="input font-mono"
            value={path}
            onChange={(e) => setPath(e.target.value)}
            placeholder="/srv/models/model.Q4_K_M.gguf"
            spellCheck={false}
          />
        </label>
        <button type="submit" className="btn self-end" disabled={busy || !path.trim()}>
          {busy ? "Importing…" : "Import"}
        </button>
      </form>
      {error && (
        <p role="alert" className="error-text">
          {error}
        </p>
      )}
      {done && (
        <p role="status" className="text-sm text-green-800">
          {done}
        </p>
      )}
    </section>
  );
}
