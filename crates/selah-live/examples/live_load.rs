//! Load generator for the live WebSocket protocol (docs/LIVE.md), used by `bench/live/run.sh`
//! against `selah serve` and against the Node `ws` baseline (bench/live/node-server.mjs).
//!
//! It opens `--connections` WebSockets (at most `--concurrency` handshakes at a time, each
//! retried a few times), spreads them over `--rooms` rooms (connection `i` joins room
//! `i % rooms`), authenticates each with `--token` and joins its room, waiting for the
//! `room.snapshot`. Once every connection has joined, each sends
//! `{"v":1,"type":"signal","room":ID,"data":{"t":MICROS,"c":INDEX}}` `--rate` times a second,
//! from a random initial phase so that sends are spread evenly, where `MICROS` is microseconds
//! since the start of this process. Every connection reads everything; each `signal` received
//! with a `data.t` gives one fan-out latency sample (now − t, send to this receiver), recorded
//! only within the measurement window (after `--warmup` seconds, for `--seconds` seconds).
//!
//! With `--create-rooms`, the rooms are first created over one connection (`room.create`, kind
//! `collaboration`), which is closed before the load starts (the creator joins what it creates);
//! otherwise the rooms are `bench-0`, `bench-1`, … and the server makes them on the first join.
//!
//! Progress goes to stderr, one line a second; the result is ONE JSON line on stdout:
//! `connections`, `rooms`, `seconds`, `sent`, `delivered`, `delivered_per_s`, `expected_per_s`
//! (the sum over rooms of members² × rate: every member receives every member's signals, its
//! own included), `p50_ms`, `p99_ms`, `p999_ms`, `max_ms`, `errors` (`error` frames and failed
//! connections), `disconnects`; and for the record `requested`, `join_s` (seconds to join them
//! all), `sent_per_s`, and `send_lag_p50_ms`/`send_lag_p99_ms`: how late the signals left
//! against their schedule. A growing send lag means the client itself ran short of CPU (it
//! shares the machine with the server), so the offered load fell below connections × rate.
//!
//! ```text
//! cargo run --release -p selah-live --example live_load -- --url ws://127.0.0.1:8080/ws \
//!     --token T --connections 10000 --rooms 100 --create-rooms --warmup 5 --seconds 20 --rate 1
//! ```
//!
//! The client shares the machine with the server, so it is kept lean: one task per connection,
//! small read buffers, signals recognised by a byte search (anything else is parsed as JSON),
//! and counters and the latency histogram kept per worker thread and summed at the end.

use std::io::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, watch};
use tokio::time::Instant as TokioInstant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The process-wide clock every `t` is measured on.
static START: OnceLock<Instant> = OnceLock::new();

fn start() -> Instant {
    *START.get_or_init(Instant::now)
}

/// Microseconds since [`START`].
fn now_us() -> u64 {
    start().elapsed().as_micros() as u64
}

/// The tokio instant `us` microseconds after [`START`].
fn at_us(us: u64) -> TokioInstant {
    TokioInstant::from_std(start() + Duration::from_micros(us))
}

// ---------------------------------------------------------------------------------------------
// Command line

struct Args {
    url: String,
    token: String,
    connections: usize,
    rooms: usize,
    create_rooms: bool,
    warmup: f64,
    seconds: f64,
    rate: f64,
    concurrency: usize,
}

