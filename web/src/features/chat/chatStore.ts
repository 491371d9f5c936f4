/**
 * The chat screen's store: the context's sessions, the open session's conversation (through
 * the pure stream reducer), its token meter, and the models it can switch to. One reply streams
 * at a time; its events reach the conversation only while its session is the open one.
 */
import { create } from "zustand";
import { api, ApiError, type Schemas } from "../../api/client";
import { streamEvents } from "../../api/sse";
import { useEngine } from "../../stores/engine";
import { titleFrom, shouldAutoTitle, sortSessions } from "./sessions";
import { EMPTY, streamReducer, type Conversation, type StreamAction } from "./streamReducer";
import type { ChatMessage, ChatSession, DoneEvent, ErrorEvent, ModelInfo, TokenCount } from "./types";

const BASE = "/api/v1/chat/sessions";
const PAGE = 500;

export interface ChatState {
  sessions: ChatSession[];
  sessionsLoaded: boolean;
  sessionsError: string;
  /** The open session's id (from the route), and the session itself once known. */
  currentId: string | null;
  current: ChatSession | null;
  conv: Conversation;
  loadingMessages: boolean;
  openError: string;
  meter: TokenCount | null;
  meterError: string;
  models: ModelInfo[];
  defaultModel: string | null;
  modelsError: string;
  /** The session whose reply is streaming now, if any. */
  streamingSession: string | null;

  /** Forgets the open session (the screen mounts anew after a context switch). */
  reset: () => void;
  loadSessions: () => Promise<void>;
  /** Creates a chat in the current context; throws ApiError for the caller to show. */
  createSession: () => Promise<ChatSession>;
  renameSession: (id: string, title: string) => Promise<void>;
  deleteSession: (id: string) => Promise<void>;
  open: (id: string | null) => Promise<void>;
  send: (text: string) => Promise<void>;
  regenerate: () => Promise<void>;
  stop: () => Promise<void>;
  loadMeter: () => Promise<void>;
  loadModels: () => Promise<void>;
  /** Sets the open session's model (null: back to the default); throws ApiError. */
  setModel: (model: string | null) => Promise<void>;
}

/** The reply being read: its abort handle and whether the user stopped it. */
let active: { sid: string; ctrl: AbortController; stopped: boolean } | null = null;

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function path(id: string, rest = ""): string {
  return `${BASE}/${encodeURIComponent(id)}${rest}`;
}

