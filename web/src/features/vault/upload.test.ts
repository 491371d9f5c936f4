// @vitest-environment node
/**
 * The streaming upload against an in-memory tus server: bytes, hash and completion, resuming
 * after a broken PATCH, a lost final answer, refusals and cancelling; then the download side:
 * decrypting into a Blob, and nothing at all when the file is damaged. Node's environment, not
 * jsdom's: jsdom's Blob cannot be read back (no arrayBuffer()), Node's can.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { describe, expect, it } from "vitest";
import { ApiError } from "../../api/client";
import { decryptStream, newIdentity } from "./agefile";
import { toHex } from "./bytes";
import { BlobAssembler, DecryptError, decryptToBlob, downloadDecrypted } from "./download";
import { uploadEncrypted, type Fetch } from "./upload";
import { random, streamOf } from "./testing";

interface Call {
  method: string;
  url: string;
  headers: Record<string, string>;
  bytes: number;
}

/** A tus server in memory, as crates/selah-server/src/vault/uploads.rs behaves. */
function tusServer(opts: { breakPatch?: number; loseFinalAnswer?: boolean; refuseWith?: number } = {}) {
  const s = {
    calls: [] as Call[],
    file: new Uint8Array(0),
    offset: 0,
    length: -1,
    version: null as string | null,
    deleted: false,
    patches: 0,
  };
  const json = (status: number, code: string, message: string) =>
    new Response(JSON.stringify({ error: { code, message } }), { status, headers: { "Content-Type": "application/json" } });
  const f: Fetch = async (input, init = {}) => {
    const url = String(input);
    const method = init.method ?? "GET";
    const headers = init.headers as Record<string, string>;
    const body = init.body as Uint8Array | undefined;
    s.calls.push({ method, url, headers, bytes: body?.length ?? 0 });
    if (init.signal?.aborted) throw new DOMException("aborted", "AbortError");
    if (method !== "GET" && headers["Tus-Resumable"] !== "1.0.0") return json(412, "precondition_failed", "tus version");
    if (method === "POST" && url === "/api/v1/vault/uploads") {
      s.length = Number(headers["Upload-Length"]);
      s.file = new Uint8Array(s.length);
      return new Response(null, { status: 201, headers: { Location: "/api/v1/vault/uploads/U1" } });
    }
    if (url === "/api/v1/vault/items/I1" && method === "GET") {
      const versions = s.version ? [{ id: s.version, sha256: toHex(sha256(s.file)), size: s.length, created_at: 0 }] : [];
      return new Response(JSON.stringify({ id: "I1", versions }), { status: 200, headers: { "Content-Type": "application/json" } });
    }
    if (url !== "/api/v1/vault/uploads/U1") return json(404, "not_found", "no route");
    if (s.version || s.deleted) return json(404, "not_found", "upload");
    if (method === "HEAD") return new Response(null, { status: 200, headers: { "Upload-Offset": String(s.offset), "Upload-Length": String(s.length) } });
    if (method === "DELETE") {
      s.deleted = true;
      return new Response(null, { status: 204 });
    }
    if (method !== "PATCH" || !body) return json(405, "method_not_allowed", "method");
    s.patches += 1;
    if (Number(headers["Upload-Offset"]) !== s.offset) return json(409, "conflict", `send from ${s.offset}`);
    if (opts.refuseWith && s.patches === 2) return json(opts.refuseWith, "refused", "refused by the test");
    if (opts.breakPatch === s.patches) {
      // The connection breaks after half of the body reached the disk.
      const half = body.subarray(0, Math.floor(body.length / 2));
      s.file.set(half, s.offset);
      s.offset += half.length;
      throw new TypeError("network error");
    }
    s.file.set(body, s.offset);
    s.offset += body.length;
    const sha = headers["Selah-Upload-Sha256"];
    const out: Record<string, string> = { "Upload-Offset": String(s.offset) };
    if (s.offset === s.length && sha) {
      if (toHex(sha256(s.file)) !== sha) return json(460, "checksum_mismatch", "the bytes received have another SHA-256");
      s.version = "V1";
      out["Selah-Version-Id"] = "V1";
      if (opts.loseFinalAnswer) throw new TypeError("network error");
    }
    return new Response(null, { status: 204, headers: out });
  };
  return { s, f };
}

