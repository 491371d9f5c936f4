/**
 * The one way the app talks to Selah's HTTP API: JSON in and out, the session cookie, the CSRF
 * header on changes, the team context header, and errors turned into `ApiError` with the
 * server's stable code and message.
 */
import type { components } from "./schema";

/** Types of the API, generated from docs/openapi.json (`npm run gen:api`). */
export type Schemas = components["schemas"];

/** An error answer from the API (or the network), with the server's stable code. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly retryAfter?: number;
  constructor(status: number, code: string, message: string, retryAfter?: number) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

/** Header values every request carries; set by the session and context stores. */
const state = { csrf: "", team: "" };

/** The CSRF token of the current session (from login or `/auth/me`). */
export function setCsrf(token: string): void {
  state.csrf = token;
}

/** The team id requests act in; empty for the personal (Local) context. */
export function setTeamContext(teamId: string): void {
  state.team = teamId;
}

export function teamContext(): string {
  return state.team;
}

/** Headers for a request made outside `api()` (uploads with progress, streams). */
export function authHeaders(method = "GET"): Record<string, string> {
  const h: Record<string, string> = {};
  if (method !== "GET" && method !== "HEAD" && state.csrf) h["X-CSRF-Token"] = state.csrf;
  if (state.team) h["X-Selah-Team"] = state.team;
  return h;
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  signal?: AbortSignal;
  /** Extra headers (e.g. a different team context for one call). */
  headers?: Record<string, string>;
}

/** Calls the API and returns the parsed JSON body (undefined for 204). */
export async function api<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const res = await send(path, opts);
  if (res.status === 204) return undefined as T;
  const type = res.headers.get("content-type") ?? "";
  return (type.includes("json") ? await res.json() : await res.text()) as T;
}

/** Sends a request and returns the raw response once it is known to be a success. */
export async function send(path: string, opts: RequestOptions = {}): Promise<Response> {
  const method = opts.method ?? (opts.body === undefined ? "GET" : "POST");
  const headers: Record<string, string> = { Accept: "application/json", ...authHeaders(method), ...opts.headers };
  let body: BodyInit | undefined;
  if (opts.body instanceof FormData || opts.body instanceof Blob || typeof opts.body === "string") {
    body = opts.body;
  } else if (opts.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(opts.body);
  }
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body, signal: opts.signal, credentials: "same-origin" });
  } catch (e) {
    if (e instanceof DOMException && e.name === "AbortError") throw e;
    throw new ApiError(0, "network", "Selah cannot be reached. Check that the server is running.");
  }
  if (!res.ok) throw await errorFrom(res);
  return res;
}

/** Reads the API's `{"error":{code,message}}` body, or describes a response without one. */
export async function errorFrom(res: Response): Promise<ApiError> {
  const retry = Number(res.headers.get("retry-after")) || undefined;
  try {
    const body = (await res.json()) as Schemas["ErrorBody"];
    if (body?.error?.code) return new ApiError(res.status, body.error.code, body.error.message, retry);
  } catch {
    // Not JSON: fall through to a generic description.
  }
  return new ApiError(res.status, "http_" + res.status, `The server answered ${res.status} ${res.statusText}.`, retry);
}