const USAGE: &str = "usage: live_load --url ws://HOST:PORT/ws [--token T] [--connections 10000] \
[--rooms 100] [--create-rooms] [--warmup 5] [--seconds 20] [--rate 1] [--concurrency 200]";

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        url: String::new(),
        token: String::new(),
        connections: 10_000,
        rooms: 100,
        create_rooms: false,
        warmup: 5.0,
        seconds: 20.0,
        rate: 1.0,
        concurrency: 200,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--create-rooms" {
            a.create_rooms = true;
            continue;
        }
        if flag == "-h" || flag == "--help" {
            return Err(USAGE.to_string());
        }
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let num = |v: &str| {
            v.parse::<f64>()
                .map_err(|_| format!("{flag}: not a number: {v}"))
        };
        let int = |v: &str| {
            v.parse::<usize>()
                .map_err(|_| format!("{flag}: not a whole number: {v}"))
        };
        match flag.as_str() {
            "--url" => a.url = value,
            "--token" => a.token = value,
            "--connections" => a.connections = int(&value)?,
            "--rooms" => a.rooms = int(&value)?,
            "--warmup" => a.warmup = num(&value)?,
            "--seconds" => a.seconds = num(&value)?,
            "--rate" => a.rate = num(&value)?,
            "--concurrency" => a.concurrency = int(&value)?,
            _ => return Err(format!("unknown flag {flag}\n{USAGE}")),
        }
    }
    if a.url.is_empty() {
        return Err(format!("--url is required\n{USAGE}"));
    }
    if a.connections == 0 || a.rooms == 0 || a.concurrency == 0 {
        return Err("--connections, --rooms and --concurrency are at least 1".into());
    }
    if !(a.rate > 0.0 && a.rate.is_finite()) {
        return Err("--rate is a positive number".into());
    }
    if !(a.warmup >= 0.0 && a.seconds > 0.0 && a.warmup + a.seconds < (MAX_SECONDS - 2) as f64) {
        return Err(format!(
            "--warmup + --seconds is under {} seconds",
            MAX_SECONDS - 2
        ));
    }
    Ok(a)
}

// ---------------------------------------------------------------------------------------------
// Statistics: a log-linear histogram and per-second counters, one shard per thread

/// Values below 2^SUB_BITS are exact; above, each power of two is split into 2^(SUB_BITS-1)
/// buckets, so a bucket is at most 1/128 of its value wide (reported at its middle: ±0.4%).
const SUB_BITS: u32 = 8;
/// Latencies are clamped below 2^MAX_BITS µs (about 12 days).
const MAX_BITS: u32 = 40;
const BUCKETS: usize = (((MAX_BITS - SUB_BITS) as usize) << (SUB_BITS - 1)) + (1 << SUB_BITS);
/// Per-second counters cover this many seconds from the start of the load.
const MAX_SECONDS: usize = 3600;

fn bucket(v: u64) -> usize {
    let v = v.min((1 << MAX_BITS) - 1);
    if v < 1 << SUB_BITS {
        return v as usize;
    }
    let e = 63 - v.leading_zeros(); // SUB_BITS..MAX_BITS
    let shift = e - (SUB_BITS - 1);
    (((e - SUB_BITS + 1) as usize) << (SUB_BITS - 1)) + (v >> shift) as usize
}

/// The middle of bucket `i`.
fn bucket_value(i: usize) -> f64 {
    if i < 1 << SUB_BITS {
        return i as f64;
    }
    let e = (i >> (SUB_BITS - 1)) as u32 + SUB_BITS - 2;
    let m = (i & ((1 << (SUB_BITS - 1)) - 1)) as u64 + (1 << (SUB_BITS - 1));
    let shift = e - (SUB_BITS - 1);
    let low = m << shift;
    low as f64 + ((1u64 << shift) as f64 - 1.0) / 2.0
}

/// One thread's counters. Only its thread writes them (so the atomics are uncontended); the
/// main thread reads them for progress and the result.
struct Shard {
    /// Fan-out latency (µs) of the signals received in the measurement window.
    hist: Box<[AtomicU64]>,
    max_us: AtomicU64,
    /// How late (µs) each signal sent in the window left, against its schedule: when this
    /// grows, the client itself is short of CPU and the offered load falls below the target.
    lag: Box<[AtomicU64]>,
    /// Signals received in the measurement window.
    delivered: AtomicU64,
    /// Signals sent in the measurement window.
    sent: AtomicU64,
    /// Signals received, by second since the start of the load.
    delivered_per_s: Box<[AtomicU64]>,
    /// Signals sent, by second since the start of the load.
    sent_per_s: Box<[AtomicU64]>,
}

fn zeros(n: usize) -> Box<[AtomicU64]> {
    (0..n).map(|_| AtomicU64::new(0)).collect()
}

