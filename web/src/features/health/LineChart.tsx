/**
 * A small hand-drawn SVG line chart for the health dashboard: one or more series over the
 * recent history, a rounded axis maximum, and a legend with each series' latest value (the
 * legend is the accessible text; the drawing itself is decoration for screen readers).
 */
import { linePath, maxOf, niceMax } from "./chart";

export interface Series {
  label: string;
  /** A stroke colour dark enough to read against white (Tailwind 700 shades). */
  color: string;
  values: { at: number; value: number | null }[];
}

interface Props {
  title: string;
  series: Series[];
  format: (v: number | null) => string;
  /** Time span shown, ms. */
  span: number;
  /** The right edge (the newest poll), ms since the epoch. */
  end: number;
  /** A floor for the axis maximum, so a flat line near zero is not blown up to full height. */
  minMax?: number;
  /** Rounds the axis maximum up (niceMax by default; niceBytes for memory). */
  nice?: (v: number) => number;
  /** Shown while no series has a value. */
  emptyText?: string;
}

const W = 320;
const H = 110;

export function LineChart({ title, series, format, span, end, minMax = 0, nice = niceMax, emptyText = "Waiting for the next polls…" }: Props) {
  const yMax = nice(Math.max(maxOf(series.map((s) => s.values.map((v) => v.value))), minMax));
  const box = { width: W, height: H, span, end, yMax };
  const hasData = series.some((s) => s.values.some((v) => v.value !== null));
  const latest = (s: Series) => {
    for (let i = s.values.length - 1; i >= 0; i--) if (s.values[i].value !== null) return s.values[i].value;
    return null;
  };
  return (
    <figure className="card flex flex-col gap-2">
      <figcaption className="flex flex-wrap items-baseline justify-between gap-x-3 gap-y-1">
        <span className="text-sm font-semibold text-slate-900">{title}</span>
        <span className="text-xs text-slate-700">last {Math.round(span / 60000)} min</span>
      </figcaption>
      <div className="flex gap-2">
        <div className="flex flex-col justify-between text-right text-xs text-slate-700" aria-hidden="true">
          <span>{format(yMax)}</span>
          <span>{format(yMax / 2)}</span>
          <span>{format(0)}</span>
        </div>
        <svg
          viewBox={`0 0 ${W} ${H}`}
          preserveAspectRatio="none"
          className="h-28 w-full min-w-0 flex-1 overflow-visible"
          aria-hidden="true"
        >
          {[0, 0.5, 1].map((f) => (
            <line key={f} x1={0} x2={W} y1={H * f} y2={H * f} stroke="#cbd5e1" strokeWidth={1} vectorEffect="non-scaling-stroke" />
          ))}
          {series.map((s) => (
            <path
              key={s.label}
              d={linePath(s.values, box)}
              fill="none"
              stroke={s.color}
              strokeWidth={2}
              strokeLinejoin="round"
              strokeLinecap="round"
              vectorEffect="non-scaling-stroke"
            />
          ))}
        </svg>
      </div>
      {!hasData && <p className="text-xs text-slate-700">{emptyText}</p>}
      <ul className="flex flex-wrap gap-x-4 gap-y-1 text-xs text-slate-800">
        {series.map((s) => (
          <li key={s.label} className="flex items-center gap-1.5">
            <span className="inline-block h-0.5 w-4" style={{ background: s.color }} aria-hidden="true" />
            {s.label}: <span className="font-medium tabular-nums">{format(latest(s))}</span>
          </li>
        ))}
      </ul>
    </figure>
  );
}
