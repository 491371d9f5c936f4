/**
 * Server-sent events over `fetch`, because `EventSource` cannot POST: the chat reply streams
 * arrive as the answer to `POST .../messages`.
 */
import { errorFrom, send, type RequestOptions } from "./client";

export interface SseEvent {
  event: string;
  data: string;
}

/** Splits an SSE byte stream into events (`event:` and `data:` lines, blank-line terminated). */
export async function* parseSse(stream: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const reader = stream.pipeThrough(new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>).getReader();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    let cut: number;
    while ((cut = buf.search(/\r?\n\r?\n/)) >= 0) {
      const block = buf.slice(0, cut);
      buf = buf.slice(cut).replace(/^\r?\n\r?\n/, "");
      const ev = parseBlock(block);
      if (ev) yield ev;
    }
  }
  const last = parseBlock(buf);
  if (last) yield last;
}

function parseBlock(block: string): SseEvent | null {
  let event = "message";
  const data: string[] = [];
  for (const line of block.split(/\r?\n/)) {
    if (line.startsWith(":") || line === "") continue;
    const i = line.indexOf(":");
    const field = i < 0 ? line : line.slice(0, i);
    const value = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  return data.length ? { event, data: data.join("\n") } : null;
}

/** POSTs and yields the response's events; errors before the stream starts throw `ApiError`. */
export async function* streamEvents(path: string, opts: RequestOptions): AsyncGenerator<SseEvent> {
  const res = await send(path, { ...opts, headers: { Accept: "text/event-stream", ...opts.headers } });
  if (!res.body) throw await errorFrom(res);
  yield* parseSse(res.body);
}
