/**
 * A document's indexing state as the list shows it (label, percent, whether it is final), when
 * the list must keep polling, and the list edits used for optimistic rename and delete.
 */

/** What this module needs of a `DocumentView`. */
export interface StateFields {
  state: string;
  progress: number;
  error?: string | null;
}

export type Tone = "waiting" | "progress" | "ok" | "error";

export interface StateView {
  /** Short text for the badge: "Queued", "Indexing 42%", "Ready", "Failed". */
  label: string;
  /** Failure reason (failed only). */
  reason: string | null;
  /** 0–100 while indexing, otherwise null. */
  percent: number | null;
  /** No further change will come without a user action: stop polling. */
  final: boolean;
  tone: Tone;
}

/** An integer percent in 0–100 (the server caps indexing at 99 until ready; junk becomes 0). */
export function clampPercent(n: number): number {
  if (!Number.isFinite(n)) return 0;
  return Math.max(0, Math.min(100, Math.round(n)));
}

export function describeState(d: StateFields): StateView {
  switch (d.state) {
    case "queued":
      return { label: "Queued", reason: null, percent: null, final: false, tone: "waiting" };
    case "indexing": {
      const p = clampPercent(d.progress);
      return { label: `Indexing ${p}%`, reason: null, percent: p, final: false, tone: "progress" };
    }
    case "ready":
      return { label: "Ready", reason: null, percent: null, final: true, tone: "ok" };
    case "failed":
      return {
        label: "Failed",
        reason: d.error?.trim() || "the server gave no reason",
        percent: null,
        final: true,
        tone: "error",
      };
    default:
      // A state this app does not know (a newer server): show it, but do not poll forever.
      return { label: d.state || "Unknown", reason: null, percent: null, final: true, tone: "waiting" };
  }
}

/** True while any document may still change on its own (queued or indexing). */
export function needsPolling(docs: readonly StateFields[]): boolean {
  return docs.some((d) => !describeState(d).final);
}

/** "812 B", "14.2 KB", "3.1 MB" (binary units, as the server's limit message uses). */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return "";
  if (n < 1024) return `${n} B`;
  const units = ["KB", "MB", "GB"];
  let v = n;
  let u = -1;
  do {
    v /= 1024;
    u++;
  } while (v >= 1024 && u < units.length - 1);
  return `${v >= 100 ? Math.round(v) : v.toFixed(1)} ${units[u]}`;
}

interface HasId {
  id: string;
}

/** The list with `doc` in place of the item of the same id (unchanged if absent). */
export function replaceDoc<T extends HasId>(list: readonly T[], doc: T): T[] {
  return list.map((d) => (d.id === doc.id ? doc : d));
}

/** The list with `doc` first (new uploads and notes), dropping an older copy of it. */
export function prependDoc<T extends HasId>(list: readonly T[], doc: T): T[] {
  return [doc, ...list.filter((d) => d.id !== doc.id)];
}

/** The list without `id`, and what was removed where, so a failed delete can put it back. */
export function removeDoc<T extends HasId>(list: readonly T[], id: string): { list: T[]; removed: T | null; index: number } {
  const index = list.findIndex((d) => d.id === id);
  if (index < 0) return { list: [...list], removed: null, index: -1 };
  return { list: [...list.slice(0, index), ...list.slice(index + 1)], removed: list[index], index };
}

/** Puts a removed item back at its old place (or the end), unless a refresh already did. */
export function restoreDoc<T extends HasId>(list: readonly T[], doc: T, index: number): T[] {
  if (list.some((d) => d.id === doc.id)) return [...list];
  const at = index < 0 ? list.length : Math.min(index, list.length);
  return [...list.slice(0, at), doc, ...list.slice(at)];
}

/**
 * A fresh server list with the edits still in flight applied over it: a poll that answers
 * while a rename or delete is pending must not undo it on screen.
 */
export function withPending<T extends HasId & { title: string }>(
  fresh: readonly T[],
  pending: { renames: ReadonlyMap<string, string>; deletes: ReadonlySet<string> },
): T[] {
  return fresh
    .filter((d) => !pending.deletes.has(d.id))
    .map((d) => (pending.renames.has(d.id) ? { ...d, title: pending.renames.get(d.id)! } : d));
}

/** The server's format names as people say them. */
export function formatLabel(format: string, kind?: string): string {
  if (kind === "note") return "Note";
  const names: Record<string, string> = { text: "Text", markdown: "Markdown", html: "HTML", pdf: "PDF", docx: "Word (DOCX)" };
  return names[format] ?? format.toUpperCase();
}

/**
 * How long to wait before the n-th poll (0-based) of a document still indexing: quick at
 * first, so a small file's "Ready" shows promptly, then every 5 s, so a long PDF does not use
 * up the server's per-minute request budget (100 by default) while it indexes. A server's
 * Retry-After (seconds) wins when longer.
 */
export function pollDelay(attempt: number, retryAfterSeconds?: number): number {
  const steps = [1000, 1500, 2000, 3000, 4000];
  const base = steps[Math.max(0, Math.trunc(attempt))] ?? 5000;
  return Math.max(base, (retryAfterSeconds ?? 0) * 1000);
}
