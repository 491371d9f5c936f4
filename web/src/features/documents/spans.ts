/**
 * Highlight spans → text segments, for search results (the server's `highlights`) and the
 * viewer (a citation's `start`/`end`). The server counts offsets in characters — Unicode scalar
 * values (`str::chars()` in Rust) — while JavaScript strings index UTF-16 code units, so every
 * offset is converted before slicing; otherwise an emoji or a CJK supplement character before a
 * span would shift the mark. Spans from the network are untrusted: out-of-range, reversed,
 * fractional, overlapping or unsorted spans are clamped and merged, never thrown on.
 */

/** A range of characters (code points), end exclusive. */
export interface Span {
  start: number;
  end: number;
}

/** A run of text that is either marked or not. */
export interface Segment {
  text: string;
  mark: boolean;
}

/** Reads `{start, end}` objects out of an untyped array (the API types highlights as objects). */
export function spansOf(raw: unknown): Span[] {
  if (!Array.isArray(raw)) return [];
  const out: Span[] = [];
  for (const item of raw) {
    if (item && typeof item === "object") {
      const { start, end } = item as { start?: unknown; end?: unknown };
      if (typeof start === "number" && typeof end === "number") out.push({ start, end });
    }
  }
  return out;
}

/** Number of code points in `text` (what the server calls characters). */
export function codePointLength(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/**
 * Spans clamped to `[0, length]`, with non-finite or empty ones dropped, sorted, and overlapping
 * or touching ones merged (so no character is ever inside two marks).
 */
export function normalizeSpans(spans: readonly Span[], length: number): Span[] {
  const clean: Span[] = [];
  for (const s of spans) {
    if (!Number.isFinite(s.start) || !Number.isFinite(s.end)) continue;
    let start = Math.trunc(Math.min(s.start, s.end));
    let end = Math.trunc(Math.max(s.start, s.end));
    start = Math.max(0, Math.min(start, length));
    end = Math.max(0, Math.min(end, length));
    if (end > start) clean.push({ start, end });
  }
  clean.sort((a, b) => a.start - b.start || a.end - b.end);
  const merged: Span[] = [];
  for (const s of clean) {
    const last = merged[merged.length - 1];
    if (last && s.start <= last.end) last.end = Math.max(last.end, s.end);
    else merged.push({ ...s });
  }
  return merged;
}

/**
 * UTF-16 indexes of ascending code-point offsets, in one pass over the text. Offsets past the
 * end map to `text.length`.
 */
export function utf16Offsets(text: string, ascending: readonly number[]): number[] {
  const out: number[] = [];
  let cp = 0;
  let i = 0;
  for (const target of ascending) {
    while (cp < target && i < text.length) {
      const c = text.charCodeAt(i);
      const pair = c >= 0xd800 && c <= 0xdbff && i + 1 < text.length;
      const d = pair ? text.charCodeAt(i + 1) : 0;
      i += pair && d >= 0xdc00 && d <= 0xdfff ? 2 : 1;
      cp++;
    }
    out.push(i);
  }
  return out;
}

/** The text cut into unmarked and marked segments (empty segments left out). */
export function splitBySpans(text: string, spans: readonly Span[]): Segment[] {
  const merged = normalizeSpans(spans, codePointLength(text));
  if (merged.length === 0) return text ? [{ text, mark: false }] : [];
  const at = utf16Offsets(
    text,
    merged.flatMap((s) => [s.start, s.end]),
  );
  const out: Segment[] = [];
  let pos = 0;
  merged.forEach((_, k) => {
    const a = at[2 * k];
    const b = at[2 * k + 1];
    if (a > pos) out.push({ text: text.slice(pos, a), mark: false });
    out.push({ text: text.slice(a, b), mark: true });
    pos = b;
  });
  if (pos < text.length) out.push({ text: text.slice(pos), mark: false });
  return out;
}
