/**
 * Byte helpers for the vault: standard base64 (what the API carries), unpadded base64 (what age
 * headers carry), hex (the SHA-256 the tus upload announces) and human-readable sizes.
 */

/** Standard base64 with padding. Built in slices so a 64 KiB input cannot overflow the stack. */
export function toBase64(bytes: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(bin);
}

/** Decodes standard base64 (whitespace ignored); throws on anything else. */
export function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const clean = text.replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 === 1) {
    throw new Error("not base64");
  }
  const bin = atob(clean);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** base64 without `=` padding, as age writes stanza bodies and the header MAC. */
export function toBase64NoPad(bytes: Uint8Array): string {
  return toBase64(bytes).replace(/=+$/, "");
}

/** Lower-case hex. */
export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/** UTF-8 text as base64 (tus `Upload-Metadata` values). */
export function textToBase64(text: string): string {
  return toBase64(new TextEncoder().encode(text));
}

const UNITS = ["B", "KB", "MB", "GB", "TB"];

/** 1536 → "1.5 KB"; decimal units like the rest of the app's sizes. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return "—";
  let v = n;
  let u = 0;
  while (v >= 1000 && u < UNITS.length - 1) {
    v /= 1000;
    u += 1;
  }
  return u === 0 ? `${v} B` : `${v < 10 ? v.toFixed(1) : Math.round(v)} ${UNITS[u]}`;
}
