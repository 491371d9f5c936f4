/**
 * Item metadata: `{"name", "tags"}` as JSON, sealed as an age file to the item's recipients and
 * sent base64 (docs/VAULT.md). The server never sees a name or a tag. Fields another client
 * added are kept when the metadata is rewritten, as the CLI does.
 */
import { fromBase64, toBase64 } from "./bytes";
import { openBytes, sealBytes } from "./agefile";

/** The largest sealed metadata the server takes (decoded). */
export const MAX_META = 64 * 1024;

export interface Meta {
  name: string;
  tags: string[];
  /** Anything else another client stored. */
  [extra: string]: unknown;
}

/** The JSON bytes of metadata. */
export function encodeMeta(meta: Meta): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ ...meta, name: meta.name, tags: meta.tags }));
}

/** Metadata from JSON bytes: a name is required, tags default to none, other fields are kept. */
export function decodeMeta(bytes: Uint8Array): Meta {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw new Error("the item's metadata is not JSON");
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error("the item's metadata is not a JSON object");
  const o = v as Record<string, unknown>;
  if (typeof o.name !== "string") throw new Error("the item's metadata has no name");
  const tags = Array.isArray(o.tags) ? o.tags.filter((t): t is string => typeof t === "string") : [];
  return { ...o, name: o.name, tags };
}

/** Why a name cannot be used, or null when it can (the CLI's rules). */
export function checkName(name: string): string | null {
  if (name.trim() === "") return "The name is empty.";
  if (name.includes("/")) return "A name cannot contain “/” (make a folder instead).";
  // Control characters would make a name that cannot be typed, or one that breaks a listing.
  if (/[\u0000-\u001f\u007f]/.test(name)) return "A name cannot contain control characters.";
  return null;
}

/**
 * `name`, or `name (2).ext`, `name (3).ext`, … so that an upload never takes the name of
 * something already in the folder (names are how the CLI finds items).
 */
export function uniqueName(name: string, taken: Iterable<string>): string {
  const used = new Set(taken);
  if (!used.has(name)) return name;
  const dot = name.lastIndexOf(".");
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ""];
  for (let n = 2; ; n++) {
    const candidate = `${stem} (${n})${ext}`;
    if (!used.has(candidate)) return candidate;
  }
}

/** Seals metadata to the recipients' public keys; returns the base64 the API takes. */
export async function sealMeta(meta: Meta, recipients: string[]): Promise<string> {
  const file = await sealBytes(encodeMeta(meta), recipients);
  if (file.length > MAX_META) {
    throw new Error(`The name and tags are too long (${file.length} bytes encrypted, at most ${MAX_META}).`);
  }
  return toBase64(file);
}

/** Opens base64 metadata with the caller's secret key. */
export async function openMeta(b64: string, secret: string): Promise<Meta> {
  return decodeMeta(await openBytes(fromBase64(b64), secret));
}
