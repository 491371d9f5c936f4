/**
 * React glue for the live connection: one connection per Live screen (shared through context),
 * its status, a joined room's state kept by the pure reducer, and a ticker for clocks.
 */
import { createContext, useContext, useEffect, useReducer, useState, useSyncExternalStore } from "react";
import { LiveConnection, type ConnStatus } from "./connection";
import type { ChatMessage, ServerMessage } from "./protocol";
import { reduceRoom, withOlderChat, type RoomState } from "./roomState";

export const LiveContext = createContext<LiveConnection | null>(null);

export function useLiveConnection(): LiveConnection {
  const c = useContext(LiveContext);
  if (!c) throw new Error("useLiveConnection outside the Live screen");
  return c;
}

/** Makes the screen's connection and keeps it open while the screen is shown. */
export function useOwnConnection(): LiveConnection {
  const [conn] = useState(() => new LiveConnection());
  useEffect(() => {
    conn.start();
    return () => conn.stop();
  }, [conn]);
  return conn;
}

export function useConnStatus(conn: LiveConnection): ConnStatus {
  return useSyncExternalStore(
    (cb) => conn.onStatus(cb),
    () => conn.status,
  );
}

type Action = { kind: "server"; m: ServerMessage } | { kind: "older"; page: ChatMessage[]; nextBefore: string | null | undefined } | { kind: "reset" };

function reducer(state: RoomState | null, a: Action): RoomState | null {
  if (a.kind === "reset") return null;
  if (a.kind === "older") return state && withOlderChat(state, a.page, a.nextBefore);
  return reduceRoom(state, a.m);
}

export interface RoomHandle {
  state: RoomState | null;
  /** Why joining failed, or an error the server reported about the room. */
  error: string;
  clearError: () => void;
  addOlder: (page: ChatMessage[], nextBefore: string | null | undefined) => void;
}

/** Joins `room` while mounted; the state follows the room's messages (and resumes after drops). */
export function useRoom(conn: LiveConnection, room: string): RoomHandle {
  const [state, dispatch] = useReducer(reducer, null);
  const [error, setError] = useState("");
  useEffect(() => {
    dispatch({ kind: "reset" });
    setError("");
    const off = conn.subscribe((m) => {
      if (m.room !== room) return;
      if (m.type === "error") {
        // Answers to this screen's own requests are shown where they were made; these are the
        // rest (a rejoin refused, rate limiting). A bad_sequence is followed by a snapshot.
        if ((!m.ref || m.ref.startsWith("j")) && m.code !== "bad_sequence") setError(m.message);
        return;
      }
      dispatch({ kind: "server", m });
    });
    conn.join(room).catch((e: Error) => {
      if ((e as { code?: string }).code !== "left") setError(e.message);
    });
    return () => {
      off();
      conn.leave(room);
    };
  }, [conn, room]);
  return {
    state,
    error,
    clearError: () => setError(""),
    addOlder: (page, nextBefore) => dispatch({ kind: "older", page, nextBefore }),
  };
}

/** Re-renders every `ms` while `active`; returns the wall clock. */
export function useTicker(ms: number, active = true): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    const id = window.setInterval(() => setNow(Date.now()), ms);
    return () => window.clearInterval(id);
  }, [ms, active]);
  return now;
}

/** Whether the person asked the system for less motion. */
export function usePrefersReducedMotion(): boolean {
  return useSyncExternalStore(
    (cb) => {
      const q = window.matchMedia?.("(prefers-reduced-motion: reduce)");
      q?.addEventListener?.("change", cb);
      return () => q?.removeEventListener?.("change", cb);
    },
    () => window.matchMedia?.("(prefers-reduced-motion: reduce)").matches ?? false,
  );
}

export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
