/**
 * The models screen's figures in words: file sizes, parameter counts, and the hot-slot RAM meter
 * (the slots' estimated memory against the 75 % limit and the machine's RAM).
 */
import type { Schemas } from "../../api/client";

const GB = 1e9;
const MB = 1e6;

/** "92 MB", "1.2 GB", "14 GB"; "—" when unknown. Decimal units, as the server's GB figures are. */
export function formatBytes(b: number | null | undefined): string {
  if (b === null || b === undefined) return "—";
  if (b >= 10 * GB) return `${Math.round(b / GB)} GB`;
  if (b >= GB) return `${(b / GB).toFixed(1)} GB`;
  if (b >= MB) return `${Math.round(b / MB)} MB`;
  if (b >= 1000) return `${Math.round(b / 1000)} kB`;
  return `${b} B`;
}

/** "135M", "1.7B", "70B"; "—" when unknown. */
export function formatParams(n: number | null | undefined): string {
  if (!n) return "—";
  if (n >= 1e9) return `${trim(n / 1e9)}B`;
  if (n >= 1e6) return `${Math.round(n / 1e6)}M`;
  return `${Math.round(n / 1e3)}K`;
}

/** "2,048" tokens; "—" when unknown. */
export function formatContext(n: number | null | undefined): string {
  return n ? n.toLocaleString("en-US") : "—";
}

function trim(x: number): string {
  return x >= 10 ? String(Math.round(x)) : x.toFixed(1).replace(/\.0$/, "");
}

export interface RamMeter {
  /** The slots' memory as a share of the machine's RAM, 0–100. */
  usedPercent: number;
  /** Where the 75 % limit sits on the same bar, 0–100. */
  limitPercent: number;
  /** The slots together are over the limit (a configuration changed under them). */
  over: boolean;
  text: string;
}

/** The bar is the machine's RAM; the slots fill it, and a mark shows the limit. */
export function ramMeter(v: Pick<Schemas["HotSlotsView"], "total_bytes" | "limit_bytes" | "ram_total_bytes" | "total_gb" | "limit_gb" | "ram_total_gb">): RamMeter {
  const pct = (x: number) => (v.ram_total_bytes > 0 ? Math.min(100, Math.round((x * 1000) / v.ram_total_bytes) / 10) : 0);
  return {
    usedPercent: pct(v.total_bytes),
    limitPercent: pct(v.limit_bytes),
    over: v.total_bytes > v.limit_bytes,
    text: `Hot slots use ${v.total_gb.toFixed(1)} GB; limit ${v.limit_gb.toFixed(1)} GB of ${v.ram_total_gb.toFixed(1)} GB RAM`,
  };
}

/** Local models can sit in a hot slot; remote ones cannot (the server refuses them). */
export function canBeHot(m: Pick<Schemas["ModelInfo"], "provider">): boolean {
  return m.provider === "local" || m.provider === "ollama";
}
