/**
 * A joined room's state on the client, rebuilt from the server's messages: a snapshot replaces
 * everything, each later event changes one part. Pure, so that the same sequence of messages
 * always gives the same screen (and a replay after a resume lands where the live stream would).
 */
import { mergeNewer, mergeOlder } from "./chat";
import type {
  BreathingState,
  ChatMessage,
  MessageOf,
  PresentUser,
  RoomInfo,
  ServerMessage,
  StressAggregate,
} from "./protocol";
import { IDLE_MEDITATION, type Meditation } from "./time";

export interface SupportNote {
  /** The event's sequence number: unique in the room. */
  seq: number;
  at: number;
  user: string;
  username: string;
  level: number;
  factors: string[];
}

export interface RoomState {
  info: RoomInfo;
  role: "host" | "participant";
  presence: PresentUser[];
  meditation: Meditation;
  /** How many finished the current sit. */
  completed: number;
  /** Who finished the current sit, as far as this client saw. */
  completedBy: string[];
  breathing: BreathingState;
  stress: StressAggregate;
  /** Oldest first. */
  chat: ChatMessage[];
  /** Whether older chat may exist beyond `chat` (a snapshot carries the last 20). */
  hasOlderChat: boolean;
  /** Support notifications (hosts only), newest first. */
  support: SupportNote[];
}

/** Messages a snapshot carries; a full page means there may be more. */
export const SNAPSHOT_CHAT = 20;

export const EMPTY_STRESS: StressAggregate = { count: 0, mean: 0, distribution: Array(11).fill(0), trend: 0, shared: [] };

export function fromSnapshot(m: MessageOf<"room.snapshot">): RoomState {
  return {
    info: m.info,
    role: m.role,
    presence: m.presence,
    meditation: m.meditation ?? IDLE_MEDITATION,
    completed: m.completed,
    completedBy: [],
    breathing: m.breathing,
    stress: m.stress ?? EMPTY_STRESS,
    chat: m.chat,
    hasOlderChat: m.chat.length >= SNAPSHOT_CHAT,
    support: [],
  };
}

function meditationOf(m: MessageOf<"meditation">): Meditation {
  const { state, started_at, duration_ms, bell_interval_ms, paused_ms, paused_at } = m;
  return { state, started_at, duration_ms, bell_interval_ms, paused_ms, paused_at };
}

/** Whether a `meditation` message is a fresh start (the server clears completions then): a
 * running timer with a new start time and nothing paused yet. */
export function isFreshStart(prev: Meditation, next: Meditation): boolean {
  return next.state === "running" && next.paused_ms === 0 && next.started_at !== prev.started_at;
}

/** The state after one message of this room (null until the first snapshot). */
export function reduceRoom(state: RoomState | null, m: ServerMessage): RoomState | null {
  if (m.type === "room.snapshot") return fromSnapshot(m);
  if (!state) return null;
  switch (m.type) {
    case "presence": {
      const others = state.presence.filter((p) => p.user !== m.user);
      if (m.event === "leave") return { ...state, presence: others };
      const me = { user: m.user, username: m.username, status: m.status };
      const i = state.presence.findIndex((p) => p.user === m.user);
      const presence = i < 0 ? [...others, me] : state.presence.map((p) => (p.user === m.user ? me : p));
      return { ...state, presence };
    }
    case "meditation": {
      const next = meditationOf(m);
      const fresh = isFreshStart(state.meditation, next);
      return {
        ...state,
        meditation: next,
        completed: fresh ? 0 : state.completed,
        completedBy: fresh ? [] : state.completedBy,
      };
    }
    case "progress":
      return {
        ...state,
        completed: m.completed,
        completedBy: state.completedBy.includes(m.user) ? state.completedBy : [...state.completedBy, m.user],
      };
    case "breathing":
      return { ...state, breathing: { state: m.state, started_at: m.started_at, pattern: m.pattern } };
    case "stress": {
      const { count, mean, distribution, trend, shared } = m;
      return { ...state, stress: { count, mean, distribution, trend, shared } };
    }
    case "support": {
      const note: SupportNote = { seq: m.seq, at: m.at, user: m.user, username: m.username, level: m.level, factors: m.factors };
      if (state.support.some((s) => s.seq === m.seq)) return state;
      return { ...state, support: [note, ...state.support].slice(0, 50) };
    }
    case "chat":
      return { ...state, chat: mergeNewer(state.chat, [m.message]) };
    default:
      return state;
  }
}

/** A page of older chat from the REST history (newest first) put before what is shown;
 * `nextBefore` null means the page was the last. */
export function withOlderChat(state: RoomState, pageNewestFirst: ChatMessage[], nextBefore: string | null | undefined): RoomState {
  return { ...state, chat: mergeOlder(state.chat, pageNewestFirst), hasOlderChat: !!nextBefore };
}
