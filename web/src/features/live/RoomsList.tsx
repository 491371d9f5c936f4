/**
 * The rooms of the current context (Local or a team, as the header's switcher says), a form to
 * create one there, and one's own recent sessions. Creating goes through the live connection
 * (`room.create`), which joins the creator; the room's page then opens.
 */
import { useEffect, useState, type FormEvent } from "react";
import { api, type Schemas } from "../../api/client";
import { ContextBadge } from "../../components/ContextBadge";
import { linkHandler, useRoute } from "../../router";
import { useContextStore } from "../../stores/context";
import { useSession } from "../../stores/session";
import { ROOM_KINDS, type RoomKind, type WellbeingSession } from "./protocol";
import { messageOf, useConnStatus, useLiveConnection } from "./useLive";

export const KIND_LABEL: Record<RoomKind, string> = {
  meditation: "Meditation",
  breathing: "Breathing",
  stress: "Stress check-in",
  collaboration: "Collaboration",
};

type Room = Schemas["RoomView"];

export function RoomsList() {
  const conn = useLiveConnection();
  const status = useConnStatus(conn);
  const teamId = useContextStore((s) => s.teamId);
  const teams = useSession((s) => s.me?.teams ?? []);
  const navigate = useRoute((s) => s.navigate);
  const [rooms, setRooms] = useState<Room[] | null>(null);
  const [loadError, setLoadError] = useState("");
  const [name, setName] = useState("");
  const [kind, setKind] = useState<RoomKind>("meditation");
  const [busy, setBusy] = useState(false);
  const [createError, setCreateError] = useState("");
  const teamName = teams.find((t) => t.id === teamId)?.name;

  useEffect(() => {
    let live = true;
    api<Room[]>("/api/v1/live/rooms")
      .then((r) => live && setRooms(r))
      .catch((e) => live && setLoadError(messageOf(e)));
    return () => {
      live = false;
    };
  }, []);

  async function create(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setCreateError("");
    try {
      const info = await conn.createRoom(kind, name.trim(), teamId || undefined);
      navigate(`/live/${info.id}`);
    } catch (err) {
      setCreateError(messageOf(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="grid gap-4 lg:grid-cols-[1fr_22rem]">
      <section className="card space-y-3" aria-labelledby="rooms-heading">
        <h2 id="rooms-heading" className="text-lg font-semibold">
          Rooms {teamName ? `of ${teamName}` : "(personal)"}
        </h2>
        {loadError && <p role="alert" className="error-text">{loadError}</p>}
        {!rooms && !loadError && <p className="text-slate-700">Loading rooms…</p>}
        {rooms && rooms.length === 0 && <p className="text-slate-700">No rooms yet. Create one to begin.</p>}
        {rooms && rooms.length > 0 && (
          <ul className="divide-y divide-slate-200">
            {rooms.map((r) => (
              <li key={r.id} className="flex flex-wrap items-center gap-x-3 gap-y-1 py-2">
                <a href={`/live/${r.id}`} onClick={linkHandler(`/live/${r.id}`)} className="font-medium text-sky-800 underline-offset-2 hover:underline">
                  <span className="sr-only">Join </span>
                  {r.name}
                </a>
                <span className="text-sm text-slate-700">{KIND_LABEL[r.kind as RoomKind] ?? r.kind}</span>
                <ContextBadge teamId={r.team_id} />
                <span className="ml-auto text-xs text-slate-700">{new Date(r.created_at).toLocaleDateString()}</span>
              </li>
            ))}
          </ul>
        )}
      </section>

      <div className="space-y-4">
        <section className="card" aria-labelledby="create-heading">
          <h2 id="create-heading" className="text-lg font-semibold">
            Create a room
          </h2>
          <p className="mt-1 flex flex-wrap items-center gap-2 text-sm text-slate-700">
            In <ContextBadge teamId={teamId || null} /> {teamName ? `— everyone in ${teamName} may join.` : "— only you can see it."}
          </p>
          <form onSubmit={create} className="mt-3 space-y-3">
            <label className="block text-sm font-medium text-slate-800">
              Room name
              <input className="input mt-1" value={name} onChange={(e) => setName(e.target.value)} maxLength={100} required />
            </label>
            <label className="block text-sm font-medium text-slate-800">
              Kind
              <select className="input mt-1" value={kind} onChange={(e) => setKind(e.target.value as RoomKind)}>
                {ROOM_KINDS.map((k) => (
                  <option key={k} value={k}>
                    {KIND_LABEL[k]}
                  </option>
                ))}
              </select>
            </label>
            {createError && <p role="alert" className="error-text">{createError}</p>}
            <button className="btn" disabled={busy || !name.trim() || status.kind !== "connected"}>
              {busy ? "Creating…" : "Create room"}
            </button>
          </form>
        </section>
        <RecentSessions />
      </div>
    </div>
  );
}

/** The meditation and breathing sessions one joined, with how long. */
function RecentSessions() {
  const [sessions, setSessions] = useState<WellbeingSession[] | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    let live = true;
    api<WellbeingSession[]>("/api/v1/wellbeing/sessions")
      .then((s) => live && setSessions(s))
      .catch((e) => live && setError(messageOf(e)));
    return () => {
      live = false;
    };
  }, []);
  return (
    <section className="card" aria-labelledby="sessions-heading">
      <h2 id="sessions-heading" className="text-lg font-semibold">
        Your recent sessions
      </h2>
      {error && <p role="alert" className="error-text">{error}</p>}
      {sessions && sessions.length === 0 && <p className="mt-1 text-sm text-slate-700">None yet.</p>}
      {sessions && sessions.length > 0 && (
        <ul className="mt-2 space-y-1 text-sm text-slate-800">
          {sessions.slice(0, 8).map((s) => (
            <li key={s.room_id + s.joined_at} className="flex flex-wrap gap-x-2">
              <span className="font-medium">{s.room_name}</span>
              <span className="text-slate-700">{new Date(s.joined_at).toLocaleString()}</span>
              <span className="text-slate-700">{s.duration_ms === null ? "in progress" : minutes(s.duration_ms)}</span>
              {s.completed && <span className="text-green-800">completed</span>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function minutes(ms: number): string {
  const m = Math.round(ms / 60_000);
  return m < 1 ? "under a minute" : `${m} min`;
}