const instant = () => Promise.resolve();

async function upload(f: Fetch, plain: Uint8Array, publicKey: string, extra: { signal?: AbortSignal; progress?: number[] } = {}) {
  return uploadEncrypted({
    itemId: "I1",
    plain: streamOf(plain),
    plainSize: plain.length,
    recipients: [publicKey],
    headers: { "X-CSRF-Token": "t" },
    fetch: f,
    chunkSize: 64 * 1024,
    sleep: instant,
    signal: extra.signal,
    onProgress: (done) => extra.progress?.push(done),
  });
}

async function opens(file: Uint8Array, secret: string): Promise<Uint8Array> {
  return new Uint8Array(await new Response((await decryptStream(streamOf(file), secret)).stream).arrayBuffer());
}

describe("uploadEncrypted", () => {
  it("sends the encrypted file in chunks and completes it with its SHA-256", async () => {
    const k = await newIdentity();
    const plain = random(300_000);
    const { s, f } = tusServer();
    const progress: number[] = [];
    const r = await upload(f, plain, k.publicKey, { progress });
    expect(r.versionId).toBe("V1");
    expect(r.size).toBe(s.length);
    expect(r.sha256).toBe(toHex(sha256(s.file)));
    expect(await opens(s.file, k.secret)).toEqual(plain);
    const patches = s.calls.filter((c) => c.method === "PATCH");
    expect(patches.map((p) => p.bytes)).toEqual([65536, 65536, 65536, 65536, s.length - 4 * 65536]);
    // Only the completing PATCH carries the hash, and every request carries the CSRF token.
    expect(patches.map((p) => p.headers["Selah-Upload-Sha256"] !== undefined)).toEqual([false, false, false, false, true]);
    expect(s.calls.every((c) => c.headers["X-CSRF-Token"] === "t")).toBe(true);
    expect(progress).toEqual([65536, 131072, 196608, 262144, s.length]);
    expect(s.calls.find((c) => c.method === "POST")!.headers["Upload-Metadata"]).toBe("item STE=");
  });

  it("resumes from the server's offset after a PATCH breaks off", async () => {
    const k = await newIdentity();
    const plain = random(200_000);
    const { s, f } = tusServer({ breakPatch: 2 });
    const r = await upload(f, plain, k.publicKey);
    expect(r.versionId).toBe("V1");
    expect(s.calls.some((c) => c.method === "HEAD")).toBe(true);
    expect(await opens(s.file, k.secret)).toEqual(plain);
  });

  it("finds the version when the answer to the completing PATCH is lost", async () => {
    const k = await newIdentity();
    const { f } = tusServer({ loseFinalAnswer: true });
    const r = await upload(f, random(1000), k.publicKey);
    expect(r.versionId).toBe("V1");
  });

  it("gives up on a refusal, with the server's message, and abandons the upload", async () => {
    const k = await newIdentity();
    const { s, f } = tusServer({ refuseWith: 403 });
    const err = await upload(f, random(200_000), k.publicKey).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).message).toBe("refused by the test");
    await new Promise((r) => setTimeout(r, 0));
    expect(s.deleted).toBe(true);
  });

  it("stops when cancelled and abandons the upload", async () => {
    const k = await newIdentity();
    const { s, f } = tusServer();
    const controller = new AbortController();
    const stopping: Fetch = async (input, init) => {
      const res = await f(input, init);
      if (init?.method === "PATCH") controller.abort();
      return res;
    };
    const err = await upload(stopping, random(300_000), k.publicKey, { signal: controller.signal }).catch((e: unknown) => e);
    expect((err as DOMException).name).toBe("AbortError");
    await new Promise((r) => setTimeout(r, 0));
    expect(s.deleted).toBe(true);
    expect(s.version).toBeNull();
  });
});

