/**
 * Geometry for the dashboard's small SVG line charts: a rounded axis maximum and the path of a
 * series, with gaps where a value is missing (an interval without requests has no latency, and
 * drawing it as 0 would lie).
 */

/** A "nice" axis maximum at or above `v`: 1, 2, 2.5 or 5 times a power of ten. */
export function niceMax(v: number): number {
  if (!Number.isFinite(v) || v <= 0) return 1;
  const pow = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) {
    if (m * pow >= v - 1e-12) return m * pow;
  }
  return 10 * pow;
}

export interface Box {
  width: number;
  height: number;
  /** Time span shown, ms: the x axis runs from `end - span` to `end`. */
  span: number;
  end: number;
  yMax: number;
}

/** Rounds to 0.1 px so paths stay short. */
const r = (n: number) => Math.round(n * 10) / 10;

/**
 * The `d` attribute of a series: `M` starts a run, `L` continues it; a null value ends the run,
 * and a run of one point becomes a dot.
 * Values above `yMax` are clipped to the top edge; points older than the span are left out.
 */
export function linePath(points: { at: number; value: number | null }[], box: Box): string {
  const start = box.end - box.span;
  const runs: string[][] = [];
  let run: string[] | null = null;
  for (const p of points) {
    if (p.value === null || !Number.isFinite(p.value) || p.at < start) {
      run = null;
      continue;
    }
    const x = ((p.at - start) / box.span) * box.width;
    const y = box.height - (Math.min(Math.max(p.value, 0), box.yMax) / box.yMax) * box.height;
    if (!run) runs.push((run = []));
    run.push(`${r(x)} ${r(y)}`);
  }
  // A lone point is a zero-length segment, which round line caps draw as a dot.
  return runs.map((pts) => (pts.length === 1 ? `M${pts[0]} l0 0` : `M${pts.join(" L")}`)).join(" ");
}

/** The largest non-null value across series (0 when there is none). */
export function maxOf(series: (number | null)[][]): number {
  let m = 0;
  for (const s of series) for (const v of s) if (v !== null && Number.isFinite(v) && v > m) m = v;
  return m;
}

/** A rounded axis maximum for bytes: 1, 2, 2.5 or 5 times a power of ten in MiB (256 MiB → 500 MiB). */
export function niceBytes(v: number): number {
  const MiB = 1024 * 1024;
  return niceMax(v / MiB) * MiB;
}
