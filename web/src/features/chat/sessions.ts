/** Session-list rules: the title a new chat takes from its first message, and the list's order. */
import type { ChatSession } from "./types";

/** The server's title for a chat created without one (chat_sessions::DEFAULT_TITLE). */
export const DEFAULT_TITLE = "New chat";
export const TITLE_CHARS = 48;

/** The first message's first line, whitespace collapsed, cut at a word near 48 characters. */
export function titleFrom(text: string): string {
  const line = text.split(/\r?\n/).find((l) => l.trim() !== "") ?? "";
  const flat = line.replace(/\s+/g, " ").trim();
  if (flat.length <= TITLE_CHARS) return flat || DEFAULT_TITLE;
  const cut = flat.slice(0, TITLE_CHARS - 1);
  const space = cut.lastIndexOf(" ");
  return (space > TITLE_CHARS / 2 ? cut.slice(0, space) : cut).trimEnd() + "…";
}

/** Whether sending this message should also name the chat: only an untitled, empty one. */
export function shouldAutoTitle(session: Pick<ChatSession, "title"> | null, messageCount: number): boolean {
  return !!session && session.title === DEFAULT_TITLE && messageCount === 0;
}

/** Most recently changed first, as the server lists them. */
export function sortSessions(list: ChatSession[]): ChatSession[] {
  return [...list].sort((a, b) => b.updated_at - a.updated_at);
}
