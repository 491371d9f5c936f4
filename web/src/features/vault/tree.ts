/**
 * The folder tree of the vault, derived from one list of items: a folder's children (an item
 * whose folder the caller cannot see counts as top level, as in the CLI), the breadcrumb path to
 * a folder, where an item may be moved, and the order items are shown in.
 */
import type { Schemas } from "../../api/client";
import type { Meta } from "./meta";

export type Item = Schemas["Item"];

/** An item with its metadata opened (or why it could not be). */
export interface Entry {
  item: Item;
  meta: Meta | null;
  error?: string;
}

/** The name shown for an entry. */
export function displayName(e: Entry): string {
  return e.meta?.name ?? `Unreadable item ${e.item.id.slice(-6)}`;
}

/** The entries directly in `folderId` (null: the top level). */
export function children(entries: Entry[], folderId: string | null): Entry[] {
  const visible = new Set(entries.map((e) => e.item.id));
  return entries.filter((e) => {
    const p = e.item.parent_id ?? null;
    if (folderId === null) return p === null || !visible.has(p);
    return p === folderId;
  });
}

/** The folders from the top level down to `folderId` (inclusive); empty at the top level. */
export function breadcrumbs(entries: Entry[], folderId: string | null): Entry[] {
  const byId = new Map(entries.map((e) => [e.item.id, e]));
  const path: Entry[] = [];
  let at = folderId;
  while (at !== null) {
    const e = byId.get(at);
    if (!e || path.includes(e) || path.length > 256) break;
    path.push(e);
    at = e.item.parent_id ?? null;
  }
  return path.reverse();
}

/** Whether `id` is `ancestor` or inside it. */
function within(byId: Map<string, Entry>, id: string, ancestor: string): boolean {
  let at: string | null = id;
  for (let i = 0; at !== null && i < 257; i++) {
    if (at === ancestor) return true;
    at = byId.get(at)?.item.parent_id ?? null;
  }
  return false;
}

/** Folders `item` may move into: not itself, not inside itself, not where it already is. */
export function moveTargets(entries: Entry[], item: Item): Entry[] {
  const byId = new Map(entries.map((e) => [e.item.id, e]));
  return entries.filter(
    (e) =>
      e.item.kind === "folder" &&
      e.item.id !== (item.parent_id ?? null) &&
      !within(byId, e.item.id, item.id) &&
      (e.item.team_id ?? null) === (item.team_id ?? null),
  );
}

/** The full path of a folder, for a list of move targets: "Taxes / 2025". */
export function folderPath(entries: Entry[], folderId: string): string {
  return breadcrumbs(entries, folderId).map(displayName).join(" / ");
}

/** Folders first, then by name (natural order: "file 2" before "file 10"). */
export function sortEntries(entries: Entry[]): Entry[] {
  const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });
  return [...entries].sort((a, b) => {
    const fa = a.item.kind === "folder" ? 0 : 1;
    const fb = b.item.kind === "folder" ? 0 : 1;
    return fa - fb || collator.compare(displayName(a), displayName(b)) || a.item.id.localeCompare(b.item.id);
  });
}
