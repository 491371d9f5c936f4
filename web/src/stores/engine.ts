/**
 * The engine's state for the header's activity light, polled from `/api/v1/monitoring/engine`
 * every few seconds while the page is visible (and at once after a chat reply starts or ends).
 */
import { create } from "zustand";
import { api, type Schemas } from "../api/client";

export type EngineStatus = Schemas["EngineStatus"];

interface EngineState {
  status: EngineStatus | null;
  /** Why the last poll failed, if it did (the light turns red). */
  pollError: string;
  refresh: () => Promise<void>;
}

export const useEngine = create<EngineState>((set) => ({
  status: null,
  pollError: "",
  async refresh() {
    try {
      const status = await api<EngineStatus>("/api/v1/monitoring/engine");
      set({ status, pollError: "" });
    } catch (e) {
      set({ pollError: e instanceof Error ? e.message : String(e) });
    }
  },
}));

/** Starts polling; returns the function that stops it. */
export function pollEngine(everyMs = 3000): () => void {
  const tick = () => {
    if (document.visibilityState === "visible") void useEngine.getState().refresh();
  };
  tick();
  const id = window.setInterval(tick, everyMs);
  document.addEventListener("visibilitychange", tick);
  return () => {
    window.clearInterval(id);
    document.removeEventListener("visibilitychange", tick);
  };
}
