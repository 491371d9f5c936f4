/**
 * The vault's JSON endpoints (docs/VAULT.md), through the app's `api()` so errors carry the
 * server's message. The tus uploads and content downloads stream instead (upload.ts,
 * download.ts).
 */
import { api, ApiError, type Schemas } from "../../api/client";
import { toBase64 } from "./bytes";
import type { Item } from "./tree";

export const VAULT = "/api/v1/vault";
export type Identity = Schemas["Identity"];
export type ItemDetail = Schemas["ItemDetail"];
export type Member = Schemas["MemberView"];

/** Items per list request (the server's default; at most 5000). */
const PAGE = 1000;

/** The caller's vault identity, or null when they have none yet. */
export async function getIdentity(): Promise<Identity | null> {
  try {
    return await api<Identity>(`${VAULT}/identity`);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

export function putIdentity(publicKey: string, wrapped: Uint8Array, version = 0): Promise<Identity> {
  return api<Identity>(`${VAULT}/identity`, {
    method: "PUT",
    body: { public_key: publicKey, wrapped_identity: toBase64(wrapped), version },
  });
}

/** Every visible item of the current context, live or in the trash, page by page. */
export async function listItems(trashed: boolean): Promise<Item[]> {
  const out: Item[] = [];
  for (;;) {
    const after = out.length ? `&after=${encodeURIComponent(out[out.length - 1].id)}` : "";
    const page = await api<Item[]>(`${VAULT}/items?trashed=${trashed}&limit=${PAGE}${after}`);
    out.push(...page);
    if (page.length < PAGE) return out;
  }
}

export function getItem(id: string): Promise<ItemDetail> {
  return api<ItemDetail>(`${VAULT}/items/${encodeURIComponent(id)}`);
}

export function createItem(kind: "file" | "folder" | "note", parentId: string | null, meta: string): Promise<Item> {
  return api<Item>(`${VAULT}/items`, { body: { kind, parent_id: parentId, meta } });
}

export function patchItem(id: string, body: Schemas["PatchItemBody"]): Promise<Item> {
  return api<Item>(`${VAULT}/items/${encodeURIComponent(id)}`, { method: "PATCH", body });
}

export function trashItem(id: string): Promise<void> {
  return api<void>(`${VAULT}/items/${encodeURIComponent(id)}`, { method: "DELETE" });
}

export function purgeItem(id: string): Promise<void> {
  return api<void>(`${VAULT}/items/${encodeURIComponent(id)}?purge=true`, { method: "DELETE" });
}

export function restoreItem(id: string): Promise<Item> {
  return api<Item>(`${VAULT}/items/${encodeURIComponent(id)}/restore`, { method: "POST" });
}

export function getHeaders(id: string): Promise<Schemas["Headers"]> {
  return api<Schemas["Headers"]>(`${VAULT}/items/${encodeURIComponent(id)}/headers`);
}

export function putRecipients(id: string, body: Schemas["PutRecipientsBody"]): Promise<Item> {
  return api<Item>(`${VAULT}/items/${encodeURIComponent(id)}/recipients`, { method: "PUT", body });
}

/** A user's public key, or null when they have no vault (or share no team with the caller). */
export async function getPublicKey(userId: string): Promise<string | null> {
  try {
    return (await api<Schemas["PublicKey"]>(`${VAULT}/public-keys/${encodeURIComponent(userId)}`)).public_key;
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

/** The caller's teams, fresh (one joined since sign-in counts too). */
export function myTeams(): Promise<Schemas["TeamView"][]> {
  return api<Schemas["TeamView"][]>("/api/v1/teams");
}

export function teamMembers(teamId: string): Promise<Member[]> {
  return api<Member[]>(`/api/v1/teams/${encodeURIComponent(teamId)}/members`);
}
