/**
 * The vault's Web Worker: runs one task (tasks.ts) off the main thread, so encrypting or
 * decrypting gigabytes and the scrypt of the passphrase never freeze the page. Messages in:
 * `{type: "run", task}` then optionally `{type: "cancel"}`; out: `progress`, then `done` or
 * `error`.
 */
import { runTask, toWire, type Task } from "./tasks";

const scope = self as unknown as DedicatedWorkerGlobalScope;
const controller = new AbortController();

scope.onmessage = (e: MessageEvent<{ type: "run"; task: Task } | { type: "cancel" }>) => {
  const msg = e.data;
  if (msg.type === "cancel") {
    controller.abort();
    return;
  }
  runTask(msg.task, (done, total) => scope.postMessage({ type: "progress", done, total }), controller.signal).then(
    (result) => scope.postMessage({ type: "done", result }),
    (err: unknown) => scope.postMessage({ type: "error", error: toWire(err) }),
  );
};
