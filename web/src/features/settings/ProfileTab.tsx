/**
 * Settings → Profile: the account (`/auth/me`), a password change, the user's own sessions with
 * a way to end one, and the teams they belong to (with a shortcut to act in one).
 */
import { useCallback, useEffect, useState, type FormEvent } from "react";
import { api, type Schemas } from "../../api/client";
import { contextOf } from "../../lib/context";
import { useContextStore } from "../../stores/context";
import { useSession } from "../../stores/session";
import { roleLabel } from "./permissions";
import { describeAgent } from "./sessions";
import { ConfirmAction, errorMessage, formatTime, StepUpPrompt } from "./ui";

type SessionView = Schemas["SessionView"];

const NO_TEAMS: Schemas["TeamView"][] = [];

export default function ProfileTab() {
  const me = useSession((s) => s.me);
  const load = useSession((s) => s.load);
  const [stepping, setStepping] = useState(false);
  if (!me) return null;
  const founder = me.user.role === "founder";
  const stepUpOpen = me.session.step_up_until > Date.now();
  return (
    <div className="flex flex-col gap-5">
      <section aria-labelledby="account-h">
        <h3 id="account-h" className="mb-2 font-semibold">
          Account
        </h3>
        <dl className="grid grid-cols-1 gap-x-6 gap-y-1 text-sm sm:grid-cols-[auto_1fr]">
          <dt className="text-slate-700">Username</dt>
          <dd className="font-medium">{me.user.username}</dd>
          <dt className="text-slate-700">Role</dt>
          <dd className="capitalize">{roleLabel(me.user.role)}</dd>
          <dt className="text-slate-700">Account created</dt>
          <dd>{formatTime(me.user.created_at)}</dd>
          <dt className="text-slate-700">This session ends</dt>
          <dd>{formatTime(me.session.expires_at)}</dd>
          <dt className="text-slate-700">User id</dt>
          <dd className="font-mono text-xs break-all">{me.user.id}</dd>
          {founder && (
            <>
              <dt className="text-slate-700">Founder actions</dt>
              <dd>
                {stepUpOpen ? `Open until ${new Date(me.session.step_up_until).toLocaleTimeString()}` : "Closed (your password opens them for a few minutes)"}
                {!stepUpOpen && !stepping && (
                  <button className="btn-secondary ml-2" onClick={() => setStepping(true)}>
                    Open founder actions
                  </button>
                )}
              </dd>
            </>
          )}
        </dl>
        {stepping && (
          <div className="mt-2">
            <StepUpPrompt
              reason="Founder-only actions (administrator accounts, permissions) need your password again."
              onCancel={() => setStepping(false)}
              onDone={async () => {
                setStepping(false);
                await load();
              }}
            />
          </div>
        )}
      </section>
      <PasswordForm />
      <Sessions />
      <Teams />
    </div>
  );
}

function PasswordForm() {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [repeat, setRepeat] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const [done, setDone] = useState("");
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError("");
    setDone("");
    if (next !== repeat) return setError("The new password and its repetition differ.");
    if (next === current) return setError("The new password is the same as the current one.");
    setBusy(true);
    try {
      await api("/api/v1/auth/password", { body: { current_password: current, new_password: next } });
      setCurrent("");
      setNext("");
      setRepeat("");
      setDone("Password changed. Every other session of yours has been signed out; this one stays.");
      window.dispatchEvent(new Event("selah:sessions-changed"));
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="password-h">
      <h3 id="password-h" className="mb-2 font-semibold">
        Change password
      </h3>
      <form onSubmit={(e) => void submit(e)} className="grid grid-cols-1 gap-3 sm:grid-cols-3">
        <label className="flex flex-col gap-1 text-sm">
          Current password
          <input className="input" type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} required />
        </label>
        <label className="flex flex-col gap-1 text-sm">
          New password
          <input className="input" type="password" autoComplete="new-password" value={next} onChange={(e) => setNext(e.target.value)} required />
        </label>
        <label className="flex flex-col gap-1 text-sm">
          Repeat new password
          <input className="input" type="password" autoComplete="new-password" value={repeat} onChange={(e) => setRepeat(e.target.value)} required />
        </label>
        <div className="flex flex-wrap items-center gap-3 sm:col-span-3">
          <button className="btn" disabled={busy || !current || !next || !repeat}>
            {busy ? "Changing…" : "Change password"}
          </button>
          <span className="text-xs text-slate-700">Other sessions are signed out when the password changes.</span>
        </div>
      </form>
      {error && (
        <p role="alert" className="error-text mt-2">
          {error}
        </p>
      )}
      {done && (
        <p role="status" className="mt-2 text-sm text-green-800">
          {done}
        </p>
      )}
    </section>
  );
}

