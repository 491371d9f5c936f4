/**
 * The chat screen: the context's chats beside the open one (route /chat/<session id>), whose
 * header names its model and shows the token meter, its messages with the reply streaming in,
 * and the composer with Stop and Regenerate.
 */
import { useEffect, useRef, useState, type KeyboardEvent } from "react";
import { ContextBadge } from "../../components/ContextBadge";
import { params, useRoute } from "../../router";
import { useChat } from "./chatStore";
import { Message } from "./Message";
import { ModelPicker } from "./ModelPicker";
import { effectiveModel } from "./modelSwitch";
import { SessionList } from "./SessionList";
import { canRegenerate } from "./streamReducer";
import { TokenMeter } from "./TokenMeter";

export default function ChatScreen() {
  const path = useRoute((s) => s.path);
  const id = params(path)[0] ?? null;
  const { reset, loadSessions, loadModels, open } = useChat();

  useEffect(() => {
    // The screen mounts anew when the context changes: start from that context's chats.
    reset();
    void loadSessions();
    void loadModels();
  }, [reset, loadSessions, loadModels]);

  useEffect(() => {
    void open(id ? decodeURIComponent(id) : null);
  }, [id, open]);

  return (
    <div className="flex flex-col gap-4 md:flex-row">
      <SessionList />
      <section className="flex min-w-0 flex-1 flex-col gap-3" aria-label="Conversation">
        {id ? <Conversation /> : <NoChat />}
      </section>
    </div>
  );
}

function NoChat() {
  const createSession = useChat((s) => s.createSession);
  const navigate = useRoute((s) => s.navigate);
  const [error, setError] = useState("");
  return (
    <div className="card text-slate-800">
      <h1 className="text-lg font-semibold">Chat</h1>
      <p className="mt-1 text-sm">Choose a chat from the list, or start a new one. Replies are written by the models on this machine.</p>
      <button
        className="btn mt-3"
        onClick={() =>
          createSession()
            .then((s) => navigate(`/chat/${encodeURIComponent(s.id)}`))
            .catch((e: Error) => setError(e.message))
        }
      >
        Start a new chat
      </button>
      {error && (
        <p role="alert" className="error-text mt-2">
          {error}
        </p>
      )}
    </div>
  );
}

function Conversation() {
  const { current, currentId, conv, loadingMessages, openError, meter, defaultModel, streamingSession, regenerate } = useChat();
  const streamingHere = streamingSession !== null && streamingSession === currentId;
  const model = effectiveModel(current, meter?.model ?? null, defaultModel);
  const logRef = useRef<HTMLDivElement>(null);
  const last = conv.messages[conv.messages.length - 1];

  useEffect(() => {
    // Follow the reply as it grows, unless the reader has scrolled up to read something else.
    const log = logRef.current;
    if (!log) return;
    const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 160;
    // Scroll the log only: moving the whole page would pull the composer away from the reader.
    if (nearBottom) log.scrollTop = log.scrollHeight;
  }, [conv.messages.length, last?.content, last?.status]);

  if (openError) {
    return (
      <div role="alert" className="card">
        <h1 className="text-lg font-semibold">This chat could not be opened</h1>
        <p className="error-text mt-1">{openError}</p>
      </div>
    );
  }

  return (
    <>
      <div className="card flex flex-col gap-3">
        <div className="flex flex-wrap items-center gap-2">
          <h1 className="min-w-0 truncate text-lg font-semibold">{current?.title ?? "Loading…"}</h1>
          {current && <ContextBadge teamId={current.team_id} />}
        </div>
        <p className="text-sm text-slate-800">
          Model:{" "}
          <span className="font-mono break-all" data-testid="chat-model">
            {model ?? "none available"}
          </span>
          {current && !current.active_model && model && <span className="text-slate-700"> (default)</span>}
        </p>
        <div className="flex flex-wrap items-start justify-between gap-3">
          <ModelPicker />
          <TokenMeter />
        </div>
      </div>

      <div
        ref={logRef}
        role="log"
        aria-label="Messages"
        aria-busy={streamingHere}
        // Focusable so keyboard users can scroll the conversation.
        tabIndex={0}
        className="flex max-h-[60dvh] min-h-40 flex-col gap-3 overflow-y-auto rounded-xl bg-slate-100/60 p-3 ring-1 ring-slate-200"
      >
        {loadingMessages && <p className="text-sm text-slate-700">Loading messages…</p>}
        {!loadingMessages && conv.messages.length === 0 && (
          <p className="text-sm text-slate-700">No messages yet. Ask something below; your documents in this context are searched for each question.</p>
        )}
        {conv.messages.map((m) => (
          <Message key={m.id} m={m} />
        ))}
      </div>

      {conv.error && (
        <p role="alert" className="error-text">
          {conv.error}
        </p>
      )}
      {canRegenerate(conv) && !streamingSession && (
        <div>
          <button className="btn-secondary" onClick={() => void regenerate()}>
            Regenerate
          </button>
        </div>
      )}
      <Composer streamingHere={streamingHere} />
    </>
  );
}

function Composer({ streamingHere }: { streamingHere: boolean }) {
  const { send, stop, streamingSession, currentId } = useChat();
  const [text, setText] = useState("");
  const elsewhere = streamingSession !== null && streamingSession !== currentId;

  function submit() {
    const t = text.trim();
    if (!t || streamingSession) return;
    setText("");
    void send(t);
  }

  function onKey(e: KeyboardEvent<HTMLTextAreaElement>) {
    // Enter sends; Shift+Enter is a new line; an IME composition's Enter is left alone.
    if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      submit();
    }
  }

  return (
    <form
      className="flex flex-col gap-2"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <textarea
        className="input min-h-20 resize-y"
        aria-label="Message"
        placeholder="Ask Selah… (Enter to send, Shift+Enter for a new line)"
        value={text}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={onKey}
      />
      <div className="flex flex-wrap items-center gap-2">
        {streamingHere ? (
          <button type="button" className="btn-danger" onClick={() => void stop()}>
            Stop
          </button>
        ) : (
          <button type="submit" className="btn" disabled={!text.trim() || streamingSession !== null}>
            Send
          </button>
        )}
        {streamingHere && (
          <span role="status" className="text-sm text-slate-700">
            Writing the reply…
          </span>
        )}
        {elsewhere && <span className="text-sm text-slate-700">A reply is being written in another chat; send when it ends.</span>}
      </div>
    </form>
  );
}
