/**
 * The context's documents with their indexing state (polled by the screen while any is pending),
 * each with its Local/Team badge, a link to the viewer, and rename and delete.
 */
import { useId, useState, type FormEvent } from "react";
import { ContextBadge } from "../../components/ContextBadge";
import { linkHandler } from "../../router";
import { DeleteDialog } from "./DeleteDialog";
import { viewerPath } from "./query";
import { formatBytes, formatLabel } from "./state";
import { StateBadge } from "./StateBadge";
import { useDocs, type DocumentView } from "./store";

export function DocumentList() {
  const { docs, loaded, loadError, actionError, remove, clearActionError } = useDocs();
  const [deleting, setDeleting] = useState<DocumentView | null>(null);
  return (
    <section className="card flex flex-col gap-3" aria-labelledby="doc-list-h">
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <h2 id="doc-list-h" className="text-lg font-semibold text-slate-900">
          Library
        </h2>
        {loaded && <span className="text-sm text-slate-700">{docs.length === 1 ? "1 document" : `${docs.length} documents`}</span>}
      </div>
      {loadError && (
        <p className="error-text" role="alert">
          Could not load the documents: {loadError}
        </p>
      )}
      {actionError && (
        <div className="flex flex-wrap items-center gap-2" role="alert">
          <p className="error-text">{actionError}</p>
          <button className="btn-secondary" onClick={clearActionError}>
            Dismiss
          </button>
        </div>
      )}
      {!loaded && <p className="text-slate-700">Loading documents…</p>}
      {loaded && !loadError && docs.length === 0 && (
        <p className="text-slate-700">No documents here yet. Upload a file or write a note.</p>
      )}
      {docs.length > 0 && (
        <ul aria-label="Documents" className="flex flex-col divide-y divide-slate-200">
          {docs.map((d) => (
            <DocumentRow key={d.id} doc={d} onDelete={() => setDeleting(d)} />
          ))}
        </ul>
      )}
      <DeleteDialog
        title={deleting?.title ?? null}
        onClose={() => setDeleting(null)}
        onConfirm={() => {
          const id = deleting?.id;
          setDeleting(null);
          if (id) void remove(id);
        }}
      />
    </section>
  );
}

function DocumentRow({ doc, onDelete }: { doc: DocumentView; onDelete: () => void }) {
  const rename = useDocs((s) => s.rename);
  const inputId = useId();
  const [editing, setEditing] = useState(false);
  const [title, setTitle] = useState(doc.title);

  function submit(e: FormEvent) {
    e.preventDefault();
    const t = title.trim();
    setEditing(false);
    // The list shows the new title at once; the store puts the old one back if refused.
    if (t && t !== doc.title) void rename(doc.id, t);
  }

  const meta = [
    formatLabel(doc.format, doc.kind),
    formatBytes(doc.size_bytes),
    doc.state === "ready" ? (doc.passages === 1 ? "1 passage" : `${doc.passages} passages`) : null,
    `updated ${new Date(doc.updated_at).toLocaleString()}`,
  ].filter(Boolean);

  return (
    <li className="flex flex-col gap-1.5 py-3" data-document-id={doc.id} data-state={doc.state}>
      {editing ? (
        <form className="flex flex-wrap items-center gap-2" onSubmit={submit}>
          <div className="flex min-w-0 flex-1 flex-col gap-1">
            <label htmlFor={inputId} className="text-sm font-medium text-slate-800">
              New title for “{doc.title}”
            </label>
            <input
              id={inputId}
              className="input"
              value={title}
              autoFocus
              maxLength={200}
              onChange={(e) => setTitle(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === "Escape") setEditing(false);
              }}
            />
          </div>
          <div className="flex gap-2 self-end">
            <button className="btn" type="submit">
              Save
            </button>
            <button className="btn-secondary" type="button" onClick={() => setEditing(false)}>
              Cancel
            </button>
          </div>
        </form>
      ) : (
        <div className="flex flex-wrap items-center gap-2">
          <a
            href={viewerPath(doc.id)}
            onClick={linkHandler(viewerPath(doc.id))}
            className="min-w-0 font-medium break-words text-sky-800 underline-offset-2 hover:underline"
          >
            {doc.title}
          </a>
          <ContextBadge teamId={doc.team_id} />
          <StateBadge doc={doc} name={doc.title} />
        </div>
      )}
      <div className="flex flex-wrap items-center justify-between gap-2">
        <p className="text-xs text-slate-700">{meta.join(" · ")}</p>
        {!editing && (
          <div className="flex flex-wrap gap-2">
            <button
              className="btn-secondary"
              aria-label={`Rename ${doc.title}`}
              onClick={() => {
                setTitle(doc.title);
                setEditing(true);
              }}
            >
              Rename
            </button>
            <button className="btn-secondary text-red-800" aria-label={`Delete ${doc.title}`} onClick={onDelete}>
              Delete
            </button>
          </div>
        )}
      </div>
    </li>
  );
}
