/**
 * The header's engine activity light (green idle, yellow processing, red error) with a tooltip of
 * queue depth and last activity; clicking it opens the performance panel.
 */
import { useState } from "react";
import { engineTooltip, lightFor } from "../lib/engine";
import { useEngine } from "../stores/engine";
import { Modal } from "./Modal";

const DOT: Record<string, string> = {
  green: "bg-green-500",
  yellow: "bg-yellow-400",
  red: "bg-red-600",
  grey: "bg-slate-400",
};

export function EngineLight() {
  const { status, pollError } = useEngine();
  const [open, setOpen] = useState(false);
  const light = lightFor(status, pollError);
  const tip = engineTooltip(status, pollError);
  return (
    <>
      <button
        className="btn-ghost flex items-center gap-2"
        title={tip}
        aria-label={tip}
        data-light={light}
        onClick={() => setOpen(true)}
      >
        <span className={`inline-block h-3 w-3 rounded-full ${DOT[light]} ring-2 ring-white/60`} aria-hidden />
        <span className="hidden text-sm sm:inline">Engine</span>
      </button>
      <Modal title="Engine performance" open={open} onClose={() => setOpen(false)}>
        {status ? (
          <div className="space-y-3 text-sm">
            <dl className="grid grid-cols-3 gap-2 text-center">
              <Figure label="Pending" value={status.queue.pending} />
              <Figure label="In flight" value={status.queue.in_flight} />
              <Figure label="Average wait" value={`${Math.round(status.queue.avg_wait_ms)} ms`} />
            </dl>
            <p className="text-slate-700">{tip}</p>
            {status.models.length > 0 && (
              <table className="w-full text-left">
                <thead>
                  <tr className="text-slate-600">
                    <th className="py-1">Model</th>
                    <th>Loaded</th>
                    <th>Running</th>
                    <th>Waiting</th>
                  </tr>
                </thead>
                <tbody>
                  {status.models.map((m) => (
                    <tr key={m.id} className="border-t border-slate-200">
                      <td className="py-1 break-all">{m.id}</td>
                      <td>{m.loaded ? "yes" : "no"}</td>
                      <td>{m.in_flight}</td>
                      <td>{m.pending}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </div>
        ) : (
          <p className="text-sm">{tip}</p>
        )}
      </Modal>
    </>
  );
}

function Figure({ label, value }: { label: string; value: string | number }) {
  return (
    <div className="rounded-lg bg-slate-100 p-2">
      <dt className="text-xs text-slate-600">{label}</dt>
      <dd className="text-lg font-semibold" data-figure={label}>
        {value}
      </dd>
    </div>
  );
}
