/**
 * Starts a vault task in a Web Worker (one per task, ended when it finishes) and hands back its
 * result as a promise, with progress and cancelling. Without workers (tests, very old browsers)
 * the same code runs on this thread.
 */
import { fromWire, runTask, type Progress, type Results, type Task, type WireError } from "./tasks";

export interface Running<T> {
  promise: Promise<T>;
  cancel: () => void;
}

type Reply = { type: "progress"; done: number; total: number } | { type: "done"; result: unknown } | { type: "error"; error: WireError };

export function startTask<T extends Task>(task: T, onProgress: Progress = () => {}): Running<Results[T["type"]]> {
  if (typeof Worker === "undefined") {
    const controller = new AbortController();
    const promise = runTask(task, onProgress, controller.signal) as Promise<Results[T["type"]]>;
    return { promise, cancel: () => controller.abort() };
  }
  const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module", name: `vault-${task.type}` });
  const promise = new Promise<Results[T["type"]]>((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<Reply>) => {
      const m = e.data;
      if (m.type === "progress") onProgress(m.done, m.total);
      else if (m.type === "done") {
        worker.terminate();
        resolve(m.result as Results[T["type"]]);
      } else {
        worker.terminate();
        reject(fromWire(m.error));
      }
    };
    worker.onerror = (e) => {
      worker.terminate();
      reject(new Error(`The vault's background worker failed: ${e.message || "it could not start"}.`));
    };
  });
  worker.postMessage({ type: "run", task });
  return { promise, cancel: () => worker.postMessage({ type: "cancel" }) };
}

/** Runs a task to its end (no progress, no cancelling). */
export function runInBackground<T extends Task>(task: T): Promise<Results[T["type"]]> {
  return startTask(task).promise;
}
