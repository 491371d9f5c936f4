/**
 * Settings → Permissions: every permission key, granted or denied, with the reason, as the
 * server computes it for the current context (Local, or the team chosen in the header — the
 * request carries it as `X-Selah-Team`, so switching context re-reads the list).
 */
import { useEffect, useMemo, useState } from "react";
import { api } from "../../api/client";
import { contextOf } from "../../lib/context";
import { useContextStore } from "../../stores/context";
import { useSession } from "../../stores/session";
import { DESCRIPTIONS, filterPermissions, reasonOf, roleLabel, tally, type EffectivePermissions, type Show } from "./permissions";
import { errorMessage } from "./ui";

const SHOW: { value: Show; label: string }[] = [
  { value: "all", label: "All" },
  { value: "granted", label: "Granted" },
  { value: "denied", label: "Denied" },
];

export default function PermissionsTab() {
  const teamId = useContextStore((s) => s.teamId);
  const teams = useSession((s) => s.me?.teams);
  const [perms, setPerms] = useState<EffectivePermissions | null>(null);
  const [error, setError] = useState("");
  const [text, setText] = useState("");
  const [show, setShow] = useState<Show>("all");

  useEffect(() => {
    let live = true;
    setError("");
    api<EffectivePermissions>("/api/v1/auth/permissions/effective")
      .then((p) => live && setPerms(p))
      .catch((e: unknown) => live && setError(errorMessage(e)));
    return () => {
      live = false;
    };
  }, [teamId]);

  const teamRole = perms?.team?.role ?? null;
  const shown = useMemo(
    () => (perms ? filterPermissions(perms.permissions, { text, show }, { role: perms.role, teamRole }) : []),
    [perms, text, show, teamRole],
  );
  if (error)
    return (
      <p role="alert" className="error-text">
        {error}
      </p>
    );
  if (!perms) return <p className="text-sm text-slate-700">Loading…</p>;

  const counts = tally(perms.permissions);
  const ctx = contextOf(perms.team?.id ?? "", teams ?? []);
  return (
    <div className="flex flex-col gap-3">
      <p className="text-sm text-slate-800" data-context={ctx.kind}>
        For <span className="font-medium">{perms.user.username}</span> ({roleLabel(perms.role)}) in{" "}
        <span className={`rounded-full px-2 py-0.5 text-xs font-semibold ring-1 ring-inset ${ctx.className}`}>
          {ctx.kind === "local" ? "Local (personal)" : `Team: ${ctx.label}`}
        </span>
        {perms.team && <> where your role is {roleLabel(perms.team.role)}</>}. Switch the context in the header to see another team.
      </p>
      <div className="flex flex-wrap items-end gap-3">
        <label className="flex min-w-48 flex-1 flex-col gap-1 text-sm">
          Filter permissions
          <input className="input" type="search" value={text} onChange={(e) => setText(e.target.value)} placeholder="e.g. docs, admin, team" />
        </label>
        <fieldset className="flex flex-wrap gap-1 text-sm">
          <legend className="sr-only">Show</legend>
          {SHOW.map((o) => {
            const n = o.value === "all" ? perms.permissions.length : counts[o.value];
            return (
              <label
                key={o.value}
                className={`flex cursor-pointer items-center gap-1.5 rounded-md border px-2.5 py-1.5 has-[:focus-visible]:outline-2 has-[:focus-visible]:outline-sky-700 ${
                  show === o.value ? "border-sky-700 bg-sky-50 font-medium text-sky-900" : "border-slate-300 text-slate-800"
                }`}
              >
                <input type="radio" name="perm-show" value={o.value} checked={show === o.value} onChange={() => setShow(o.value)} className="accent-sky-700" />
                {o.label} ({n})
              </label>
            );
          })}
        </fieldset>
      </div>
      <p className="text-xs text-slate-700" aria-live="polite">
        Showing {shown.length} of {perms.permissions.length}.
      </p>
      <ul className="flex flex-col gap-2" aria-label="Permissions">
        {shown.map((d) => (
          <li key={d.key} data-permission={d.key} data-granted={d.granted} className="rounded-lg border border-slate-200 p-3">
            <div className="flex flex-wrap items-center justify-between gap-2">
              <code className="text-sm font-semibold text-slate-900">{d.key}</code>
              <span
                className={`rounded-full px-2 py-0.5 text-xs font-semibold ring-1 ring-inset ${
                  d.granted ? "bg-green-100 text-green-900 ring-green-700/30" : "bg-red-100 text-red-900 ring-red-700/30"
                }`}
              >
                {d.granted ? "Granted" : "Denied"}
              </span>
            </div>
            {DESCRIPTIONS[d.key] && <p className="mt-1 text-sm text-slate-800">{DESCRIPTIONS[d.key]}</p>}
            <p className="mt-1 text-xs text-slate-700">
              <span className="font-medium">Why: </span>
              {reasonOf(d, perms.role, teamRole)}
            </p>
          </li>
        ))}
      </ul>
      {shown.length === 0 && <p className="text-sm text-slate-700">No permission matches the filter.</p>}
    </div>
  );
}
