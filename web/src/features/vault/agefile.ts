/**
 * The vault's cryptography over `age-encryption` (the same age v1 format as the `selah vault`
 * CLI and `age` itself): the passphrase-wrapped identity, streaming encryption and decryption,
 * small sealed blobs (item metadata), and rewrapping a header for new recipients when an item is
 * shared. Nothing here talks to the server.
 */
import { Decrypter, Encrypter, generateX25519Identity, identityToRecipient, type Recipient, type Stanza } from "age-encryption";
// @noble/hashes comes with age-encryption (its dependency): the header MAC needs HKDF and HMAC,
// which age-encryption does not export.
import { hkdf } from "@noble/hashes/hkdf.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { toBase64NoPad } from "./bytes";

/** scrypt cost of the passphrase wrapping (log2 N), as the CLI's default and age's. */
export const SCRYPT_LOG_N = 18;
/** The shortest vault passphrase accepted, as the CLI. */
export const MIN_PASSPHRASE = 8;

export interface KeyPair {
  /** `AGE-SECRET-KEY-1…`: never leaves the browser unwrapped. */
  secret: string;
  /** `age1…`. */
  publicKey: string;
}

/** A new X25519 vault identity. */
export async function newIdentity(): Promise<KeyPair> {
  const secret = await generateX25519Identity();
  return { secret, publicKey: await identityToRecipient(secret) };
}

/** The public key of a secret key. */
export function publicKeyOf(secret: string): Promise<string> {
  return identityToRecipient(secret);
}

/** The text that is wrapped: an age identity file, so `age -d` recovers a usable key file. */
export function identityFileText(k: KeyPair): string {
  return `# public key: ${k.publicKey}\n${k.secret}\n`;
}

/** The one `AGE-SECRET-KEY-1…` line of an identity file; `#` lines are comments. */
export function parseIdentityFile(text: string): string {
  const keys = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  if (keys.length !== 1 || !keys[0].startsWith("AGE-SECRET-KEY-1")) {
    throw new Error("The unlocked file is not a vault key (expected exactly one AGE-SECRET-KEY-1… line).");
  }
  return keys[0];
}

/** Wraps the identity under the passphrase: a binary age file with one scrypt stanza. */
export function wrapIdentity(k: KeyPair, passphrase: string, logN = SCRYPT_LOG_N): Promise<Uint8Array> {
  const e = new Encrypter();
  e.setScryptWorkFactor(logN);
  e.setPassphrase(passphrase);
  return e.encrypt(identityFileText(k));
}

/** Unwraps the identity; a wrong passphrase says so plainly. */
export async function unwrapIdentity(wrapped: Uint8Array, passphrase: string): Promise<KeyPair> {
  const d = new Decrypter();
  d.addPassphrase(passphrase);
  let text: string;
  try {
    text = await d.decrypt(wrapped, "text");
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (/no identity matched/i.test(msg)) throw new Error("Wrong vault passphrase.");
    if (/work factor is too high/i.test(msg)) {
      throw new Error(
        "This vault key was wrapped with a scrypt cost higher than the browser accepts (2^20). " +
          "Change the passphrase with `selah vault passwd` on a machine where that picks a lower cost.",
      );
    }
    throw new Error(`The vault key could not be unwrapped: ${msg}`);
  }
  const secret = parseIdentityFile(text);
  return { secret, publicKey: await identityToRecipient(secret) };
}

function encrypter(recipients: string[]): Encrypter {
  if (recipients.length === 0) throw new Error("an item needs at least one recipient");
  const e = new Encrypter();
  for (const r of recipients) e.addRecipient(r);
  return e;
}

/** An age file of `bytes` for `recipients` (small things: item metadata). */
export function sealBytes(bytes: Uint8Array, recipients: string[]): Promise<Uint8Array> {
  return encrypter(recipients).encrypt(bytes);
}

/** The plaintext of a small age file. */
export async function openBytes(file: Uint8Array, secret: string): Promise<Uint8Array> {
  const d = new Decrypter();
  d.addIdentity(secret);
  return d.decrypt(file);
}

/** A stream encrypted as it is read, with the ciphertext size known beforehand. */
export interface SizedStream {
  stream: ReadableStream<Uint8Array>;
  /** The age file's size for a plaintext of `plainSize` bytes. */
  size: (plainSize: number) => number;
}

