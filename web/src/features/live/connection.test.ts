// The connection's state machine against a fake socket: authentication, joins, the resume with
// the last sequence after a drop, backoff with jitter, heartbeat death, clock offset, requests.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { LiveConnection, statusText, type SocketLike } from "./connection";
import type { ServerMessage } from "./protocol";

class FakeSocket implements SocketLike {
  sent: Record<string, unknown>[] = [];
  closed: { code?: number; reason?: string } | null = null;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  constructor(readonly url: string) {}
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close(code?: number, reason?: string) {
    this.closed = { code, reason };
  }
  // Test side:
  open() {
    this.onopen?.({});
  }
  recv(m: Record<string, unknown>) {
    this.onmessage?.({ data: JSON.stringify({ v: 1, room: null, seq: 0, at: 0, ...m }) });
  }
  drop(code = 1006, reason = "") {
    this.onclose?.({ code, reason });
  }
  last(type: string) {
    return [...this.sent].reverse().find((m) => m.type === type);
  }
}

let sockets: FakeSocket[];
let clock: number;
let online: boolean;
let onlineCb: (() => void) | null;

function make(extra: Partial<ConstructorParameters<typeof LiveConnection>[0]> = {}) {
  return new LiveConnection({
    url: "ws://example.test/ws",
    createSocket: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    now: () => Date.now(),
    clientClock: () => clock,
    random: () => 0.5,
    online: () => online,
    onOnline: (cb) => {
      onlineCb = cb;
      return () => (onlineCb = null);
    },
    ...extra,
  });
}

function connect(c: LiveConnection): FakeSocket {
  c.start();
  const s = sockets[sockets.length - 1];
  s.open();
  s.recv({ type: "hello", user: { id: "u1", username: "ann" }, server_time: clock + 2000 });
  return s;
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(1_000_000);
  sockets = [];
  clock = 50_000;
  online = true;
  onlineCb = null;
});
afterEach(() => vi.useRealTimers());

