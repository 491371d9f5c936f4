// The stream reducer: tokens grow the draft, `done` turns it into the stored reply, `error`
// keeps the partial text with the message, a refusal undoes the optimistic rows.
import { describe, expect, it } from "vitest";
import { canRegenerate, DRAFT_ID, draftOf, EMPTY, PENDING_USER_ID, streamReducer, type Conversation } from "./streamReducer";
import type { ChatMessage, DoneEvent } from "./types";

const msg = (id: string, role: string, content: string): ChatMessage => ({
  id,
  role,
  content,
  status: "complete",
  created_at: 1,
  updated_at: 1,
});

const history: Conversation = { ...EMPTY, messages: [msg("u1", "user", "Hi"), msg("a1", "assistant", "Hello!")] };

function run(state: Conversation, ...actions: Parameters<typeof streamReducer>[1][]): Conversation {
  return actions.reduce(streamReducer, state);
}

const done: DoneEvent = {
  message_id: "a2",
  user_message_id: "u2",
  usage: { prompt_tokens: 40, completion_tokens: 3, total_tokens: 43 },
  citations: [{ document_id: "d1", title: "Notes", passage_id: 7, char_start: 10, char_end: 90 }],
  finish: "stop",
};

describe("streamReducer", () => {
  it("start adds the user message and an empty streaming draft", () => {
    const s = run(history, { type: "start", userText: "Why?", model: "local:m", now: 5 });
    expect(s.streaming).toBe(true);
    expect(s.messages.map((m) => [m.id, m.role, m.content, m.status])).toEqual([
      ["u1", "user", "Hi", "complete"],
      ["a1", "assistant", "Hello!", "complete"],
      [PENDING_USER_ID, "user", "Why?", "complete"],
      [DRAFT_ID, "assistant", "", "streaming"],
    ]);
  });

  it("appends tokens to the draft in order", () => {
    const s = run(
      history,
      { type: "start", userText: "Why?", model: null, now: 5 },
      { type: "token", text: "Be" },
      { type: "token", text: "cause" },
      { type: "token", text: " **so**." },
    );
    expect(draftOf(s)?.content).toBe("Because **so**.");
    expect(s.messages).toHaveLength(4);
  });

  it("done replaces the draft with the stored message and names the user message", () => {
    const s = run(
      history,
      { type: "start", userText: "Why?", model: "local:m", now: 5 },
      { type: "token", text: "Because." },
      { type: "done", event: done, now: 9 },
    );
    expect(s.streaming).toBe(false);
    expect(draftOf(s)).toBeNull();
    const [, , user, reply] = s.messages;
    expect(user.id).toBe("u2");
    expect(reply).toMatchObject({
      id: "a2",
      role: "assistant",
      content: "Because.",
      status: "complete",
      prompt_tokens: 40,
      completion_tokens: 3,
      model: "local:m",
      updated_at: 9,
    });
    expect(reply.citations).toEqual(done.citations);
  });

  it("a cancelled finish stores the reply as incomplete and no citations stay absent", () => {
    const s = run(
      history,
      { type: "start", userText: "Why?", model: null, now: 5 },
      { type: "token", text: "Beca" },
      { type: "done", event: { ...done, citations: [], finish: "cancelled" }, now: 9 },
    );
    expect(s.messages[3].status).toBe("incomplete");
    expect(s.messages[3].citations).toBeUndefined();
  });

  it("error keeps the partial text and shows the error", () => {
    const s = run(
      history,
      { type: "start", userText: "Why?", model: null, now: 5 },
      { type: "token", text: "Partial" },
      { type: "error", message: "the model failed while writing the reply", now: 8 },
    );
    expect(s.streaming).toBe(false);
    expect(s.error).toBe("the model failed while writing the reply");
    expect(s.messages[3]).toMatchObject({ content: "Partial", status: "error" });
    // The failed draft is no longer the draft: the next reply gets its own.
    expect(draftOf(s)).toBeNull();
    const next = run(s, { type: "start", userText: "Again", model: null, now: 9 }, { type: "token", text: "New" });
    expect(next.messages.map((m) => m.content)).toEqual(["Hi", "Hello!", "Why?", "Partial", "Again", "New"]);
    expect(new Set(next.messages.map((m) => m.id)).size).toBe(6);
  });

  it("a refusal removes the optimistic rows and keeps the history", () => {
    const s = run(history, { type: "start", userText: "Why?", model: null, now: 5 }, { type: "refused", message: "queue full" });
    expect(s.messages.map((m) => m.id)).toEqual(["u1", "a1"]);
    expect(s.error).toBe("queue full");
    expect(s.streaming).toBe(false);
  });

  it("regenerate replaces the last reply, and a refusal puts it back", () => {
    const started = run(history, { type: "start", userText: null, model: null, now: 5 });
    expect(started.messages.map((m) => m.id)).toEqual(["u1", DRAFT_ID]);
    const refused = streamReducer(started, { type: "refused", message: "busy" });
    expect(refused.messages.map((m) => [m.id, m.content])).toEqual([
      ["u1", "Hi"],
      ["a1", "Hello!"],
    ]);
    const finished = run(started, { type: "token", text: "Hey." }, { type: "done", event: done, now: 9 });
    expect(finished.messages.map((m) => [m.id, m.content])).toEqual([
      ["u1", "Hi"],
      ["a2", "Hey."],
    ]);
  });

  it("stop keeps the text as incomplete and ignores late tokens", () => {
    const s = run(
      history,
      { type: "start", userText: "Why?", model: null, now: 5 },
      { type: "token", text: "Half" },
      { type: "stopped", now: 7 },
      { type: "token", text: " more" },
    );
    expect(s.streaming).toBe(false);
    expect(s.messages[3]).toMatchObject({ content: "Half", status: "incomplete" });
    expect(draftOf(s)).toBeNull();
  });

  it("a second start while streaming is ignored", () => {
    const one = run(history, { type: "start", userText: "A", model: null, now: 5 });
    expect(streamReducer(one, { type: "start", userText: "B", model: null, now: 6 })).toBe(one);
  });

  it("regenerate is offered only on a finished reply to a user message", () => {
    expect(canRegenerate(history)).toBe(true);
    expect(canRegenerate(EMPTY)).toBe(false);
    expect(canRegenerate({ ...history, streaming: true })).toBe(false);
    expect(canRegenerate({ ...EMPTY, messages: [msg("u1", "user", "Hi")] })).toBe(false);
  });
});
