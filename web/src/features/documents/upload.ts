/**
 * File uploads with progress. `fetch` cannot report upload progress, so each file goes up with
 * XMLHttpRequest as `multipart/form-data` with the field the server reads (`file`; `title` is
 * optional and defaults to the file name without its extension — see docs/upload.rs), one file
 * per request, carrying the same CSRF and team headers as `api()`. The queue of several files
 * is a small reducer so the component only draws it.
 */
import { ApiError, authHeaders, type Schemas } from "../../api/client";

export type DocumentView = Schemas["DocumentView"];

/** The collection route files are posted to. */
export const UPLOAD_PATH = "/api/v1/docs/documents";

/** An `ApiError` from an XHR's status and body, like `errorFrom` does for `fetch`. */
export function errorFromXhr(status: number, body: string, statusText = ""): ApiError {
  if (status === 0) {
    return new ApiError(
      0,
      "network",
      "The upload stopped before the server answered. Check that Selah is running; a very large file may be over its upload limit.",
    );
  }
  try {
    const parsed = JSON.parse(body) as Partial<Schemas["ErrorBody"]>;
    if (parsed?.error?.code) return new ApiError(status, parsed.error.code, parsed.error.message);
  } catch {
    // Not JSON: described below.
  }
  return new ApiError(status, "http_" + status, `The server answered ${status} ${statusText}.`.replace(" .", "."));
}

/** Percent of an upload sent (0–100, an unknown total counts as 0). */
export function uploadPercent(loaded: number, total: number): number {
  if (!(total > 0) || !Number.isFinite(loaded)) return 0;
  return Math.max(0, Math.min(100, Math.floor((loaded * 100) / total)));
}

export interface UploadOptions {
  title?: string;
  onProgress?: (percent: number) => void;
  signal?: AbortSignal;
}

/** Uploads one file; resolves with the queued document, rejects with `ApiError`. */
export function uploadFile(file: File, opts: UploadOptions = {}): Promise<DocumentView> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", UPLOAD_PATH);
    xhr.withCredentials = true;
    xhr.setRequestHeader("Accept", "application/json");
    for (const [k, v] of Object.entries(authHeaders("POST"))) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => opts.onProgress?.(uploadPercent(e.loaded, e.lengthComputable ? e.total : file.size));
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        try {
          resolve(JSON.parse(xhr.responseText) as DocumentView);
        } catch {
          reject(new ApiError(xhr.status, "bad_response", "The server accepted the file but its answer could not be read."));
        }
      } else {
        reject(errorFromXhr(xhr.status, xhr.responseText, xhr.statusText));
      }
    };
    xhr.onerror = () => reject(errorFromXhr(0, ""));
    xhr.onabort = () => reject(new DOMException("The upload was cancelled.", "AbortError"));
    opts.signal?.addEventListener("abort", () => xhr.abort(), { once: true });
    const form = new FormData();
    if (opts.title?.trim()) form.append("title", opts.title.trim());
    form.append("file", file, file.name);
    xhr.send(form);
  });
}

// ---- The queue of files chosen at once ----

export type UploadStatus = "waiting" | "uploading" | "done" | "failed" | "cancelled";

export interface UploadItem {
  key: string;
  name: string;
  size: number;
  status: UploadStatus;
  percent: number;
  error: string;
}

export type UploadAction =
  | { type: "add"; items: { key: string; name: string; size: number }[] }
  | { type: "start"; key: string }
  | { type: "progress"; key: string; percent: number }
  | { type: "done"; key: string }
  | { type: "failed"; key: string; error: string }
  | { type: "cancelled"; key: string }
  | { type: "clear" };

export function uploadsReducer(items: UploadItem[], a: UploadAction): UploadItem[] {
  const patch = (key: string, p: Partial<UploadItem>) => items.map((i) => (i.key === key ? { ...i, ...p } : i));
  switch (a.type) {
    case "add":
      return [...items, ...a.items.map((i) => ({ ...i, status: "waiting" as const, percent: 0, error: "" }))];
    case "start":
      return patch(a.key, { status: "uploading", percent: 0, error: "" });
    case "progress":
      // Progress never runs backwards, and an upload that finished stays finished.
      return items.map((i) =>
        i.key === a.key && i.status === "uploading" ? { ...i, percent: Math.max(i.percent, Math.min(100, a.percent)) } : i,
      );
    case "done":
      return patch(a.key, { status: "done", percent: 100 });
    case "failed":
      return patch(a.key, { status: "failed", error: a.error });
    case "cancelled":
      return patch(a.key, { status: "cancelled" });
    case "clear":
      // Finished rows go; waiting and running ones stay.
      return items.filter((i) => i.status === "waiting" || i.status === "uploading");
  }
}

/** The next file to send (one at a time: the server streams each to disk and hashes it). */
export function nextWaiting(items: readonly UploadItem[]): UploadItem | null {
  if (items.some((i) => i.status === "uploading")) return null;
  return items.find((i) => i.status === "waiting") ?? null;
}
