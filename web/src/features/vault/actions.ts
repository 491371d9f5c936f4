/**
 * What the vault screen does, step by step: opening item names, creating folders, uploading
 * and downloading files (the heavy work in a worker, with a progress bar each), renaming,
 * moving, trashing, and sharing (rewrapping every version's header for the new recipients).
 */
import { ApiError, authHeaders } from "../../api/client";
import { useSession } from "../../stores/session";
import { rewrapHeader } from "./agefile";
import * as vaultApi from "./api";
import { fromBase64, toBase64 } from "./bytes";
import { openMeta, sealMeta, uniqueName, type Meta } from "./meta";
import { startTask } from "./runner";
import { publicKeys, useTransfers, useVaultKey } from "./store";
import type { Entry, Item } from "./tree";

function unlocked(): { secret: string; publicKey: string; userId: string } {
  const { secret, publicKey, userId } = useVaultKey.getState();
  if (!secret || !publicKey || !userId) throw new Error("The vault is locked.");
  return { secret, publicKey, userId };
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

// ---- Names ---------------------------------------------------------------------------------

/** Opened metadata by item id and sealed value, so a refresh re-opens only what changed. */
const opened = new Map<string, { sealed: string; meta: Meta | null; error?: string }>();
useVaultKey.subscribe((s) => {
  if (!s.secret) opened.clear();
});

/** Items with their names and tags opened with the unlocked key. */
export async function openEntries(items: Item[]): Promise<Entry[]> {
  const { secret } = unlocked();
  return Promise.all(
    items.map(async (item) => {
      const hit = opened.get(item.id);
      if (hit && hit.sealed === item.meta) return { item, meta: hit.meta, error: hit.error };
      try {
        const meta = await openMeta(item.meta, secret);
        opened.set(item.id, { sealed: item.meta, meta });
        return { item, meta };
      } catch (e) {
        const error = `Its name cannot be decrypted: ${errorText(e)}`;
        opened.set(item.id, { sealed: item.meta, meta: null, error });
        return { item, meta: null, error };
      }
    }),
  );
}

// ---- Keys ----------------------------------------------------------------------------------

/** Public keys for these users: one's own from the unlocked key (never the server's word). */
export async function recipientKeys(userIds: string[]): Promise<string[]> {
  const me = unlocked();
  const out: string[] = [];
  for (const id of new Set(userIds)) {
    if (id === me.userId) {
      out.push(me.publicKey);
      continue;
    }
    let key = publicKeys.get(id);
    if (!key) {
      const got = await vaultApi.getPublicKey(id);
      if (!got) throw new Error(`User ${id} has no vault, or shares no team with you: the item cannot be encrypted to them.`);
      key = got;
      publicKeys.set(id, key);
    }
    out.push(key);
  }
  return out;
}

// ---- Items ---------------------------------------------------------------------------------

export async function createFolder(name: string, parentId: string | null): Promise<Item> {
  const { publicKey } = unlocked();
  return vaultApi.createItem("folder", parentId, await sealMeta({ name, tags: [] }, [publicKey]));
}

/** Runs a change against the item's current row_version, once more if it moved meanwhile. */
async function withFreshRow<T>(item: Item, change: (row: number, fresh: Item) => Promise<T>): Promise<T> {
  try {
    return await change(item.row_version, item);
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 409)) throw e;
    const fresh = await vaultApi.getItem(item.id);
    return change(fresh.row_version, fresh);
  }
}

/** A new name, sealed to everyone the item is shared with (tags and other fields kept). */
export async function rename(entry: Entry, name: string): Promise<Item> {
  const base: Meta = entry.meta ?? { name, tags: [] };
  return withFreshRow(entry.item, async (row, fresh) => {
    const keys = await recipientKeys(fresh.recipients);
    const meta = await sealMeta({ ...base, name }, keys);
    return vaultApi.patchItem(entry.item.id, { meta, row_version: row });
  });
}

export function move(entry: Entry, parentId: string | null): Promise<Item> {
  return withFreshRow(entry.item, (row) => vaultApi.patchItem(entry.item.id, { parent_id: parentId, row_version: row }));
}

// ---- Transfers -----------------------------------------------------------------------------

/**
 * Uploads files into a folder, one after another: each becomes an item (its name sealed to
 * the caller), then its content is encrypted and sent by a worker. An item whose upload fails
 * is removed again, as the CLI does. `onStored` runs after each file.
 */
export async function uploadFiles(files: File[], parentId: string | null, taken: string[], onStored: () => void): Promise<void> {
  const names = new Set(taken);
  const transfers = useTransfers.getState();
  const queue = files.map((file) => {
    const name = uniqueName(file.name, names);
    names.add(name);
    const id = transfers.add({ kind: "upload", name, total: file.size });
    // Until its turn comes, cancelling just takes it off the queue.
    transfers.setCancel(id, () => useTransfers.getState().finish(id, "cancelled"));
    return { file, name, id };
  });
  for (const q of queue) {
    const t = useTransfers.getState();
    if (t.list.find((x) => x.id === q.id)?.status !== "running") continue; // cancelled while waiting
    let item: Item | null = null;
    try {
      const { publicKey } = unlocked();
      item = await vaultApi.createItem("file", parentId, await sealMeta({ name: q.name, tags: [] }, [publicKey]));
      const run = startTask({ type: "upload", file: q.file, itemId: item.id, recipients: [publicKey], headers: authHeaders("PATCH") }, (done, total) =>
        useTransfers.getState().progress(q.id, done, total),
      );
      t.setCancel(q.id, run.cancel);
      await run.promise;
      useTransfers.getState().finish(q.id, "done");
    } catch (e) {
      const cancelled = e instanceof DOMException && e.name === "AbortError";
      useTransfers.getState().finish(q.id, cancelled ? "cancelled" : "error", cancelled ? undefined : errorText(e));
      if (item) {
        // An item without content is clutter; the file can be uploaded again from scratch.
        await vaultApi.purgeItem(item.id).catch((err: unknown) => console.warn("vault: could not remove the empty item", item?.id, err));
      }
    }
    onStored();
  }
}

