/**
 * The Live screen: rooms for doing something together at the same moment (meditation,
 * breathing, stress check-ins, collaborative documents). `/live` lists the context's rooms,
 * `/live/{room}` is one room. One WebSocket serves the whole screen; its state shows at the top.
 */
import { params, useRoute } from "../../router";
import { statusText, type LiveConnection } from "./connection";
import { RoomsList } from "./RoomsList";
import { RoomView } from "./RoomView";
import { LiveContext, useConnStatus, useOwnConnection, useTicker } from "./useLive";

export default function LiveScreen() {
  const conn = useOwnConnection();
  const path = useRoute((s) => s.path);
  const [roomId] = params(path);
  return (
    <LiveContext.Provider value={conn}>
      <div className="space-y-4">
        <div className="flex flex-wrap items-center justify-between gap-2">
          <h1 className="text-xl font-semibold text-slate-900">Live sessions</h1>
          <ConnectionStatus conn={conn} />
        </div>
        {roomId ? <RoomView key={roomId} roomId={roomId} /> : <RoomsList />}
      </div>
    </LiveContext.Provider>
  );
}

const DOT: Record<string, string> = {
  connected: "bg-green-600",
  connecting: "bg-amber-500",
  reconnecting: "bg-amber-500",
  offline: "bg-red-600",
};

/** The connection's state in words: connecting, connected, reconnecting in N s, offline. */
function ConnectionStatus({ conn }: { conn: LiveConnection }) {
  const status = useConnStatus(conn);
  // The "in N s" needs a tick only while waiting to reconnect.
  const now = useTicker(500, status.kind === "reconnecting");
  const offset =
    status.kind === "connected" && conn.roundTripMs !== null
      ? `Clock offset ${Math.round(conn.offsetMs)} ms (±${Math.ceil(conn.roundTripMs / 2)} ms)`
      : undefined;
  return (
    <div className="flex flex-wrap items-center gap-2">
      <p role="status" data-live-status={status.kind} title={status.kind === "reconnecting" ? status.reason : offset} className="flex items-center gap-2 text-sm text-slate-700">
        <span aria-hidden className={`inline-block h-2.5 w-2.5 rounded-full ${DOT[status.kind]}`} />
        {/* The seconds count down visibly; a screen reader hears the state only when it changes. */}
        <span aria-hidden>{statusText(status, Math.max(now, Date.now()))}</span>
        <span className="sr-only">Live connection: {status.kind === "reconnecting" ? "reconnecting" : statusText(status, 0)}</span>
      </p>
      {(status.kind === "reconnecting" || status.kind === "offline") && (
        <button className="btn-secondary" onClick={() => conn.retryNow()}>
          Reconnect now
        </button>
      )}
    </div>
  );
}
