/** Room chat list rules: oldest first, no message twice, older pages prepended. */
import type { ChatMessage } from "./protocol";

/** Adds newer messages (live, or an acknowledged send) at the end, skipping known ids. */
export function mergeNewer(list: ChatMessage[], newer: ChatMessage[]): ChatMessage[] {
  const seen = new Set(list.map((m) => m.id));
  const add = newer.filter((m) => !seen.has(m.id) && (seen.add(m.id), true));
  return add.length ? [...list, ...add] : list;
}

/** Prepends a history page (the REST API answers newest first), skipping known ids. */
export function mergeOlder(list: ChatMessage[], pageNewestFirst: ChatMessage[]): ChatMessage[] {
  const seen = new Set(list.map((m) => m.id));
  const older = [...pageNewestFirst].reverse().filter((m) => !seen.has(m.id) && (seen.add(m.id), true));
  return older.length ? [...older, ...list] : list;
}

/** The id to page back from: the oldest message shown. */
export function oldestId(list: ChatMessage[]): string | undefined {
  return list[0]?.id;
}
