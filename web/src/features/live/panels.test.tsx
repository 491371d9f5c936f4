// The room panels render from a room state with a stand-in connection: the countdown a
// participant sees, the host's controls and what they send, the breathing label, the stress
// aggregate and chart, and chat paging.
import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { LiveConnection } from "./connection";
import { BreathingPanel } from "./BreathingPanel";
import { ChatPanel } from "./ChatPanel";
import { MeditationPanel } from "./MeditationPanel";
import type { ServerMessage } from "./protocol";
import { fromSnapshot, type RoomState } from "./roomState";
import { StressPanel } from "./StressPanel";
import { LiveContext } from "./useLive";

const SERVER_NOW = 1_700_000_000_000;

function fakeConn(offsetMs = 2_000) {
  const sent: unknown[] = [];
  const conn = {
    offsetMs,
    // This client's clock runs 2 s behind the server's.
    clientNow: () => SERVER_NOW - offsetMs,
    serverNow: () => SERVER_NOW,
    request: vi.fn(async (req: unknown) => {
      sent.push(req);
      return { type: "ack" } as ServerMessage;
    }),
  };
  return { conn: conn as unknown as LiveConnection, sent };
}

function room(kind: RoomState["info"]["kind"], patch: Partial<RoomState> = {}): RoomState {
  const s = fromSnapshot({
    v: 1,
    type: "room.snapshot",
    room: "r1",
    seq: 1,
    at: 0,
    info: { id: "r1", kind, name: "Room", team_id: null, host_id: "u1", created_at: 0 },
    role: "participant",
    presence: [],
    meditation: { state: "idle", started_at: 0, duration_ms: 0, bell_interval_ms: 0, paused_ms: 0, paused_at: null },
    completed: 0,
    breathing: { state: "idle", started_at: null, pattern: null },
    stress: { count: 0, mean: 0, distribution: Array(11).fill(0), trend: 0, shared: [] },
    chat: [],
  });
  return { ...s, ...patch };
}

function wrap(conn: LiveConnection, node: React.ReactNode) {
  return render(<LiveContext.Provider value={conn}>{node}</LiveContext.Provider>);
}

beforeEach(() => {
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string) => {
      const body = url.includes("wellbeing/stress")
        ? { checkins: [{ id: "c2", level: 3, factors: [], shared: false, at: 2 }, { id: "c1", level: 7, factors: [], shared: false, at: 1 }], count: 2, mean: 5, distribution: [], trend: -4 }
        : url.includes("/messages")
          ? { messages: [{ id: "old1", user: "u2", username: "bo", text: "from yesterday", at: 1 }], next_before: null }
          : [];
      return new Response(JSON.stringify(body), { status: 200, headers: { "content-type": "application/json" } });
    }),
  );
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("meditation panel", () => {
  it("shows the countdown from the server's start time corrected by the offset", () => {
    const { conn } = fakeConn();
    const meditation = { state: "running" as const, started_at: SERVER_NOW - 61_000, duration_ms: 600_000, bell_interval_ms: 0, paused_ms: 0, paused_at: null };
    wrap(conn, <MeditationPanel state={room("meditation", { meditation })} roomId="r1" />);
    expect(screen.getByRole("timer", { name: "Time remaining" }).textContent).toBe("08:59");
    // A participant has no host controls, but can mark the sit completed.
    expect(screen.queryByRole("button", { name: "Pause" })).toBeNull();
    expect(screen.getByRole("button", { name: "Mark completed" })).toBeTruthy();
  });

  it("lets the host start with a duration and bell interval in seconds", async () => {
    const { conn, sent } = fakeConn();
    wrap(conn, <MeditationPanel state={room("meditation", { role: "host" })} roomId="r1" />);
    fireEvent.change(screen.getByLabelText("Duration (minutes)"), { target: { value: "10" } });
    fireEvent.change(screen.getByLabelText(/^Bell every/), { target: { value: "2.5" } });
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Start meditation" }));
    });
    expect(sent).toEqual([{ type: "meditation.start", room: "r1", duration_s: 600, bell_interval_s: 150 }]);
  });
});

describe("breathing panel", () => {
  it("labels the phase computed from the shared start", () => {
    const { conn } = fakeConn();
    const pattern = { inhale_ms: 4000, hold_in_ms: 2000, exhale_ms: 6000, hold_out_ms: 0, cycles: 3 };
    // 7 s in: exhale, 1 s into it.
    const breathing = { state: "running" as const, started_at: SERVER_NOW - 7_000, pattern };
    wrap(conn, <BreathingPanel state={room("breathing", { breathing })} roomId="r1" />);
    const label = document.querySelector("[data-phase]")!;
    expect(label.getAttribute("data-phase")).toBe("exhale");
    expect(label.textContent).toBe("Breathe out");
    expect(screen.getByText("5 s · cycle 1 of 3")).toBeTruthy();
  });
});

describe("stress panel", () => {
  it("shows the aggregate, its chart and one's own history", async () => {
    const { conn } = fakeConn();
    const stress = { count: 4, mean: 5, distribution: [0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0], trend: -4, shared: [{ user: "u2", username: "bo", level: 2, factors: ["work"] }] };
    await act(async () => {
      wrap(conn, <StressPanel state={room("stress", { stress })} roomId="r1" />);
    });
    expect(document.querySelector("[data-stress-count]")!.textContent).toBe("4");
    expect(screen.getByRole("img", { name: /Check-ins per level: 1 at level 2, 1 at level 4/ })).toBeTruthy();
    expect(screen.getByText("calmer (−4.0)")).toBeTruthy();
    expect(screen.getByRole("img", { name: "Your stress levels over time: 2 check-ins from level 7 to 3" })).toBeTruthy();
  });
});

describe("chat panel", () => {
  it("pages older messages in from the history", async () => {
    const { conn } = fakeConn();
    const chat = Array.from({ length: 20 }, (_, i) => ({ id: "m" + i, user: "u1", username: "ann", text: "msg " + i, at: 10 + i }));
    const onOlder = vi.fn();
    wrap(conn, <ChatPanel state={room("collaboration", { chat, hasOlderChat: true })} roomId="r1" onOlder={onOlder} />);
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Load older messages" }));
    });
    expect(vi.mocked(fetch).mock.calls[0][0]).toBe("/api/v1/live/rooms/r1/messages?limit=50&before=m0");
    expect(onOlder).toHaveBeenCalledWith([{ id: "old1", user: "u2", username: "bo", text: "from yesterday", at: 1 }], null);
  });
});
