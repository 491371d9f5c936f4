// The chat store against a fake server: a streamed reply lands in the conversation, a refused
// send puts things back with the server's message, an `error` event keeps the partial text, and
// the token meter is read again after the reply.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { useChat } from "./chatStore";
import { EMPTY } from "./streamReducer";
import type { ChatSession } from "./types";

const session: ChatSession = {
  id: "s1",
  owner_id: "u",
  team_id: null,
  title: "Mine",
  archived: false,
  active_model: null,
  created_at: 1,
  updated_at: 1,
};

const meter = (total: number) => ({
  model: "local:m",
  prompt_tokens: total - 2,
  completion_tokens: 2,
  total_tokens: total,
  context_window: 2048,
  used_percent: Math.round((total * 1000) / 2048) / 10,
  warning: false,
});

function sse(...events: [string, unknown][]): Response {
  const enc = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      for (const [name, data] of events) c.enqueue(enc.encode(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`));
      c.close();
    },
  });
  return new Response(body, { status: 200, headers: { "content-type": "text/event-stream" } });
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

let reply: () => Response;
let meterTotal = 10;
const calls: string[] = [];

beforeEach(() => {
  calls.length = 0;
  meterTotal = 10;
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init?: RequestInit) => {
      const method = init?.method ?? "GET";
      calls.push(`${method} ${url}`);
      if (url.endsWith("/messages") && method === "POST") return reply();
      if (url.endsWith("/token-count")) return json(200, meter(meterTotal));
      if (url.startsWith("/api/v1/chat/sessions?")) return json(200, [session]);
      if (url === "/api/v1/monitoring/engine") return json(200, { status: "idle", queue: { pending: 0, in_flight: 0 } });
      return json(404, { error: { code: "not_found", message: `unexpected ${method} ${url}` } });
    }),
  );
  useChat.setState({ currentId: "s1", current: session, conv: EMPTY, meter: meter(10), streamingSession: null });
});

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("chat store", () => {
  it("streams a reply into the conversation and reads the meter again", async () => {
    meterTotal = 60;
    reply = () =>
      sse(
        ["token", { text: "Hel" }],
        ["token", { text: "lo" }],
        ["done", { message_id: "a1", user_message_id: "q1", usage: { prompt_tokens: 20, completion_tokens: 2, total_tokens: 22 }, citations: [], finish: "stop" }],
      );
    await useChat.getState().send("  Hi there  ");
    const s = useChat.getState();
    expect(s.conv.messages.map((m) => [m.id, m.role, m.content, m.status])).toEqual([
      ["q1", "user", "Hi there", "complete"],
      ["a1", "assistant", "Hello", "complete"],
    ]);
    expect(s.streamingSession).toBeNull();
    expect(calls).toContain("POST /api/v1/chat/sessions/s1/messages");
    await vi.waitFor(() => expect(useChat.getState().meter?.total_tokens).toBe(60));
    // The engine light was asked to refresh as the reply started and ended.
    expect(calls.filter((c) => c === "GET /api/v1/monitoring/engine").length).toBeGreaterThanOrEqual(2);
  });

  it("shows the server's message when the send is refused", async () => {
    reply = () => json(503, { error: { code: "unavailable", message: "the model's queue is full; try again in 5 s" } });
    await useChat.getState().send("Hi");
    const s = useChat.getState();
    expect(s.conv.messages).toEqual([]);
    expect(s.conv.error).toBe("the model's queue is full; try again in 5 s");
    expect(s.conv.streaming).toBe(false);
  });

  it("keeps the partial text when the reply fails", async () => {
    reply = () => sse(["token", { text: "Part" }], ["error", { code: "generation_failed", message: "the model failed" }]);
    await useChat.getState().send("Hi");
    const s = useChat.getState();
    expect(s.conv.messages[1]).toMatchObject({ role: "assistant", content: "Part", status: "error" });
    expect(s.conv.error).toBe("the model failed");
  });

  it("treats a stream that ends without done as broken, keeping the text", async () => {
    reply = () => sse(["token", { text: "Cut" }]);
    await useChat.getState().send("Hi");
    const s = useChat.getState();
    expect(s.conv.messages[1]).toMatchObject({ content: "Cut", status: "error" });
    expect(s.conv.error).toMatch(/ended before it was finished/);
  });

  it("does not write another chat's reply into the open one", async () => {
    reply = () => sse(["token", { text: "For s1" }]);
    const sending = useChat.getState().send("Hi");
    useChat.setState({ currentId: "s2", conv: EMPTY });
    await sending;
    expect(useChat.getState().conv.messages).toEqual([]);
  });
});
