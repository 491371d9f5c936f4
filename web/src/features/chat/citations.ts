/**
 * Citations under a reply: the link into the documents viewer (its URL shape is shared with the
 * documents screen: `/documents/<id>?chunk=<passage>&start=<char>&end=<char>`) and the list
 * without repeats.
 */
import type { Citation } from "./types";

export function citationHref(c: Citation): string {
  const q = new URLSearchParams({ chunk: String(c.passage_id), start: String(c.char_start), end: String(c.char_end) });
  return `/documents/${encodeURIComponent(c.document_id)}?${q.toString()}`;
}

/** The citations in order, each passage once (stored rows may repeat what the stream listed). */
export function uniqueCitations(list: Citation[] | null | undefined): Citation[] {
  const seen = new Set<string>();
  const out: Citation[] = [];
  for (const c of list ?? []) {
    const key = `${c.document_id}#${c.passage_id}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(c);
  }
  return out;
}

/** "Source 1: Field notes.md, characters 120–480" — the link's accessible name. */
export function citationLabel(c: Citation, index: number): string {
  return `Source ${index + 1}: ${c.title}, characters ${c.char_start}–${c.char_end}`;
}