export const useChat = create<ChatState>((set, get) => {
  const dispatch = (sid: string, action: StreamAction) => {
    // A reply keeps streaming when the user opens another chat; only its own chat shows it.
    if (get().currentId === sid) set({ conv: streamReducer(get().conv, action) });
  };

  const patchSession = (s: ChatSession) =>
    set((st) => ({
      sessions: sortSessions(st.sessions.some((x) => x.id === s.id) ? st.sessions.map((x) => (x.id === s.id ? s : x)) : [s, ...st.sessions]),
      current: st.currentId === s.id ? s : st.current,
    }));

  /** Reads a reply's server-sent events into the conversation. */
  async function runStream(sid: string, url: string, body: unknown, userText: string | null) {
    if (active) return;
    const ctrl = new AbortController();
    const mine = { sid, ctrl, stopped: false };
    active = mine;
    set({ streamingSession: sid });
    const model = get().current?.active_model ?? get().meter?.model ?? null;
    dispatch(sid, { type: "start", userText, model, now: Date.now() });
    void useEngine.getState().refresh();
    let started = false;
    let ended = false;
    try {
      for await (const ev of streamEvents(url, { body, signal: ctrl.signal })) {
        started = true;
        if (ev.event === "token") {
          const { text } = JSON.parse(ev.data) as { text: string };
          dispatch(sid, { type: "token", text });
        } else if (ev.event === "done") {
          ended = true;
          dispatch(sid, { type: "done", event: JSON.parse(ev.data) as DoneEvent, now: Date.now() });
        } else if (ev.event === "error") {
          ended = true;
          const err = JSON.parse(ev.data) as ErrorEvent;
          dispatch(sid, { type: "error", message: err.message, now: Date.now() });
        }
      }
      if (!ended && !mine.stopped) {
        dispatch(sid, { type: "error", message: "The reply ended before it was finished; what arrived is kept.", now: Date.now() });
      }
    } catch (e) {
      if (mine.stopped) {
        // The abort that follows Stop: the conversation already shows the reply as stopped.
      } else if (e instanceof ApiError && !started) {
        dispatch(sid, { type: "refused", message: e.message });
      } else {
        dispatch(sid, { type: "error", message: `The reply broke off: ${message(e)}`, now: Date.now() });
      }
    } finally {
      active = null;
      set({ streamingSession: null });
      void useEngine.getState().refresh();
      if (get().currentId === sid) void get().loadMeter();
      // The reply changed the session's updated_at: the list's order follows the server's.
      void get().loadSessions();
    }
  }

  return {
    sessions: [],
    sessionsLoaded: false,
    sessionsError: "",
    currentId: null,
    current: null,
    conv: EMPTY,
    loadingMessages: false,
    openError: "",
    meter: null,
    meterError: "",
    models: [],
    defaultModel: null,
    modelsError: "",
    streamingSession: null,

    reset() {
      set({ sessions: [], sessionsLoaded: false, sessionsError: "", currentId: null, current: null, conv: EMPTY, openError: "", meter: null, meterError: "" });
    },

    async loadSessions() {
      try {
        const list = await api<ChatSession[]>(`${BASE}?archived=false`);
        set((st) => ({
          sessions: sortSessions(list),
          sessionsLoaded: true,
          sessionsError: "",
          current: list.find((s) => s.id === st.currentId) ?? st.current,
        }));
      } catch (e) {
        set({ sessionsLoaded: true, sessionsError: message(e) });
      }
    },

    async createSession() {
      const s = await api<ChatSession>(BASE, { body: {} });
      patchSession(s);
      return s;
    },

    async renameSession(id, title) {
      patchSession(await api<ChatSession>(path(id), { method: "PATCH", body: { title } }));
    },

    async deleteSession(id) {
      await api(path(id), { method: "DELETE" });
      set((st) => ({ sessions: st.sessions.filter((s) => s.id !== id) }));
    },

    async open(id) {
      if (id === get().currentId) return;
      set({ currentId: id, current: get().sessions.find((s) => s.id === id) ?? null, conv: EMPTY, openError: "", meter: null, meterError: "" });
      if (!id) return;
      set({ loadingMessages: true });
      try {
        const [session, messages] = await Promise.all([api<ChatSession>(path(id)), allMessages(id)]);
        if (get().currentId !== id) return;
        set({ current: session, conv: streamReducer(EMPTY, { type: "loaded", messages }) });
        void get().loadMeter();
      } catch (e) {
        if (get().currentId === id) set({ openError: message(e) });
      } finally {
        if (get().currentId === id) set({ loadingMessages: false });
      }
    },

    async send(text) {
      const sid = get().currentId;
      const content = text.trim();
      if (!sid || !content || active) return;
      const session = get().current;
      if (shouldAutoTitle(session, get().conv.messages.length)) {
        // Name the chat after its first question, so the list tells chats apart.
        api<ChatSession>(path(sid), { method: "PATCH", body: { title: titleFrom(content) } })
          .then(patchSession)
          .catch((e) => {
            // Without chat.manage_sessions the chat simply keeps its title; other failures show.
            if (!(e instanceof ApiError && e.status === 403)) set({ sessionsError: `Could not name the chat: ${message(e)}` });
          });
      }
      await runStream(sid, path(sid, "/messages"), { content }, content);
    },

    async regenerate() {
      const sid = get().currentId;
      if (!sid || active) return;
      await runStream(sid, path(sid, "/regenerate"), {}, null);
    },

    async stop() {
      const a = active;
      if (!a) return;
      a.stopped = true;
      dispatch(a.sid, { type: "stopped", now: Date.now() });
      try {
        await api(path(a.sid, "/stop"), { method: "POST" });
      } catch (e) {
        // 409: the reply had already ended on its own, which is what Stop wanted.
        if (!(e instanceof ApiError && e.status === 409) && get().currentId === a.sid) {
          set((st) => ({ conv: { ...st.conv, error: `Could not stop the reply on the server: ${message(e)}` } }));
        }
      } finally {
        a.ctrl.abort();
      }
    },

    async loadMeter() {
      const sid = get().currentId;
      if (!sid) return;
      try {
        const meter = await api<TokenCount>(path(sid, "/token-count"));
        if (get().currentId === sid) set({ meter, meterError: "" });
      } catch (e) {
        if (get().currentId === sid) set({ meterError: message(e) });
      }
    },

    async loadModels() {
      try {
        const list = await api<Schemas["ModelList"]>("/api/v1/chat/models");
        set({ models: list.models, defaultModel: list.default_model ?? null, modelsError: "" });
      } catch (e) {
        set({ modelsError: message(e) });
      }
    },

    async setModel(model) {
      const sid = get().currentId;
      if (!sid) return;
      patchSession(await api<ChatSession>(path(sid, "/model"), { method: "PATCH", body: { model } }));
      await get().loadMeter();
    },
  };
});

/** Every stored message of a session, oldest first (pages of 500). */
async function allMessages(id: string): Promise<ChatMessage[]> {
  const out: ChatMessage[] = [];
  let after: string | null | undefined = null;
  do {
    const q = new URLSearchParams({ limit: String(PAGE) });
    if (after) q.set("after", after);
    const page: Schemas["MessagePage"] = await api<Schemas["MessagePage"]>(`${path(id, "/messages")}?${q}`);
    out.push(...page.messages);
    after = page.next;
  } while (after);
  return out;
}
