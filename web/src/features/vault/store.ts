/**
 * The vault's in-memory state: the unlocked identity (never written to storage: a reload, the
 * Lock button or signing out forgets it), teammates' public keys, and the transfers with their
 * progress.
 */
import { create } from "zustand";
import { useSession } from "../../stores/session";
import { sampleRate, startRate, type Rate } from "./eta";

interface IdentityState {
  /** `AGE-SECRET-KEY-1…` while unlocked. */
  secret: string | null;
  publicKey: string | null;
  /** Whose key this is: another user signing in on this page locks it. */
  userId: string | null;
  unlock: (secret: string, publicKey: string, userId: string) => void;
  lock: () => void;
}

export const useVaultKey = create<IdentityState>((set) => ({
  secret: null,
  publicKey: null,
  userId: null,
  unlock: (secret, publicKey, userId) => set({ secret, publicKey, userId }),
  lock: () => {
    publicKeys.clear();
    set({ secret: null, publicKey: null, userId: null });
  },
}));

// Signing out, or someone else signing in, locks the vault.
useSession.subscribe((s) => {
  const held = useVaultKey.getState().userId;
  if (held && s.me?.user.id !== held) useVaultKey.getState().lock();
});

/** Teammates' public keys by user id, for this unlocked session. */
export const publicKeys = new Map<string, string>();

export type TransferKind = "upload" | "download" | "reencrypt";
export type TransferStatus = "running" | "done" | "error" | "cancelled";

export interface Transfer {
  id: string;
  kind: TransferKind;
  name: string;
  done: number;
  total: number;
  status: TransferStatus;
  error?: string;
  rate: Rate;
  cancel?: () => void;
}

interface TransferState {
  list: Transfer[];
  add: (t: Pick<Transfer, "kind" | "name" | "total"> & { cancel?: () => void }) => string;
  progress: (id: string, done: number, total: number) => void;
  finish: (id: string, status: Exclude<TransferStatus, "running">, error?: string) => void;
  setCancel: (id: string, cancel: () => void) => void;
  dismiss: (id: string) => void;
  clearFinished: () => void;
}

let seq = 0;

export const useTransfers = create<TransferState>((set) => ({
  list: [],
  add(t) {
    const id = `t${++seq}`;
    const now = Date.now();
    set((s) => ({ list: [...s.list, { ...t, id, done: 0, status: "running", rate: startRate(now) }] }));
    return id;
  },
  progress(id, done, total) {
    const now = Date.now();
    set((s) => ({
      list: s.list.map((t) => (t.id === id ? { ...t, done, total: total || t.total, rate: sampleRate(t.rate, done, now) } : t)),
    }));
  },
  finish(id, status, error) {
    set((s) => ({
      list: s.list.map((t) => (t.id === id ? { ...t, status, error, cancel: undefined, done: status === "done" ? t.total : t.done } : t)),
    }));
  },
  setCancel(id, cancel) {
    set((s) => ({ list: s.list.map((t) => (t.id === id ? { ...t, cancel } : t)) }));
  },
  dismiss(id) {
    set((s) => ({ list: s.list.filter((t) => t.id !== id) }));
  },
  clearFinished() {
    set((s) => ({ list: s.list.filter((t) => t.status === "running") }));
  },
}));
