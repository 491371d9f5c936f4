/** One message: the user's as plain text, a reply as sanitised Markdown (re-rendered as it streams) with its sources. */
import { memo, useMemo } from "react";
import { linkHandler } from "../../router";
import { citationHref, citationLabel, uniqueCitations } from "./citations";
import { renderMarkdown } from "./markdown";
import type { ChatMessage } from "./types";

/** Markdown element styles (no typography plugin): spacing, lists, code, links; all AA on white. */
const PROSE =
  "break-words text-slate-900 [&_a]:text-sky-800 [&_a]:underline [&_blockquote]:border-l-4 [&_blockquote]:border-slate-300 [&_blockquote]:pl-3 " +
  "[&_code]:rounded [&_code]:bg-slate-100 [&_code]:px-1 [&_code]:font-mono [&_code]:text-[0.9em] [&_h1]:text-lg [&_h1]:font-semibold " +
  "[&_h2]:font-semibold [&_h3]:font-semibold [&_li]:my-0.5 [&_ol]:list-decimal [&_ol]:pl-6 [&_p]:my-2 [&_pre]:my-2 [&_pre]:overflow-x-auto " +
  "[&_pre]:rounded-md [&_pre]:bg-slate-100 [&_pre]:p-2 [&_pre_code]:bg-transparent [&_pre_code]:p-0 [&_table]:my-2 [&_td]:border " +
  "[&_td]:border-slate-300 [&_td]:px-2 [&_th]:border [&_th]:border-slate-300 [&_th]:px-2 [&_ul]:list-disc [&_ul]:pl-6";

const STATUS_NOTE: Record<string, string> = {
  incomplete: "Stopped before the end.",
  error: "The reply failed; this is what was written before.",
};

export const Message = memo(function Message({ m }: { m: ChatMessage }) {
  const mine = m.role === "user";
  const html = useMemo(() => (mine ? "" : renderMarkdown(m.content)), [mine, m.content]);
  const cites = uniqueCitations(m.citations);
  const streaming = m.status === "streaming";
  return (
    <article
      aria-label={mine ? "Your message" : "Reply"}
      data-role={m.role}
      data-status={m.status}
      className={`max-w-full rounded-xl px-3 py-2 text-sm ${mine ? "ml-auto bg-sky-50 text-slate-900 sm:max-w-[85%]" : "bg-white ring-1 ring-slate-200"}`}
    >
      {mine ? (
        <p className="whitespace-pre-wrap break-words">{m.content}</p>
      ) : (
        <>
          {m.content ? (
            <div className={PROSE} data-testid="reply-text" dangerouslySetInnerHTML={{ __html: html }} />
          ) : (
            streaming && <p className="text-slate-700">Thinking…</p>
          )}
          {streaming && m.content && (
            <span aria-hidden className="inline-block h-3 w-1.5 animate-pulse bg-slate-500 align-middle" />
          )}
          {STATUS_NOTE[m.status] && <p className="mt-1 text-xs font-medium text-amber-900">{STATUS_NOTE[m.status]}</p>}
          {cites.length > 0 && (
            <div className="mt-2 border-t border-slate-200 pt-2">
              <h3 className="text-xs font-semibold text-slate-700">Sources</h3>
              <ul className="mt-1 flex flex-col gap-0.5">
                {cites.map((c, i) => {
                  const href = citationHref(c);
                  return (
                    <li key={`${c.document_id}#${c.passage_id}`}>
                      <a href={href} onClick={linkHandler(href)} className="text-xs text-sky-800 underline hover:text-sky-900">
                        {citationLabel(c, i)}
                      </a>
                    </li>
                  );
                })}
              </ul>
            </div>
          )}
          {m.model && !streaming && <p className="mt-1 text-xs text-slate-700">{m.model}</p>}
        </>
      )}
    </article>
  );
});
