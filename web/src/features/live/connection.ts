/**
 * The live connection (plain TypeScript, no React): one WebSocket to `/ws` speaking the JSON
 * protocol of docs/LIVE.md. It authenticates (the session cookie rides on the same-origin
 * upgrade; a token, if given, goes in the first message — never in the URL), rejoins its rooms
 * after a drop with the last sequence seen so the server replays what was missed, reconnects
 * with exponential backoff and full jitter, pings on a heartbeat (which also refines the clock
 * offset), and exposes a status the screen shows: connecting, connected, reconnecting in N s,
 * or offline.
 *
 * The protocol-level pings the server sends every 15 s are answered by the browser itself; the
 * client's own `ping` messages are how it notices a connection that died without a close.
 */
import { attemptAfterDrop, backoffDelay } from "./backoff";
import { ClockEstimator } from "./clock";
import { LiveError, type ClientRequest, type MessageOf, type RoomInfo, type RoomKind, type ServerMessage } from "./protocol";
import { SequenceBook } from "./sequence";

export type ConnStatus =
  | { kind: "connecting"; attempt: number }
  | { kind: "connected" }
  | { kind: "reconnecting"; retryAt: number; attempt: number; reason: string }
  | { kind: "offline"; reason: string };

/** The part of a WebSocket this module uses (so tests can hand in a fake). */
export interface SocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export interface LiveOptions {
  /** The endpoint; by default `/ws` on this page's host. */
  url?: string;
  /** A session token to send as the first message (clients without the cookie). */
  token?: string;
  createSocket?: (url: string) => SocketLike;
  /** Wall clock for timing (backoff, heartbeat): ms. */
  now?: () => number;
  /** The precise client clock the offset is measured against (ping t0/t3, countdowns). */
  clientClock?: () => number;
  random?: () => number;
  /** Whether the browser has a network; by default `navigator.onLine`. */
  online?: () => boolean;
  /** Calls back when the network comes back; returns the unsubscribe. */
  onOnline?: (cb: () => void) => () => void;
  heartbeatMs?: number;
  requestTimeoutMs?: number;
}

/** Pings right after connecting, spaced out, to estimate the clock offset quickly. */
const SYNC_PINGS = 5;
const SYNC_SPACING_MS = 250;

