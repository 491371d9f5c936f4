/**
 * One document at /documents/<id>: its state, its text, and — for `?chunk=&start=&end=` (a chat
 * citation or a search hit) — that span of the text marked and scrolled into view. The spans
 * are character offsets into `content`, the extracted text the API returns (a note's content is
 * its Markdown as written), so the text is shown as it is, not re-rendered. Notes can also be
 * shown formatted, and edited.
 */
import { useEffect, useMemo, useRef, useState } from "react";
import { api, ApiError, teamContext } from "../../api/client";
import { ContextBadge } from "../../components/ContextBadge";
import { contextOf } from "../../lib/context";
import { linkHandler, useRoute } from "../../router";
import { useContextStore } from "../../stores/context";
import { useSession } from "../../stores/session";
import { DeleteDialog } from "./DeleteDialog";
import { Highlighted } from "./Highlighted";
import { Markdown } from "./Markdown";
import { NoteEditor } from "./NoteEditor";
import { notePatch } from "./notes";
import { viewerPath, type ViewerTarget } from "./query";
import { SearchPanel } from "./SearchPanel";
import { codePointLength } from "./spans";
import { describeState, formatBytes, formatLabel, pollDelay } from "./state";
import { StateBadge } from "./StateBadge";
import { docPath, useDocs, type DocumentDetail, type DocumentView } from "./store";

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

export function DocumentViewer({ id, target }: { id: string; target: ViewerTarget | null }) {
  const navigate = useRoute((s) => s.navigate);
  const [detail, setDetail] = useState<DocumentDetail | null>(null);
  const [error, setError] = useState<ApiError | Error | null>(null);
  const [editing, setEditing] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [formatted, setFormatted] = useState<boolean | null>(null);
  // Bumped after a note edit: the document is queued again, so polling starts over.
  const [generation, setGeneration] = useState(0);

  // Load, and keep loading while the document is queued or indexing (or after a failed look,
  // unless it is gone). A stopped run never writes: a late answer for the previous document
  // must not land under a new URL.
  useEffect(() => {
    let stop = false;
    let timer: number | undefined;
    let attempt = 0;
    const tick = async () => {
      let again: boolean;
      let retry: number | undefined;
      try {
        const d = await api<DocumentDetail>(docPath(id));
        if (stop) return;
        setDetail(d);
        setError(null);
        again = !describeState(d).final;
      } catch (e) {
        if (stop) return;
        const err = e instanceof Error ? e : new Error(String(e));
        setError(err);
        again = !(err instanceof ApiError && err.status === 404);
        retry = err instanceof ApiError ? err.retryAfter : undefined;
      }
      if (again) timer = window.setTimeout(() => void tick(), pollDelay(attempt++, retry));
    };
    void tick();
    return () => {
      stop = true;
      window.clearTimeout(timer);
    };
  }, [id, generation]);

  // Another document: forget the last one at once rather than show it under the new URL.
  useEffect(() => {
    setDetail(null);
    setError(null);
    setEditing(false);
    setFormatted(null);
  }, [id]);

  if (error && !detail) {
    return (
      <div className="flex flex-col gap-3">
        <BackLink />
        {error instanceof ApiError && error.status === 404 ? (
          <NotHere id={id} />
        ) : (
          <p className="error-text" role="alert">
            Could not open the document: {error.message}
          </p>
        )}
      </div>
    );
  }
  if (!detail) return <p className="text-slate-700">Loading the document…</p>;

  const isNote = detail.kind === "note";
  // A note opens formatted unless a span was asked for (spans point into its plain text).
  const showFormatted = isNote && (formatted ?? !target) && !!detail.body;

  async function saveNote(title: string, body: string) {
    if (!detail) return;
    const patch = notePatch({ title: detail.title, body: detail.body ?? "" }, { title, body });
    if (patch) {
      const doc = await api<DocumentView>(docPath(id), { method: "PATCH", body: patch });
      useDocs.getState().upsert(doc);
      // A new body is indexed again: its state goes back to queued, so poll until final.
      setGeneration((g) => g + 1);
    }
    setEditing(false);
  }

  async function remove() {
    setDeleting(false);
    try {
      await api(docPath(id), { method: "DELETE" });
      navigate("/documents");
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    }
  }

  return (
    <div className="flex flex-col gap-4">
      <BackLink />
      <article className="card flex flex-col gap-3" aria-labelledby="doc-title">
        <header className="flex flex-col gap-2">
          <div className="flex flex-wrap items-center gap-2">
            <h1 id="doc-title" className="min-w-0 text-xl font-semibold break-words text-slate-900">
              {detail.title}
            </h1>
            <ContextBadge teamId={detail.team_id} />
            <StateBadge doc={detail} name={detail.title} />
          </div>
          <p className="text-xs text-slate-700">
            {[
              formatLabel(detail.format, detail.kind),
              detail.file_name,
              formatBytes(detail.size_bytes),
              detail.state === "ready" ? (detail.passages === 1 ? "1 passage" : `${detail.passages} passages`) : null,
              `updated ${new Date(detail.updated_at).toLocaleString()}`,
            ]
              .filter(Boolean)
              .join(" · ")}
          </p>
          <div className="flex flex-wrap gap-2">
            {isNote && !editing && (
              <button className="btn-secondary" onClick={() => setEditing(true)}>
                Edit note
              </button>
            )}
            {isNote && !editing && detail.body && (
              <button className="btn-secondary" aria-pressed={showFormatted} onClick={() => setFormatted(!showFormatted)}>
                {showFormatted ? "Show plain text" : "Show formatted"}
              </button>
            )}
            <button className="btn-secondary text-red-800" onClick={() => setDeleting(true)}>
              Delete
            </button>
          </div>
          {error && (
            <p className="error-text" role="alert">
              {error.message}
            </p>
          )}
        </header>
        {editing ? (
          <NoteEditor
            heading="Edit note"
            initialTitle={detail.title}
            initialBody={detail.body ?? ""}
            submitLabel="Save note"
            onSave={saveNote}
            onCancel={() => setEditing(false)}
          />
        ) : showFormatted ? (
          <Markdown source={detail.body ?? ""} />
        ) : (
          <DocumentText id={id} detail={detail} target={target} />
        )}
      </article>
      <SearchPanel doc={id} />
      <DeleteDialog title={deleting ? detail.title : null} onClose={() => setDeleting(false)} onConfirm={() => void remove()} />
    </div>
  );
}

