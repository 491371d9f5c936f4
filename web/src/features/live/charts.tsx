/** The two small SVG charts of the stress screen, drawn by hand (geometry in stressView.ts). */
import { describeDistribution, distributionBars, linePoints, pointsAttr } from "./stressView";

const W = 264;
const H = 96;

/** The room's check-ins per level 0–10 as bars, with the levels underneath. */
export function DistributionChart({ distribution, label }: { distribution: number[]; label: string }) {
  const bars = distributionBars(distribution, W, H);
  return (
    <svg viewBox={`0 0 ${W} ${H + 16}`} className="h-auto w-full max-w-sm" role="img" aria-label={`${label}: ${describeDistribution(distribution)}`}>
      <line x1={0} y1={H} x2={W} y2={H} stroke="#475569" strokeWidth={1} />
      {bars.map((b) => (
        <g key={b.level}>
          <rect x={b.x} y={b.y} width={b.width} height={b.height} rx={2} fill={b.level >= 8 ? "#b91c1c" : b.level >= 5 ? "#b45309" : "#047857"} />
          <text x={b.x + b.width / 2} y={H + 12} textAnchor="middle" fontSize={10} fill="#334155">
            {b.level}
          </text>
        </g>
      ))}
    </svg>
  );
}

/** One's levels over time (oldest to newest) as a line on a 0–10 scale, the scale on the right. */
export function HistoryLine({ levels, label }: { levels: number[]; label: string }) {
  const pad = 8;
  const axis = 18;
  const plotW = W - pad - axis;
  const plotH = H - 2 * pad;
  const pts = linePoints(levels, plotW, plotH).map((p) => ({ x: p.x + pad, y: p.y + pad }));
  const last = levels[levels.length - 1];
  return (
    <svg
      viewBox={`0 0 ${W} ${H}`}
      className="h-auto w-full max-w-sm"
      role="img"
      aria-label={levels.length ? `${label}: ${levels.length} check-ins from level ${levels[0]} to ${last}` : `${label}: no check-ins yet`}
    >
      {[0, 5, 10].map((l) => {
        const y = pad + plotH * (1 - l / 10);
        return (
          <g key={l}>
            <line x1={pad} y1={y} x2={pad + plotW} y2={y} stroke="#cbd5e1" strokeWidth={1} />
            <text x={W - 2} y={y + 3} textAnchor="end" fontSize={9} fill="#334155">
              {l}
            </text>
          </g>
        );
      })}
      {pts.length > 1 && <polyline points={pointsAttr(pts)} fill="none" stroke="#0369a1" strokeWidth={2} strokeLinejoin="round" />}
      {pts.map((p, i) => (
        <circle key={i} cx={p.x} cy={p.y} r={2.5} fill="#0369a1" />
      ))}
    </svg>
  );
}
