/**
 * The URLs of this screen: the viewer's `/documents/<id>?chunk=&start=&end=` (a citation or a
 * search hit: the passage id and its character span in the document's text, as in the API's
 * `Citation` and `SearchHit`), and the search box's text turned into a `/api/v1/search` request
 * with the server's own limits checked first.
 */

/** Longest query the server takes, in characters (`search_route.rs` MAX_QUERY_CHARS). */
export const MAX_QUERY_CHARS = 1000;
/** Most results the server returns for one search (`MAX_K`). */
export const MAX_K = 50;

/** Where the viewer should point: a passage's span in the document's text. */
export interface ViewerTarget {
  /** The passage id (`Citation.passage_id` / `SearchHit.passage_id`), if given. */
  chunk: string | null;
  /** First character (code point), inclusive. */
  start: number;
  /** Last character, exclusive. */
  end: number;
}

/** A non-negative integer from a query value, or null ("", "-1", "2.5", "12abc" are null). */
function wholeNumber(v: string | null): number | null {
  if (v === null || !/^\d{1,15}$/.test(v.trim())) return null;
  return Number(v.trim());
}

/**
 * The viewer target in a path's or URL's query string, or null when there is no usable span:
 * start and end must both be whole numbers with end after start (a reversed pair is swapped).
 */
export function parseViewerQuery(pathOrSearch: string): ViewerTarget | null {
  const q = pathOrSearch.includes("?") ? pathOrSearch.slice(pathOrSearch.indexOf("?") + 1) : pathOrSearch;
  const p = new URLSearchParams(q.split("#")[0]);
  const start = wholeNumber(p.get("start"));
  const end = wholeNumber(p.get("end"));
  if (start === null || end === null || start === end) return null;
  const chunk = p.get("chunk")?.trim() || null;
  return { chunk, start: Math.min(start, end), end: Math.max(start, end) };
}

/** The viewer's path for a document, optionally pointing at a span. */
export function viewerPath(id: string, target?: ViewerTarget | null): string {
  const base = `/documents/${encodeURIComponent(id)}`;
  if (!target) return base;
  const p = new URLSearchParams();
  if (target.chunk) p.set("chunk", target.chunk);
  p.set("start", String(target.start));
  p.set("end", String(target.end));
  return `${base}?${p.toString()}`;
}

/** The document id of a viewer path: "/documents/abc?start=1" → "abc" (null on the list). */
export function documentIdOf(segments: readonly string[]): string | null {
  const raw = segments[0];
  if (!raw) return null;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

export interface SearchOptions {
  /** Search every context the user can read (`scope=all`) rather than the current one. */
  everywhere?: boolean;
  /** Only this document. */
  doc?: string;
  /** Results wanted (clamped to 1–50). */
  k?: number;
}

export type SearchRequest = { ok: true; path: string; q: string } | { ok: false; reason: string };

/**
 * Checks the search box's text (trimmed; 1–1000 characters counted as the server counts them)
 * and builds the request path. Only documents are searched here: chat messages have their own
 * screen.
 */
export function buildSearch(raw: string, opts: SearchOptions = {}): SearchRequest {
  const q = raw.trim();
  if (!q) return { ok: false, reason: "Type something to search for." };
  if ([...q].length > MAX_QUERY_CHARS) {
    return { ok: false, reason: `A search is at most ${MAX_QUERY_CHARS} characters.` };
  }
  const k = Math.max(1, Math.min(MAX_K, Math.trunc(opts.k ?? 10) || 10));
  const p = new URLSearchParams({ q, k: String(k), source: "documents" });
  p.set("scope", opts.everywhere ? "all" : "current");
  if (opts.doc) p.set("doc", opts.doc);
  return { ok: true, q, path: `/api/v1/search?${p.toString()}` };
}

/** A fused score for display: three significant decimals, never "NaN". */
export function formatScore(score: number): string {
  return Number.isFinite(score) ? score.toFixed(3) : "–";
}