/** The text, with the requested span marked, scrolled to and focused once per target. */
function DocumentText({ id, detail, target }: { id: string; detail: DocumentDetail; target: ViewerTarget | null }) {
  const navigate = useRoute((s) => s.navigate);
  const markRef = useRef<HTMLElement>(null);
  const shown = useRef("");
  const content = detail.content ?? null;
  const length = useMemo(() => (content === null ? 0 : codePointLength(content)), [content]);
  const spans = useMemo(() => (target ? [{ start: target.start, end: target.end }] : []), [target]);
  const outside = target !== null && content !== null && target.start >= length;
  const key = target && content !== null ? `${id}:${target.start}:${target.end}` : "";

  useEffect(() => {
    if (!key || shown.current === key || !markRef.current) return;
    shown.current = key;
    markRef.current.scrollIntoView?.({ block: "center", behavior: "smooth" });
    markRef.current.focus({ preventScroll: true });
  }, [key, content]);

  if (content === null) {
    const s = describeState(detail);
    return (
      <p className="text-slate-700">
        {s.reason
          ? `There is no text to show: ${s.reason}`
          : "The text appears here once the document has been read; it is waiting to be indexed."}
      </p>
    );
  }
  return (
    <>
      {target && (
        <div className="flex flex-wrap items-center gap-2 rounded-md bg-yellow-50 p-2 text-sm text-slate-900" role="status">
          {outside ? (
            <span>
              The cited passage (characters {target.start}–{target.end}) is beyond the end of this text; the document may
              have changed since it was cited.
            </span>
          ) : (
            <span>
              Showing the cited passage (characters {target.start}–{Math.min(target.end, length)}), marked below.
            </span>
          )}
          <button className="btn-secondary" onClick={() => navigate(viewerPath(id), { replace: true })}>
            Clear highlight
          </button>
        </div>
      )}
      <div className="max-h-[70vh] overflow-y-auto rounded-md border border-slate-200 p-3" tabIndex={0} aria-label="Document text">
        <p className="text-sm leading-relaxed whitespace-pre-wrap break-words text-slate-900">
          <Highlighted text={content} spans={spans} firstMarkRef={markRef} markLabel="Cited passage" />
        </p>
      </div>
    </>
  );
}

function BackLink() {
  return (
    <a href="/documents" onClick={linkHandler("/documents")} className="self-start text-sm text-sky-800 underline-offset-2 hover:underline">
      ← All documents
    </a>
  );
}

/**
 * A 404 in this context: the document may be in another one (a search of all contexts, or a
 * link from a chat in another team). Look it up in the user's other contexts and offer to switch.
 */
function NotHere({ id }: { id: string }) {
  // Selected as is (a fresh `?? []` in the selector would be a new value on every render).
  const known = useSession((s) => s.me?.teams);
  const teams = useMemo(() => known ?? [], [known]);
  const choose = useContextStore((s) => s.choose);
  const [found, setFound] = useState<{ teamId: string } | null | undefined>(undefined);
  const [lookError, setLookError] = useState("");

  useEffect(() => {
    let cancelled = false;
    const here = teamContext();
    const others = ["", ...teams.map((t) => t.id)].filter((t) => t !== here);
    (async () => {
      for (const t of others) {
        try {
          await api<DocumentView>(docPath(id), { headers: { "X-Selah-Team": t } });
          if (!cancelled) setFound({ teamId: t });
          return;
        } catch (e) {
          if (!(e instanceof ApiError && e.status === 404) && !cancelled) setLookError(message(e));
        }
      }
      if (!cancelled) setFound(null);
    })();
    return () => {
      cancelled = true;
    };
  }, [id, teams]);

  if (found === undefined) return <p className="text-slate-700">This document is not in the current context; looking in your others…</p>;
  if (found) {
    const label = contextOf(found.teamId, teams).label;
    return (
      <div className="card flex flex-col gap-2" role="status">
        <p className="text-slate-900">
          This document belongs to another context: <ContextBadge teamId={found.teamId} />
        </p>
        <button className="btn self-start" onClick={() => choose(found.teamId, teams)}>
          Switch to {found.teamId ? `team ${label}` : "Local (personal)"}
        </button>
      </div>
    );
  }
  return (
    <div className="flex flex-col gap-1" role="alert">
      <p className="error-text">This document does not exist, or was deleted, or you can no longer read it.</p>
      {lookError && <p className="error-text">Looking in your other contexts failed: {lookError}</p>}
    </div>
  );
}
