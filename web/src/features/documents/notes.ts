/**
 * Notes written in the app: the server's limits checked before sending (title 1–200 characters
 * after trimming, body not blank and at most 1 MiB of UTF-8 — docs/routes.rs and upload.rs), and
 * the smallest PATCH for an edit (the server refuses an empty one, and a new body re-indexes).
 */

export const MAX_TITLE_CHARS = 200;
export const MAX_NOTE_BYTES = 1024 * 1024;

/** Why the note cannot be saved as it is, or null when it can. */
export function noteProblem(title: string, body: string): string | null {
  const t = title.trim();
  if (!t) return "Give the note a title.";
  if ([...t].length > MAX_TITLE_CHARS) return `A title is at most ${MAX_TITLE_CHARS} characters.`;
  if (!body.trim()) return "The note is empty.";
  if (new TextEncoder().encode(body).length > MAX_NOTE_BYTES) return "A note is at most 1 MiB of text.";
  return null;
}

/** The fields that changed, or null when nothing did (no request needed). */
export function notePatch(
  before: { title: string; body: string },
  after: { title: string; body: string },
): { title?: string; body?: string } | null {
  const patch: { title?: string; body?: string } = {};
  if (after.title.trim() !== before.title.trim()) patch.title = after.title.trim();
  if (after.body !== before.body) patch.body = after.body;
  return Object.keys(patch).length ? patch : null;
}
