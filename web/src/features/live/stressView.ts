/**
 * How stress numbers are shown: the mean and trend in words, and the geometry of the two small
 * SVG charts (the room's distribution as bars, one's own history as a line) — drawn here rather
 * than with a chart library, which would outweigh the whole screen.
 */

/** "5.0" — one decimal, as the server rounds to two. */
export function formatMean(mean: number): string {
  return mean.toFixed(1);
}

/** The trend in words: negative is calmer. Under two check-ins there is no trend. */
export function trendText(trend: number, count: number): string {
  if (count < 2) return "not enough check-ins for a trend yet";
  const size = Math.abs(trend);
  if (size < 0.05) return "steady";
  const by = size.toFixed(1);
  return trend < 0 ? `calmer (−${by})` : `more stressed (+${by})`;
}

/** A word for a level, for the slider's value text. */
export function levelWord(level: number): string {
  if (level <= 2) return "calm";
  if (level <= 4) return "a little stressed";
  if (level <= 6) return "stressed";
  if (level <= 8) return "very stressed";
  return "overwhelmed";
}

export interface Bar {
  level: number;
  count: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Bars for the 11 levels in a `width` × `height` box (a gap between bars; the tallest bar fills
 * the height; an empty level gets no height). */
export function distributionBars(distribution: readonly number[], width: number, height: number, gap = 2): Bar[] {
  const counts = Array.from({ length: 11 }, (_, i) => Math.max(0, distribution[i] ?? 0));
  const max = Math.max(1, ...counts);
  const slot = width / 11;
  const w = Math.max(1, slot - gap);
  return counts.map((count, level) => {
    const h = (count / max) * height;
    return { level, count, x: level * slot + gap / 2, y: height - h, width: w, height: h };
  });
}

export interface Point {
  x: number;
  y: number;
}

/** Points of a line through `values` (0…`max`, oldest first) across a `width` × `height` box: a
 * higher level is higher on the chart. One value sits in the middle. */
export function linePoints(values: readonly number[], width: number, height: number, max = 10): Point[] {
  const n = values.length;
  return values.map((v, i) => ({
    x: n === 1 ? width / 2 : (i / (n - 1)) * width,
    y: height - (Math.min(Math.max(v, 0), max) / max) * height,
  }));
}

/** An SVG `points` attribute. */
export function pointsAttr(points: readonly Point[]): string {
  return points.map((p) => `${round1(p.x)},${round1(p.y)}`).join(" ");
}

const round1 = (x: number) => Math.round(x * 10) / 10;

/** A one-line description of a distribution for screen readers: "3 at level 2, 1 at level 8". */
export function describeDistribution(distribution: readonly number[]): string {
  const parts = distribution.flatMap((c, level) => (c > 0 ? [`${c} at level ${level}`] : []));
  return parts.length ? parts.join(", ") : "no check-ins yet";
}
