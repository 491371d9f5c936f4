/**
 * The Audit log tab's query strings: the filter form (event type, user, a time range from
 * `datetime-local` inputs) turned into the parameters `GET /api/v1/admin/audit-log` and its CSV
 * export accept. The server rejects unknown parameters and empty values (deny_unknown_fields, 1–256
 * characters), so empty fields are left out rather than sent blank.
 */

export interface AuditFilters {
  eventType: string;
  /** A user id. */
  user: string;
  /** `datetime-local` values (local time, no zone): "2025-01-31T12:00". */
  since: string;
  until: string;
}

export const EMPTY_FILTERS: AuditFilters = { eventType: "", user: "", since: "", until: "" };

export const AUDIT_PATH = "/api/v1/admin/audit-log";
export const PAGE_SIZE = 50;

/** A `datetime-local` value as epoch milliseconds (the browser's zone), null if blank or invalid. */
export function localToMs(v: string): number | null {
  if (!v.trim()) return null;
  // Without a zone, ECMAScript reads a date-time as local time, which is what the input shows.
  const ms = new Date(v).getTime();
  return Number.isNaN(ms) ? null : ms;
}

export type QueryResult = { ok: true; query: string } | { ok: false; error: string };

/**
 * The query string (with its "?", or "" when there is nothing to send) for the list (with
 * `limit` and `cursor`) or the export (without).
 */
export function auditQuery(f: AuditFilters, paging?: { limit?: number; cursor?: string | null }): QueryResult {
  const p = new URLSearchParams();
  const text = (name: string, v: string, label: string): string | null => {
    const t = v.trim();
    if (!t) return null;
    if (t.length > 256) return `${label} must be at most 256 characters.`;
    p.set(name, t);
    return null;
  };
  const bad = text("event_type", f.eventType, "The event type") ?? text("user", f.user, "The user");
  if (bad) return { ok: false, error: bad };
  const since = localToMs(f.since);
  const until = localToMs(f.until);
  if (f.since.trim() && since === null) return { ok: false, error: "The start time is not a valid date." };
  if (f.until.trim() && until === null) return { ok: false, error: "The end time is not a valid date." };
  if (since !== null && until !== null && since >= until) return { ok: false, error: "The start must be before the end." };
  if (since !== null) p.set("since", String(since));
  if (until !== null) p.set("until", String(until));
  if (paging?.limit !== undefined) p.set("limit", String(Math.min(500, Math.max(1, Math.round(paging.limit)))));
  if (paging?.cursor) p.set("cursor", paging.cursor);
  const s = p.toString();
  return { ok: true, query: s ? "?" + s : "" };
}

/** The CSV export link for the same filters (null when the filters are invalid). */
export function exportHref(f: AuditFilters): string | null {
  const q = auditQuery(f);
  return q.ok ? `${AUDIT_PATH}/export.csv${q.query}` : null;
}

/** Event types the server records (crates/selah-server/src: every `AuditEvent::new`), for the filter's suggestions. */
export const EVENT_TYPES = [
  "setup.founder_created",
  "auth.login",
  "auth.login_failed",
  "auth.logout",
  "auth.session_revoked",
  "auth.step_up",
  "user.created",
  "user.password_changed",
  "user.password_reset",
  "user.permissions_changed",
  "user.role_changed",
  "team.created",
  "team.deleted",
  "team.invitation_created",
  "team.invitation_failed",
  "team.invitation_redeemed",
  "team.member_added",
  "team.member_removed",
  "team.member_role_changed",
  "chat.session_deleted",
  "docs.document_created",
  "docs.document_deleted",
  "vault.item_created",
  "vault.item_updated",
  "vault.version_uploaded",
  "vault.item_downloaded",
  "vault.item_shared",
  "vault.item_trashed",
  "vault.item_restored",
  "vault.item_purged",
  "live.room_created",
  "model.hot_slot_assigned",
  "model.hot_slot_ejected",
  "model.imported",
  "admin.cleanup",
  "audit.viewed",
  "audit.exported",
  "audit.verified",
];

/**
 * A one-line summary of an entry's details object: `username: ada, role: member`. Null facts are
 * left out, also inside nested objects (a list read with no filters records every filter as
 * null), so `filters: (event_type: auth.login)` shows only what was set; long summaries are cut.
 */
export function summarizeDetails(details: unknown, max = 160): string {
  if (details === null || details === undefined) return "";
  return clip(describe(details), max);
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return v;
  if (Array.isArray(v)) return v.map(describe).join(", ");
  if (typeof v !== "object") return String(v);
  const parts: string[] = [];
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    const inner = describe(x);
    if (!inner) continue;
    parts.push(x !== null && typeof x === "object" && !Array.isArray(x) ? `${k}: (${inner})` : `${k}: ${inner}`);
  }
  return parts.join(", ");
}

function clip(s: string, max: number): string {
  return s.length > max ? s.slice(0, max - 1) + "…" : s;
}
