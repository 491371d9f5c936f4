/**
 * The health dashboard (administrators): `/health` for the score and the checks, `/metrics` for
 * latency histograms, error counts and memory, and `/api/v1/monitoring/engine` for the queue,
 * polled every few seconds. Each poll is folded into an in-memory rolling history (history.ts)
 * that the charts draw; nothing is stored, so the charts start empty on every visit.
 */
import { useCallback, useEffect, useRef, useState, type ReactNode } from "react";
import { api, ApiError, type Schemas } from "../../api/client";
import { isAdmin } from "../../components/Header";
import { useSession } from "../../stores/session";
import { niceBytes } from "./chart";
import { formatBytes, formatMs, formatShare, formatUptime } from "./format";
import { record, type History, type Point } from "./history";
import { LineChart } from "./LineChart";
import { parsePrometheus } from "./prometheus";

type HealthReport = Schemas["HealthReport"];
type EngineStatus = Schemas["EngineStatus"];

/** Poll every 5 s and keep 10 minutes of points. */
const EVERY_MS = 5000;
const KEEP = 120;
const SPAN = EVERY_MS * KEEP;

const STATUS_CLASS: Record<string, string> = {
  healthy: "bg-green-100 text-green-900 ring-green-700/30",
  degraded: "bg-amber-100 text-amber-900 ring-amber-700/30",
  unhealthy: "bg-red-100 text-red-900 ring-red-700/30",
};

/** `/health` answers 503 with the same report when unhealthy, so it is read with plain fetch. */
async function fetchHealth(): Promise<HealthReport> {
  let res: Response;
  try {
    res = await fetch("/health", { headers: { Accept: "application/json" }, cache: "no-store" });
  } catch {
    throw new ApiError(0, "network", "Selah cannot be reached. Check that the server is running.");
  }
  const type = res.headers.get("content-type") ?? "";
  if (!type.includes("json")) throw new ApiError(res.status, "http_" + res.status, `/health answered ${res.status} without a report.`);
  return (await res.json()) as HealthReport;
}

