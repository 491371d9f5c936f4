import { describe, expect, it } from "vitest";
import { parseSse } from "./sse";

function streamOf(...parts: string[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream({
    start(c) {
      for (const p of parts) c.enqueue(enc.encode(p));
      c.close();
    },
  });
}

describe("SSE parser", () => {
  it("joins events split across chunks and skips comments", async () => {
    const out = [];
    for await (const ev of parseSse(streamOf("event: tok", "en\ndata: {\"text\":\"Hi\"}\n\n: keep-alive\n\n", "event: done\ndata: {}\n\n"))) out.push(ev);
    expect(out).toEqual([
      { event: "token", data: '{"text":"Hi"}' },
      { event: "done", data: "{}" },
    ]);
  });
  it("handles CRLF and multi-line data, and a final event without a blank line", async () => {
    const out = [];
    for await (const ev of parseSse(streamOf("data: a\r\ndata: b\r\n\r\nevent: x\ndata: last"))) out.push(ev);
    expect(out).toEqual([
      { event: "message", data: "a\nb" },
      { event: "x", data: "last" },
    ]);
  });
});
