/**
 * Uploading files: choose several (or drop them), each goes up in turn with its own progress
 * bar; a refused file shows the server's reason (size limit, format) and the rest carry on.
 * A finished upload joins the list at once, queued for indexing.
 */
import { useEffect, useId, useReducer, useRef, useState, type DragEvent } from "react";
import { formatBytes } from "./state";
import { useDocs } from "./store";
import { nextWaiting, uploadFile, uploadsReducer, type UploadItem } from "./upload";

let seq = 0;

export function UploadPanel() {
  const inputId = useId();
  const upsert = useDocs((s) => s.upsert);
  const [items, dispatch] = useReducer(uploadsReducer, []);
  const files = useRef(new Map<string, File>());
  const controllers = useRef(new Map<string, AbortController>());
  const [dragging, setDragging] = useState(false);

  function add(list: FileList | File[] | null) {
    const chosen = Array.from(list ?? []);
    if (!chosen.length) return;
    const batch = chosen.map((f) => {
      const key = `u${++seq}`;
      files.current.set(key, f);
      return { key, name: f.name, size: f.size };
    });
    dispatch({ type: "add", items: batch });
  }

  // One upload at a time: start the next waiting file whenever nothing is running.
  useEffect(() => {
    const next = nextWaiting(items);
    if (!next) return;
    const file = files.current.get(next.key);
    if (!file) {
      dispatch({ type: "failed", key: next.key, error: "The file is no longer available; choose it again." });
      return;
    }
    const ctl = new AbortController();
    controllers.current.set(next.key, ctl);
    dispatch({ type: "start", key: next.key });
    uploadFile(file, { signal: ctl.signal, onProgress: (percent) => dispatch({ type: "progress", key: next.key, percent }) })
      .then((doc) => {
        dispatch({ type: "done", key: next.key });
        upsert(doc);
      })
      .catch((e: unknown) => {
        if (e instanceof DOMException && e.name === "AbortError") dispatch({ type: "cancelled", key: next.key });
        else dispatch({ type: "failed", key: next.key, error: e instanceof Error ? e.message : String(e) });
      })
      .finally(() => {
        files.current.delete(next.key);
        controllers.current.delete(next.key);
      });
  }, [items, upsert]);

  // Leaving the screen (or switching context) stops what is still going up.
  useEffect(() => {
    const running = controllers.current;
    return () => running.forEach((c) => c.abort());
  }, []);

  function cancel(item: UploadItem) {
    if (item.status === "uploading") controllers.current.get(item.key)?.abort();
    else if (item.status === "waiting") {
      files.current.delete(item.key);
      dispatch({ type: "cancelled", key: item.key });
    }
  }

  const finished = items.some((i) => i.status !== "waiting" && i.status !== "uploading");

  return (
    <section
      className={`card flex flex-col gap-3 ${dragging ? "ring-2 ring-sky-700" : ""}`}
      aria-labelledby={`${inputId}-h`}
      onDragOver={(e: DragEvent) => {
        if (e.dataTransfer.types.includes("Files")) {
          e.preventDefault();
          setDragging(true);
        }
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={(e: DragEvent) => {
        e.preventDefault();
        setDragging(false);
        add(e.dataTransfer.files);
      }}
    >
      <h2 id={`${inputId}-h`} className="text-lg font-semibold text-slate-900">
        Upload files
      </h2>
      <div className="flex flex-col gap-1">
        <label htmlFor={inputId} className="text-sm font-medium text-slate-800">
          Files to upload
        </label>
        <input
          id={inputId}
          type="file"
          multiple
          className="block w-full text-sm text-slate-800 file:mr-3 file:rounded-md file:border-0 file:bg-sky-700 file:px-3 file:py-1.5 file:text-sm file:font-medium file:text-white hover:file:bg-sky-800 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-700"
          onChange={(e) => {
            add(e.target.files);
            // The same file can be chosen again after a failure.
            e.target.value = "";
          }}
        />
        <p className="text-xs text-slate-700">Plain text, Markdown, HTML, PDF or Word (DOCX). You can also drop files here.</p>
      </div>
      {items.length > 0 && (
        <ul aria-label="Uploads" className="flex flex-col gap-2">
          {items.map((i) => (
            <UploadRow key={i.key} item={i} onCancel={() => cancel(i)} />
          ))}
        </ul>
      )}
      {finished && (
        <button className="btn-secondary self-start" onClick={() => dispatch({ type: "clear" })}>
          Clear finished uploads
        </button>
      )}
    </section>
  );
}

function UploadRow({ item, onCancel }: { item: UploadItem; onCancel: () => void }) {
  const status = {
    waiting: "Waiting",
    uploading: `Uploading ${item.percent}%`,
    done: "Uploaded, queued for indexing",
    failed: "Refused",
    cancelled: "Cancelled",
  }[item.status];
  return (
    <li className="flex flex-col gap-1 rounded-md border border-slate-200 p-2" data-upload={item.status}>
      <div className="flex flex-wrap items-center justify-between gap-2">
        <span className="min-w-0 text-sm font-medium break-all text-slate-900">
          {item.name} <span className="font-normal text-slate-700">({formatBytes(item.size)})</span>
        </span>
        <span className="text-xs text-slate-800" aria-live="polite">
          {status}
        </span>
      </div>
      {(item.status === "uploading" || item.status === "waiting") && (
        <div className="flex items-center gap-2">
          <progress className="h-2 min-w-0 flex-1 accent-sky-700" max={100} value={item.percent} aria-label={`Upload of ${item.name}`} />
          <button className="btn-secondary" onClick={onCancel} aria-label={`Cancel upload of ${item.name}`}>
            Cancel
          </button>
        </div>
      )}
      {item.status === "failed" && (
        <p className="error-text" role="alert">
          {item.name}: {item.error}
        </p>
      )}
    </li>
  );
}
