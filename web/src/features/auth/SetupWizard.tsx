/**
 * First run: create the founder account, then see the bundled models and whether each fits this
 * machine's memory before the first chat.
 */
import { useEffect, useState, type FormEvent } from "react";
import { api, type Schemas } from "../../api/client";
import { FitBadge } from "../../components/FitBadge";
import { useRoute } from "../../router";
import { useSession } from "../../stores/session";
import { AuthCard, Field } from "./AuthCard";

export function SetupWizard() {
  const createFounder = useSession((s) => s.createFounder);
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  async function submit(e: FormEvent) {
    e.preventDefault();
    if (password !== confirm) {
      setError("The two passwords differ.");
      return;
    }
    setBusy(true);
    setError("");
    try {
      // Signing in moves the session to "ready"; the models step shows inside the workspace.
      sessionStorage.setItem("selah.setup.models", "1");
      await createFounder(username, password);
    } catch (err) {
      sessionStorage.removeItem("selah.setup.models");
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }
  return (
    <AuthCard title="Welcome to Selah">
      <p className="mb-4 text-sm text-slate-700">
        Step 1 of 2: create the founder account. It owns this installation; keep its password safe.
      </p>
      <form onSubmit={submit} className="space-y-3">
        <Field label="Username" value={username} onChange={setUsername} autoComplete="username" hint="3–64 letters, digits, dots, dashes or underscores." />
        <Field label="Password" type="password" value={password} onChange={setPassword} autoComplete="new-password" />
        <Field label="Repeat password" type="password" value={confirm} onChange={setConfirm} autoComplete="new-password" />
        {error && (
          <p role="alert" className="error-text">
            {error}
          </p>
        )}
        <button className="btn w-full" disabled={busy || !username || !password}>
          {busy ? "Creating…" : "Create founder account"}
        </button>
      </form>
    </AuthCard>
  );
}

/** Step 2, shown once after setup: the bundled models and their memory fit. */
export function SetupModelsStep({ onDone }: { onDone: () => void }) {
  const [models, setModels] = useState<Schemas["ModelInfo"][] | null>(null);
  const [error, setError] = useState("");
  const navigate = useRoute((s) => s.navigate);
  useEffect(() => {
    api<Schemas["ModelList"]>("/api/v1/chat/models")
      .then((l) => setModels(l.models.filter((m) => m.provider === "local")))
      .catch((e) => setError(e instanceof Error ? e.message : String(e)));
  }, []);
  return (
    <div className="card mx-auto max-w-2xl">
      <h1 className="text-xl font-semibold">Step 2 of 2: your models</h1>
      <p className="mt-1 text-sm text-slate-700">These models are on this machine. Each runs fully offline.</p>
      {error && <p className="error-text mt-2">{error}</p>}
      <ul className="mt-3 divide-y divide-slate-200">
        {models?.map((m) => (
          <li key={m.id} className="flex flex-wrap items-center justify-between gap-2 py-2">
            <span className="font-medium break-all">{m.name}</span>
            <FitBadge model={m.id} />
          </li>
        ))}
        {models?.length === 0 && <li className="py-2 text-sm">No local models yet: import a GGUF on the Models screen.</li>}
      </ul>
      <button
        className="btn mt-4"
        onClick={() => {
          sessionStorage.removeItem("selah.setup.models");
          onDone();
          navigate("/chat");
        }}
      >
        Start chatting
      </button>
    </div>
  );
}
