/** The context's chats: open one, start one, rename or delete one (each wears its context badge). */
import { useState } from "react";
import { ContextBadge } from "../../components/ContextBadge";
import { Modal } from "../../components/Modal";
import { linkHandler, useRoute } from "../../router";
import { useChat } from "./chatStore";
import type { ChatSession } from "./types";

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function SessionList() {
  const { sessions, sessionsLoaded, sessionsError, currentId, createSession } = useChat();
  const navigate = useRoute((s) => s.navigate);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const [deleting, setDeleting] = useState<ChatSession | null>(null);

  async function newChat() {
    setBusy(true);
    setError("");
    try {
      const s = await createSession();
      navigate(`/chat/${encodeURIComponent(s.id)}`);
    } catch (e) {
      setError(message(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <aside aria-label="Chats" className="flex w-full flex-col gap-2 md:w-64 md:shrink-0">
      <button className="btn" onClick={() => void newChat()} disabled={busy}>
        New chat
      </button>
      {error && (
        <p role="alert" className="error-text">
          {error}
        </p>
      )}
      {sessionsError && (
        <p role="alert" className="error-text">
          {sessionsError}
        </p>
      )}
      {!sessionsLoaded && <p className="text-sm text-slate-700">Loading chats…</p>}
      {sessionsLoaded && sessions.length === 0 && !sessionsError && <p className="text-sm text-slate-700">No chats yet.</p>}
      <ul className="flex max-h-48 flex-col gap-1 overflow-y-auto md:max-h-[70dvh]">
        {sessions.map((s) => (
          <SessionItem key={s.id} session={s} current={s.id === currentId} onDelete={() => setDeleting(s)} />
        ))}
      </ul>
      <DeleteDialog session={deleting} onClose={() => setDeleting(null)} />
    </aside>
  );
}

function SessionItem({ session, current, onDelete }: { session: ChatSession; current: boolean; onDelete: () => void }) {
  const renameSession = useChat((s) => s.renameSession);
  const [editing, setEditing] = useState(false);
  const [title, setTitle] = useState(session.title);
  const [error, setError] = useState("");
  const href = `/chat/${encodeURIComponent(session.id)}`;

  async function save() {
    setError("");
    try {
      await renameSession(session.id, title);
      setEditing(false);
    } catch (e) {
      setError(message(e));
    }
  }

  return (
    <li className={`rounded-lg border p-2 ${current ? "border-sky-700 bg-sky-50" : "border-slate-200 bg-white"}`}>
      {editing ? (
        <form
          className="flex flex-wrap gap-1"
          onSubmit={(e) => {
            e.preventDefault();
            void save();
          }}
        >
          <input
            className="input"
            aria-label={`New title for ${session.title}`}
            value={title}
            maxLength={200}
            autoFocus
            onChange={(e) => setTitle(e.target.value)}
            onKeyDown={(e) => e.key === "Escape" && setEditing(false)}
          />
          <button type="submit" className="btn">
            Save
          </button>
          <button type="button" className="btn-secondary" onClick={() => setEditing(false)}>
            Cancel
          </button>
        </form>
      ) : (
        <>
          <a
            href={href}
            onClick={linkHandler(href)}
            aria-current={current ? "page" : undefined}
            className="block truncate text-sm font-medium text-slate-900 hover:underline"
            title={session.title}
          >
            {session.title}
          </a>
          <div className="mt-1 flex flex-wrap items-center gap-1">
            <ContextBadge teamId={session.team_id} />
            <span className="ml-auto" />
            <button
              className="rounded px-1.5 py-0.5 text-xs text-slate-700 hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-sky-700"
              aria-label={`Rename chat ${session.title}`}
              onClick={() => {
                setTitle(session.title);
                setEditing(true);
              }}
            >
              Rename
            </button>
            <button
              className="rounded px-1.5 py-0.5 text-xs text-red-800 hover:bg-red-50 focus-visible:outline-2 focus-visible:outline-red-700"
              aria-label={`Delete chat ${session.title}`}
              onClick={onDelete}
            >
              Delete
            </button>
          </div>
        </>
      )}
      {error && (
        <p role="alert" className="error-text mt-1">
          {error}
        </p>
      )}
    </li>
  );
}

function DeleteDialog({ session, onClose }: { session: ChatSession | null; onClose: () => void }) {
  const { deleteSession, currentId } = useChat();
  const navigate = useRoute((s) => s.navigate);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  async function remove() {
    if (!session) return;
    setBusy(true);
    setError("");
    try {
      await deleteSession(session.id);
      if (session.id === currentId) navigate("/chat", { replace: true });
      onClose();
    } catch (e) {
      setError(message(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal
      title="Delete chat"
      open={session !== null}
      onClose={() => {
        setError("");
        onClose();
      }}
    >
      <p className="text-sm text-slate-800">
        Delete “{session?.title}” and all its messages? This cannot be undone.
      </p>
      {error && (
        <p role="alert" className="error-text mt-2">
          {error}
        </p>
      )}
      <div className="mt-4 flex flex-wrap justify-end gap-2">
        <button className="btn-secondary" onClick={onClose}>
          Cancel
        </button>
        <button className="btn-danger" onClick={() => void remove()} disabled={busy}>
          Delete
        </button>
      </div>
    </Modal>
  );
}