describe("decryptToBlob", () => {
  it("round-trips an uploaded file into a Blob", async () => {
    const k = await newIdentity();
    const plain = random(250_000);
    const { s, f } = tusServer();
    await upload(f, plain, k.publicKey);
    const blob = await decryptToBlob(streamOf(s.file), k.secret, "application/pdf");
    expect(blob.type).toBe("application/pdf");
    expect(new Uint8Array(await blob.arrayBuffer())).toEqual(plain);
  });

  it("hands back nothing when a chunk fails authentication", async () => {
    const k = await newIdentity();
    const { s, f } = tusServer();
    await upload(f, random(250_000), k.publicKey);
    s.file[s.file.length - 1] ^= 0x80;
    const err = await decryptToBlob(streamOf(s.file), k.secret).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DecryptError);
    expect((err as Error).message).toMatch(/damaged or incomplete.*Nothing was saved/);
  });

  it("hands back nothing for a file that is not for this key", async () => {
    const a = await newIdentity();
    const b = await newIdentity();
    const { s, f } = tusServer();
    await upload(f, random(10), a.publicKey);
    await expect(decryptToBlob(streamOf(s.file), b.secret)).rejects.toThrow(/not encrypted to your vault key/);
  });
});

describe("downloadDecrypted", () => {
  /** A content endpoint serving `file`, optionally hanging after its first `hangAfter` bytes. */
  function contentServer(file: Uint8Array, hangAfter?: number): Fetch {
    return async (input, init) => {
      expect(String(input)).toBe("/api/v1/vault/items/I1/content");
      expect((init?.headers as Record<string, string>)["X-Selah-Team"]).toBe("T");
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(file.slice(0, hangAfter ?? file.length));
          if (hangAfter === undefined) c.close();
        },
      });
      return new Response(body, { status: 200, headers: { "Content-Length": String(file.length) } });
    };
  }

  it("fetches, decrypts and reports progress", async () => {
    const k = await newIdentity();
    const plain = random(100_000);
    const { s, f } = tusServer();
    await upload(f, plain, k.publicKey);
    const seen: [number, number][] = [];
    const blob = await downloadDecrypted({
      itemId: "I1",
      secret: k.secret,
      headers: { "X-Selah-Team": "T" },
      fetch: contentServer(s.file),
      onProgress: (d, t) => seen.push([d, t]),
    });
    expect(new Uint8Array(await blob.arrayBuffer())).toEqual(plain);
    expect(seen[0]).toEqual([0, s.file.length]);
    expect(seen[seen.length - 1]).toEqual([s.file.length, s.file.length]);
  });

  it("gives up on a download that stops sending, saving nothing", async () => {
    const k = await newIdentity();
    const { s, f } = tusServer();
    await upload(f, random(100_000), k.publicKey);
    const err = await downloadDecrypted({
      itemId: "I1",
      secret: k.secret,
      headers: { "X-Selah-Team": "T" },
      fetch: contentServer(s.file, 70_000),
      stallMs: 100,
    }).catch((e: unknown) => e);
    expect((err as Error).message).toBe("The download stalled: nothing arrived for 0 s. Nothing was saved.");
  });

  it("explains a connection the server broke off", async () => {
    const k = await newIdentity();
    const broken: Fetch = () => Promise.reject(new TypeError("Failed to fetch"));
    await expect(downloadDecrypted({ itemId: "I1", secret: k.secret, headers: {}, fetch: broken })).rejects.toThrow(/broke off/);
  });
});

describe("BlobAssembler", () => {
  it("folds chunks into the Blob so few stay in the heap", async () => {
    const a = new BlobAssembler(100);
    for (let i = 0; i < 50; i++) a.push(new Uint8Array(30).fill(i));
    expect(a.held).toBeLessThan(4);
    const bytes = new Uint8Array(await a.finish().arrayBuffer());
    expect(bytes.length).toBe(1500);
    expect(bytes[0]).toBe(0);
    expect(bytes[1499]).toBe(49);
  });
});