impl Shard {
    fn new() -> Self {
        Shard {
            hist: zeros(BUCKETS),
            max_us: AtomicU64::new(0),
            lag: zeros(BUCKETS),
            delivered: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            delivered_per_s: zeros(MAX_SECONDS),
            sent_per_s: zeros(MAX_SECONDS),
        }
    }
}

static SHARDS: Mutex<Vec<Arc<Shard>>> = Mutex::new(Vec::new());

thread_local! {
    static SHARD: Arc<Shard> = {
        let s = Arc::new(Shard::new());
        SHARDS.lock().expect("shards").push(Arc::clone(&s));
        s
    };
}

fn add(counter: &AtomicU64, n: u64) {
    // Single writer: a load and a store, no locked instruction.
    counter.store(counter.load(Relaxed) + n, Relaxed);
}

/// Connections refused, failed or answered with `error`; and connections lost after joining.
static ERRORS: AtomicU64 = AtomicU64::new(0);
static DISCONNECTS: AtomicU64 = AtomicU64::new(0);
/// How many problems have been described on stderr (the first few only).
static REPORTED: AtomicUsize = AtomicUsize::new(0);

fn problem(what: impl FnOnce() -> String) {
    if REPORTED.fetch_add(1, Relaxed) < 20 {
        eprintln!("live_load: {}", what());
    }
}

fn error_frame(text: &str) {
    ERRORS.fetch_add(1, Relaxed);
    problem(|| format!("error frame: {text}"));
}

/// The load's timeline, in µs since [`START`], known once every connection has joined.
#[derive(Clone, Copy)]
struct Timeline {
    t0: u64,
    window_start: u64,
    window_end: u64,
}

impl Timeline {
    fn second(&self, us: u64) -> Option<usize> {
        let s = (us.checked_sub(self.t0)? / 1_000_000) as usize;
        (s < MAX_SECONDS).then_some(s)
    }
    fn in_window(&self, us: u64) -> bool {
        (self.window_start..self.window_end).contains(&us)
    }
}

