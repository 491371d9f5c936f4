/**
 * Encrypting and uploading a file in one pass (docs/VAULT.md, "Uploads: tus 1.0"): the plaintext
 * stream is encrypted as it is read, cut into PATCH-sized chunks, and hashed (SHA-256 of the age
 * file, incrementally) on the way out; the last PATCH carries the hash (`Selah-Upload-Sha256`)
 * and completes the version. At most two chunks are in memory (one being sent, the next being
 * encrypted), whatever the file's size. A failed PATCH is retried from the offset the server
 * reports, with back-off.
 */
// @noble/hashes comes with age-encryption; WebCrypto has no incremental SHA-256.
import { sha256 } from "@noble/hashes/sha2.js";
import { ApiError, errorFrom, type Schemas } from "../../api/client";
import { encryptStream } from "./agefile";
import { toHex } from "./bytes";
import {
  backoffMs,
  CHUNK_SIZE,
  encodeUploadMetadata,
  parseOffset,
  rechunk,
  resumeFrom,
  retryable,
  TUS_VERSION,
  uploadUrl,
  UPLOADS_PATH,
} from "./tus";

export type Fetch = typeof fetch;

export interface TransferCommon {
  /** Headers every request carries (CSRF token, team context), from the main thread. */
  headers: Record<string, string>;
  fetch?: Fetch;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** Retries of one chunk before giving up. */
  maxRetries?: number;
  /** Waits between retries (tests make it instant). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** The page's origin, to check the upload's Location against. */
  origin?: string;
}

export interface UploadResult {
  versionId: string;
  /** SHA-256 (hex) of the age file as uploaded. */
  sha256: string;
  /** Its size in bytes. */
  size: number;
}

export interface AgeUpload extends TransferCommon {
  itemId: string;
  /** The age file, produced as it is read. */
  stream: ReadableStream<Uint8Array>;
  /** Its exact size (tus needs it up front). */
  length: number;
  chunkSize?: number;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError());
    const t = setTimeout(done, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
    function done() {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }
    function onAbort() {
      clearTimeout(t);
      reject(abortError());
    }
  });
}

export function abortError(): DOMException {
  return new DOMException("The transfer was cancelled.", "AbortError");
}

export function isAbort(e: unknown): boolean {
  return e instanceof DOMException && e.name === "AbortError";
}

/** Encrypts `plain` (of `plainSize` bytes) to `recipients` and uploads it as a new version. */
export async function uploadEncrypted(
  o: TransferCommon & { itemId: string; plain: ReadableStream<Uint8Array>; plainSize: number; recipients: string[]; chunkSize?: number },
): Promise<UploadResult> {
  const enc = await encryptStream(o.plain, o.recipients);
  return uploadAgeStream({ ...o, stream: enc.stream, length: enc.size(o.plainSize) });
}

