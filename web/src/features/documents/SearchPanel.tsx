/**
 * Searching passages: the library's search (this context, or every context on request) and the
 * viewer's search within one document. Each hit shows its document's title, its score and the
 * passage with the matching words marked from the server's character spans; it links to the
 * viewer at that passage.
 */
import { useId, useRef, useState, type FormEvent } from "react";
import { api, type Schemas } from "../../api/client";
import { linkHandler } from "../../router";
import { Highlighted } from "./Highlighted";
import { buildSearch, formatScore, viewerPath } from "./query";
import { spansOf } from "./spans";

type SearchHit = Schemas["SearchHit"];

interface Props {
  /** Search only this document (the viewer). */
  doc?: string;
}

export function SearchPanel({ doc }: Props) {
  const id = useId();
  const [text, setText] = useState("");
  const [everywhere, setEverywhere] = useState(false);
  const [hits, setHits] = useState<SearchHit[] | null>(null);
  const [searched, setSearched] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const latest = useRef(0);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const req = buildSearch(text, { everywhere, doc });
    if (!req.ok) {
      setError(req.reason);
      return;
    }
    const mine = ++latest.current;
    setBusy(true);
    setError("");
    try {
      const found = await api<SearchHit[]>(req.path);
      // An older search answering late must not replace a newer one's results.
      if (mine !== latest.current) return;
      setHits(found);
      setSearched(req.q);
    } catch (err) {
      if (mine === latest.current) setError(err instanceof Error ? err.message : String(err));
    } finally {
      if (mine === latest.current) setBusy(false);
    }
  }

  const label = doc ? "Search this document" : "Search documents";
  return (
    <section className="card flex flex-col gap-3" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`} className="text-lg font-semibold text-slate-900">
        {doc ? "Search in this document" : "Search"}
      </h2>
      <form role="search" aria-label={label} className="flex flex-col gap-2" onSubmit={(e) => void submit(e)}>
        <label htmlFor={`${id}-q`} className="sr-only">
          {label}
        </label>
        <div className="flex flex-wrap gap-2">
          <input
            id={`${id}-q`}
            type="search"
            className="input min-w-0 flex-1"
            placeholder={doc ? "Words or a question" : "Words or a question about your documents"}
            value={text}
            onChange={(e) => setText(e.target.value)}
          />
          <button className="btn" type="submit" disabled={busy}>
            {busy ? "Searching…" : "Search"}
          </button>
        </div>
        {!doc && (
          <label className="flex items-center gap-2 text-sm text-slate-800">
            <input type="checkbox" checked={everywhere} onChange={(e) => setEverywhere(e.target.checked)} />
            Search all my contexts (personal and every team)
          </label>
        )}
      </form>
      {error && (
        <p className="error-text" role="alert">
          {error}
        </p>
      )}
      {hits && (
        <div role="region" aria-label={doc ? "Results in this document" : "Search results"} className="flex flex-col gap-2">
          <p className="text-sm text-slate-700" role="status">
            {hits.length === 0
              ? `Nothing found for “${searched}”.`
              : `${hits.length === 1 ? "1 passage" : `${hits.length} passages`} for “${searched}”, best first.`}
          </p>
          {hits.length > 0 && (
            <ol className="flex flex-col gap-3">
              {hits.map((h) => (
                <HitItem key={h.passage_id} hit={h} />
              ))}
            </ol>
          )}
        </div>
      )}
    </section>
  );
}

function HitItem({ hit }: { hit: SearchHit }) {
  const to = hit.document_id
    ? viewerPath(hit.document_id, { chunk: String(hit.passage_id), start: hit.char_start, end: hit.char_end })
    : null;
  return (
    <li className="rounded-md border border-slate-200 p-3" data-passage-id={hit.passage_id}>
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        {to ? (
          <a href={to} onClick={linkHandler(to)} className="font-medium break-words text-sky-800 underline-offset-2 hover:underline">
            {hit.title}
          </a>
        ) : (
          <span className="font-medium text-slate-900">{hit.title}</span>
        )}
        <span className="text-xs text-slate-700" title="Fused relevance score; compare it within one search only">
          score {formatScore(hit.score)}
        </span>
      </div>
      {hit.heading && <p className="text-xs text-slate-700">{hit.heading}</p>}
      <p className="mt-1 text-sm whitespace-pre-wrap break-words text-slate-900">
        <Highlighted text={hit.text} spans={spansOf(hit.highlights)} />
      </p>
    </li>
  );
}
