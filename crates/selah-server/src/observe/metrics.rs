//! Request and process metrics, rendered for `GET /metrics` in the Prometheus text format 0.0.4.
//!
//! Hand-written rather than a metrics crate: the set is small and fixed, and the hot path is
//! a read lock plus a few atomic additions. Cardinality is bounded by construction: routes are
//! axum's matched templates (or `unmatched`), methods are folded into a fixed set, and
//! statuses are three-digit numbers.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::RwLock;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::http::Method;
use selah_core::Config;

use crate::state::AppState;

use crate::observe::process::resident_memory_bytes;
use crate::observe::window::{
    BUCKET_COUNT, ErrorWindow, LATENCY_BUCKETS, WindowSnapshot, bucket_index,
};

/// The route label for requests that matched no route.
pub const UNMATCHED: &str = "unmatched";

/// Routes whose requests are left out of the error window: watchdogs and scrapers poll them
/// all day, and counting them would dilute the error rate of the real API.
const OUTSIDE_WINDOW: &[&str] = &["/health", "/metrics"];

/// Metrics registry.
pub struct Metrics {
    epoch: Instant,
    routes: RwLock<HashMap<String, RouteStats>>,
    in_flight: AtomicI64,
    window: ErrorWindow,
}

#[derive(Default)]
struct RouteStats {
    /// Requests by (method, status).
    counts: RwLock<HashMap<(&'static str, u16), AtomicU64>>,
    /// Non-cumulative bucket counts; rendered cumulatively.
    buckets: [AtomicU64; BUCKET_COUNT],
    sum_micros: AtomicU64,
    count: AtomicU64,
}

/// Decrements the in-flight gauge when the request ends, however it ends (cancelled
/// connections included).
pub struct InFlight<'a>(&'a AtomicI64);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Folds methods into a fixed set so that clients cannot create label values at will.
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

impl Metrics {
    /// A fresh registry whose error window is `health.error_window_secs` wide.
    pub fn new(config: &Config) -> Self {
        Self {
            epoch: Instant::now(),
            routes: RwLock::new(HashMap::new()),
            in_flight: AtomicI64::new(0),
            window: ErrorWindow::new(config.health.error_window_secs),
        }
    }

    /// Marks a request as in flight until the returned guard is dropped.
    pub fn in_flight(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(&self.in_flight)
    }