/** Saves a Blob under a name through the browser's own download (an <a download> click). */
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.rel = "noopener";
  a.style.display = "none";
  document.body.appendChild(a);
  a.click();
  a.remove();
  // The browser reads the blob after the click returns; give it time before letting it go.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** Downloads, decrypts and saves an item; only a fully authenticated file is ever saved. */
export async function download(entry: Entry, name: string): Promise<void> {
  const { secret } = unlocked();
  const transfers = useTransfers.getState();
  const id = transfers.add({ kind: "download", name, total: entry.item.size ?? 0 });
  const run = startTask({ type: "download", itemId: entry.item.id, secret, headers: authHeaders("GET") }, (done, total) =>
    useTransfers.getState().progress(id, done, total),
  );
  transfers.setCancel(id, run.cancel);
  try {
    const blob = await run.promise;
    saveBlob(blob, name);
    useTransfers.getState().finish(id, "done");
  } catch (e) {
    const cancelled = e instanceof DOMException && e.name === "AbortError";
    const text = errorText(e);
    useTransfers.getState().finish(id, cancelled ? "cancelled" : "error", cancelled ? undefined : /Nothing was saved/.test(text) ? text : `${text} Nothing was saved.`);
  }
}

// ---- Sharing -------------------------------------------------------------------------------

/** People the item can be shared with: its team's members, or everyone in the caller's teams. */
export async function candidates(item: Item): Promise<{ userId: string; username: string; hasVault: boolean }[]> {
  const me = useSession.getState().me;
  const teams = item.team_id ? [item.team_id] : (await vaultApi.myTeams()).map((t) => t.id);
  const seen = new Map<string, string>();
  for (const t of teams) {
    for (const m of await vaultApi.teamMembers(t)) if (m.user_id !== me?.user.id) seen.set(m.user_id, m.username);
  }
  // Current recipients who are in none of these teams any more still show, to be removable.
  for (const r of item.recipients) if (r !== me?.user.id && !seen.has(r)) seen.set(r, r);
  const out = [];
  for (const [userId, username] of seen) {
    let key = publicKeys.get(userId) ?? null;
    if (!key) {
      key = await vaultApi.getPublicKey(userId);
      if (key) publicKeys.set(userId, key);
    }
    out.push({ userId, username, hasVault: key !== null });
  }
  return out.sort((a, b) => a.username.localeCompare(b.username));
}

/**
 * Gives the item exactly these recipients (the caller always stays one): every version's
 * header and the metadata are rewrapped for them, in one PUT; read again and redone if the
 * item changed meanwhile. When someone was removed, the current content is then re-encrypted
 * under a new file key (a worker streams it down, through, and up), so the key they may have
 * kept opens nothing they can still fetch.
 */
export async function setRecipients(entry: Entry, wanted: string[], name: string): Promise<void> {
  const me = unlocked();
  const all = [...new Set([me.userId, ...wanted])];
  let removed = false;
  for (let tries = 0; ; tries++) {
    const h = await vaultApi.getHeaders(entry.item.id);
    removed = h.recipients.some((r) => !all.includes(r));
    const keys = await recipientKeys(all);
    const meta = await sealMeta(await openMeta(h.meta, me.secret), keys);
    const headers: Record<string, string> = {};
    for (const [version, b64] of Object.entries(h.headers)) {
      headers[version] = toBase64(await rewrapHeader(fromBase64(b64), me.secret, keys));
    }
    try {
      await vaultApi.putRecipients(entry.item.id, { recipients: all, meta, headers, row_version: h.row_version });
      break;
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 409) || tries >= 2) throw e;
    }
  }
  if (!removed || entry.item.kind === "folder") return;
  const fresh = await vaultApi.getItem(entry.item.id);
  if (!fresh.current_version_id) return;
  const keys = await recipientKeys(all);
  const transfers = useTransfers.getState();
  const id = transfers.add({ kind: "reencrypt", name, total: fresh.size ?? 0 });
  const run = startTask({ type: "reencrypt", itemId: entry.item.id, secret: me.secret, recipients: keys, headers: authHeaders("PATCH") }, (done, total) =>
    useTransfers.getState().progress(id, done, total),
  );
  transfers.setCancel(id, run.cancel);
  try {
    await run.promise;
    useTransfers.getState().finish(id, "done");
  } catch (e) {
    const msg = `The recipients were changed, but the content could not be re-encrypted under a new key: ${errorText(e)}. Download it and upload it again to do it by hand.`;
    useTransfers.getState().finish(id, "error", msg);
    throw new Error(msg);
  }
}
