// The session store's decisions, with `fetch` answering as the server would (the journey in
// e2e/ drives the real server; this pins the phases and the CSRF handling).
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { useSession } from "./session";
import { api, setCsrf } from "../api/client";

type Handler = (url: string, init: RequestInit) => Response;

function serve(handler: Handler) {
  const calls: { url: string; init: RequestInit }[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      return handler(url, init);
    }),
  );
  return calls;
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

const ME = {
  user: { id: "u1", username: "founder", role: "founder", created_at: 0 },
  session: { id: "s1", expires_at: 0, step_up_until: 0, csrf_token: "csrf-from-me" },
  teams: [],
};

beforeEach(() => {
  setCsrf("");
  useSession.setState({ phase: "loading", me: null, error: "" });
});
afterEach(() => vi.unstubAllGlobals());

describe("session store", () => {
  it("shows the setup wizard while no founder exists", async () => {
    serve(() => json(200, { needs_setup: true, version: "0.1.0" }));
    await useSession.getState().load();
    expect(useSession.getState().phase).toBe("setup");
    expect(useSession.getState().version).toBe("0.1.0");
  });

  it("asks to sign in when the session is missing", async () => {
    serve((url) =>
      url.endsWith("/setup/status")
        ? json(200, { needs_setup: false, version: "x" })
        : json(401, { error: { code: "unauthenticated", message: "sign in" } }),
    );
    await useSession.getState().load();
    expect(useSession.getState().phase).toBe("login");
  });

  it("says the server is unreachable on a network error", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => Promise.reject(new TypeError("offline"))));
    await useSession.getState().load();
    expect(useSession.getState().phase).toBe("unreachable");
    expect(useSession.getState().error).toContain("cannot be reached");
  });

  it("says the server is busy on a 429 and tries again when Retry-After allows", async () => {
    vi.useFakeTimers();
    try {
      serve(
        () =>
          new Response(JSON.stringify({ error: { code: "rate_limited", message: "Too many requests." } }), {
            status: 429,
            headers: { "content-type": "application/json", "retry-after": "7" },
          }),
      );
      await useSession.getState().load();
      expect(useSession.getState()).toMatchObject({ phase: "busy", error: "Too many requests. Selah tries again in 7 s." });
      serve(() => json(200, { needs_setup: true, version: "x" }));
      await vi.advanceTimersByTimeAsync(7_000);
      expect(useSession.getState().phase).toBe("setup");
    } finally {
      vi.useRealTimers();
    }
  });

  it("after a reload, takes the CSRF token from /auth/me and sends it on changes", async () => {
    const calls = serve((url) => (url.endsWith("/setup/status") ? json(200, { needs_setup: false, version: "x" }) : json(200, ME)));
    await useSession.getState().load();
    expect(useSession.getState().phase).toBe("ready");
    await api("/api/v1/chat/sessions", { body: { title: "t" } });
    const post = calls.at(-1)!;
    expect((post.init.headers as Record<string, string>)["X-CSRF-Token"]).toBe("csrf-from-me");
    // Reads carry no token.
    await api("/api/v1/chat/sessions");
    expect((calls.at(-1)!.init.headers as Record<string, string>)["X-CSRF-Token"]).toBeUndefined();
  });

  it("keeps the login's token when /me has none (a bearer-style answer)", async () => {
    const calls = serve((url) => {
      if (url.endsWith("/auth/login")) return json(200, { token: "t", csrf_token: "csrf-from-login", session_id: "s", expires_at: 0, user: ME.user });
      if (url.endsWith("/setup/status")) return json(200, { needs_setup: false, version: "x" });
      return json(200, { ...ME, session: { ...ME.session, csrf_token: undefined } });
    });
    await useSession.getState().login("founder", "pw");
    expect(useSession.getState().phase).toBe("ready");
    await api("/api/v1/auth/logout", { method: "POST" });
    expect((calls.at(-1)!.init.headers as Record<string, string>)["X-CSRF-Token"]).toBe("csrf-from-login");
  });

  it("signing out forgets the user even when the server call fails", async () => {
    useSession.setState({ phase: "ready", me: ME as never });
    serve(() => json(500, { error: { code: "internal", message: "boom" } }));
    await expect(useSession.getState().logout()).rejects.toThrow("boom");
    expect(useSession.getState()).toMatchObject({ phase: "login", me: null });
  });
});