function Sessions() {
  const [sessions, setSessions] = useState<SessionView[] | null>(null);
  const [error, setError] = useState("");
  const refresh = useCallback(async () => {
    try {
      const r = await api<Schemas["SessionList"]>("/api/v1/auth/sessions");
      setSessions(r.sessions);
      setError("");
    } catch (e) {
      setError(errorMessage(e));
    }
  }, []);
  useEffect(() => {
    void refresh();
    // A password change ends the other sessions: show that at once.
    const on = () => void refresh();
    window.addEventListener("selah:sessions-changed", on);
    return () => window.removeEventListener("selah:sessions-changed", on);
  }, [refresh]);
  return (
    <section aria-labelledby="sessions-h">
      <h3 id="sessions-h" className="mb-2 font-semibold">
        Your sessions
      </h3>
      {error && (
        <p role="alert" className="error-text">
          {error}
        </p>
      )}
      {!sessions && !error && <p className="text-sm text-slate-700">Loading…</p>}
      {sessions && (
        <ul className="flex flex-col gap-2" aria-label="Sessions">
          {sessions.map((s) => {
            const what = `${describeAgent(s.user_agent)}${s.kind === "token" ? " (API token)" : ""}`;
            return (
              <li key={s.id} className="flex flex-wrap items-start justify-between gap-2 rounded-lg border border-slate-200 p-3">
                <div className="min-w-0 text-sm">
                  <p className="font-medium">
                    {what}
                    {s.current && <span className="ml-2 rounded-full bg-sky-100 px-2 py-0.5 text-xs font-semibold text-sky-900">This device</span>}
                  </p>
                  <p className="text-xs text-slate-700">
                    {s.ip ? `${s.ip} · ` : ""}signed in {formatTime(s.created_at)} · last active {formatTime(s.last_seen_at)}
                  </p>
                </div>
                {!s.current && (
                  <ConfirmAction
                    label="Sign out"
                    ariaLabel={`Sign out ${what} signed in ${formatTime(s.created_at)}`}
                    warning={<p>End this session? Whoever uses it will have to sign in again.</p>}
                    confirmLabel="Yes, sign it out"
                    onConfirm={async () => {
                      await api(`/api/v1/auth/sessions/${encodeURIComponent(s.id)}`, { method: "DELETE" });
                      await refresh();
                      return "Session signed out.";
                    }}
                  />
                )}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

function Teams() {
  // Select the array itself: a fresh `[]` per call would make Zustand re-render forever.
  const teams = useSession((s) => s.me?.teams) ?? NO_TEAMS;
  const { teamId, choose } = useContextStore();
  return (
    <section aria-labelledby="teams-h">
      <h3 id="teams-h" className="mb-2 font-semibold">
        Your teams
      </h3>
      {teams.length === 0 ? (
        <p className="text-sm text-slate-700">You are not in any team; everything you do is in your personal (Local) context.</p>
      ) : (
        <ul className="flex flex-col gap-2" aria-label="Teams">
          {teams.map((t) => {
            const ctx = contextOf(t.id, teams);
            return (
              <li key={t.id} className="flex flex-wrap items-center justify-between gap-2 rounded-lg border border-slate-200 p-3 text-sm">
                <span className="flex items-center gap-2">
                  <span className={`rounded-full px-2 py-0.5 text-xs font-semibold ring-1 ring-inset ${ctx.className}`}>Team</span>
                  <span className="font-medium">{t.name}</span>
                  <span className="text-slate-700">· your role: {roleLabel(t.role)}</span>
                </span>
                {teamId === t.id ? (
                  <span className="text-xs font-medium text-slate-800">Current context</span>
                ) : (
                  <button className="btn-secondary" onClick={() => choose(t.id, teams)} aria-label={`Work in team ${t.name}`}>
                    Work in this team
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