describe("live connection", () => {
  it("connects without a token in the URL and reports connected after hello", () => {
    const c = make();
    expect(c.status.kind).toBe("offline");
    c.start();
    expect(c.status).toEqual({ kind: "connecting", attempt: 0 });
    const s = sockets[0];
    expect(s.url).toBe("ws://example.test/ws");
    s.open();
    expect(s.sent).toEqual([]); // the cookie authenticates; nothing to send first
    s.recv({ type: "hello", user: { id: "u1", username: "ann" }, server_time: 52_000 });
    expect(c.status.kind).toBe("connected");
    expect(c.user?.username).toBe("ann");
    // First guess from hello, before any pong.
    expect(c.offsetMs).toBe(2_000);
  });

  it("sends a token as the first message when given one", () => {
    const c = make({ token: "secret" });
    c.start();
    sockets[0].open();
    expect(sockets[0].sent[0]).toEqual({ v: 1, type: "auth", token: "secret" });
    expect(sockets[0].url).not.toContain("secret");
  });

  it("joins, then resumes with the last sequence after a drop", async () => {
    const c = make();
    const s1 = connect(c);
    const got: ServerMessage[] = [];
    c.subscribe((m) => got.push(m));
    const joined = c.join("r1");
    expect(s1.last("room.join")).toMatchObject({ type: "room.join", room: "r1" });
    expect(s1.last("room.join")).not.toHaveProperty("since");
    s1.recv({ type: "room.snapshot", room: "r1", seq: 10, info: {}, chat: [] });
    await joined;
    s1.recv({ type: "chat", room: "r1", seq: 11, message: { id: "m1" } });
    s1.recv({ type: "chat", room: "r1", seq: 11, message: { id: "m1" } }); // a repeat
    s1.recv({ type: "presence", room: "r1", seq: 14, user: "u2", event: "join" }); // a gap is fine
    s1.recv({ type: "chat", room: "other", seq: 99, message: { id: "x" } }); // not joined
    // A high check-in: the room's aggregate and the host's support note share one number.
    s1.recv({ type: "stress", room: "r1", seq: 15, count: 1 });
    s1.recv({ type: "support", room: "r1", seq: 15, level: 9 });
    expect(got.map((m) => `${m.type}:${m.seq}`)).toEqual(["room.snapshot:10", "chat:11", "presence:14", "stress:15", "support:15"]);
    expect(c.lastSeq("r1")).toBe(15);

    s1.drop();
    // Attempt 0: full jitter over [0, 500) → 250 with random 0.5.
    expect(c.status).toMatchObject({ kind: "reconnecting", attempt: 1, retryAt: Date.now() + 250 });
    expect(statusText(c.status, Date.now())).toBe("Reconnecting in 1 s");
    vi.advanceTimersByTime(249);
    expect(sockets).toHaveLength(1);
    vi.advanceTimersByTime(1);
    const s2 = sockets[1];
    s2.open();
    s2.recv({ type: "hello", user: { id: "u1", username: "ann" }, server_time: 0 });
    expect(s2.last("room.join")).toMatchObject({ type: "room.join", room: "r1", since: 15 });
    s2.recv({ type: "chat", room: "r1", seq: 16, message: { id: "m2" } });
    s2.recv({ type: "room.resumed", room: "r1", seq: 16, from: 15, to: 16 });
    expect(got.map((m) => m.type)).toContain("room.resumed");
    expect(c.lastSeq("r1")).toBe(16);
  });

  it("a snapshot after bad_sequence replaces a higher number", () => {
    const c = make();
    const s = connect(c);
    void c.join("r1");
    s.recv({ type: "room.snapshot", room: "r1", seq: 30, chat: [] });
    s.recv({ type: "error", room: "r1", code: "bad_sequence", message: "ahead" });
    s.recv({ type: "room.snapshot", room: "r1", seq: 4, chat: [] });
    expect(c.lastSeq("r1")).toBe(4);
  });

  it("backs off exponentially while the server stays away, and resets after a long connection", () => {
    const c = make();
    c.start();
    const ceilings: number[] = [];
    for (let i = 0; i < 8; i++) {
      const s = sockets[sockets.length - 1];
      s.drop();
      const st = c.status;
      if (st.kind !== "reconnecting") throw new Error("not reconnecting");
      ceilings.push((st.retryAt - Date.now()) * 2);
      vi.advanceTimersByTime(st.retryAt - Date.now());
    }
    expect(ceilings).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    // A connection that lasts a minute resets the attempts.
    const s = sockets[sockets.length - 1];
    s.open();
    s.recv({ type: "hello", user: { id: "u1", username: "ann" }, server_time: 0 });
    for (let t = 0; t < 60_000; t += 10_000) {
      vi.advanceTimersByTime(10_000);
      s.recv({ type: "pong", t0: clock, t1: clock, t2: clock }); // the heartbeat is answered
    }
    s.drop();
    expect(c.status).toMatchObject({ kind: "reconnecting", attempt: 1 });
  });

  it("waits for the network instead of a timer when the browser is offline", () => {
    const c = make();
    const s = connect(c);
    online = false;
    s.drop();
    expect(c.status.kind).toBe("offline");
    expect(statusText(c.status, 0)).toMatch(/^Offline — No network/);
    vi.advanceTimersByTime(120_000);
    expect(sockets).toHaveLength(1);
    online = true;
    onlineCb?.();
    expect(sockets).toHaveLength(2);
    expect(c.status.kind).toBe("connecting");
  });

  it("stops retrying when the server says the connection is not signed in", () => {
    const c = make();
    c.start();
    sockets[0].open();
    sockets[0].recv({ type: "error", code: "unauthenticated", message: "send auth first" });
    sockets[0].drop(1008, "authentication failed");
    expect(c.status).toEqual({ kind: "offline", reason: "Not signed in: send auth first" });
    vi.advanceTimersByTime(120_000);
    expect(sockets).toHaveLength(1);
  });

  it("estimates the clock offset from the quickest ping", () => {
    const c = make();
    const s = connect(c);
    vi.advanceTimersByTime(1_000);
    const pings = s.sent.filter((m) => m.type === "ping");
    expect(pings).toHaveLength(5);
    // Server is 2 s ahead. A slow answer, then a quick one.
    clock = 50_310;
    s.recv({ type: "pong", t0: 50_000, t1: 52_300, t2: 52_300 });
    expect(c.offsetMs).toBe(2_145);
    clock = 51_011;
    s.recv({ type: "pong", t0: 51_000, t1: 53_005, t2: 53_006 });
    expect(c.offsetMs).toBe(2_000);
    expect(c.roundTripMs).toBe(10);
    expect(c.serverNow()).toBe(53_011);
  });

  it("pings on the heartbeat and reconnects when nothing is heard", () => {
    const c = make({ heartbeatMs: 15_000 });
    const s = connect(c);
    vi.advanceTimersByTime(2_000);
    const before = s.sent.filter((m) => m.type === "ping").length;
    vi.advanceTimersByTime(15_000);
    expect(s.sent.filter((m) => m.type === "ping").length).toBe(before + 1);
    // Silence: at the third beat without a word (45 s) the connection counts as dead.
    vi.advanceTimersByTime(27_999);
    expect(s.closed).toBeNull();
    vi.advanceTimersByTime(1);
    expect(s.closed?.code).toBe(4000);
    expect(c.status.kind).toBe("reconnecting");
  });

  it("answers requests by ref, fails them on errors and on a drop", async () => {
    const c = make();
    const s = connect(c);
    const created = c.createRoom("meditation", "Morning sit", "team-1");
    const req = s.last("room.create")!;
    expect(req).toMatchObject({ type: "room.create", kind: "meditation", name: "Morning sit", team: "team-1" });
    s.recv({ type: "room.created", ref: req.id, room: "r9", info: { id: "r9", name: "Morning sit" } });
    await expect(created).resolves.toMatchObject({ id: "r9" });

    const start = c.request({ type: "meditation.start", room: "r9", duration_s: 600 });
    s.recv({ type: "error", ref: s.last("meditation.start")!.id, code: "forbidden", message: "only the room's host can do that" });
    await expect(start).rejects.toMatchObject({ code: "forbidden", message: "only the room's host can do that" });

    const pending = c.request({ type: "chat.send", room: "r9", text: "hi" });
    s.drop();
    await expect(pending).rejects.toMatchObject({ code: "disconnected" });
    await expect(c.request({ type: "chat.send", room: "r9", text: "hi" })).rejects.toMatchObject({ code: "offline" });
  });

  it("a refused join rejects and is not retried", async () => {
    const c = make();
    const s = connect(c);
    const j = c.join("nope");
    s.recv({ type: "error", room: "nope", ref: s.last("room.join")!.id, code: "not_found", message: "no such room" });
    await expect(j).rejects.toMatchObject({ code: "not_found" });
    s.drop();
    vi.advanceTimersByTime(1_000);
    const s2 = sockets[1];
    s2.open();
    s2.recv({ type: "hello", user: { id: "u1", username: "ann" }, server_time: 0 });
    expect(s2.last("room.join")).toBeUndefined();
  });

  it("stop closes for good", () => {
    const c = make();
    const s = connect(c);
    c.stop();
    expect(s.closed?.code).toBe(1000);
    expect(c.status.kind).toBe("offline");
    vi.advanceTimersByTime(60_000);
    expect(sockets).toHaveLength(1);
  });
});
