/**
 * The vault's heavy work, as messages: uploads, downloads, re-encryption, and the scrypt
 * wrapping of the identity. `runTask` does one; the Web Worker (worker.ts) runs it off the main
 * thread, and runner.ts falls back to running it here where there are no workers (tests).
 */
import { ApiError } from "../../api/client";
import { newIdentity, unwrapIdentity, wrapIdentity, type KeyPair } from "./agefile";
import { downloadDecrypted, reencrypt } from "./download";
import { uploadEncrypted, type UploadResult } from "./upload";

export type Task =
  | { type: "upload"; file: Blob; itemId: string; recipients: string[]; headers: Record<string, string> }
  | { type: "download"; itemId: string; version?: string; secret: string; headers: Record<string, string> }
  | { type: "reencrypt"; itemId: string; secret: string; recipients: string[]; headers: Record<string, string> }
  | { type: "create-identity"; passphrase: string }
  | { type: "unwrap"; wrapped: Uint8Array; passphrase: string };

/** What each task resolves to. */
export interface Results {
  upload: UploadResult;
  download: Blob;
  reencrypt: UploadResult;
  "create-identity": KeyPair & { wrapped: Uint8Array };
  unwrap: KeyPair;
}

export type Progress = (done: number, total: number) => void;

/** An error as it crosses from the worker (Error objects lose their class on the way). */
export interface WireError {
  name: string;
  message: string;
  status?: number;
  code?: string;
}

export function toWire(e: unknown): WireError {
  if (e instanceof ApiError) return { name: e.name, message: e.message, status: e.status, code: e.code };
  if (e instanceof Error || e instanceof DOMException) return { name: e.name, message: e.message };
  return { name: "Error", message: String(e) };
}

export function fromWire(w: WireError): Error {
  if (w.name === "ApiError" && w.status !== undefined) return new ApiError(w.status, w.code ?? "error", w.message);
  if (w.name === "AbortError") return new DOMException(w.message, "AbortError");
  const e = new Error(w.message);
  e.name = w.name;
  return e;
}

function origin(): string | undefined {
  return typeof location === "undefined" ? undefined : location.origin;
}

export async function runTask(task: Task, onProgress: Progress, signal: AbortSignal): Promise<Results[Task["type"]]> {
  switch (task.type) {
    case "upload":
      return uploadEncrypted({
        itemId: task.itemId,
        plain: task.file.stream(),
        plainSize: task.file.size,
        recipients: task.recipients,
        headers: task.headers,
        signal,
        onProgress,
        origin: origin(),
      });
    case "download":
      return downloadDecrypted({ ...task, signal, onProgress, origin: origin() });
    case "reencrypt":
      return reencrypt({ ...task, signal, onProgress, origin: origin() });
    case "create-identity": {
      const k = await newIdentity();
      return { ...k, wrapped: await wrapIdentity(k, task.passphrase) };
    }
    case "unwrap":
      return unwrapIdentity(task.wrapped, task.passphrase);
  }
}
