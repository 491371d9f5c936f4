/**
 * Memory-fit rules for the UI: the server decides `fits` (estimate at most 50% of available
 * memory); the UI words it and decides when selecting a model needs a warning first.
 */
import type { Schemas } from "../api/client";

type Fit = Schemas["FitReport"];

/** "Fits: needs 0.2 GB of 12.5 GB available" / "Too big: needs 9.1 GB of 6.0 GB available". */
export function fitSummary(f: Fit): string {
  const need = `needs ${gb(f.estimated_runtime_gb)} of ${gb(f.available_gb)} available`;
  return f.fits ? `Fits: ${need}` : `Too big: ${need}`;
}

/**
 * Whether switching to a model must first show the warning (Cancel / Load anyway): only when
 * the server says it does not fit. Remote models have no fit report and never warn.
 */
export function needsFitWarning(f: Fit | null): boolean {
  return f !== null && !f.fits;
}

export function gb(x: number): string {
  return `${x < 10 ? x.toFixed(1) : Math.round(x)} GB`;
}