    /// Requests currently being served.
    pub fn in_flight_now(&self) -> i64 {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// Counts a finished request. `route` is the matched template, `None` when nothing matched.
    pub fn record(&self, method: &Method, route: Option<&str>, status: u16, elapsed: Duration) {
        let route = route.unwrap_or(UNMATCHED);
        if !OUTSIDE_WINDOW.contains(&route) {
            self.window.record(self.now_sec(), status >= 500, elapsed);
        }
        let key = (method_label(method), status);
        {
            let routes = self.routes.read().unwrap_or_else(|p| p.into_inner());
            if let Some(stats) = routes.get(route) {
                stats.observe(key, elapsed);
                return;
            }
        }
        let mut routes = self.routes.write().unwrap_or_else(|p| p.into_inner());
        routes
            .entry(route.to_string())
            .or_default()
            .observe(key, elapsed);
    }

    /// The error window's figures now.
    pub fn window(&self) -> WindowSnapshot {
        self.window.snapshot(self.now_sec())
    }

    fn now_sec(&self) -> u64 {
        self.epoch.elapsed().as_secs()
    }

    /// Appends the request families (counter, histogram, in-flight gauge) to `out`.
    pub fn render_requests(&self, out: &mut String) {
        let routes = self.routes.read().unwrap_or_else(|p| p.into_inner());
        let mut names: Vec<&String> = routes.keys().collect();
        names.sort();

        header(
            out,
            "selah_http_requests_total",
            "counter",
            "HTTP requests by method, route template and status.",
        );
        for name in &names {
            let counts = routes[*name]
                .counts
                .read()
                .unwrap_or_else(|p| p.into_inner());
            let mut keys: Vec<_> = counts.keys().copied().collect();
            keys.sort();
            for key in keys {
                let _ = writeln!(
                    out,
                    "selah_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{}\"}} {}",
                    key.0,
                    escape(name),
                    key.1,
                    counts[&key].load(Ordering::Relaxed)
                );
            }
        }

        header(
            out,
            "selah_http_request_duration_seconds",
            "histogram",
            "Time to answer a request, by route template.",
        );
        for name in &names {
            let stats = &routes[*name];
            let route = escape(name);
            let mut cumulative = 0u64;
            for (i, bucket) in stats.buckets.iter().enumerate() {
                cumulative += bucket.load(Ordering::Relaxed);
                let le = LATENCY_BUCKETS
                    .get(i)
                    .map_or_else(|| "+Inf".to_string(), |b| b.to_string());
                let _ = writeln!(
                    out,
                    "selah_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{le}\"}} {cumulative}"
                );
            }
            let sum = stats.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
            let _ = writeln!(
                out,
                "selah_http_request_duration_seconds_sum{{route=\"{route}\"}} {sum}"
            );
            let _ = writeln!(
                out,
                "selah_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                stats.count.load(Ordering::Relaxed)
            );
        }

        gauge(
            out,
            "selah_http_requests_in_flight",
            "Requests being served now.",
            self.in_flight_now(),
        );
    }
}

/// The whole `/metrics` text: request families, then process, database, audit and health.
pub async fn exposition(state: &AppState) -> String {
    let mut out = String::with_capacity(16 * 1024);
    state.metrics.render_requests(&mut out);
    gauge(
        &mut out,
        "selah_http_error_ratio",
        "Share of requests answered 5xx over the health error window.",
        state.metrics.window().error_rate(),
    );
    gauge(
        &mut out,
        "selah_process_resident_memory_bytes",
        "Resident memory of the Selah process.",
        resident_memory_bytes(),
    );
    gauge(
        &mut out,
        "selah_uptime_seconds",
        "Seconds since the server started.",
        state.started.elapsed().as_secs_f64(),
    );
    let (open, idle) = state.store.pool_stats();
    header(
        &mut out,
        "selah_db_pool_connections",
        "gauge",
        "Database pool connections by state.",
    );
    let _ = writeln!(out, "selah_db_pool_connections{{state=\"open\"}} {open}");
    let _ = writeln!(out, "selah_db_pool_connections{{state=\"idle\"}} {idle}");
    gauge(
        &mut out,
        "selah_audit_queue_depth",
        "Audit events waiting to be written.",
        state.audit.queue_depth(),
    );
    crate::ai::monitoring::render_metrics(state, &mut out);
    render_documents(state, &mut out).await;
    gauge(
        &mut out,
        "selah_health_score",
        "The /health score (0-100).",
        state.health.report(state).await.score,
    );
    out
}

impl RouteStats {
    fn observe(&self, key: (&'static str, u16), elapsed: Duration) {
        self.buckets[bucket_index(elapsed)].fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
        {
            let counts = self.counts.read().unwrap_or_else(|p| p.into_inner());
            if let Some(c) = counts.get(&key) {
                c.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
        let mut counts = self.counts.write().unwrap_or_else(|p| p.into_inner());
        counts
            .entry(key)
            .or_default()
            .fetch_add(1, Ordering::Relaxed);
    }
}

/// Writes `# HELP` and `# TYPE` lines.
pub fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Writes a whole unlabelled gauge family.
pub fn gauge(out: &mut String, name: &str, help: &str, value: impl std::fmt::Display) {
    header(out, name, "gauge", help);
    let _ = writeln!(out, "{name} {value}");
}

/// Escapes a label value (backslash, double quote, newline).
pub fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Documents by ingestion state, passages embedded since start, vectors in the index.
async fn render_documents(state: &AppState, out: &mut String) {
    if let Ok(counts) = state.store.document_state_counts().await {
        header(
            out,
            "selah_documents",
            "gauge",
            "Documents by ingestion state.",
        );
        for (s, n) in counts {
            let _ = writeln!(out, "selah_documents{{state=\"{}\"}} {n}", s.as_str());
        }
    }
    header(
        out,
        "selah_docs_passages_embedded_total",
        "counter",
        "Passages embedded since the server started.",
    );
    let _ = writeln!(
        out,
        "selah_docs_passages_embedded_total {}",
        state.docs.embedded_total()
    );
    gauge(
        out,
        "selah_docs_index_vectors",
        "Passage vectors in the in-memory search index.",
        state.docs.index_len(),
    );
    gauge(
        out,
        "selah_docs_index_passages",
        "Passages in the in-memory full-text index.",
        state.docs.text_len(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_route_and_keeps_health_out_of_the_window() {
        let m = Metrics::new(&Config::default());
        m.record(
            &Method::GET,
            Some("/api/v1/things/{id}"),
            200,
            Duration::from_millis(2),
        );
        m.record(
            &Method::GET,
            Some("/api/v1/things/{id}"),
            500,
            Duration::from_millis(2),
        );
        m.record(
            &Method::from_bytes(b"BREW").unwrap(),
            None,
            404,
            Duration::from_millis(1),
        );
        m.record(&Method::GET, Some("/health"), 503, Duration::from_millis(1));
        let w = m.window();
        assert_eq!((w.total, w.errors), (3, 1));

        let mut out = String::new();
        m.render_requests(&mut out);
        assert!(out.contains(
            "selah_http_requests_total{method=\"GET\",route=\"/api/v1/things/{id}\",status=\"500\"} 1"
        ));
        assert!(out.contains("method=\"OTHER\",route=\"unmatched\",status=\"404\"} 1"));
        assert!(out.contains(
            "selah_http_request_duration_seconds_bucket{route=\"/api/v1/things/{id}\",le=\"+Inf\"} 2"
        ));
    }

    #[test]
    fn in_flight_guard_decrements_on_drop() {
        let m = Metrics::new(&Config::default());
        let g = m.in_flight();
        assert_eq!(m.in_flight_now(), 1);
        drop(g);
        assert_eq!(m.in_flight_now(), 0);
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