// ---------------------------------------------------------------------------------------------
// Frames

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let first = needle[0];
    let mut from = 0;
    while from + needle.len() <= hay.len() {
        let i = from
            + hay[from..=hay.len() - needle.len()]
                .iter()
                .position(|&b| b == first)?;
        if hay[i..].starts_with(needle) {
            return Some(i);
        }
        from = i + 1;
    }
    None
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// `data.t` of a `signal` frame without parsing the rest: the frame has `"type":"signal"` and a
/// `"data":{…}` object, which is scanned (strings, nesting, any key order, whitespace) for its
/// own key `t` holding a whole number. None means "not recognised", not "no t": the caller then
/// parses the frame as JSON. Both servers render `type` and `data` at the top level with no
/// space after the colon, and `data` is the only key of that name before the data itself (the
/// keys before it are `v`, `type`, `room`, `seq`, `at`, `user`).
fn fast_signal_t(frame: &[u8]) -> Option<u64> {
    find(frame, br#""type":"signal""#)?;
    let b = frame;
    let mut i = skip_ws(b, find(b, br#""data":"#)? + 7);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    let mut depth = 1u32;
    let mut key_next = true;
    while i < b.len() {
        match b[i] {
            b'"' => {
                let start = i + 1;
                let mut j = start;
                while j < b.len() && b[j] != b'"' {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                if j >= b.len() {
                    return None;
                }
                i = j + 1;
                if depth == 1 && key_next {
                    i = skip_ws(b, i);
                    if b.get(i) != Some(&b':') {
                        return None;
                    }
                    i = skip_ws(b, i + 1);
                    key_next = false;
                    if &b[start..j] == b"t" {
                        let digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
                        let after = skip_ws(b, i + digits);
                        if digits == 0 || digits > 19 || !matches!(b.get(after), Some(b',' | b'}'))
                        {
                            return None;
                        }
                        return std::str::from_utf8(&b[i..i + digits]).ok()?.parse().ok();
                    }
                }
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return None;
                }
            }
            b',' if depth == 1 => key_next = true,
            _ => {}
        }
        i += 1;
    }
    None
}

enum Frame {
    /// A `signal`, with its `data.t` if it has one.
    Signal(Option<u64>),
    /// An `error`.
    Error,
    /// Anything else.
    Other,
}

fn classify(text: &str) -> Frame {
    if let Some(t) = fast_signal_t(text.as_bytes()) {
        return Frame::Signal(Some(t));
    }
    let Ok(v) = serde_json::from_str::<Value>(text) else {
        return Frame::Other;
    };
    match v.get("type").and_then(Value::as_str) {
        Some("signal") => Frame::Signal(v.pointer("/data/t").and_then(Value::as_u64)),
        Some("error") => Frame::Error,
        _ => Frame::Other,
    }
}

fn type_of(v: &Value) -> &str {
    v.get("type").and_then(Value::as_str).unwrap_or("")
}

// ---------------------------------------------------------------------------------------------
// Connections

fn ws_config() -> WebSocketConfig {
    // Frames are ~200 bytes; tungstenite's defaults (128 KiB read and write buffers) would cost
    // over a gigabyte at 10,000 connections.
    WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0)
        .max_write_buffer_size(1 << 20)
}

/// Connects, retrying a refused or failed handshake a few times with backoff.
async fn connect(url: &str, index: usize) -> Result<Ws, String> {
    let mut last = String::new();
    for attempt in 0..5u32 {
        if attempt > 0 {
            let ms = 100u64 << attempt;
            let jitter = splitmix(index as u64 ^ u64::from(attempt)) % ms;
            tokio::time::sleep(Duration::from_millis(ms / 2 + jitter / 2)).await;
        }
        let attempt_fut =
            tokio_tungstenite::connect_async_with_config(url, Some(ws_config()), true);
        match tokio::time::timeout(Duration::from_secs(10), attempt_fut).await {
            Ok(Ok((ws, _))) => return Ok(ws),
            Ok(Err(e)) => last = e.to_string(),
            Err(_) => last = "handshake timed out".into(),
        }
    }
    Err(format!("connection {index}: {last}"))
}

/// Reads until a text frame for which `done` returns Some; `error` frames fail.
async fn until<T>(
    ws: &mut Ws,
    what: &str,
    mut done: impl FnMut(&Value) -> Option<T>,
) -> Result<T, String> {
    while let Some(msg) = ws.next().await {
        match msg.map_err(|e| format!("waiting for {what}: {e}"))? {
            Message::Text(t) => {
                let v: Value =
                    serde_json::from_str(t.as_str()).map_err(|e| format!("not JSON ({e}): {t}"))?;
                if type_of(&v) == "error" {
                    return Err(format!("waiting for {what}: error frame: {t}"));
                }
                if let Some(x) = done(&v) {
                    return Ok(x);
                }
            }
            Message::Close(c) => return Err(format!("closed while waiting for {what}: {c:?}")),
            _ => {}
        }
    }
    Err(format!("connection ended while waiting for {what}"))
}

async fn send_json(ws: &mut Ws, v: Value) -> Result<(), String> {
    ws.send(Message::text(v.to_string()))
        .await
        .map_err(|e| e.to_string())
}

async fn authenticate(ws: &mut Ws, token: &str) -> Result<(), String> {
    send_json(
        ws,
        serde_json::json!({"v": 1, "type": "auth", "token": token}),
    )
    .await?;
    until(ws, "hello", |v| (type_of(v) == "hello").then_some(())).await
}

/// Creates the rooms over one connection, pacing itself when the server says `rate_limited`,
/// and closes that connection (its creator is a member of every room).
async fn create_rooms(args: &Args) -> Result<Vec<String>, String> {
    let mut ws = connect(&args.url, usize::MAX).await?;
    authenticate(&mut ws, &args.token).await?;
    let mut ids = Vec::with_capacity(args.rooms);
    let mut i = 0;
    while i < args.rooms {
        let reference = format!("c{i}");
        let req = serde_json::json!({"v": 1, "type": "room.create", "kind": "collaboration",
            "name": format!("bench-{i}"), "id": reference});
        send_json(&mut ws, req).await?;
        let mut limited = false;
        loop {
            let Some(msg) = ws.next().await else {
                return Err("room.create: connection ended".into());
            };
            let Message::Text(t) = msg.map_err(|e| format!("room.create: {e}"))? else {
                continue;
            };
            let v: Value =
                serde_json::from_str(t.as_str()).map_err(|e| format!("not JSON ({e}): {t}"))?;
            let ours = v.get("ref").is_none_or(|r| r.as_str() == Some(&reference));
            match type_of(&v) {
                "room.created" if ours => {
                    let id = v.pointer("/info/id").and_then(Value::as_str);
                    ids.push(
                        id.ok_or_else(|| format!("room.created without room.id: {t}"))?
                            .to_string(),
                    );
                    break;
                }
                "error" if v.get("code").and_then(Value::as_str) == Some("rate_limited") => {
                    limited = true;
                    break;
                }
                "error" => return Err(format!("room.create: error frame: {t}")),
                _ => {}
            }
        }
        if limited {
            tokio::time::sleep(Duration::from_millis(1100)).await;
        } else {
            i += 1;
        }
    }
    let _ = ws.close(None).await;
    Ok(ids)
}

fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

struct Shared {
    args: Args,
    joins: Semaphore,
    joined: AtomicUsize,
    finished_joining: AtomicUsize,
    room_members: Vec<AtomicUsize>,
    seed: u64,
    stop: AtomicBool,
}

/// Handles one frame received during the load.
fn on_frame(
    msg: Result<Message, tokio_tungstenite::tungstenite::Error>,
    tl: &Timeline,
) -> Result<(), ()> {
    match msg {
        Ok(Message::Text(t)) => match classify(t.as_str()) {
            Frame::Signal(Some(sent)) => {
                let now = now_us();
                SHARD.with(|s| {
                    if let Some(sec) = tl.second(now) {
                        add(&s.delivered_per_s[sec], 1);
                    }
                    if tl.in_window(now) {
                        let lat = now.saturating_sub(sent);
                        add(&s.hist[bucket(lat)], 1);
                        add(&s.delivered, 1);
                        if lat > s.max_us.load(Relaxed) {
                            s.max_us.store(lat, Relaxed);
                        }
                    }
                });
            }
            Frame::Signal(None) | Frame::Other => {}
            Frame::Error => error_frame(t.as_str()),
        },
        Ok(Message::Close(c)) => {
            DISCONNECTS.fetch_add(1, Relaxed);
            problem(|| format!("closed by the server: {c:?}"));
            return Err(());
        }
        Ok(_) => {}
        Err(e) => {
            DISCONNECTS.fetch_add(1, Relaxed);
            problem(|| format!("connection lost: {e}"));
            return Err(());
        }
    }
    Ok(())
}

async fn connection(
    index: usize,
    room: Arc<str>,
    room_index: usize,
    sh: Arc<Shared>,
    mut go: watch::Receiver<Option<Timeline>>,
) {
    // Join, holding a permit so that only a bounded number of handshakes are in flight.
    let permit = sh.joins.acquire().await.expect("semaphore");
    let joining = async {
        let mut ws = connect(&sh.args.url, index).await?;
        authenticate(&mut ws, &sh.args.token).await?;
        send_json(
            &mut ws,
            serde_json::json!({"v": 1, "type": "room.join", "room": &*room}),
        )
        .await?;
        until(&mut ws, "room.snapshot", |v| {
            (type_of(v) == "room.snapshot").then_some(())
        })
        .await?;
        Ok::<_, String>(ws)
    };
    let joined = tokio::time::timeout(Duration::from_secs(60), joining).await;
    drop(permit);
    let mut ws = match joined {
        Ok(Ok(ws)) => ws,
        Ok(Err(e)) => {
            ERRORS.fetch_add(1, Relaxed);
            problem(|| format!("connection {index} did not join {room}: {e}"));
            sh.finished_joining.fetch_add(1, Relaxed);
            return;
        }
        Err(_) => {
            ERRORS.fetch_add(1, Relaxed);
            problem(|| format!("connection {index} did not join {room} within 60 s"));
            sh.finished_joining.fetch_add(1, Relaxed);
            return;
        }
    };
    sh.room_members[room_index].fetch_add(1, Relaxed);
    sh.joined.fetch_add(1, Relaxed);
    sh.finished_joining.fetch_add(1, Relaxed);

    // Until the start: keep reading (presence and the like), so that nothing queues up.
    let tl = loop {
        if let Some(tl) = *go.borrow_and_update() {
            break tl;
        }
        tokio::select! {
            msg = ws.next() => {
                let Some(msg) = msg else { DISCONNECTS.fetch_add(1, Relaxed); return };
                if on_frame(msg, &Timeline { t0: u64::MAX, window_start: 0, window_end: 0 }).is_err() {
                    return;
                }
            }
            changed = go.changed() => if changed.is_err() { return },
        }
    };

    // The load: a signal every 1/rate s from a random phase, reading everything meanwhile.
    let interval = 1e6 / sh.args.rate;
    let phase = (splitmix(sh.seed ^ index as u64) >> 11) as f64 / (1u64 << 53) as f64 * interval;
    let prefix = format!(
        r#"{{"v":1,"type":"signal","room":{},"data":{{"t":"#,
        serde_json::to_string(&*room).expect("a string serializes")
    );
    let due = |k: u64| tl.t0 + (phase + k as f64 * interval) as u64;
    let mut k = 0u64;
    let sleep = tokio::time::sleep_until(at_us(due(0)));
    tokio::pin!(sleep);
    let end = tokio::time::sleep_until(at_us(tl.window_end));
    tokio::pin!(end);
    let mut sending = true;
    loop {
        // The send first: under a flood of incoming frames, reading first would delay it.
        tokio::select! {
            biased;
            _ = &mut sleep, if sending => {
                let now = now_us();
                let text = format!("{prefix}{now},\"c\":{index}}}}}");
                if let Err(e) = ws.send(Message::text(text)).await {
                    DISCONNECTS.fetch_add(1, Relaxed);
                    problem(|| format!("connection {index}: send failed: {e}"));
                    return;
                }
                SHARD.with(|s| {
                    if let Some(sec) = tl.second(now) {
                        add(&s.sent_per_s[sec], 1);
                    }
                    if tl.in_window(now) {
                        add(&s.sent, 1);
                        add(&s.lag[bucket(now.saturating_sub(due(k)))], 1);
                    }
                });
                k += 1;
                if due(k) >= tl.window_end {
                    sending = false;
                } else {
                    sleep.as_mut().reset(at_us(due(k)));
                }
            }
            msg = ws.next() => {
                let Some(msg) = msg else { DISCONNECTS.fetch_add(1, Relaxed); return };
                if on_frame(msg, &tl).is_err() {
                    return;
                }
            }
            _ = &mut end => break,
        }
        if sh.stop.load(Relaxed) {
            break;
        }
    }
    // Keep the socket open until the process exits, reading, so the server sees no early close.
    while let Some(Ok(_)) = ws.next().await {}
}

fn sum(f: impl Fn(&Shard) -> u64) -> u64 {
    SHARDS.lock().expect("shards").iter().map(|s| f(s)).sum()
}

fn percentile(hist: &[u64], total: u64, q: f64) -> f64 {
    if total == 0 {
        return 0.0;
    }
    let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
    let mut seen = 0;
    for (i, &n) in hist.iter().enumerate() {
        seen += n;
        if seen >= rank {
            return bucket_value(i);
        }
    }
    0.0
}

fn round3(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
}

async fn run(args: Args) -> Result<(), String> {
    start();
    let rooms: Vec<String> = if args.create_rooms {
        let t = Instant::now();
        let ids = create_rooms(&args).await?;
        eprintln!(
            "live_load: created {} rooms in {:.1} s",
            ids.len(),
            t.elapsed().as_secs_f64()
        );
        ids
    } else {
        (0..args.rooms).map(|i| format!("bench-{i}")).collect()
    };
    let rooms: Vec<Arc<str>> = rooms.into_iter().map(Arc::from).collect();
    let seed = splitmix(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(7, |d| d.as_nanos() as u64),
    );
    let sh = Arc::new(Shared {
        joins: Semaphore::new(args.concurrency),
        joined: AtomicUsize::new(0),
        finished_joining: AtomicUsize::new(0),
        room_members: (0..rooms.len()).map(|_| AtomicUsize::new(0)).collect(),
        seed,
        stop: AtomicBool::new(false),
        args,
    });
    let (go_tx, go_rx) = watch::channel(None);

    let join_start = Instant::now();
    let n = sh.args.connections;
    for i in 0..n {
        let r = i % rooms.len();
        tokio::spawn(connection(
            i,
            Arc::clone(&rooms[r]),
            r,
            Arc::clone(&sh),
            go_rx.clone(),
        ));
    }
    drop(go_rx);
    let mut last_print = Instant::now();
    while sh.finished_joining.load(Relaxed) < n {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if last_print.elapsed() >= Duration::from_secs(2) {
            last_print = Instant::now();
            eprintln!(
                "live_load: joined {}/{n}, errors {}",
                sh.joined.load(Relaxed),
                ERRORS.load(Relaxed)
            );
        }
    }
    let join_s = join_start.elapsed().as_secs_f64();
    let joined = sh.joined.load(Relaxed);
    eprintln!("live_load: {joined}/{n} connections joined in {join_s:.1} s");
    if joined == 0 {
        return Err("no connection joined".into());
    }

    // Start shortly after now, so every task sees the timeline before its first send is due.
    let t0 = now_us() + 200_000;
    let window_start = t0 + (sh.args.warmup * 1e6) as u64;
    let window_end = window_start + (sh.args.seconds * 1e6) as u64;
    let tl = Timeline {
        t0,
        window_start,
        window_end,
    };
    let _ = go_tx.send(Some(tl));

    let rate = sh.args.rate;
    let members: Vec<f64> = sh
        .room_members
        .iter()
        .map(|m| m.load(Relaxed) as f64)
        .collect();
    let expected_per_s: f64 = members.iter().map(|m| m * m * rate).sum();
    eprintln!(
        "live_load: load starts; warm-up {} s, measuring {} s; expected {expected_per_s:.0} deliveries/s",
        sh.args.warmup, sh.args.seconds
    );
    let total_seconds = ((window_end - t0) as f64 / 1e6).ceil() as usize;
    for sec in 0..total_seconds {
        let end_of_sec = (t0 + (sec as u64 + 1) * 1_000_000).min(window_end);
        tokio::time::sleep_until(at_us(end_of_sec)).await;
        let d = sum(|s| s.delivered_per_s[sec].load(Relaxed));
        let sent = sum(|s| s.sent_per_s[sec].load(Relaxed));
        let tag = if t0 + sec as u64 * 1_000_000 >= window_start {
            "measure"
        } else {
            "warm-up"
        };
        eprintln!(
            "live_load: {tag} second {:>3}: sent {sent:>7}/s  delivered {d:>8}/s  errors {}  disconnects {}",
            sec + 1,
            ERRORS.load(Relaxed),
            DISCONNECTS.load(Relaxed)
        );
    }
    sh.stop.store(true, Relaxed);
    // The shards' last writes are single stores by their threads; give them a moment.
    tokio::time::sleep(Duration::from_millis(20)).await;

    let mut hist = vec![0u64; BUCKETS];
    let mut lag = vec![0u64; BUCKETS];
    let mut max_us = 0;
    for s in SHARDS.lock().expect("shards").iter() {
        for (h, b) in hist.iter_mut().zip(s.hist.iter()) {
            *h += b.load(Relaxed);
        }
        for (h, b) in lag.iter_mut().zip(s.lag.iter()) {
            *h += b.load(Relaxed);
        }
        max_us = max_us.max(s.max_us.load(Relaxed));
    }
    let recorded: u64 = hist.iter().sum();
    let lagged: u64 = lag.iter().sum();
    let delivered = sum(|s| s.delivered.load(Relaxed));
    let sent = sum(|s| s.sent.load(Relaxed));
    let seconds = (window_end - window_start) as f64 / 1e6;
    let ms = |us: f64| round3(us / 1000.0);
    let out = serde_json::json!({
        "connections": joined,
        "rooms": rooms.len(),
        "seconds": seconds,
        "sent": sent,
        "delivered": delivered,
        "delivered_per_s": (delivered as f64 / seconds).round(),
        "expected_per_s": expected_per_s.round(),
        "p50_ms": ms(percentile(&hist, recorded, 0.50)),
        "p99_ms": ms(percentile(&hist, recorded, 0.99)),
        "p999_ms": ms(percentile(&hist, recorded, 0.999)),
        "max_ms": ms(max_us as f64),
        "errors": ERRORS.load(Relaxed),
        "disconnects": DISCONNECTS.load(Relaxed),
        "requested": n,
        "sent_per_s": (sent as f64 / seconds).round(),
        "send_lag_p50_ms": ms(percentile(&lag, lagged, 0.50)),
        "send_lag_p99_ms": ms(percentile(&lag, lagged, 0.99)),
        "join_s": (join_s * 10.0).round() / 10.0,
    });
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{out}").map_err(|e| e.to_string())?;
    stdout.flush().map_err(|e| e.to_string())
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let code = match rt.block_on(run(args)) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("live_load: {e}");
            1
        }
    };
    // Exit without waiting for 10,000 connections to close one by one.
    std::process::exit(code);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotonic_and_precise() {
        let mut last = 0;
        for v in (0..5_000_000u64).step_by(7) {
            let b = bucket(v);
            assert!(b >= last && b < BUCKETS);
            last = b;
            let mid = bucket_value(b);
            assert!(
                (mid - v as f64).abs() <= (v as f64 / 128.0).max(0.5),
                "{v} -> {mid}"
            );
        }
        assert_eq!(bucket((1 << MAX_BITS) + 5), BUCKETS - 1);
    }

    #[test]
    fn signals_are_recognised() {
        let f = br#"{"v":1,"type":"signal","room":"r","seq":3,"at":5,"user":{"id":"u","username":"t"},"data":{"t":123,"c":4}}"#;
        assert_eq!(fast_signal_t(f), Some(123));
        assert!(matches!(
            classify(std::str::from_utf8(f).unwrap()),
            Frame::Signal(Some(123))
        ));
        let spaced = r#"{"v": 1, "type": "signal", "data": {"c": 4, "t": 77}}"#;
        assert!(matches!(classify(spaced), Frame::Signal(Some(77))));
        assert!(matches!(
            classify(r#"{"v":1,"type":"signal","data":{"x":1}}"#),
            Frame::Signal(None)
        ));
        assert!(matches!(
            classify(r#"{"v":1,"type":"presence","data":{"t":1}}"#),
            Frame::Other
        ));
        assert!(matches!(
            classify(r#"{"v":1,"type":"error","code":"x"}"#),
            Frame::Error
        ));
        assert_eq!(
            fast_signal_t(br#"{"type":"signal","data":{"t":12x}}"#),
            None
        );
        // Selah re-serializes data with its keys sorted.
        let sorted = br#"{"v":1,"type":"signal","room":"r","seq":2,"at":1,"user":{"id":"u","username":"f"},"data":{"c":4,"t":123}}"#;
        assert_eq!(fast_signal_t(sorted), Some(123));
        let nested =
            br#"{"type":"signal","data":{"a":{"t":1},"s":"\"t\":2","b":[{"t":3}], "t" : 9 }}"#;
        assert_eq!(fast_signal_t(nested), Some(9));
        assert_eq!(
            fast_signal_t(br#"{"type":"signal","data":{"a":{"t":1}}}"#),
            None
        );
        assert_eq!(fast_signal_t(br#"{"type":"signal","data":{"t":-1}}"#), None);
        assert!(matches!(
            classify(r#"{"type":"signal","data":{"a":{"t":1}}}"#),
            Frame::Signal(None)
        ));
    }
}
