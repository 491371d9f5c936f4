/** The transfers panel: one progress bar per upload or download, with bytes done and time left. */
import { formatBytes } from "./bytes";
import { etaSeconds, formatEta, percent } from "./eta";
import { useTransfers, type Transfer } from "./store";

const VERB: Record<Transfer["kind"], [string, string]> = {
  upload: ["Uploading", "Uploaded"],
  download: ["Downloading", "Downloaded"],
  reencrypt: ["Re-encrypting", "Re-encrypted"],
};

export function Transfers() {
  const list = useTransfers((s) => s.list);
  const clearFinished = useTransfers((s) => s.clearFinished);
  if (list.length === 0) return null;
  return (
    <section aria-label="Transfers" className="card space-y-3">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h2 className="font-semibold">Transfers</h2>
        {list.some((t) => t.status !== "running") && (
          <button className="btn-secondary" onClick={clearFinished}>
            Clear finished
          </button>
        )}
      </div>
      <ul className="space-y-3">
        {list.map((t) => (
          <TransferRow key={t.id} t={t} />
        ))}
      </ul>
    </section>
  );
}

function TransferRow({ t }: { t: Transfer }) {
  const dismiss = useTransfers((s) => s.dismiss);
  const [doing, did] = VERB[t.kind];
  const pct = t.status === "done" ? 100 : percent(t.done, t.total);
  const eta = formatEta(etaSeconds(t.rate, t.done, t.total, Date.now()));
  let status: string;
  if (t.status === "done") status = `${did} · ${formatBytes(t.total)}`;
  else if (t.status === "cancelled") status = "Cancelled";
  else if (t.status === "error") status = "Failed";
  else if (t.done === 0) status = "Starting…";
  else status = `${formatBytes(t.done)} of ${formatBytes(t.total)} · ${eta} left`;
  return (
    <li className="space-y-1" data-transfer={t.status}>
      <div className="flex flex-wrap items-center justify-between gap-x-3 gap-y-1 text-sm">
        <span className="min-w-0 font-medium break-all text-slate-900">{t.name}</span>
        <span className="flex items-center gap-2">
          <span className="text-slate-700" aria-live="polite">
            {status}
          </span>
          {t.status === "running" && t.cancel && (
            <button className="btn-secondary" onClick={t.cancel} aria-label={`Cancel ${doing.toLowerCase()} ${t.name}`}>
              Cancel
            </button>
          )}
          {t.status !== "running" && (
            <button className="btn-secondary" onClick={() => dismiss(t.id)} aria-label={`Dismiss ${t.name}`}>
              Dismiss
            </button>
          )}
        </span>
      </div>
      <div
        role="progressbar"
        aria-label={`${doing} ${t.name}`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={pct}
        aria-valuetext={status}
        className="h-2 w-full overflow-hidden rounded-full bg-slate-200"
      >
        <div
          className={`h-full rounded-full transition-[width] ${t.status === "error" ? "bg-red-700" : t.status === "done" ? "bg-green-700" : "bg-sky-700"}`}
          style={{ width: `${pct}%` }}
        />
      </div>
      {t.error && (
        <p className="error-text" role="alert">
          {t.error}
        </p>
      )}
    </li>
  );
}
