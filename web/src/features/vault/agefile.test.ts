/**
 * Round trips of the vault's age code: the passphrase-wrapped identity, streaming encryption and
 * decryption (sizes, tampering, truncation), and rewrapping a header for sharing.
 */
import { describe, expect, it } from "vitest";
import {
  decryptStream,
  encryptStream,
  newIdentity,
  parseIdentityFile,
  publicKeyOf,
  rewrapHeader,
  unwrapIdentity,
  wrapIdentity,
} from "./agefile";
import { random, streamOf } from "./testing";

async function readAll(s: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(s).arrayBuffer());
}

/** Where an age file's header ends (after the `--- MAC` line). */
function headerEnd(file: Uint8Array): number {
  const text = new TextDecoder("latin1").decode(file.subarray(0, 4096));
  const mac = text.indexOf("\n--- ");
  return text.indexOf("\n", mac + 1) + 1;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

describe("identity", () => {
  it("wraps under a passphrase and unwraps to the same key pair", async () => {
    const k = await newIdentity();
    expect(k.secret).toMatch(/^AGE-SECRET-KEY-1/);
    expect(k.publicKey).toBe(await publicKeyOf(k.secret));
    const wrapped = await wrapIdentity(k, "correct horse battery", 10);
    const text = new TextDecoder("latin1").decode(wrapped);
    expect(text).toMatch(/^age-encryption\.org\/v1\n-> scrypt \S+ 10\n/);
    expect(text).not.toContain(k.secret);
    expect(await unwrapIdentity(wrapped, "correct horse battery")).toEqual(k);
  });

  it("says a wrong passphrase is wrong", async () => {
    const wrapped = await wrapIdentity(await newIdentity(), "correct horse battery", 10);
    await expect(unwrapIdentity(wrapped, "incorrect horse")).rejects.toThrow("Wrong vault passphrase.");
  });

  it("reads identity files with comments, and only with one key", () => {
    expect(parseIdentityFile("# created: x\n# public key: age1abc\nAGE-SECRET-KEY-1XYZ\n")).toBe("AGE-SECRET-KEY-1XYZ");
    expect(() => parseIdentityFile("# nothing\n")).toThrow(/not a vault key/);
    expect(() => parseIdentityFile("AGE-SECRET-KEY-1A\nAGE-SECRET-KEY-1B\n")).toThrow(/not a vault key/);
  });
});

describe("streaming encryption", () => {
  // Sizes around the 64 KiB STREAM chunk: empty, one byte, exactly one chunk, several chunks.
  for (const n of [0, 1, 65536, 65537, 300_000]) {
    it(`round-trips ${n} bytes with the announced size`, async () => {
      const k = await newIdentity();
      const plain = random(n);
      const enc = await encryptStream(streamOf(plain), [k.publicKey]);
      const file = await readAll(enc.stream);
      expect(file.length).toBe(enc.size(n));
      const dec = await decryptStream(streamOf(file, 4099), k.secret);
      expect(dec.size(file.length)).toBe(n);
      expect(await readAll(dec.stream)).toEqual(plain);
    });
  }

  it("fails on a flipped byte in the payload", async () => {
    const k = await newIdentity();
    const file = await readAll((await encryptStream(streamOf(random(200_000)), [k.publicKey])).stream);
    file[file.length - 70_000] ^= 1;
    const dec = await decryptStream(streamOf(file), k.secret);
    await expect(readAll(dec.stream)).rejects.toThrow();
  });

  it("fails on a file cut at a chunk boundary, which would otherwise look complete", async () => {
    const k = await newIdentity();
    const file = await readAll((await encryptStream(streamOf(random(65536 * 3)), [k.publicKey])).stream);
    const cut = file.subarray(0, headerEnd(file) + 16 + 2 * (65536 + 16));
    const dec = await decryptStream(streamOf(cut), k.secret);
    await expect(readAll(dec.stream)).rejects.toThrow();
  });

  it("refuses a key the file is not encrypted to", async () => {
    const a = await newIdentity();
    const b = await newIdentity();
    const file = await readAll((await encryptStream(streamOf(random(10)), [a.publicKey])).stream);
    await expect(decryptStream(streamOf(file), b.secret)).rejects.toThrow(/no identity matched/);
  });
});

describe("rewrapHeader", () => {
  it("opens the unchanged payload for the new recipients only", async () => {
    const owner = await newIdentity();
    const mate = await newIdentity();
    const outsider = await newIdentity();
    const plain = random(150_000);
    const file = await readAll((await encryptStream(streamOf(plain), [owner.publicKey])).stream);
    const end = headerEnd(file);
    const header = await rewrapHeader(file.subarray(0, end), owner.secret, [owner.publicKey, mate.publicKey]);
    expect(new TextDecoder().decode(header).match(/^-> X25519 /gm)).toHaveLength(2);
    const shared = concat(header, file.subarray(end));
    for (const who of [owner, mate]) {
      expect(await readAll((await decryptStream(streamOf(shared), who.secret)).stream)).toEqual(plain);
    }
    await expect(decryptStream(streamOf(shared), outsider.secret)).rejects.toThrow(/no identity matched/);
    // Unsharing: the mate's stanza is gone again.
    const back = await rewrapHeader(header, owner.secret, [owner.publicKey]);
    await expect(decryptStream(streamOf(concat(back, file.subarray(end))), mate.secret)).rejects.toThrow(/no identity matched/);
  });

  it("refuses a header the caller cannot open", async () => {
    const a = await newIdentity();
    const b = await newIdentity();
    const file = await readAll((await encryptStream(streamOf(random(5)), [a.publicKey])).stream);
    await expect(rewrapHeader(file.subarray(0, headerEnd(file)), b.secret, [b.publicKey])).rejects.toThrow(/not encrypted to your vault key/);
  });
});