interface Pending {
  resolve: (m: ServerMessage) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

interface JoinWaiter {
  resolve: () => void;
  reject: (e: Error) => void;
}

export function defaultLiveUrl(): string {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${location.host}/ws`;
}

export function preciseNow(): number {
  return typeof performance !== "undefined" ? performance.timeOrigin + performance.now() : Date.now();
}

export class LiveConnection {
  status: ConnStatus = { kind: "offline", reason: "Not connected yet." };
  user: { id: string; username: string } | null = null;
  /** Server clock minus client clock (ms), from the quickest recent ping. */
  offsetMs = 0;
  /** The round trip of the sample the offset came from (null before any pong). */
  roundTripMs: number | null = null;

  private readonly opts: Required<Omit<LiveOptions, "token" | "url">> & { token?: string; url: string };
  private ws: SocketLike | null = null;
  private attempt = 0;
  private authedAt: number | null = null;
  private lastHeard = 0;
  private stopped = true;
  private fatal: string | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  private syncTimers: ReturnType<typeof setTimeout>[] = [];
  private unOnline: (() => void) | null = null;
  private readonly rooms = new Set<string>();
  private readonly book = new SequenceBook();
  private readonly clock = new ClockEstimator();
  private readonly pending = new Map<string, Pending>();
  /** Join request ids (initial and after reconnecting) → their room. */
  private readonly joinIds = new Map<string, string>();
  private readonly joinWaiters = new Map<string, JoinWaiter[]>();
  private nextId = 1;
  private readonly listeners = new Set<(m: ServerMessage) => void>();
  private readonly statusListeners = new Set<() => void>();

  constructor(options: LiveOptions = {}) {
    this.opts = {
      url: options.url ?? defaultLiveUrl(),
      token: options.token,
      createSocket: options.createSocket ?? ((url) => new WebSocket(url) as unknown as SocketLike),
      now: options.now ?? (() => Date.now()),
      clientClock: options.clientClock ?? preciseNow,
      random: options.random ?? Math.random,
      online: options.online ?? (() => typeof navigator === "undefined" || navigator.onLine !== false),
      onOnline:
        options.onOnline ??
        ((cb) => {
          window.addEventListener("online", cb);
          return () => window.removeEventListener("online", cb);
        }),
      heartbeatMs: options.heartbeatMs ?? 15_000,
      requestTimeoutMs: options.requestTimeoutMs ?? 15_000,
    };
  }

  // ---- public API ---------------------------------------------------------------------------

  /** Opens the connection (and keeps it open until `stop`). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.fatal = null;
    this.attempt = 0;
    this.open();
  }

  /** Closes the connection for good; pending requests fail. */
  stop(): void {
    this.stopped = true;
    this.clearTimers();
    this.unOnline?.();
    this.unOnline = null;
    const ws = this.ws;
    const opened = this.lastHeard > 0;
    this.detach();
    // Closing a socket that is still connecting makes the browser log an error; let it open first.
    if (ws && !opened) ws.onopen = () => ws.close(1000, "bye");
    else ws?.close(1000, "bye");
    this.failPending("The live connection was closed.");
    this.setStatus({ kind: "offline", reason: "Closed." });
  }

  /** Reconnects at once instead of waiting for the backoff (a "Reconnect now" button). */
  retryNow(): void {
    if (this.stopped || this.ws) return;
    this.fatal = null;
    this.clearTimers();
    this.open();
  }

  /** Every server message, after sequence bookkeeping (repeats are not passed on). */
  subscribe(fn: (m: ServerMessage) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Status changes (for `useSyncExternalStore`). */
  onStatus(fn: () => void): () => void {
    this.statusListeners.add(fn);
    return () => this.statusListeners.delete(fn);
  }

  /** The server's clock now, as this client estimates it. */
  serverNow(): number {
    return this.opts.clientClock() + this.offsetMs;
  }

  /** The client clock the offset is measured against. */
  clientNow(): number {
    return this.opts.clientClock();
  }

  /** The last sequence seen in a room (what a rejoin sends as `since`). */
  lastSeq(room: string): number | undefined {
    return this.book.since(room);
  }

  /**
   * Joins a room and asks for a fresh snapshot (the caller has no state yet); after every
   * reconnect until `leave` it rejoins with the last sequence seen instead. Resolves at the
   * snapshot; rejects with the server's error.
   */
  join(room: string): Promise<void> {
    const p = new Promise<void>((resolve, reject) => {
      const list = this.joinWaiters.get(room) ?? [];
      list.push({ resolve, reject });
      this.joinWaiters.set(room, list);
    });
    this.rooms.add(room);
    // Joining again is harmless on the server, and the snapshot it sends is what the caller needs.
    this.book.forget(room);
    if (this.status.kind === "connected") this.sendJoin(room);
    return p;
  }

  /** Leaves a room: no more rejoins, and a later join starts from a fresh snapshot. */
  leave(room: string): void {
    if (!this.rooms.delete(room)) return;
    this.book.forget(room);
    this.settleJoin(room, new LiveError("left", "Left the room."));
    if (this.status.kind === "connected") this.sendRaw({ type: "room.leave", room });
  }

  /** Sends a request and resolves with its answer (`ack`, `room.created`, …) or rejects with
   * the server's error. Fails at once while not connected: the caller shows why. */
  request(req: ClientRequest): Promise<ServerMessage> {
    if (this.status.kind !== "connected" || !this.ws) {
      return Promise.reject(new LiveError("offline", "Not connected to the live server; it reconnects by itself, try again then."));
    }
    const id = "q" + this.nextId++;
    return new Promise<ServerMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new LiveError("timeout", "The live server did not answer in time; try again."));
      }, this.opts.requestTimeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.sendRaw({ ...req, id });
    });
  }

  /** Creates a room (personal, or in `team`); the creator joins it at once. */
  async createRoom(kind: RoomKind, name: string, team?: string): Promise<RoomInfo> {
    const req: ClientRequest = team ? { type: "room.create", kind, name, team } : { type: "room.create", kind, name };
    const m = (await this.request(req)) as MessageOf<"room.created">;
    return m.info;
  }

  // ---- the socket ---------------------------------------------------------------------------

  private open(): void {
    this.retryTimer = null;
    this.setStatus({ kind: "connecting", attempt: this.attempt });
    let ws: SocketLike;
    try {
      ws = this.opts.createSocket(this.opts.url);
    } catch (e) {
      this.ws = null;
      this.dropped(`The connection could not be opened: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    this.ws = ws;
    this.lastHeard = 0;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      this.lastHeard = this.opts.now();
      if (this.opts.token) this.sendRaw({ type: "auth", token: this.opts.token });
    };
    ws.onmessage = (ev) => {
      if (this.ws !== ws) return;
      this.receive(ev.data);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.detach();
      this.dropped(ev.reason ? `Closed by the server: ${ev.reason}` : `Connection closed (${ev.code}).`);
    };
    // An error is always followed by a close, which does the work.
    ws.onerror = () => {};
  }

  private detach(): void {
    const ws = this.ws;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    }
    this.ws = null;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
    this.syncTimers.forEach(clearTimeout);
    this.syncTimers = [];
  }

  private clearTimers(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
    this.syncTimers.forEach(clearTimeout);
    this.syncTimers = [];
  }

  /** The socket is gone: fail what waited on it and schedule the next attempt. */
  private dropped(why: string): void {
    this.failPending("The connection dropped before the server answered; try again.");
    this.joinIds.clear();
    if (this.stopped) return;
    if (this.fatal) {
      this.setStatus({ kind: "offline", reason: this.fatal });
      return;
    }
    const now = this.opts.now();
    const lasted = this.authedAt === null ? null : now - this.authedAt;
    this.authedAt = null;
    this.attempt = attemptAfterDrop(this.attempt, lasted);
    if (!this.opts.online()) {
      // No network: waiting on a timer would only fail again; the browser says when it is back.
      this.setStatus({ kind: "offline", reason: "No network. Reconnecting when it is back." });
      this.unOnline?.();
      this.unOnline = this.opts.onOnline(() => {
        this.unOnline?.();
        this.unOnline = null;
        if (!this.stopped && !this.ws) this.retryNow();
      });
      return;
    }
    const delay = backoffDelay(this.attempt, this.opts.random);
    this.attempt += 1;
    this.setStatus({ kind: "reconnecting", retryAt: now + delay, attempt: this.attempt, reason: why });
    this.retryTimer = setTimeout(() => this.open(), delay);
  }

  private sendRaw(body: Record<string, unknown>): void {
    try {
      this.ws?.send(JSON.stringify({ v: 1, ...body }));
    } catch (e) {
      // A socket that is closing throws; its close event reconnects.
      console.warn("live: send failed", e);
    }
  }

  private sendJoin(room: string): void {
    const id = "j" + this.nextId++;
    this.joinIds.set(id, room);
    const since = this.book.since(room);
    this.sendRaw(since === undefined ? { type: "room.join", room, id } : { type: "room.join", room, since, id });
  }

  private ping(): void {
    this.sendRaw({ type: "ping", t0: this.opts.clientClock() });
  }

  // ---- incoming -----------------------------------------------------------------------------

  private receive(data: unknown): void {
    let m: ServerMessage;
    try {
      m = JSON.parse(String(data)) as ServerMessage;
    } catch {
      console.warn("live: a frame that is not JSON was ignored");
      return;
    }
    this.lastHeard = this.opts.now();
    switch (m.type) {
      case "hello":
        this.authenticated(m);
        break;
      case "pong": {
        const e = this.clock.add({ t0: m.t0, t1: m.t1, t2: m.t2, t3: this.opts.clientClock() });
        if (e) {
          this.offsetMs = e.offsetMs;
          this.roundTripMs = e.roundTripMs;
        }
        return;
      }
      case "error":
        if (m.code === "unauthenticated") this.fatal = `Not signed in: ${m.message}`;
        if (m.ref) {
          const room = this.joinIds.get(m.ref);
          if (room !== undefined) {
            this.joinIds.delete(m.ref);
            // The room refused us: stop rejoining it.
            this.rooms.delete(room);
            this.book.forget(room);
            this.settleJoin(room, new LiveError(m.code, m.message));
          }
          const p = this.pending.get(m.ref);
          if (p) {
            this.pending.delete(m.ref);
            clearTimeout(p.timer);
            p.reject(new LiveError(m.code, m.message));
          }
        }
        break;
      case "room.created":
        // The creator is in the room now; its snapshot follows.
        this.rooms.add(m.info.id);
        this.resolvePending(m);
        break;
      case "ack":
        this.resolvePending(m);
        break;
      case "room.snapshot":
        if (!m.room || !this.rooms.has(m.room)) return;
        this.book.snapshot(m.room, m.seq);
        this.settleJoin(m.room);
        break;
      case "room.resumed":
        if (!m.room || !this.rooms.has(m.room)) return;
        this.book.resumed(m.room, m.to);
        this.settleJoin(m.room);
        break;
      default:
        if (m.room) {
          if (!this.rooms.has(m.room)) return;
          if (this.book.observe(m.room, m.seq, m.type) === "stale") return;
        }
    }
    for (const fn of [...this.listeners]) fn(m);
  }

  private authenticated(m: MessageOf<"hello">): void {
    this.user = m.user;
    this.authedAt = this.opts.now();
    // A first guess until the pings answer: off by at most the one-way latency.
    if (this.roundTripMs === null) this.offsetMs = m.server_time - this.opts.clientClock();
    this.setStatus({ kind: "connected" });
    for (let i = 0; i < SYNC_PINGS; i++) {
      this.syncTimers.push(setTimeout(() => this.ping(), i * SYNC_SPACING_MS));
    }
    this.heartbeat = setInterval(() => this.beat(), this.opts.heartbeatMs);
    for (const room of this.rooms) this.sendJoin(room);
  }

  /** Every heartbeat: a ping, unless nothing was heard for well over two beats — then the
   * connection is dead even if no close arrived, and a new one is made. */
  private beat(): void {
    if (this.opts.now() - this.lastHeard > this.opts.heartbeatMs * 2.5) {
      const ws = this.ws;
      this.detach();
      ws?.close(4000, "no answer to pings");
      this.dropped("No answer to pings.");
      return;
    }
    this.ping();
  }

  private resolvePending(m: ServerMessage & { ref?: string }): void {
    if (!m.ref) return;
    const p = this.pending.get(m.ref);
    if (!p) return;
    this.pending.delete(m.ref);
    clearTimeout(p.timer);
    p.resolve(m);
  }

  private settleJoin(room: string, err?: Error): void {
    const list = this.joinWaiters.get(room);
    if (!list) return;
    this.joinWaiters.delete(room);
    for (const w of list) (err ? w.reject(err) : w.resolve());
  }

  private failPending(message: string): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new LiveError("disconnected", message));
      this.pending.delete(id);
    }
  }

  private setStatus(s: ConnStatus): void {
    this.status = s;
    for (const fn of [...this.statusListeners]) fn();
  }
}

/** The status in words, as the screen shows it. `now` is the wall clock in ms. */
export function statusText(s: ConnStatus, now: number): string {
  switch (s.kind) {
    case "connecting":
      return "Connecting…";
    case "connected":
      return "Connected";
    case "reconnecting": {
      const secs = Math.max(0, Math.ceil((s.retryAt - now) / 1000));
      return secs > 0 ? `Reconnecting in ${secs} s` : "Reconnecting…";
    }
    case "offline":
      return `Offline — ${s.reason}`;
  }
}
