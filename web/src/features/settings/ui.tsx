/**
 * Small pieces the settings tabs share: a two-step confirmation for destructive actions, the
 * founder's step-up prompt (and a hook that asks for it when the server answers
 * `step_up_required`, then retries), and time formatting.
 */
import { useCallback, useEffect, useRef, useState, type FormEvent, type ReactNode } from "react";
import { api, ApiError, type Schemas } from "../../api/client";

export const errorMessage = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** A moment as the reader's locale writes it. */
export function formatTime(ms: number | null | undefined): string {
  if (!ms) return "—";
  return new Date(ms).toLocaleString();
}

interface ConfirmProps {
  /** The button's text. */
  label: string;
  /** An accessible name when several buttons share a label ("Sign out" per session). */
  ariaLabel?: string;
  /** What will happen, shown before the person confirms. */
  warning: ReactNode;
  /** The confirming button's text ("Yes, sign them out"). */
  confirmLabel: string;
  /** Does the work; a returned string is shown as the outcome. */
  onConfirm: () => Promise<string | void>;
  disabled?: boolean;
}

/** A destructive action that asks first: the button opens a warning with Confirm and Cancel. */
export function ConfirmAction({ label, ariaLabel, warning, confirmLabel, onConfirm, disabled }: ConfirmProps) {
  const [phase, setPhase] = useState<"idle" | "asking" | "working">("idle");
  const [outcome, setOutcome] = useState("");
  const [error, setError] = useState("");
  const confirmRef = useRef<HTMLButtonElement>(null);
  const openRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (phase === "asking") confirmRef.current?.focus();
  }, [phase]);
  const confirm = async () => {
    setPhase("working");
    setError("");
    try {
      const msg = await onConfirm();
      setOutcome(msg || "Done.");
      setPhase("idle");
    } catch (e) {
      setError(errorMessage(e));
      setPhase("asking");
    }
  };
  return (
    <div className="flex flex-col gap-2">
      {phase === "idle" ? (
        <div>
          <button
            ref={openRef}
            className="btn-danger"
            aria-label={ariaLabel}
            disabled={disabled}
            onClick={() => {
              setOutcome("");
              setPhase("asking");
            }}
          >
            {label}
          </button>
        </div>
      ) : (
        <div role="group" aria-label={`Confirm: ${ariaLabel ?? label}`} className="rounded-lg border border-red-300 bg-red-50 p-3">
          <div className="text-sm text-red-900">{warning}</div>
          {error && (
            <p role="alert" className="error-text mt-2">
              {error}
            </p>
          )}
          <div className="mt-3 flex flex-wrap gap-2">
            <button ref={confirmRef} className="btn-danger" onClick={() => void confirm()} disabled={phase === "working"}>
              {phase === "working" ? "Working…" : confirmLabel}
            </button>
            <button
              className="btn-secondary"
              disabled={phase === "working"}
              onClick={() => {
                setPhase("idle");
                setError("");
              }}
            >
              Cancel
            </button>
          </div>
        </div>
      )}
      {outcome && (
        <p role="status" className="text-sm text-green-800">
          {outcome}
        </p>
      )}
    </div>
  );
}

/** The founder's password, again, to open founder-only actions for a few minutes. */
export function StepUpPrompt({ onDone, onCancel, reason }: { onDone: () => Promise<void> | void; onCancel: () => void; reason?: string }) {
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError("");
    try {
      await api<Schemas["StepUpResponse"]>("/api/v1/auth/step-up", { body: { password } });
      setPassword("");
      await onDone();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={(e) => void submit(e)} className="rounded-lg border border-amber-300 bg-amber-50 p-3" aria-label="Confirm with your password">
      <p className="text-sm text-amber-950">
        {reason ?? "This is a founder-only action."} Enter your password again to continue; founder actions then stay open for a few minutes.
      </p>
      <div className="mt-2 flex flex-wrap items-end gap-2">
        <label className="flex min-w-48 flex-1 flex-col gap-1 text-sm">
          Founder password
          <input className="input" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
        </label>
        <button className="btn" disabled={busy || !password}>
          {busy ? "Checking…" : "Confirm"}
        </button>
        <button type="button" className="btn-secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
      {error && (
        <p role="alert" className="error-text mt-2">
          {error}
        </p>
      )}
    </form>
  );
}

/** True for the server's "enter the founder password again" refusal. */
export function needsStepUp(e: unknown): boolean {
  return e instanceof ApiError && e.code === "step_up_required";
}

/**
 * Runs an action; if the server asks for a step-up, shows the prompt (`prompt`) and retries the
 * action once the password is confirmed. Other errors are the caller's to show.
 */
export function useStepUp() {
  const [pending, setPending] = useState<(() => Promise<void>) | null>(null);
  /** Resolves true when the action ran, false when it waits for the password. */
  const guard = useCallback(async (fn: () => Promise<void>): Promise<boolean> => {
    try {
      await fn();
      return true;
    } catch (e) {
      if (!needsStepUp(e)) throw e;
      setPending(() => fn);
      return false;
    }
  }, []);
  const prompt = pending ? (
    <StepUpPrompt
      reason="The server asks the founder to confirm this."
      onCancel={() => setPending(null)}
      onDone={async () => {
        // Retry first: if the retry fails, the prompt stays and shows why.
        await pending();
        setPending(null);
      }}
    />
  ) : null;
  return { guard, prompt };
}
