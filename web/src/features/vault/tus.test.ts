/** Tests of the tus client's header parsing, URL checks, resume offsets and chunking. */
import { describe, expect, it } from "vitest";
import { backoffMs, encodeUploadMetadata, parseOffset, rechunk, resumeFrom, retryable, uploadUrl } from "./tus";

function streamOf(chunks: number[][]): ReadableStreamDefaultReader<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(c) {
      for (const ch of chunks) c.enqueue(new Uint8Array(ch));
      c.close();
    },
  }).getReader();
}

async function collect(it: AsyncGenerator<Uint8Array>): Promise<number[][]> {
  const out: number[][] = [];
  for await (const c of it) out.push([...c]);
  return out;
}

describe("encodeUploadMetadata", () => {
  it("base64-encodes each value", () => {
    expect(encodeUploadMetadata({ item: "abc" })).toBe("item YWJj");
    expect(encodeUploadMetadata({ item: "abc", sha256: "ff" })).toBe("item YWJj,sha256 ZmY=");
  });
  it("refuses keys with spaces or commas", () => {
    expect(() => encodeUploadMetadata({ "a b": "x" })).toThrow(/bad Upload-Metadata key/);
  });
});

describe("parseOffset", () => {
  it("reads whole numbers", () => {
    expect(parseOffset("0")).toBe(0);
    expect(parseOffset(" 52428800 ")).toBe(52428800);
  });
  it("refuses anything else", () => {
    expect(() => parseOffset(null)).toThrow(/no Upload-Offset/);
    expect(() => parseOffset("")).toThrow(/bad Upload-Offset/);
    expect(() => parseOffset("-1")).toThrow(/bad/);
    expect(() => parseOffset("1.5")).toThrow(/bad/);
    expect(() => parseOffset("12abc")).toThrow(/bad/);
  });
});

describe("uploadUrl", () => {
  it("accepts an upload path of this server", () => {
    expect(uploadUrl("/api/v1/vault/uploads/01ABC")).toBe("/api/v1/vault/uploads/01ABC");
    expect(uploadUrl("http://h:1/api/v1/vault/uploads/x", "http://h:1")).toBe("/api/v1/vault/uploads/x");
  });
  it("refuses another origin, another path, or none", () => {
    expect(() => uploadUrl(null)).toThrow(/no Location/);
    expect(() => uploadUrl("https://evil.example/api/v1/vault/uploads/x", "http://h:1")).toThrow(/not an upload/);
    expect(() => uploadUrl("/api/v1/items/x")).toThrow(/not an upload/);
    expect(() => uploadUrl("/api/v1/vault/uploads/")).toThrow(/not an upload/);
  });
});

describe("retry rules", () => {
  it("retries the network, conflicts and server errors, not client errors", () => {
    expect([0, 409, 429, 500, 503].map(retryable)).toEqual([true, true, true, true, true]);
    expect([400, 403, 404, 413, 460].map(retryable)).toEqual([false, false, false, false, false]);
  });
  it("backs off exponentially up to a cap", () => {
    expect([1, 2, 3, 4, 5, 9].map(backoffMs)).toEqual([500, 1000, 2000, 4000, 8000, 8000]);
  });
});

describe("resumeFrom", () => {
  it("resends the part of the chunk the server lacks", () => {
    expect(resumeFrom(100, 100, 50)).toBe(0);
    expect(resumeFrom(120, 100, 50)).toBe(20);
    expect(resumeFrom(150, 100, 50)).toBe(50);
  });
  it("refuses an offset outside the chunk", () => {
    expect(() => resumeFrom(99, 100, 50)).toThrow(/cannot continue/);
    expect(() => resumeFrom(151, 100, 50)).toThrow(/cannot continue/);
  });
});

describe("rechunk", () => {
  it("cuts and joins pieces into fixed sizes", async () => {
    const out = await collect(rechunk(streamOf([[1, 2], [3, 4, 5, 6, 7], [8]]), 3));
    expect(out).toEqual([[1, 2, 3], [4, 5, 6], [7, 8]]);
  });
  it("ends without an empty piece on an exact multiple", async () => {
    expect(await collect(rechunk(streamOf([[1, 2, 3, 4]]), 2))).toEqual([[1, 2], [3, 4]]);
    expect(await collect(rechunk(streamOf([]), 2))).toEqual([]);
  });
  it("hands out pieces that later pieces do not overwrite", async () => {
    const it = rechunk(streamOf([[1, 2, 3, 4]]), 2);
    const a = (await it.next()).value as Uint8Array;
    const b = (await it.next()).value as Uint8Array;
    expect([...a, ...b]).toEqual([1, 2, 3, 4]);
  });
});
