/** A document's indexing state: a coloured label, the percent while indexing, the reason on failure. */
import { describeState, type StateFields, type Tone } from "./state";

// Each pair is at least 4.5:1 at 12 px (slate-800/slate-100, sky-900/sky-100, green-800/green-100, red-800/red-100).
const TONE: Record<Tone, string> = {
  waiting: "bg-slate-100 text-slate-800",
  progress: "bg-sky-100 text-sky-900",
  ok: "bg-green-100 text-green-800",
  error: "bg-red-100 text-red-800",
};

export function StateBadge({ doc, name }: { doc: StateFields; name: string }) {
  const s = describeState(doc);
  return (
    <span className="inline-flex flex-wrap items-center gap-2">
      <span className={`rounded-full px-2 py-0.5 text-xs font-medium ${TONE[s.tone]}`} data-state-label>
        {s.label}
      </span>
      {s.percent !== null && (
        <progress className="h-1.5 w-24 accent-sky-700" max={100} value={s.percent} aria-label={`Indexing ${name}`} />
      )}
      {s.reason && <span className="error-text">{s.reason}</span>}
    </span>
  );
}
