/**
 * The documents list of the current context: loading, polling while something is indexing, and
 * optimistic rename and delete (the list changes at once; a refusal puts it back and says why).
 * Edits in flight are re-applied over every poll so a refresh never flickers them away.
 */
import { create } from "zustand";
import { api, ApiError, teamContext, type Schemas } from "../../api/client";
import { needsPolling, pollDelay, prependDoc, removeDoc, replaceDoc, restoreDoc, withPending } from "./state";

export type DocumentView = Schemas["DocumentView"];
export type DocumentDetail = Schemas["DocumentDetail"];

export const DOCS_PATH = "/api/v1/docs/documents";
export const docPath = (id: string) => `${DOCS_PATH}/${encodeURIComponent(id)}`;

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

interface DocsState {
  docs: DocumentView[];
  loaded: boolean;
  /** Why the last load failed (shown above the list; cleared by the next success). */
  loadError: string;
  /** Why the last rename or delete was refused. */
  actionError: string;
  /** Reads the list; resolves with the error when it failed (the poller honours Retry-After). */
  load: () => Promise<unknown>;
  /** A new or changed document from elsewhere on the screen (upload, note). */
  upsert: (doc: DocumentView) => void;
  rename: (id: string, title: string) => Promise<boolean>;
  remove: (id: string) => Promise<boolean>;
  clearActionError: () => void;
}

// Edits not yet answered, re-applied over polls (module state: one list per page).
const pending = { renames: new Map<string, string>(), deletes: new Set<string>() };

export const useDocs = create<DocsState>((set, get) => ({
  docs: [],
  loaded: false,
  loadError: "",
  actionError: "",
  async load() {
    const team = teamContext();
    try {
      const fresh = await api<DocumentView[]>(`${DOCS_PATH}?limit=1000`);
      // The user switched context while this was in flight: this list is not theirs now.
      if (teamContext() !== team) return null;
      set({ docs: withPending(fresh, pending), loaded: true, loadError: "" });
      return null;
    } catch (e) {
      if (teamContext() === team) set({ loadError: message(e), loaded: true });
      return e;
    }
  },
  upsert(doc) {
    const has = get().docs.some((d) => d.id === doc.id);
    set({ docs: has ? replaceDoc(get().docs, doc) : prependDoc(get().docs, doc) });
  },
  async rename(id, title) {
    const before = get().docs.find((d) => d.id === id);
    if (!before) return false;
    pending.renames.set(id, title);
    set({ docs: replaceDoc(get().docs, { ...before, title }), actionError: "" });
    try {
      const after = await api<DocumentView>(docPath(id), { method: "PATCH", body: { title } });
      pending.renames.delete(id);
      set({ docs: replaceDoc(get().docs, after) });
      return true;
    } catch (e) {
      pending.renames.delete(id);
      const now = get().docs.find((d) => d.id === id);
      if (now) set({ docs: replaceDoc(get().docs, { ...now, title: before.title }) });
      set({ actionError: `Could not rename “${before.title}”: ${message(e)}` });
      return false;
    }
  },
  async remove(id) {
    const r = removeDoc(get().docs, id);
    if (!r.removed) return false;
    const removed = r.removed;
    pending.deletes.add(id);
    set({ docs: r.list, actionError: "" });
    try {
      await api(docPath(id), { method: "DELETE" });
      pending.deletes.delete(id);
      return true;
    } catch (e) {
      pending.deletes.delete(id);
      set({ docs: restoreDoc(get().docs, removed, r.index), actionError: `Could not delete “${removed.title}”: ${message(e)}` });
      return false;
    }
  },
  clearActionError() {
    set({ actionError: "" });
  },
}));

/**
 * Loads the list and keeps polling it while any document is queued or indexing, backing off
 * (state.ts `pollDelay`); returns the function that stops. A hidden page skips the requests
 * but keeps the schedule.
 */
export function pollDocuments(): () => void {
  let stopped = false;
  let running = false;
  let timer: number | undefined;
  let attempt = 0;
  let retryAfter: number | undefined;
  const schedule = () => {
    if (!stopped && !running && timer === undefined) timer = window.setTimeout(tick, pollDelay(attempt++, retryAfter));
  };
  async function tick() {
    timer = undefined;
    if (stopped) return;
    running = true;
    try {
      if (document.visibilityState !== "hidden") {
        const err = await useDocs.getState().load();
        retryAfter = err instanceof ApiError ? err.retryAfter : undefined;
      }
    } finally {
      running = false;
    }
    if (needsPolling(useDocs.getState().docs)) schedule();
    else attempt = 0;
  }
  // Something became pending (an upload, an edited note): poll again, quickly at first.
  const unsub = useDocs.subscribe((s, prev) => {
    if (needsPolling(s.docs) && !needsPolling(prev.docs)) attempt = 0;
    if (needsPolling(s.docs)) schedule();
  });
  const onVisible = () => {
    if (document.visibilityState === "visible" && !running) {
      window.clearTimeout(timer);
      void tick();
    }
  };
  document.addEventListener("visibilitychange", onVisible);
  // A list from another context must not show while this one loads.
  useDocs.setState({ docs: [], loaded: false, loadError: "", actionError: "" });
  void tick();
  return () => {
    stopped = true;
    window.clearTimeout(timer);
    unsub();
    document.removeEventListener("visibilitychange", onVisible);
  };
}