/** Uploads an age file produced by `stream` as a new version of the item. */
export async function uploadAgeStream(o: AgeUpload): Promise<UploadResult> {
  const f = o.fetch ?? fetch.bind(globalThis);
  const wait = o.sleep ?? sleep;
  const maxRetries = o.maxRetries ?? 8;
  const base: Record<string, string> = { ...o.headers, "Tus-Resumable": TUS_VERSION };
  const reader = o.stream.getReader();
  let url: string | null = null;
  let finished = false;
  try {
    const created = await request(f, UPLOADS_PATH, {
      method: "POST",
      headers: { ...base, "Upload-Length": String(o.length), "Upload-Metadata": encodeUploadMetadata({ item: o.itemId }) },
      signal: o.signal,
    });
    if (!created.ok) throw await errorFrom(created);
    url = uploadUrl(created.headers.get("Location"), o.origin);
    const uploadAt = url;

    const hasher = sha256.create();
    const chunks = rechunk(reader, o.chunkSize ?? CHUNK_SIZE);
    let offset = 0;
    let versionId: string | undefined;
    // Reading ahead: the next chunk is encrypted while this one is on the wire.
    let next = chunks.next();
    for (;;) {
      const r = await next;
      if (r.done) break;
      const chunk = r.value;
      const end = offset + chunk.length;
      if (end > o.length) throw new Error("the encrypted file came out longer than announced; nothing was stored");
      hasher.update(chunk);
      next = chunks.next();
      let digest: string | undefined;
      if (end === o.length) {
        if (!(await next).done) throw new Error("the encrypted file came out longer than announced; nothing was stored");
        digest = toHex(hasher.digest());
      } else {
        // Not awaited yet: keep a failure of the read-ahead from being reported as unhandled.
        next.catch(() => undefined);
      }
      versionId = await sendChunk(uploadAt, chunk, offset, digest);
      offset = end;
      o.onProgress?.(offset, o.length);
      if (digest !== undefined) {
        if (!versionId) throw new Error("the server took every byte but did not complete the version");
        finished = true;
        return { versionId, sha256: digest, size: o.length };
      }
    }
    throw new Error(`the encrypted file came out shorter than announced (${offset} of ${o.length} bytes); nothing was stored`);
  } catch (e) {
    // Stop encrypting; the original error is what the user needs to see.
    reader.cancel().catch((err: unknown) => console.warn("vault: stopping the encryption failed", err));
    throw e;
  } finally {
    if (url && !finished) {
      // Abandoned (failed or cancelled): the server forgets the partial file now rather than in 24 h.
      f(url, { method: "DELETE", headers: base, credentials: "same-origin" }).catch((err: unknown) =>
        console.warn("vault: could not abandon the upload (the server drops it after 24 h)", err),
      );
    }
  }

  /** Sends one chunk, resuming after failures; returns the version id once the upload completes. */
  async function sendChunk(at: string, chunk: Uint8Array<ArrayBuffer>, start: number, digest?: string): Promise<string | undefined> {
    let from = 0;
    let failures = 0;
    for (;;) {
      let failure: unknown;
      try {
        const headers: Record<string, string> = {
          ...base,
          "Content-Type": "application/offset+octet-stream",
          "Upload-Offset": String(start + from),
        };
        if (digest) headers["Selah-Upload-Sha256"] = digest;
        const res = await request(f, at, { method: "PATCH", headers, body: chunk.subarray(from), signal: o.signal });
        if (res.ok) {
          const now = parseOffset(res.headers.get("Upload-Offset"));
          const version = res.headers.get("Selah-Version-Id") ?? undefined;
          if (now === start + chunk.length && (!digest || version)) return version;
          // Fewer bytes were kept than sent (or the hash is still awaited): continue from there.
          from = resumeFrom(now, start, chunk.length);
          continue;
        }
        const err = await errorFrom(res);
        if (!retryable(res.status)) throw err;
        failure = err;
      } catch (e) {
        if (isAbort(e) || (e instanceof ApiError && !retryable(e.status))) throw e;
        if (!(e instanceof ApiError) && !(e instanceof TypeError)) throw e;
        failure = e;
      }
      failures += 1;
      if (failures > maxRetries) throw failure;
      await wait(backoffMs(failures), o.signal);
      // Where is the server? It may have kept some or all of what was sent.
      let head: Response;
      try {
        head = await request(f, at, { method: "HEAD", headers: base, signal: o.signal });
      } catch (e) {
        if (isAbort(e)) throw e;
        continue;
      }
      if (head.status === 404 && digest) {
        // The completing PATCH may have succeeded with its answer lost: the upload is gone then,
        // and the item has a version with this hash.
        const done = await completedVersion(f, o.itemId, digest, o.headers, o.signal);
        if (done) return done;
        throw new Error("the upload disappeared from the server before it completed; nothing was stored");
      }
      if (!head.ok) continue;
      from = resumeFrom(parseOffset(head.headers.get("Upload-Offset")), start, chunk.length);
      if (from === chunk.length && !digest) return undefined;
    }
  }
}

/** A fetch whose network failure is a TypeError (retried) and whose abort stays an AbortError. */
async function request(f: Fetch, url: string, init: RequestInit): Promise<Response> {
  return f(url, { credentials: "same-origin", ...init });
}

/** The id of the item's version with this SHA-256, if there is one. */
async function completedVersion(
  f: Fetch,
  itemId: string,
  digest: string,
  headers: Record<string, string>,
  signal?: AbortSignal,
): Promise<string | undefined> {
  const res = await request(f, `/api/v1/vault/items/${encodeURIComponent(itemId)}`, { headers: { ...headers, Accept: "application/json" }, signal });
  if (!res.ok) throw await errorFrom(res);
  const item = (await res.json()) as Schemas["ItemDetail"];
  return item.versions.find((v) => v.sha256 === digest)?.id;
}
