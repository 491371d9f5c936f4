/**
 * A parser for the Prometheus text exposition format 0.0.4, enough for Selah's own `/metrics`:
 * samples with labels (escaped values included), special floats, optional timestamps, and
 * `# TYPE` lines. Anything it cannot read is skipped rather than failing the whole scrape, so a
 * new metric family on the server never blanks the dashboard.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  samples: Sample[];
  /** Family name → declared type (`counter`, `gauge`, `histogram`, …). */
  types: Record<string, string>;
}

/** Parses a number as Prometheus writes it (`+Inf`, `-Inf`, `NaN` included). */
export function parseValue(s: string): number {
  switch (s) {
    case "+Inf":
    case "Inf":
      return Infinity;
    case "-Inf":
      return -Infinity;
    case "NaN":
      return NaN;
    default:
      return s.trim() === "" ? NaN : Number(s);
  }
}

/** Reads `{a="x",b="y\"z"}` starting at `i` (on the `{`); returns the labels and the index after `}`. */
function parseLabels(line: string, i: number): { labels: Record<string, string>; end: number } | null {
  const labels: Record<string, string> = {};
  i++; // past "{"
  for (;;) {
    while (line[i] === " " || line[i] === ",") i++;
    if (line[i] === "}") return { labels, end: i + 1 };
    const eq = line.indexOf("=", i);
    if (eq < 0) return null;
    const key = line.slice(i, eq).trim();
    i = eq + 1;
    if (line[i] !== '"') return null;
    i++;
    let value = "";
    for (;;) {
      const c = line[i];
      if (c === undefined) return null;
      if (c === "\\") {
        const n = line[i + 1];
        value += n === "n" ? "\n" : n ?? "";
        i += 2;
        continue;
      }
      if (c === '"') {
        i++;
        break;
      }
      value += c;
      i++;
    }
    labels[key] = value;
  }
}

/** Parses a whole exposition. */
export function parsePrometheus(text: string): Exposition {
  const samples: Sample[] = [];
  const types: Record<string, string> = {};
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line) continue;
    if (line.startsWith("#")) {
      const m = /^#\s*TYPE\s+(\S+)\s+(\S+)/.exec(line);
      if (m) types[m[1]] = m[2];
      continue;
    }
    const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
    if (!nameMatch) continue;
    const name = nameMatch[0];
    let i = name.length;
    let labels: Record<string, string> = {};
    if (line[i] === "{") {
      const parsed = parseLabels(line, i);
      if (!parsed) continue;
      labels = parsed.labels;
      i = parsed.end;
    }
    // The value, then an optional timestamp we do not need.
    const rest = line.slice(i).trim().split(/\s+/);
    const value = parseValue(rest[0] ?? "");
    if (Number.isNaN(value) && rest[0] !== "NaN") continue;
    samples.push({ name, labels, value });
  }
  return { samples, types };
}

/** The first sample of an unlabelled (or any-labelled) metric, or null when absent. */
export function gaugeValue(samples: Sample[], name: string): number | null {
  const s = samples.find((x) => x.name === name);
  return s ? s.value : null;
}

/** Sum of every sample of `name` whose labels pass `keep`. */
export function sumOf(samples: Sample[], name: string, keep: (labels: Record<string, string>) => boolean = () => true): number {
  let total = 0;
  for (const s of samples) if (s.name === name && keep(s.labels)) total += s.value;
  return total;
}
