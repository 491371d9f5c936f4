/**
 * Settings → Danger zone: actions that end sessions, leave teams or run the server's cleanup.
 * Every one asks for confirmation first (ConfirmAction). Deleting one's own account is not
 * offered because the API has no such route; account removal is an administrator's job.
 */
import { useEffect, useState, type ReactNode } from "react";
import { api, type Schemas } from "../../api/client";
import { LOCAL } from "../../lib/context";
import { useContextStore } from "../../stores/context";
import { useSession } from "../../stores/session";
import { ConfirmAction, errorMessage, useStepUp } from "./ui";

type SessionView = Schemas["SessionView"];

/** Ends every session but the current one; returns how many ended. */
async function revokeOthers(): Promise<number> {
  const { sessions } = await api<Schemas["SessionList"]>("/api/v1/auth/sessions");
  const others = sessions.filter((s: SessionView) => !s.current);
  // One by one: the API revokes a single session per call, and a failure should stop the run.
  for (const s of others) await api(`/api/v1/auth/sessions/${encodeURIComponent(s.id)}`, { method: "DELETE" });
  return others.length;
}

export default function DangerTab({ onSignedOut }: { onSignedOut: () => void }) {
  const me = useSession((s) => s.me);
  const logout = useSession((s) => s.logout);
  const load = useSession((s) => s.load);
  const { teamId, choose } = useContextStore();
  const [others, setOthers] = useState<number | null>(null);
  const [countError, setCountError] = useState("");
  const [canCleanup, setCanCleanup] = useState(false);

  const count = async () => {
    try {
      const { sessions } = await api<Schemas["SessionList"]>("/api/v1/auth/sessions");
      setOthers(sessions.filter((s) => !s.current).length);
      setCountError("");
    } catch (e) {
      setCountError(errorMessage(e));
    }
  };
  useEffect(() => {
    void count();
    api<{ permissions: { key: string; granted: boolean }[] }>("/api/v1/auth/permissions/effective")
      .then((p) => setCanCleanup(p.permissions.some((d) => d.key === "admin.cleanup" && d.granted)))
      .catch((e: unknown) => setCountError(errorMessage(e)));
  }, []);

  if (!me) return null;
  const plural = (n: number) => `${n} other session${n === 1 ? "" : "s"}`;
  return (
    <div className="flex flex-col gap-5">
      {countError && (
        <p role="alert" className="error-text">
          {countError}
        </p>
      )}
      <Zone title="Sign out everywhere else">
        <p>
          Ends every other session of yours — other browsers, devices and API tokens ({others === null ? "counting…" : plural(others)}). This
          one stays signed in.
        </p>
        <ConfirmAction
          label="Sign out all other sessions"
          disabled={others === 0}
          warning={<p>Sign out {others === null ? "every other session" : plural(others)}? Scripts using an API token will stop working.</p>}
          confirmLabel="Yes, sign them out"
          onConfirm={async () => {
            const n = await revokeOthers();
            await count();
            return `Signed out ${plural(n)}.`;
          }}
        />
      </Zone>

      <Zone title="Sign out everywhere">
        <p>Ends every session of yours, this one included. You will be back at the sign-in page.</p>
        <ConfirmAction
          label="Sign out everywhere"
          warning={<p>Sign out of every browser, device and API token, including this one?</p>}
          confirmLabel="Yes, sign out everywhere"
          onConfirm={async () => {
            await revokeOthers();
            onSignedOut();
            await logout();
          }}
        />
      </Zone>

      {me.teams.length > 0 && (
        <Zone title="Leave a team">
          <p>You lose access to the team's documents, vault items and rooms. Someone in the team has to invite you again to come back.</p>
          <ul className="flex flex-col gap-3">
            {me.teams.map((t) => (
              <li key={t.id} className="flex flex-col gap-1">
                <span className="text-sm font-medium">
                  {t.name} <span className="font-normal text-slate-700">(your role: {t.role})</span>
                </span>
                <ConfirmAction
                  label={`Leave ${t.name}`}
                  warning={
                    <p>
                      Leave the team <strong>{t.name}</strong>? {t.role === "owner" ? "If you are its last owner the server will refuse." : ""}
                    </p>
                  }
                  confirmLabel={`Yes, leave ${t.name}`}
                  onConfirm={async () => {
                    await api(`/api/v1/teams/${encodeURIComponent(t.id)}/members/${encodeURIComponent(me.user.id)}`, { method: "DELETE" });
                    if (teamId === t.id) choose(LOCAL);
                    await load();
                    return `You left ${t.name}.`;
                  }}
                />
              </li>
            ))}
          </ul>
        </Zone>
      )}

      {canCleanup && <Cleanup />}
    </div>
  );
}

/** Runs the cleanup jobs now (admin.cleanup) and lists what each did. */
function Cleanup() {
  const [report, setReport] = useState<Schemas["CleanupReport"] | null>(null);
  const { guard, prompt } = useStepUp();
  return (
    <Zone title="Run cleanup now">
      <p>
        Runs the daily cleanup at once: deletes stray temporary files and expired sessions, archives old audit records and idle chats, purges
        vault items whose time in the trash is up and removes orphaned search vectors. Nothing current is touched.
      </p>
      <ConfirmAction
        label="Run cleanup now"
        warning={<p>Run every cleanup job now? Data past its retention is removed for good.</p>}
        confirmLabel="Yes, run cleanup"
        onConfirm={async () => {
          let outcome = "Cleanup finished.";
          const ran = await guard(async () => {
            const r = await api<Schemas["CleanupReport"]>("/api/v1/admin/cleanup", { method: "POST" });
            setReport(r);
            const failed = r.jobs.filter((j) => !j.ok).length;
            outcome = failed ? `Cleanup finished; ${failed} job${failed === 1 ? "" : "s"} failed.` : "Cleanup finished.";
          });
          return ran ? outcome : "Confirm with your password below to run it.";
        }}
      />
      {prompt}
      {report && (
        <ul className="text-sm" aria-label="Cleanup jobs">
          {report.jobs.map((j) => (
            <li key={j.name} className={j.ok ? "text-slate-800" : "text-red-800"}>
              <span className="font-medium">{j.name}</span>: {j.ok ? "done" : `failed — ${j.error ?? "no reason given"}`} ({j.duration_ms} ms)
              {j.ok && Object.keys(j.stats ?? {}).length > 0 && (
                <span className="text-slate-700">
                  {" "}
                  ·{" "}
                  {Object.entries(j.stats as Record<string, unknown>)
                    .map(([k, v]) => `${k.replace(/_/g, " ")}: ${typeof v === "object" ? JSON.stringify(v) : String(v)}`)
                    .join(", ")}
                </span>
              )}
            </li>
          ))}
        </ul>
      )}
    </Zone>
  );
}

function Zone({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section className="flex flex-col gap-2 rounded-lg border border-red-200 p-4 text-sm text-slate-800" aria-label={title}>
      <h3 className="font-semibold text-red-900">{title}</h3>
      {children}
    </section>
  );
}
