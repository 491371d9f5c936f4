/**
 * The pure parts of the tus 1.0 client (docs/VAULT.md, "Uploads"): the `Upload-Metadata` and
 * offset headers, where an upload's URL may point, which failures are worth a retry, where a
 * chunk resumes from after one, and cutting the encrypted stream into PATCH-sized chunks.
 */
import { textToBase64 } from "./bytes";

export const TUS_VERSION = "1.0.0";
export const UPLOADS_PATH = "/api/v1/vault/uploads";
/** Bytes per PATCH: small enough for a smooth progress bar, large enough to keep requests few. */
export const CHUNK_SIZE = 4 * 1024 * 1024;

/** `key base64(value)` pairs, comma-separated, as tus wants them. */
export function encodeUploadMetadata(pairs: Record<string, string>): string {
  return Object.entries(pairs)
    .map(([k, v]) => {
      if (!/^[A-Za-z0-9_.-]+$/.test(k)) throw new Error(`bad Upload-Metadata key ${JSON.stringify(k)}`);
      return `${k} ${textToBase64(v)}`;
    })
    .join(",");
}

/** An `Upload-Offset` (or `Upload-Length`) header: a whole number of bytes, nothing else. */
export function parseOffset(value: string | null): number {
  const v = value?.trim() ?? "";
  if (!/^\d{1,16}$/.test(v)) {
    throw new Error(value === null ? "the server's answer has no Upload-Offset" : `bad Upload-Offset ${JSON.stringify(value)}`);
  }
  return Number(v);
}

/**
 * The upload URL from a creation's `Location`: only an upload of this server is followed, so a
 * confused or hostile answer cannot send the ciphertext elsewhere.
 */
export function uploadUrl(location: string | null, origin?: string): string {
  if (!location) throw new Error("the server's answer to the upload has no Location");
  const base = origin ?? "http://selah.invalid";
  let url: URL;
  try {
    url = new URL(location, base);
  } catch {
    throw new Error(`bad upload Location ${JSON.stringify(location)}`);
  }
  const sameOrigin = url.origin === new URL(base).origin;
  if (!sameOrigin || !url.pathname.startsWith(UPLOADS_PATH + "/") || url.pathname.length <= UPLOADS_PATH.length + 1) {
    throw new Error(`the upload Location ${JSON.stringify(location)} is not an upload of this server`);
  }
  return url.pathname;
}

/** Statuses a PATCH may be retried after (asking the server's offset first). */
export function retryable(status: number): boolean {
  // 0: the network; 409: a dead request still holds the upload, or the offsets disagree;
  // 423/429: busy; 5xx: the server is restarting or overloaded.
  return status === 0 || status === 409 || status === 423 || status === 429 || status >= 500;
}

/** Back-off before the n-th retry (1-based): 0.5 s, 1 s, 2 s, … capped at 8 s. */
export function backoffMs(n: number): number {
  return Math.min(8000, 500 * 2 ** Math.max(0, n - 1));
}

/**
 * Where in the chunk `[start, start + length)` to resend from, given the offset the server
 * holds. The server only ever appends and syncs before it answers, so its offset can never be
 * before the chunk (we only send a chunk after the previous one was acknowledged) nor past it.
 */
export function resumeFrom(serverOffset: number, start: number, length: number): number {
  if (serverOffset < start || serverOffset > start + length) {
    throw new Error(
      `the server holds ${serverOffset} bytes of the upload, but this client is sending bytes ${start} to ${start + length}: the upload cannot continue`,
    );
  }
  return serverOffset - start;
}

/**
 * Re-chunks a byte stream into pieces of exactly `size` bytes (the last one shorter). Each piece
 * is a fresh buffer, so a piece being sent is never overwritten by the next.
 */
export async function* rechunk(reader: ReadableStreamDefaultReader<Uint8Array>, size: number): AsyncGenerator<Uint8Array<ArrayBuffer>> {
  if (!(size > 0)) throw new Error("chunk size must be positive");
  let buf = new Uint8Array(size);
  let used = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    let v = value;
    while (v.length > 0) {
      const n = Math.min(size - used, v.length);
      buf.set(v.subarray(0, n), used);
      used += n;
      v = v.subarray(n);
      if (used === size) {
        yield buf;
        buf = new Uint8Array(size);
        used = 0;
      }
    }
  }
  if (used > 0) yield buf.slice(0, used);
}
