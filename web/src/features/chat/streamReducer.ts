/**
 * The conversation's state machine: stored messages plus the reply being streamed. A pure
 * reducer so the rules (what a token, a `done`, an `error` or a stop does to the draft) are
 * tested without a server; the chat store feeds it the server-sent events.
 */
import type { ChatMessage, DoneEvent } from "./types";

/** Ids of the two rows that exist only in the page until the server names them. */
export const DRAFT_ID = "draft-reply";
export const PENDING_USER_ID = "pending-user";

export interface Conversation {
  /** Oldest first; while streaming, the last one is the draft reply. */
  messages: ChatMessage[];
  streaming: boolean;
  /** Why the last reply failed (the server's message), shown under the conversation. */
  error: string;
  /** The reply a regeneration took away, put back if the server refuses to start a new one. */
  replaced: ChatMessage | null;
}

export const EMPTY: Conversation = { messages: [], streaming: false, error: "", replaced: null };

export type StreamAction =
  /** The stored messages (a session opened, or reloaded after a reply). */
  | { type: "loaded"; messages: ChatMessage[] }
  /** A reply starts: `userText` is the sent message, null for a regeneration. */
  | { type: "start"; userText: string | null; model: string | null; now: number }
  | { type: "token"; text: string }
  | { type: "done"; event: DoneEvent; now: number }
  /** The stream ended with an `error` event or broke off: the partial text stays. */
  | { type: "error"; message: string; now: number }
  /** The request was refused before any reply existed (409, 503…): nothing was stored. */
  | { type: "refused"; message: string }
  /** The user stopped the reply: what arrived is kept, marked incomplete. */
  | { type: "stopped"; now: number };

export function streamReducer(state: Conversation, action: StreamAction): Conversation {
  switch (action.type) {
    case "loaded":
      return { ...state, messages: action.messages, streaming: false, replaced: null };
    case "start": {
      if (state.streaming) return state;
      let messages = state.messages;
      let replaced: ChatMessage | null = null;
      if (action.userText === null) {
        // Regenerate replaces the last reply, as the server does once the new one starts.
        const last = messages[messages.length - 1];
        if (last?.role === "assistant") {
          replaced = last;
          messages = messages.slice(0, -1);
        }
      } else {
        messages = [...messages, row(PENDING_USER_ID, "user", action.userText, "complete", action.model, action.now)];
      }
      messages = [...messages, row(DRAFT_ID, "assistant", "", "streaming", action.model, action.now)];
      return { messages, streaming: true, error: "", replaced };
    }
    case "token":
      if (!state.streaming) return state; // a token that raced a stop
      return { ...state, messages: mapDraft(state.messages, (d) => ({ ...d, content: d.content + action.text })) };
    case "done": {
      const ev = action.event;
      const messages = state.messages.map((m) => {
        if (m.id === PENDING_USER_ID) return { ...m, id: ev.user_message_id };
        if (m.id !== DRAFT_ID) return m;
        const stored: ChatMessage = {
          ...m,
          id: ev.message_id,
          status: ev.finish === "cancelled" ? "incomplete" : "complete",
          prompt_tokens: ev.usage.prompt_tokens,
          completion_tokens: ev.usage.completion_tokens,
          updated_at: action.now,
        };
        if (ev.citations && ev.citations.length > 0) stored.citations = ev.citations;
        return stored;
      });
      return { messages, streaming: false, error: "", replaced: null };
    }
    case "error":
      return {
        ...state,
        messages: settle(state.messages, "error", action.now),
        streaming: false,
        error: action.message,
        replaced: null,
      };
    case "refused": {
      // The server removed the user message it had stored and kept the old reply.
      const messages = state.messages.filter((m) => m.id !== DRAFT_ID && m.id !== PENDING_USER_ID);
      if (state.replaced) messages.push(state.replaced);
      return { messages, streaming: false, error: action.message, replaced: null };
    }
    case "stopped":
      if (!state.streaming) return state;
      return { ...state, messages: settle(state.messages, "incomplete", action.now), streaming: false, replaced: null };
  }
}

/** The reply being written, if any. */
export function draftOf(c: Conversation): ChatMessage | null {
  const last = c.messages[c.messages.length - 1];
  return last?.id === DRAFT_ID ? last : null;
}

/** The last reply can be regenerated when nothing streams and it answers a user message. */
export function canRegenerate(c: Conversation): boolean {
  const n = c.messages.length;
  return !c.streaming && n >= 2 && c.messages[n - 1].role === "assistant" && c.messages[n - 2].role === "user";
}

/**
 * Ends the draft without a stored id: it keeps its text and gets `status`; both page-only rows
 * get ids of their own, so the next reply's draft cannot be mistaken for this one.
 */
function settle(messages: ChatMessage[], status: string, now: number): ChatMessage[] {
  return messages.map((m) => {
    if (m.id === DRAFT_ID) return { ...m, id: `${DRAFT_ID}-${now}`, status, updated_at: now };
    if (m.id === PENDING_USER_ID) return { ...m, id: `${PENDING_USER_ID}-${now}` };
    return m;
  });
}

function mapDraft(messages: ChatMessage[], f: (m: ChatMessage) => ChatMessage): ChatMessage[] {
  return messages.map((m) => (m.id === DRAFT_ID ? f(m) : m));
}

function row(id: string, role: string, content: string, status: string, model: string | null, now: number): ChatMessage {
  return { id, role, content, status, model, created_at: now, updated_at: now };
}
