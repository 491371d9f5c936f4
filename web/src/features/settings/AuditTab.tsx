/**
 * Settings → Audit log (admin.view_audit): the hash-chained log, newest first, filtered by event
 * type, user and time range, paged with the server's keyset cursor, exported as CSV with the
 * same filters, and checked end to end with chain verification. Reading the log needs no
 * founder step-up today (only `admin.view_audit`); should the server ever ask for one, the
 * step-up prompt appears and the request is retried.
 */
import { useCallback, useEffect, useState, type FormEvent } from "react";
import { api, type Schemas } from "../../api/client";
import { auditQuery, AUDIT_PATH, EMPTY_FILTERS, EVENT_TYPES, exportHref, PAGE_SIZE, summarizeDetails, type AuditFilters } from "./auditQuery";
import { errorMessage, formatTime, useStepUp } from "./ui";

type AuditPage = Schemas["AuditPage"];
type Verify = Schemas["VerifyResponse"];

export default function AuditTab() {
  const [draft, setDraft] = useState<AuditFilters>(EMPTY_FILTERS);
  const [applied, setApplied] = useState<AuditFilters>(EMPTY_FILTERS);
  // Cursors of the pages seen so far: [undefined (newest), older…]; the last is the one shown.
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [page, setPage] = useState<AuditPage | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState("");
  const [formError, setFormError] = useState("");
  const [users, setUsers] = useState<Schemas["UserView"][] | null>(null);
  const { guard, prompt } = useStepUp();

  // Usernames for the user filter and the entries; without admin.manage_users, ids are shown.
  useEffect(() => {
    api<Schemas["UserList"]>("/api/v1/admin/users")
      .then((l) => setUsers(l.users))
      .catch((e: unknown) => {
        console.info("Selah: the audit log shows user ids (no user list):", errorMessage(e));
        setUsers(null);
      });
  }, []);

  const cursor = cursors[cursors.length - 1];
  const load = useCallback(async () => {
    const q = auditQuery(applied, { limit: PAGE_SIZE, cursor });
    if (!q.ok) return setError(q.error);
    setLoading(true);
    setError("");
    try {
      await guard(async () => {
        setPage(await api<AuditPage>(AUDIT_PATH + q.query));
      });
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setLoading(false);
    }
  }, [applied, cursor, guard]);

  useEffect(() => {
    void load();
  }, [load]);

  const apply = (e: FormEvent) => {
    e.preventDefault();
    const q = auditQuery(draft);
    if (!q.ok) return setFormError(q.error);
    setFormError("");
    setApplied({ ...draft });
    setCursors([undefined]);
  };
  const clear = () => {
    setDraft(EMPTY_FILTERS);
    setApplied(EMPTY_FILTERS);
    setFormError("");
    setCursors([undefined]);
  };

  const nameOf = (id: string | null | undefined) => {
    if (!id) return "system";
    return users?.find((u) => u.id === id)?.username ?? id;
  };
  const csv = exportHref(applied);

  return (
    <div className="flex flex-col gap-4">
      <form onSubmit={apply} aria-label="Audit log filters" className="grid grid-cols-1 gap-3 sm:grid-cols-2 lg:grid-cols-4">
        <label className="flex flex-col gap-1 text-sm">
          Event type
          <input
            className="input"
            list="audit-event-types"
            value={draft.eventType}
            onChange={(e) => setDraft({ ...draft, eventType: e.target.value })}
            placeholder="e.g. auth.login"
            spellCheck={false}
          />
          <datalist id="audit-event-types">
            {EVENT_TYPES.map((t) => (
              <option key={t} value={t} />
            ))}
          </datalist>
        </label>
        {users ? (
          <label className="flex flex-col gap-1 text-sm">
            User
            <select className="input" value={draft.user} onChange={(e) => setDraft({ ...draft, user: e.target.value })}>
              <option value="">Anyone</option>
              {users.map((u) => (
                <option key={u.id} value={u.id}>
                  {u.username}
                </option>
              ))}
            </select>
          </label>
        ) : (
          <label className="flex flex-col gap-1 text-sm">
            User id
            <input className="input" value={draft.user} onChange={(e) => setDraft({ ...draft, user: e.target.value })} spellCheck={false} />
          </label>
        )}
        <label className="flex flex-col gap-1 text-sm">
          From
          <input className="input" type="datetime-local" value={draft.since} onChange={(e) => setDraft({ ...draft, since: e.target.value })} />
        </label>
        <label className="flex flex-col gap-1 text-sm">
          To
          <input className="input" type="datetime-local" value={draft.until} onChange={(e) => setDraft({ ...draft, until: e.target.value })} />
        </label>
        <div className="flex flex-wrap items-center gap-2 sm:col-span-2 lg:col-span-4">
          <button className="btn">Apply filters</button>
          <button type="button" className="btn-secondary" onClick={clear}>
            Clear filters
          </button>
          {csv && (
            <a className="btn-secondary" href={csv} download="selah-audit-log.csv">
              Export CSV
            </a>
          )}
          {formError && (
            <p role="alert" className="error-text">
              {formError}
            </p>
          )}
        </div>
      </form>

      <VerifyChain />
      {prompt}

      {error && (
        <p role="alert" className="error-text">
          {error}
        </p>
      )}
      <div className="overflow-x-auto rounded-lg border border-slate-200">
        <table className="w-full min-w-[40rem] text-left text-sm" aria-label="Audit entries" aria-busy={loading}>
          <thead className="bg-slate-50 text-slate-700">
            <tr>
              <th className="px-2 py-1.5 font-medium">#</th>
              <th className="px-2 py-1.5 font-medium">When</th>
              <th className="px-2 py-1.5 font-medium">Event</th>
              <th className="px-2 py-1.5 font-medium">Who</th>
              <th className="px-2 py-1.5 font-medium">On</th>
              <th className="px-2 py-1.5 font-medium">Details</th>
            </tr>
          </thead>
          <tbody>
            {page?.entries.map((e) => (
              <tr key={e.seq} data-event-type={e.event_type} className="border-t border-slate-200 align-top">
                <td className="px-2 py-1.5 tabular-nums text-slate-700">{e.seq}</td>
                <td className="px-2 py-1.5 whitespace-nowrap">{formatTime(e.ts_ms)}</td>
                <td className="px-2 py-1.5">
                  <code className="text-slate-900">{e.event_type}</code>
                  <span className="block text-xs text-slate-700">{e.action}</span>
                </td>
                <td className="px-2 py-1.5 whitespace-nowrap">
                  {nameOf(e.user_id)}
                  {e.ip && <span className="block text-xs text-slate-700">{e.ip}</span>}
                </td>
                <td className="max-w-40 min-w-28 px-2 py-1.5 text-xs [overflow-wrap:anywhere]">
                  {e.resource_type ? `${e.resource_type} ${e.resource_id ?? ""}` : "—"}
                </td>
                <td className="min-w-56 px-2 py-1.5 text-xs text-slate-800 [overflow-wrap:anywhere]">{summarizeDetails(e.details)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {page && page.entries.length === 0 && <p className="p-3 text-sm text-slate-700">No entries match these filters.</p>}
        {!page && loading && <p className="p-3 text-sm text-slate-700">Loading…</p>}
      </div>
      <nav aria-label="Audit log pages" className="flex flex-wrap items-center gap-2">
        <button className="btn-secondary" disabled={cursors.length <= 1 || loading} onClick={() => setCursors(cursors.slice(0, -1))}>
          Newer
        </button>
        <span className="text-sm text-slate-700">Page {cursors.length}</span>
        <button
          className="btn-secondary"
          disabled={!page?.next_cursor || loading}
          onClick={() => page?.next_cursor && setCursors([...cursors, page.next_cursor])}
        >
          Older
        </button>
        <button className="btn-secondary ml-auto" disabled={loading} onClick={() => void load()}>
          Refresh
        </button>
      </nav>
    </div>
  );
}

/** Runs `GET …/audit-log/verify` and says plainly whether the chain is intact. */
function VerifyChain() {
  const [result, setResult] = useState<Verify | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const { guard, prompt } = useStepUp();
  const run = async () => {
    setBusy(true);
    setError("");
    setResult(null);
    try {
      await guard(async () => setResult(await api<Verify>(`${AUDIT_PATH}/verify`)));
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-label="Chain verification" className="flex flex-col gap-2">
      <div className="flex flex-wrap items-center gap-3">
        <button className="btn" onClick={() => void run()} disabled={busy}>
          {busy ? "Verifying…" : "Verify chain"}
        </button>
        <span className="text-xs text-slate-700">Recomputes every record's hash from the archive anchor to the newest.</span>
      </div>
      {prompt}
      {error && (
        <p role="alert" className="error-text">
          {error}
        </p>
      )}
      {result &&
        (result.ok ? (
          <p role="status" data-verified="ok" className="rounded-lg border border-green-300 bg-green-50 p-3 text-sm text-green-900">
            <span className="font-semibold">Chain intact.</span> {result.checked.toLocaleString()} records checked
            {result.head_seq != null ? `, from #${result.anchor_seq} to #${result.head_seq}` : ""}; none was altered, removed or reordered.
          </p>
        ) : (
          <p role="alert" data-verified="broken" className="rounded-lg border border-red-300 bg-red-50 p-3 text-sm text-red-900">
            <span className="font-semibold">Chain broken</span>
            {result.first_bad_seq != null ? ` at record #${result.first_bad_seq}` : ""}: {result.reason ?? "a record does not match its hash"}.{" "}
            {result.checked.toLocaleString()} records checked.
          </p>
        ))}
    </section>
  );
}
