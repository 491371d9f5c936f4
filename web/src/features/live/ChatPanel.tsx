/**
 * Room chat: the messages the snapshot and live events brought, older ones paged in from the
 * REST history on request, and a box to send (`chat.send`, acknowledged once stored).
 */
import { useEffect, useLayoutEffect, useRef, useState, type FormEvent } from "react";
import { api } from "../../api/client";
import { oldestId } from "./chat";
import type { ChatMessage, HistoryPage } from "./protocol";
import type { RoomState } from "./roomState";
import { messageOf, useLiveConnection } from "./useLive";

const PAGE = 50;

export function ChatPanel({
  state,
  roomId,
  onOlder,
}: {
  state: RoomState;
  roomId: string;
  onOlder: (page: ChatMessage[], nextBefore: string | null | undefined) => void;
}) {
  const conn = useLiveConnection();
  const [text, setText] = useState("");
  const [sending, setSending] = useState(false);
  const [error, setError] = useState("");
  const [loading, setLoading] = useState(false);
  const list = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const prepended = useRef<{ height: number } | null>(null);

  // Follow new messages when the reader is at the bottom; keep the place when older ones load.
  useLayoutEffect(() => {
    const el = list.current;
    if (!el) return;
    if (prepended.current) {
      el.scrollTop += el.scrollHeight - prepended.current.height;
      prepended.current = null;
    } else if (stick.current) {
      el.scrollTop = el.scrollHeight;
    }
  }, [state.chat]);
  useEffect(() => {
    const el = list.current;
    if (!el) return;
    const onScroll = () => {
      stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
    };
    el.addEventListener("scroll", onScroll);
    return () => el.removeEventListener("scroll", onScroll);
  }, []);

  async function loadOlder() {
    setLoading(true);
    setError("");
    try {
      const before = oldestId(state.chat);
      const q = new URLSearchParams({ limit: String(PAGE) });
      if (before) q.set("before", before);
      const page = await api<HistoryPage>(`/api/v1/live/rooms/${encodeURIComponent(roomId)}/messages?${q}`);
      prepended.current = { height: list.current?.scrollHeight ?? 0 };
      onOlder(page.messages, page.next_before);
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setLoading(false);
    }
  }

  async function send(e: FormEvent) {
    e.preventDefault();
    const t = text.trim();
    if (!t) return;
    setSending(true);
    setError("");
    try {
      await conn.request({ type: "chat.send", room: roomId, text: t });
      setText("");
      stick.current = true;
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setSending(false);
    }
  }

  return (
    <section className="card flex flex-col" aria-labelledby="chat-heading">
      <h3 id="chat-heading" className="font-semibold">
        Room chat
      </h3>
      {state.hasOlderChat && (
        <button className="btn-secondary mt-2 self-start" onClick={() => void loadOlder()} disabled={loading}>
          {loading ? "Loading…" : "Load older messages"}
        </button>
      )}
      {/* The log wraps the list: a role on the <ol> itself would hide its items' list semantics. */}
      <div ref={list} role="log" aria-label="Chat messages" tabIndex={0} className="mt-2 max-h-80 min-h-16 overflow-y-auto pr-1">
      <ol className="space-y-2">
        {state.chat.length === 0 && <li className="text-sm text-slate-700">No messages yet.</li>}
        {state.chat.map((m) => (
          <li key={m.id} className="text-sm">
            <span className="font-medium text-slate-900">{m.username}</span>{" "}
            <time className="text-xs text-slate-700" dateTime={new Date(m.at).toISOString()}>
              {new Date(m.at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}
            </time>
            <p className="break-words whitespace-pre-wrap text-slate-800">{m.text}</p>
          </li>
        ))}
      </ol>
      </div>
      <form onSubmit={send} className="mt-2 flex flex-wrap gap-2">
        <label className="sr-only" htmlFor={`chat-${roomId}`}>
          Message
        </label>
        <input
          id={`chat-${roomId}`}
          className="input min-w-0 flex-1 placeholder:text-slate-600"
          value={text}
          maxLength={4000}
          onChange={(e) => setText(e.target.value)}
          placeholder="Say something to the room"
        />
        <button className="btn" disabled={sending || !text.trim()}>
          Send
        </button>
      </form>
      {error && <p role="alert" className="error-text mt-1">{error}</p>}
    </section>
  );
}