/** `/metrics` as text; a page instead of metrics means a proxy in front of Selah does not pass it on. */
async function fetchMetrics(): Promise<string> {
  let res: Response;
  try {
    res = await fetch("/metrics", { cache: "no-store" });
  } catch {
    throw new ApiError(0, "network", "Selah cannot be reached. Check that the server is running.");
  }
  if (!res.ok) throw new ApiError(res.status, "http_" + res.status, `/metrics answered ${res.status} ${res.statusText}.`);
  const type = res.headers.get("content-type") ?? "";
  if (!type.startsWith("text/plain")) {
    throw new ApiError(res.status, "not_metrics", "/metrics answered with a web page, not metrics: the server in front of Selah does not pass /metrics through.");
  }
  return res.text();
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

export default function HealthScreen() {
  const role = useSession((s) => s.me?.user.role);
  if (!isAdmin(role)) {
    return (
      <div className="card max-w-xl">
        <h1 className="text-lg font-semibold">Health</h1>
        <p className="mt-2 text-sm text-slate-800">The health dashboard is for administrators.</p>
      </div>
    );
  }
  return <Dashboard />;
}

function Dashboard() {
  const [report, setReport] = useState<HealthReport | null>(null);
  const [engine, setEngine] = useState<EngineStatus | null>(null);
  const [history, setHistory] = useState<History>({ last: null, points: [] });
  const [errors, setErrors] = useState<{ health?: string; metrics?: string; engine?: string }>({});
  const [updated, setUpdated] = useState<number | null>(null);
  const [paused, setPaused] = useState(false);
  const busy = useRef(false);

  const poll = useCallback(async () => {
    if (busy.current) return; // a slow server must not pile polls up
    busy.current = true;
    try {
      const [h, m, e] = await Promise.allSettled([fetchHealth(), fetchMetrics(), api<EngineStatus>("/api/v1/monitoring/engine")]);
      const at = Date.now();
      const next: typeof errors = {};
      if (h.status === "fulfilled") setReport(h.value);
      else next.health = message(h.reason);
      const eng = e.status === "fulfilled" ? e.value : null;
      if (eng) setEngine(eng);
      else if (e.status === "rejected") next.engine = message(e.reason);
      if (m.status === "fulfilled") {
        const { samples } = parsePrometheus(m.value);
        const queue = eng ? { pending: eng.queue.pending, in_flight: eng.queue.in_flight } : null;
        setHistory((prev) => record(prev, samples, at, queue, KEEP));
      } else next.metrics = message(m.reason);
      setErrors(next);
      setUpdated(at);
    } finally {
      busy.current = false;
    }
  }, []);

  useEffect(() => {
    if (paused) return;
    const tick = () => {
      if (document.visibilityState === "visible") void poll();
    };
    tick();
    const id = window.setInterval(tick, EVERY_MS);
    document.addEventListener("visibilitychange", tick);
    return () => {
      window.clearInterval(id);
      document.removeEventListener("visibilitychange", tick);
    };
  }, [poll, paused]);

  const points = history.points;
  const end = points.length ? points[points.length - 1].at : Date.now();
  // Latency and error rate need requests: an idle server has polls but nothing to chart.
  const emptyText = points.length ? "No requests were served while this page was open." : "Waiting for the next polls…";
  const series = (pick: (p: Point) => number | null) => points.map((p) => ({ at: p.at, value: pick(p) }));

  return (
    <div className="flex flex-col gap-4">
      <div className="flex flex-wrap items-center gap-x-4 gap-y-2">
        <h1 className="text-xl font-semibold">Health</h1>
        {report && (
          <span
            data-status={report.status}
            className={`rounded-full px-2.5 py-0.5 text-sm font-semibold ring-1 ring-inset ${STATUS_CLASS[report.status] ?? ""}`}
          >
            {report.status[0].toUpperCase() + report.status.slice(1)} · score {report.score}/100
          </span>
        )}
        <span className="text-sm text-slate-700" aria-live="polite">
          {updated ? `Updated ${new Date(updated).toLocaleTimeString()}` : "Loading…"}
          {paused && " (paused)"}
        </span>
        <button className="btn-secondary ml-auto" onClick={() => setPaused((p) => !p)} aria-pressed={paused}>
          {paused ? "Resume updates" : "Pause updates"}
        </button>
      </div>

      {(errors.health || errors.metrics || errors.engine) && (
        <div role="alert" className="card border-red-300 bg-red-50">
          {errors.health && <p className="error-text">Health: {errors.health}</p>}
          {errors.metrics && <p className="error-text">Metrics: {errors.metrics}</p>}
          {errors.engine && <p className="error-text">Engine: {errors.engine}</p>}
        </div>
      )}

      <section aria-label="Now" className="grid grid-cols-1 gap-3 sm:grid-cols-2 lg:grid-cols-4">
        <Figure label="Error rate" value={report ? formatShare(report.error_rate) : "—"}>
          {report ? `${report.requests_in_window} requests in the window` : null}
        </Figure>
        <Figure label="Latency p50 / p95" value={report ? `${formatMs(report.latency_ms.p50)} / ${formatMs(report.latency_ms.p95)}` : "—"}>
          {report ? `p99 ${formatMs(report.latency_ms.p99)}` : null}
        </Figure>
        <Figure label="Memory (resident)" value={report ? formatBytes(report.resident_memory_bytes) : "—"}>
          {engine ? `models: ${formatBytes(engine.models.reduce((n, m) => n + m.memory_bytes, 0))}` : null}
        </Figure>
        <Figure label="Engine queue" value={engine ? `${engine.queue.pending} waiting · ${engine.queue.in_flight} running` : "—"}>
          {engine ? `${engine.status}, avg wait ${formatMs(engine.queue.avg_wait_ms)}, fullest queue ${formatShare(engine.queue_fill)}` : null}
        </Figure>
      </section>

      <section aria-label="Over time" className="grid grid-cols-1 gap-3 md:grid-cols-2">
        <LineChart
          title="Latency percentiles"
          format={formatMs}
          span={SPAN}
          emptyText={emptyText}
          end={end}
          minMax={10}
          series={[
            { label: "p50", color: "#0369a1", values: series((p) => p.p50) },
            { label: "p95", color: "#b45309", values: series((p) => p.p95) },
            { label: "p99", color: "#b91c1c", values: series((p) => p.p99) },
          ]}
        />
        <LineChart
          title="Error rate (5xx)"
          format={formatShare}
          span={SPAN}
          emptyText={emptyText}
          end={end}
          minMax={0.01}
          series={[{ label: "errors", color: "#b91c1c", values: series((p) => p.errorRate) }]}
        />
        <LineChart
          title="Requests per second"
          format={(v) => (v === null ? "—" : v < 10 ? v.toFixed(2) : Math.round(v).toString())}
          span={SPAN}
          emptyText={emptyText}
          end={end}
          minMax={1}
          series={[{ label: "requests/s", color: "#0369a1", values: series((p) => p.requestsPerSec) }]}
        />
        <LineChart
          title="Memory"
          format={formatBytes}
          nice={niceBytes}
          span={SPAN}
          emptyText={emptyText}
          end={end}
          series={[{ label: "resident", color: "#6d28d9", values: series((p) => p.memoryBytes) }]}
        />
        <LineChart
          title="Engine queue"
          format={(v) => (v === null ? "—" : String(Math.round(v * 10) / 10))}
          span={SPAN}
          emptyText={emptyText}
          end={end}
          minMax={2}
          series={[
            { label: "waiting", color: "#b45309", values: series((p) => p.queuePending) },
            { label: "running", color: "#047857", values: series((p) => p.queueInFlight) },
          ]}
        />
      </section>
      <p className="text-xs text-slate-700">
        Charts use /metrics, differenced between polls every {EVERY_MS / 1000} s (the dashboard's own polls are left out); the
        figures above are /health's sliding window.
      </p>

      {report && (
        <section className="card overflow-x-auto" aria-labelledby="checks-h">
          <h2 id="checks-h" className="mb-2 font-semibold">
            Checks
          </h2>
          <table className="w-full text-left text-sm">
            <thead className="text-slate-700">
              <tr>
                <th className="py-1 pr-3 font-medium">Check</th>
                <th className="py-1 pr-3 font-medium">State</th>
                <th className="py-1 pr-3 font-medium">Finding</th>
                <th className="py-1 font-medium">Took</th>
              </tr>
            </thead>
            <tbody>
              {report.checks.map((c) => (
                <tr key={c.name} className="border-t border-slate-200 align-top">
                  <td className="py-1.5 pr-3 font-medium">{c.name}</td>
                  <td className="py-1.5 pr-3">
                    <span className={`rounded-full px-2 py-0.5 text-xs font-semibold ring-1 ring-inset ${STATUS_CLASS[c.status] ?? ""}`}>
                      {c.status}
                    </span>
                  </td>
                  <td className="py-1.5 pr-3 text-slate-800">{c.message}</td>
                  <td className="py-1.5 tabular-nums">{formatMs(c.latency_ms)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="mt-2 text-xs text-slate-700">
            Selah {report.version}, up {formatUptime(report.uptime_secs)}.
          </p>
        </section>
      )}

      {engine && (engine.models.length > 0 || engine.backends.length > 0) && (
        <section className="card overflow-x-auto" aria-labelledby="engine-h">
          <h2 id="engine-h" className="mb-2 font-semibold">
            Engine
          </h2>
          {engine.error && <p className="error-text mb-2">{engine.error}</p>}
          {engine.models.length > 0 && (
            <table className="w-full text-left text-sm">
              <thead className="text-slate-700">
                <tr>
                  <th className="py-1 pr-3 font-medium">Model</th>
                  <th className="py-1 pr-3 font-medium">Loaded</th>
                  <th className="py-1 pr-3 font-medium">Running</th>
                  <th className="py-1 pr-3 font-medium">Waiting</th>
                  <th className="py-1 font-medium">Memory</th>
                </tr>
              </thead>
              <tbody>
                {engine.models.map((m) => (
                  <tr key={m.id} className="border-t border-slate-200">
                    <td className="py-1.5 pr-3 break-all">
                      {m.id}
                      {m.hot_slot !== null && m.hot_slot !== undefined && <span className="ml-1 text-xs text-slate-700">(hot slot {m.hot_slot})</span>}
                    </td>
                    <td className="py-1.5 pr-3">{m.loaded ? "yes" : "no"}</td>
                    <td className="py-1.5 pr-3 tabular-nums">{m.in_flight}</td>
                    <td className="py-1.5 pr-3 tabular-nums">{m.pending}</td>
                    <td className="py-1.5 tabular-nums">{formatBytes(m.memory_bytes)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {engine.backends.length > 0 && (
            <ul className="mt-2 text-sm">
              {engine.backends.map((b) => (
                <li key={b.name}>
                  Backend {b.name}: circuit {b.state.replace("_", " ")}
                  {b.failures > 0 && `, ${b.failures} failures in a row`}
                </li>
              ))}
            </ul>
          )}
        </section>
      )}
    </div>
  );
}

function Figure({ label, value, children }: { label: string; value: string; children?: ReactNode }) {
  return (
    <div className="card">
      <p className="text-sm text-slate-700">{label}</p>
      <p className="mt-1 text-lg font-semibold tabular-nums text-slate-900">{value}</p>
      {children && <p className="mt-1 text-xs text-slate-700">{children}</p>}
    </div>
  );
}