/** Encrypts a stream: header and nonce first, then 64 KiB STREAM chunks as the input arrives. */
export async function encryptStream(plain: ReadableStream<Uint8Array>, recipients: string[]): Promise<SizedStream> {
  const out = await encrypter(recipients).encrypt(plain);
  return { stream: out, size: (n) => out.size(n) };
}

/**
 * Decrypts a stream. The header (and its MAC) is checked before this resolves; each chunk's tag
 * as it passes, and the last chunk's flag at the end, so a damaged or truncated file makes the
 * stream error, never end quietly.
 */
export async function decryptStream(cipher: ReadableStream<Uint8Array>, secret: string): Promise<SizedStream> {
  const d = new Decrypter();
  d.addIdentity(secret);
  const out = await d.decrypt(cipher);
  return { stream: out, size: (n) => out.size(n) };
}

/** What went wrong in an age decryption, said for a person. */
export function describeDecryptError(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  if (/no identity matched/i.test(msg)) return "it is not encrypted to your vault key";
  if (/invalid header HMAC/i.test(msg)) return "its header was tampered with or damaged";
  if (/invalid tag|final chunk|ciphertext/i.test(msg)) return "it is damaged or incomplete (a chunk failed authentication)";
  if (/invalid (version|stanza|header)/i.test(msg)) return "it is not an age file";
  if (/network|fetch|terminated|aborted|body/i.test(msg)) return "the transfer broke off before the end";
  return msg;
}

/**
 * An X25519 recipient object from `age1…`. age-encryption builds one inside `addRecipient`
 * but does not export the class; the Encrypter's recipient list is read back for it. The
 * sharing test (agefile.test.ts) fails loudly if a new version of the package changes this.
 */
function x25519Recipient(publicKey: string): Recipient {
  if (!/^age1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{58}$/.test(publicKey)) throw new Error(`not an X25519 public key: ${publicKey}`);
  const e = new Encrypter();
  e.addRecipient(publicKey);
  const inner = (e as unknown as { recipients?: unknown[] }).recipients?.[0] as Recipient | undefined;
  if (!inner || typeof inner.wrapFileKey !== "function") {
    throw new Error("this version of age-encryption cannot wrap a key for sharing (see agefile.ts)");
  }
  return inner;
}

/** The header for `stanzas`, with its MAC under `fileKey` (age v1, section "Header"). */
export function encodeHeader(stanzas: Stanza[], fileKey: Uint8Array): Uint8Array {
  let text = "age-encryption.org/v1\n";
  for (const s of stanzas) {
    text += "-> " + s.args.join(" ") + "\n";
    for (let i = 0; i < s.body.length; i += 48) text += toBase64NoPad(s.body.subarray(i, i + 48)) + "\n";
    // A body that fills its last line is followed by an empty one, so the reader knows it ended.
    if (s.body.length % 48 === 0) text += "\n";
  }
  text += "---";
  const enc = new TextEncoder();
  const macKey = hkdf(sha256, fileKey, undefined, enc.encode("header"), 32);
  const mac = hmac(sha256, macKey, enc.encode(text));
  return enc.encode(`${text} ${toBase64NoPad(mac)}\n`);
}

/**
 * A header that opens the same payload for `recipients` (one stanza each): the file key is
 * unwrapped with `secret` (checking the old header's MAC) and wrapped anew. The payload never
 * changes, which is how sharing costs a few hundred bytes per version.
 */
export async function rewrapHeader(header: Uint8Array, secret: string, recipients: string[]): Promise<Uint8Array> {
  if (recipients.length === 0) throw new Error("a header needs at least one recipient");
  const d = new Decrypter();
  d.addIdentity(secret);
  let fileKey: Uint8Array;
  try {
    fileKey = await d.decryptHeader(header);
  } catch (e) {
    throw new Error(`This item's key cannot be opened: ${describeDecryptError(e)}.`);
  }
  const stanzas: Stanza[] = [];
  for (const r of recipients) stanzas.push(...(await x25519Recipient(r).wrapFileKey(fileKey)));
  return encodeHeader(stanzas, fileKey);
}
