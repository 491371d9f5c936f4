/**
 * One room: its name and context, the panel for its kind, who is here, and the room chat. The
 * room's state comes from the server's snapshot and events (useRoom), resumed after drops.
 */
import { lazy, Suspense, useState } from "react";
import { ContextBadge } from "../../components/ContextBadge";
import { linkHandler } from "../../router";
import { useSession } from "../../stores/session";
import { BreathingPanel } from "./BreathingPanel";
import { ChatPanel } from "./ChatPanel";
import { MeditationPanel } from "./MeditationPanel";
import { colourFor } from "./people";
import type { RoomKind } from "./protocol";
import type { RoomState } from "./roomState";
import { KIND_LABEL } from "./RoomsList";
import { StressPanel } from "./StressPanel";
import { messageOf, useLiveConnection, useRoom } from "./useLive";

// CodeMirror and Yjs are most of the weight of this screen: loaded only for a document.
const CollabEditor = lazy(() => import("./CollabEditor"));

export function RoomView({ roomId }: { roomId: string }) {
  const conn = useLiveConnection();
  const room = useRoom(conn, roomId);
  const me = useSession((s) => s.me?.user);
  const { state } = room;
  return (
    <div className="space-y-3">
      <nav aria-label="Live">
        <a href="/live" onClick={linkHandler("/live")} className="text-sm text-sky-800 underline-offset-2 hover:underline">
          ← All rooms
        </a>
      </nav>
      {room.error && (
        <div role="alert" className="flex flex-wrap items-center gap-2 rounded-md bg-red-50 px-3 py-2">
          <p className="error-text">{room.error}</p>
          <button className="btn-secondary ml-auto" onClick={room.clearError}>
            Dismiss
          </button>
        </div>
      )}
      {!state && !room.error && <p className="text-slate-700">Joining the room…</p>}
      {state && (
        <>
          <header className="flex flex-wrap items-center gap-x-3 gap-y-1">
            <h2 className="text-lg font-semibold text-slate-900">{state.info.name}</h2>
            <span className="text-sm text-slate-700">{KIND_LABEL[state.info.kind as RoomKind] ?? state.info.kind}</span>
            <ContextBadge teamId={state.info.team_id} />
            {state.role === "host" && <span className="text-sm text-slate-700">You host this room</span>}
          </header>
          <div className="grid gap-4 lg:grid-cols-[minmax(0,1fr)_20rem]">
            <div className="min-w-0 space-y-4">
              <KindPanel state={state} roomId={roomId} me={me} />
            </div>
            <aside className="min-w-0 space-y-4">
              <PresenceList state={state} roomId={roomId} meId={me?.id} />
              <ChatPanel state={state} roomId={roomId} onOlder={room.addOlder} />
            </aside>
          </div>
        </>
      )}
    </div>
  );
}

function KindPanel({ state, roomId, me }: { state: RoomState; roomId: string; me?: { id: string; username: string } }) {
  switch (state.info.kind) {
    case "meditation":
      return <MeditationPanel state={state} roomId={roomId} meId={me?.id} />;
    case "breathing":
      return <BreathingPanel state={state} roomId={roomId} meId={me?.id} />;
    case "stress":
      return <StressPanel state={state} roomId={roomId} />;
    case "collaboration":
      return (
        <Suspense fallback={<p className="card text-slate-700">Loading the editor…</p>}>
          <CollabEditor roomId={roomId} userId={me?.id ?? "anonymous"} userName={me?.username ?? "Someone"} />
        </Suspense>
      );
    default:
      return <p className="card text-slate-700">This kind of room is not supported here.</p>;
  }
}

const STATUSES = ["here", "away", "focused"];

/** Who is in the room, with their status; one's own status can be changed. */
function PresenceList({ state, roomId, meId }: { state: RoomState; roomId: string; meId?: string }) {
  const conn = useLiveConnection();
  const [error, setError] = useState("");
  const mine = state.presence.find((p) => p.user === meId)?.status ?? "here";
  async function setStatus(status: string) {
    setError("");
    try {
      await conn.request({ type: "presence.set", room: roomId, status });
    } catch (e) {
      setError(messageOf(e));
    }
  }
  return (
    <section className="card" aria-labelledby="presence-heading">
      <h3 id="presence-heading" className="font-semibold">
        Here now ({state.presence.length})
      </h3>
      <ul className="mt-2 space-y-1" data-presence>
        {state.presence.map((p) => (
          <li key={p.user} className="flex items-center gap-2 text-sm text-slate-800">
            <span aria-hidden className="inline-block h-2.5 w-2.5 rounded-full" style={{ background: colourFor(p.user) }} />
            <span className="font-medium">{p.username}</span>
            {p.user === state.info.host_id && <span className="text-slate-700">(host)</span>}
            <span className="ml-auto text-slate-700">{p.status}</span>
          </li>
        ))}
      </ul>
      <label className="mt-3 block text-sm font-medium text-slate-800">
        Your status
        <select className="input mt-1" value={STATUSES.includes(mine) ? mine : "here"} onChange={(e) => void setStatus(e.target.value)}>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      {error && <p role="alert" className="error-text mt-1">{error}</p>}
    </section>
  );
}
