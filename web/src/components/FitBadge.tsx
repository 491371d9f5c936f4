/** A model's memory-fit verdict from `POST /api/v1/chat/models/check-fit`, in one line. */
import { useEffect, useState } from "react";
import { api, type Schemas } from "../api/client";
import { fitSummary } from "../lib/fit";

export function useFit(model: string | null): { fit: Schemas["FitReport"] | null; error: string } {
  const [fit, setFit] = useState<Schemas["FitReport"] | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    if (!model) return;
    let live = true;
    api<Schemas["FitReport"]>("/api/v1/chat/models/check-fit", { body: { model } })
      .then((f) => live && setFit(f))
      .catch((e) => live && setError(e instanceof Error ? e.message : String(e)));
    return () => {
      live = false;
    };
  }, [model]);
  return { fit, error };
}

export function FitBadge({ model }: { model: string }) {
  const { fit, error } = useFit(model);
  if (error) return <span className="text-xs text-slate-600">fit unknown: {error}</span>;
  if (!fit) return <span className="text-xs text-slate-600">checking memory…</span>;
  const s = fitSummary(fit);
  return (
    <span data-fits={fit.fits} className={`text-xs font-medium ${fit.fits ? "text-green-800" : "text-red-800"}`} title={fit.recommendation}>
      {s}
    </span>
  );
}
