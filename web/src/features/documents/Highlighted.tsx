/**
 * Text with marked spans, built as text nodes and <mark> elements (never HTML from the server),
 * so passage text that looks like markup stays text. The first mark can take a ref, for the
 * viewer to scroll to it.
 */
import { Fragment, useMemo, type Ref } from "react";
import { splitBySpans, type Span } from "./spans";

interface Props {
  text: string;
  spans: readonly Span[];
  /** Given to the first <mark> (focusable, so the viewer can move focus to the citation). */
  firstMarkRef?: Ref<HTMLElement>;
  markLabel?: string;
}

export function Highlighted({ text, spans, firstMarkRef, markLabel }: Props) {
  const segments = useMemo(() => splitBySpans(text, spans), [text, spans]);
  const first = segments.findIndex((s) => s.mark);
  return (
    <>
      {segments.map((s, i) =>
        s.mark ? (
          <mark
            key={i}
            ref={i === first ? firstMarkRef : undefined}
            tabIndex={i === first && firstMarkRef ? -1 : undefined}
            aria-label={i === first ? markLabel : undefined}
            className="rounded-sm bg-yellow-200 px-0.5 text-slate-900 outline-none"
          >
            {s.text}
          </mark>
        ) : (
          <Fragment key={i}>{s.text}</Fragment>
        ),
      )}
    </>
  );
}
