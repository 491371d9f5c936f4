/** How people appear in a room: a stable colour per user (for editor cursors and the presence
 * list) dark enough that the editor's white name label on it meets WCAG AA (≥ 4.5:1). */

/** Tailwind 700-shades: each has at least 4.5:1 contrast with white. */
export const PALETTE = ["#b91c1c", "#1d4ed8", "#047857", "#7e22ce", "#c2410c", "#0f766e", "#be185d", "#4338ca"];

/** FNV-1a over the id: the same person gets the same colour on every screen. */
export function colourFor(id: string): string {
  let h = 2166136261;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 16777619);
  return PALETTE[(h >>> 0) % PALETTE.length];
}

/** The same colour, translucent, for a selection highlight. */
export function lightColourFor(id: string): string {
  return colourFor(id) + "33";
}

/** Names of the people editing, each once, from awareness states. */
export function editorsFrom(states: Iterable<unknown>): { name: string; color: string }[] {
  const seen = new Map<string, string>();
  for (const s of states) {
    const user = (s as { user?: { name?: unknown; color?: unknown } } | null)?.user;
    if (user && typeof user.name === "string" && !seen.has(user.name)) {
      seen.set(user.name, typeof user.color === "string" ? user.color : PALETTE[0]);
    }
  }
  return [...seen].map(([name, color]) => ({ name, color }));
}
