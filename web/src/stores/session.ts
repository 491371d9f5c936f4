/**
 * Who is signed in: the setup status, the current user and teams (`/auth/me`), login, logout and
 * the founder's first-run setup. The session itself is the HttpOnly cookie; this store only keeps
 * what the page needs to draw and the CSRF token changes must carry.
 */
import { create } from "zustand";
import { api, ApiError, setCsrf, type Schemas } from "../api/client";

export type Me = Schemas["Me"] & { session: Schemas["MeSession"] & { csrf_token?: string } };

type Phase = "loading" | "setup" | "login" | "ready" | "unreachable" | "busy";

interface SessionState {
  phase: Phase;
  me: Me | null;
  version: string;
  error: string;
  /** Reads the setup status and the current session; decides which screen shows. */
  load: () => Promise<void>;
  login: (username: string, password: string) => Promise<void>;
  createFounder: (username: string, password: string) => Promise<void>;
  logout: () => Promise<void>;
}

export const useSession = create<SessionState>((set, get) => ({
  phase: "loading",
  me: null,
  version: "",
  error: "",
  async load() {
    try {
      const status = await api<Schemas["SetupStatus"]>("/api/v1/setup/status");
      set({ version: status.version });
      if (status.needs_setup) {
        set({ phase: "setup", me: null });
        return;
      }
      const me = await api<Me>("/api/v1/auth/me");
      // A cookie session gets its CSRF token back from /me (a reload loses the login's copy).
      if (me.session.csrf_token) setCsrf(me.session.csrf_token);
      set({ phase: "ready", me, error: "" });
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) set({ phase: "login", me: null });
      else if (e instanceof ApiError && e.status === 429) {
        // Rate-limited (many people behind one address): say so, and try again when allowed.
        const secs = e.retryAfter ?? 10;
        set({ phase: "busy", error: `${e.message} Selah tries again in ${secs} s.` });
        setTimeout(() => void get().load(), secs * 1000);
      } else set({ phase: "unreachable", error: e instanceof Error ? e.message : String(e) });
    }
  },
  async login(username, password) {
    const res = await api<Schemas["LoginResponse"]>("/api/v1/auth/login", { body: { username, password } });
    setCsrf(res.csrf_token);
    await get().load();
  },
  async createFounder(username, password) {
    await api("/api/v1/setup/founder", { body: { username, password } });
    await get().login(username, password);
  },
  async logout() {
    try {
      await api("/api/v1/auth/logout", { method: "POST" });
    } finally {
      setCsrf("");
      set({ phase: "login", me: null });
    }
  },
}));
