// The room reducer: a snapshot replaces the state, each event changes its part, repeats are
// harmless, and the chat helpers page history in without duplicates.
import { describe, expect, it } from "vitest";
import { mergeNewer, mergeOlder, oldestId } from "./chat";
import type { ChatMessage, ServerMessage } from "./protocol";
import { reduceRoom, withOlderChat, type RoomState } from "./roomState";

const env = (seq: number) => ({ v: 1 as const, room: "r1", seq, at: 1000 + seq });
const msg = (id: string, text = id): ChatMessage => ({ id, user: "u1", username: "ann", text, at: 1 });

function snapshot(seq: number, chat: ChatMessage[] = []): ServerMessage {
  return {
    ...env(seq),
    type: "room.snapshot",
    info: { id: "r1", kind: "meditation", name: "Morning", team_id: null, host_id: "u1", created_at: 1 },
    role: "host",
    presence: [{ user: "u1", username: "ann", status: "here" }],
    meditation: { state: "idle", started_at: 0, duration_ms: 0, bell_interval_ms: 0, paused_ms: 0, paused_at: null },
    completed: 2,
    breathing: { state: "idle", started_at: null, pattern: null },
    stress: { count: 0, mean: 0, distribution: Array(11).fill(0), trend: 0, shared: [] },
    chat,
  };
}

function run(msgs: ServerMessage[]): RoomState | null {
  return msgs.reduce<RoomState | null>((s, m) => reduceRoom(s, m), null);
}

describe("room state", () => {
  it("waits for a snapshot before anything else", () => {
    expect(run([{ ...env(3), type: "chat", message: msg("a") }])).toBeNull();
    const s = run([snapshot(3)])!;
    expect(s.role).toBe("host");
    expect(s.completed).toBe(2);
    expect(s.hasOlderChat).toBe(false);
  });

  it("tracks presence joins, status changes and leaves", () => {
    const s = run([
      snapshot(1),
      { ...env(2), type: "presence", user: "u2", username: "bo", status: "here", event: "join" },
      { ...env(3), type: "presence", user: "u2", username: "bo", status: "away", event: "status" },
    ])!;
    expect(s.presence.map((p) => `${p.username}:${p.status}`)).toEqual(["ann:here", "bo:away"]);
    const left = reduceRoom(s, { ...env(4), type: "presence", user: "u1", username: "ann", status: "here", event: "leave" })!;
    expect(left.presence.map((p) => p.username)).toEqual(["bo"]);
  });

  it("a fresh meditation start clears completions; pause and resume keep them", () => {
    const start = { state: "running" as const, started_at: 5000, duration_ms: 600_000, bell_interval_ms: 0, paused_ms: 0, paused_at: null };
    let s = run([snapshot(1), { ...env(2), type: "meditation", ...start }])!;
    expect(s.completed).toBe(0);
    expect(s.meditation.started_at).toBe(5000);
    s = reduceRoom(s, { ...env(3), type: "progress", user: "u2", username: "bo", completed: 1 })!;
    s = reduceRoom(s, { ...env(4), type: "progress", user: "u2", username: "bo", completed: 1 })!;
    expect(s.completedBy).toEqual(["u2"]);
    s = reduceRoom(s, { ...env(5), type: "meditation", ...start, state: "paused", paused_at: 9000 })!;
    s = reduceRoom(s, { ...env(6), type: "meditation", ...start, paused_ms: 1000 })!;
    expect(s.completed).toBe(1);
    expect(s.meditation.paused_ms).toBe(1000);
    s = reduceRoom(s, { ...env(7), type: "meditation", ...start, started_at: 90_000 })!;
    expect(s.completed).toBe(0);
    expect(s.completedBy).toEqual([]);
  });

  it("keeps the breathing pattern, the aggregate and support notes", () => {
    const pattern = { inhale_ms: 4000, hold_in_ms: 0, exhale_ms: 6000, hold_out_ms: 0, cycles: 5 };
    const support: ServerMessage = { ...env(4), type: "support", user: "u2", username: "bo", level: 9, factors: ["work"] };
    const s = run([
      snapshot(1),
      { ...env(2), type: "breathing", state: "running", started_at: 777, pattern },
      { ...env(3), type: "stress", count: 1, mean: 9, distribution: [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0], trend: 0, shared: [] },
      support,
      support,
    ])!;
    expect(s.breathing).toEqual({ state: "running", started_at: 777, pattern });
    expect(s.stress.mean).toBe(9);
    expect(s.support).toHaveLength(1);
    expect(s.support[0].level).toBe(9);
  });

  it("adds chat once, and a new snapshot replaces everything", () => {
    const page = Array.from({ length: 20 }, (_, i) => msg("m" + i));
    let s = run([snapshot(1, page)])!;
    expect(s.hasOlderChat).toBe(true);
    s = reduceRoom(s, { ...env(2), type: "chat", message: msg("n1") })!;
    s = reduceRoom(s, { ...env(2), type: "chat", message: msg("n1") })!;
    expect(s.chat).toHaveLength(21);
    s = reduceRoom(s, snapshot(9, [msg("z")]))!;
    expect(s.chat.map((m) => m.id)).toEqual(["z"]);
    expect(s.completed).toBe(2);
  });
});

describe("chat paging", () => {
  it("prepends older pages in order and skips what is shown", () => {
    const shown = [msg("c"), msg("d")];
    const page = [msg("c"), msg("b"), msg("a")]; // newest first, overlapping
    const merged = mergeOlder(shown, page);
    expect(merged.map((m) => m.id)).toEqual(["a", "b", "c", "d"]);
    expect(oldestId(merged)).toBe("a");
    expect(mergeOlder(shown, [])).toBe(shown);
    expect(mergeNewer(merged, [msg("d"), msg("e")]).map((m) => m.id)).toEqual(["a", "b", "c", "d", "e"]);
    expect(oldestId([])).toBeUndefined();
  });

  it("a history page goes before the snapshot's messages; the last page ends paging", () => {
    const page = Array.from({ length: 20 }, (_, i) => msg("m" + (i + 10)));
    let s = run([snapshot(1, page)])!;
    s = withOlderChat(s, [msg("m9"), msg("m8")], "m8");
    expect(s.chat.slice(0, 3).map((m) => m.id)).toEqual(["m8", "m9", "m10"]);
    expect(s.hasOlderChat).toBe(true);
    s = withOlderChat(s, [msg("m7")], null);
    expect(s.chat[0].id).toBe("m7");
    expect(s.hasOlderChat).toBe(false);
  });
});
