/**
 * Downloading and decrypting an item in one pass: the age file is fetched as a stream, decrypted
 * as it arrives, and the plaintext gathered into a Blob a few MiB at a time (Chromium keeps big
 * blobs in the browser process, spilling to disk, not in the page's JavaScript heap). Only a
 * file whose every chunk authenticated becomes a Blob: on any failure nothing is handed back, so
 * nothing is saved. Also re-encrypting an item's content for new recipients (unsharing).
 */
import { errorFrom } from "../../api/client";
import { decryptStream, describeDecryptError } from "./agefile";
import { isAbort, uploadEncrypted, type Fetch, type TransferCommon, type UploadResult } from "./upload";

/** Plaintext gathered before it is moved into the Blob. */
export const BLOB_FLUSH_BYTES = 8 * 1024 * 1024;

/**
 * Gathers byte chunks into a Blob without keeping them all as JavaScript arrays: every
 * `flushBytes` the pending chunks are folded into a new Blob and released.
 */
export class BlobAssembler {
  private blob: Blob = new Blob([]);
  private parts: Uint8Array<ArrayBuffer>[] = [];
  private pending = 0;
  size = 0;
  constructor(private readonly flushBytes = BLOB_FLUSH_BYTES) {}

  push(chunk: Uint8Array) {
    if (chunk.length === 0) return;
    this.parts.push(chunk as Uint8Array<ArrayBuffer>);
    this.pending += chunk.length;
    this.size += chunk.length;
    if (this.pending >= this.flushBytes) this.flush();
  }

  /** How many chunks are still held as arrays (at most about flushBytes of them). */
  get held(): number {
    return this.parts.length;
  }

  private flush() {
    this.blob = new Blob([this.blob, ...this.parts]);
    this.parts = [];
    this.pending = 0;
  }

  finish(type = "application/octet-stream"): Blob {
    return new Blob([this.blob, ...this.parts], { type });
  }
}

/** An error of a decryption, said for a person, stating that nothing was saved. */
export class DecryptError extends Error {
  constructor(cause: unknown) {
    super(`The file could not be decrypted: ${describeDecryptError(cause)}. Nothing was saved.`);
    this.name = "DecryptError";
  }
}

/** Decrypts an age stream into a Blob; throws DecryptError (or the abort) on any failure. */
export async function decryptToBlob(cipher: ReadableStream<Uint8Array>, secret: string, type?: string, signal?: AbortSignal): Promise<Blob> {
  let plain: ReadableStream<Uint8Array>;
  try {
    plain = (await decryptStream(cipher, secret)).stream;
  } catch (e) {
    throw isAbort(e) ? e : new DecryptError(e);
  }
  const out = new BlobAssembler();
  const reader = plain.getReader();
  // Cancelling ends the pending read; the abort is reported by the read loop below.
  const stop = () => reader.cancel().catch((e: unknown) => console.warn("vault: cancelling the download stream failed", e));
  signal?.addEventListener("abort", stop, { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (signal?.aborted) throw new DOMException("The transfer was cancelled.", "AbortError");
      if (done) break;
      out.push(value);
    }
  } catch (e) {
    throw isAbort(e) ? e : new DecryptError(e);
  } finally {
    signal?.removeEventListener("abort", stop);
  }
  return out.finish(type);
}

/** Counts the bytes passing through, reporting at most every `everyBytes`, and at the end. */
export function counter(onBytes: (n: number) => void, everyBytes = 1 << 20): TransformStream<Uint8Array, Uint8Array> {
  let n = 0;
  let reported = 0;
  return new TransformStream({
    transform(chunk, c) {
      n += chunk.length;
      if (n - reported >= everyBytes) {
        reported = n;
        onBytes(n);
      }
      c.enqueue(chunk);
    },
    flush() {
      if (n !== reported) onBytes(n);
    },
  });
}

function contentUrl(itemId: string, version?: string): string {
  const v = version ? `?version=${encodeURIComponent(version)}` : "";
  return `/api/v1/vault/items/${encodeURIComponent(itemId)}/content${v}`;
}

/** Fetches an item's age file as a stream, with its size. */
async function fetchContent(o: TransferCommon & { itemId: string; version?: string }): Promise<{ body: ReadableStream<Uint8Array>; size: number }> {
  const f: Fetch = o.fetch ?? fetch.bind(globalThis);
  let res: Response;
  try {
    res = await f(contentUrl(o.itemId, o.version), { headers: o.headers, signal: o.signal, credentials: "same-origin" });
  } catch (e) {
    if (isAbort(e) || !(e instanceof TypeError)) throw e;
    // The server also ends the connection this way when its copy fails its SHA-256 check.
    throw new Error("The download broke off: the connection failed, or the server found its stored copy damaged.");
  }
  if (!res.ok) throw await errorFrom(res);
  if (!res.body) throw new Error("the server sent no content");
  const size = Number(res.headers.get("Content-Length")) || 0;
  return { body: res.body, size };
}

/** A download with no byte for this long is given up (a proxy can hold a broken one open). */
export const STALL_MS = 60_000;

/** Fires once `ms` pass without a `kick()`. */
export class Watchdog {
  private readonly controller = new AbortController();
  private timer: ReturnType<typeof setTimeout> | undefined;
  fired = false;
  constructor(private readonly ms: number) {
    this.kick();
  }
  get signal(): AbortSignal {
    return this.controller.signal;
  }
  kick() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.fired = true;
      this.controller.abort();
    }, this.ms);
  }
  stop() {
    clearTimeout(this.timer);
  }
}

/** Downloads and decrypts an item's content into a Blob. */
export async function downloadDecrypted(
  o: TransferCommon & { itemId: string; version?: string; secret: string; type?: string; stallMs?: number },
): Promise<Blob> {
  const dog = new Watchdog(o.stallMs ?? STALL_MS);
  const signal = o.signal ? AbortSignal.any([o.signal, dog.signal]) : dog.signal;
  try {
    const { body, size } = await fetchContent({ ...o, signal });
    dog.kick();
    o.onProgress?.(0, size);
    const alive = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, c) {
        dog.kick();
        c.enqueue(chunk);
      },
    });
    const counted = body.pipeThrough(alive, { signal }).pipeThrough(counter((n) => o.onProgress?.(n, size)));
    return await decryptToBlob(counted, o.secret, o.type, signal);
  } catch (e) {
    if (dog.fired && !o.signal?.aborted) {
      throw new Error(`The download stalled: nothing arrived for ${Math.round((o.stallMs ?? STALL_MS) / 1000)} s. Nothing was saved.`);
    }
    throw e;
  } finally {
    dog.stop();
  }
}

/**
 * Downloads the current content, decrypts it and encrypts it to `recipients` under a new file
 * key, uploading as it goes: after an unshare, the removed user's old key opens nothing they can
 * still fetch. Only ciphertext is ever sent or stored.
 */
export async function reencrypt(o: TransferCommon & { itemId: string; secret: string; recipients: string[] }): Promise<UploadResult> {
  const { body, size } = await fetchContent({ ...o, onProgress: undefined });
  if (!(size > 0)) throw new Error("the server did not say how large the content is");
  let plain;
  try {
    plain = await decryptStream(body, o.secret);
  } catch (e) {
    throw isAbort(e) ? e : new DecryptError(e);
  }
  const plainSize = plain.size(size);
  return uploadEncrypted({ ...o, plain: plain.stream, plainSize });
}
