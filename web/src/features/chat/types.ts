/**
 * The chat API's shapes as the server sends them. `SessionView` in the generated schema is the
 * login-session type (two Rust structs share the name, so the OpenAPI document keeps only one);
 * the chat session's own fields are written out here from crates/selah-server/src/chat_sessions.
 */
import type { Schemas } from "../../api/client";

/** A chat session (`GET /api/v1/chat/sessions`). */
export interface ChatSession {
  id: string;
  owner_id: string;
  /** Team, or null for a personal session. */
  team_id: string | null;
  title: string;
  archived: boolean;
  /** The model chosen for the session; null: the user's default. */
  active_model: string | null;
  created_at: number;
  updated_at: number;
}

export type ChatMessage = Schemas["MessageView"];
export type Citation = Schemas["Citation"];
export type TokenCount = Schemas["TokenCount"];
export type ModelInfo = Schemas["ModelInfo"];

/** The `done` event that ends a streamed reply. */
export interface DoneEvent {
  message_id: string;
  user_message_id: string;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  context?: {
    included_messages: number;
    omitted_messages: number;
    summarised: boolean;
    passages: number;
    truncated: boolean;
    tokens: number;
  };
  citations?: Citation[];
  /** `stop`, `length` or `cancelled`. */
  finish: string;
}

/** The `error` event that ends a failed reply. */
export interface ErrorEvent {
  code: string;
  message: string;
}
