/**
 * The live JSON protocol's messages as TypeScript types (docs/LIVE.md "Messages"). The server
 * adds `v`, `type`, `room`, `seq` and `at` to every message; `seq` is the room's event number
 * (0 for replies to one connection and for messages outside any room).
 */
import type { Meditation, Pattern } from "./time";

export type RoomKind = "meditation" | "breathing" | "stress" | "collaboration";
export const ROOM_KINDS: RoomKind[] = ["meditation", "breathing", "stress", "collaboration"];

export interface RoomInfo {
  id: string;
  kind: RoomKind;
  name: string;
  team_id: string | null;
  host_id: string;
  created_at: number;
}

export interface PresentUser {
  user: string;
  username: string;
  status: string;
}

export interface ChatMessage {
  id: string;
  user: string;
  username: string;
  text: string;
  at: number;
}

export interface BreathingState {
  state: "idle" | "running";
  started_at: number | null;
  pattern: Pattern | null;
}

export interface SharedLevel {
  user: string;
  username: string;
  level: number;
  factors: string[];
}

export interface StressAggregate {
  count: number;
  mean: number;
  /** Check-ins at each level 0…10. */
  distribution: number[];
  /** Mean of the later half minus the earlier half: negative is calmer. */
  trend: number;
  shared: SharedLevel[];
}

interface Envelope {
  v: 1;
  room: string | null;
  seq: number;
  at: number;
}

export type ServerMessage = Envelope &
  (
    | { type: "hello"; user: { id: string; username: string }; server_time: number }
    | { type: "pong"; t0: number; t1: number; t2: number }
    | { type: "ack"; ref?: string; message?: ChatMessage; seq?: number }
    | { type: "error"; code: string; message: string; ref?: string }
    | { type: "room.created"; ref?: string; info: RoomInfo }
    | {
        type: "room.snapshot";
        info: RoomInfo;
        role: "host" | "participant";
        presence: PresentUser[];
        meditation: Meditation;
        completed: number;
        breathing: BreathingState;
        stress: StressAggregate;
        chat: ChatMessage[];
      }
    | { type: "room.resumed"; from: number; to: number }
    | { type: "presence"; user: string; username: string; status: string; event: "join" | "leave" | "status" }
    | ({ type: "meditation" } & Meditation)
    | { type: "progress"; user: string; username: string; completed: number }
    | ({ type: "breathing" } & BreathingState)
    | ({ type: "stress" } & StressAggregate)
    | { type: "support"; user: string; username: string; level: number; factors: string[] }
    | { type: "chat"; message: ChatMessage }
    | { type: "signal"; user: { id: string; username: string }; data: unknown }
  );

export type MessageOf<T extends ServerMessage["type"]> = Extract<ServerMessage, { type: T }>;

/** A client request (without `v` and `id`, which the connection adds). */
export type ClientRequest =
  | { type: "ping"; t0: number }
  | { type: "room.create"; kind: RoomKind; name: string; team?: string }
  | { type: "room.join"; room: string; since?: number }
  | { type: "room.leave"; room: string }
  | { type: "presence.set"; room: string; status: string }
  | { type: "meditation.start"; room: string; duration_s: number; bell_interval_s?: number }
  | { type: "meditation.pause" | "meditation.resume" | "meditation.end" | "meditation.complete"; room: string }
  | {
      type: "breathing.start";
      room: string;
      pattern?: { inhale_s: number; hold_in_s: number; exhale_s: number; hold_out_s: number; cycles: number };
      preset?: string;
    }
  | { type: "breathing.stop"; room: string }
  | { type: "stress.checkin"; room: string; level: number; factors: string[]; share: boolean }
  | { type: "chat.send"; room: string; text: string }
  | { type: "signal"; room: string; data: unknown };

/** An `error` answer, with the protocol's stable code. */
export class LiveError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "LiveError";
    this.code = code;
  }
}

// ---- REST shapes ----------------------------------------------------------------------------
// Written out here because docs/openapi.json names the live history and session schemas like
// the chat's and the auth's (`MessagePage`, `MessageView`, `SessionView`), so the generated types
// describe those instead. These follow crates/selah-server/src/live/rest.rs.

/** `GET /api/v1/live/rooms/{room}/messages`: newest first. */
export interface HistoryPage {
  messages: ChatMessage[];
  /** Pass as `before` for the next page; absent or null on the last page. */
  next_before?: string | null;
}

/** `GET /api/v1/wellbeing/sessions`: one meditation or breathing session joined. */
export interface WellbeingSession {
  room_id: string;
  room_name: string;
  kind: string;
  joined_at: number;
  left_at: number | null;
  /** Time in the room; null while still there. */
  duration_ms: number | null;
  completed: boolean;
}
