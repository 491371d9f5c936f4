//! The batching worker: one std thread per loaded model owning the llama.cpp context.
//!
//! Each step builds one batch holding the next token of every generating sequence plus as much
//! of newly arrived prompts as fits (prompts are decoded in chunks, so a long prompt never stalls
//! the replies already streaming), decodes it once, then samples each sequence from its own row of
//! logits with its own sampler chain. A sequence whose receiver is gone is dropped at the next
//! step and its KV cells cleared, so its slot is free at once.
//!
//! A sequence that finishes keeps its KV cells: the slot stays warm with the tokens it holds.
//! A new prompt goes to the free slot sharing the longest prefix with it and decodes only the
//! rest, so the next turn of a conversation (its prompt is the last one, the reply and the new
//! message) or another chat with the same system prompt starts from what is already computed.
//! Requests that ask for a reproducible answer (temperature 0, or a seed) compute their prompt
//! whole (`may_use_cache`).

use std::collections::VecDeque;
use std::hash::{BuildHasher, RandomState};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::time::Duration;

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use tokio::sync::mpsc::error::TrySendError;

use super::text::TextStream;
use crate::{AiError, FinishReason, GenEvent, SamplingParams, TokenUsage};

/// Tokens decoded per step at most (prompt chunks plus one per generating sequence).
const BATCH: u32 = 512;
/// llama.cpp's `LLAMA_MAX_SEQ` is 256; far more than a CPU can usefully batch.
const MAX_SEQ: u32 = 64;
/// Tokens the repeat penalty looks back over.
const PENALTY_LAST_N: i32 = 64;

/// A generation handed to the worker.
pub(super) struct Request {
    pub prompt: String,
    pub params: SamplingParams,
    pub events: tokio::sync::mpsc::Sender<GenEvent>,
}

/// Fixed settings of the worker's context.
pub(super) struct Config {
    /// Window per sequence.
    pub n_ctx: u32,
    pub n_seq: u32,
    /// Threads for one-token steps.
    pub threads: u32,
    /// Threads for steps of several tokens.
    pub batch_threads: u32,
    /// Whether finished sequences keep their cells for the next prompt (`Worker::reuse`).
    pub prompt_cache: bool,
}

/// Tokenizes exactly as prompts are: special tokens parsed, BOS added if the model wants it.
pub(super) fn tokenize(model: &LlamaModel, text: &str) -> Vec<LlamaToken> {
    model.vocab().tokenize(text.as_bytes(), true, true)
}

/// One running generation.
struct Seq {
    id: i32,
    events: tokio::sync::mpsc::Sender<GenEvent>,
    sampler: LlamaSampler,
    prompt: Vec<LlamaToken>,
    /// Prompt tokens already put in a batch.
    fed: usize,
    /// Position of the next token.
    n_past: i32,
    /// Prompt tokens whose KV cells came from the slot's previous sequence.
    reused: usize,
    /// Sampled tokens already decoded (their KV cells follow the prompt's).
    decoded: Vec<LlamaToken>,
    generated: u32,
    max_tokens: u32,
    /// The token sampled last step, to decode this step.
    next: Option<LlamaToken>,
    /// Batch row whose logits to sample after this step's decode.
    row: Option<i32>,
    text: TextStream,
    /// Text the channel had no room for yet (sent with the next event).
    backlog: String,
}

/// Events still to deliver to readers whose buffer was full when their generation ended.
type Undelivered = Vec<(tokio::sync::mpsc::Sender<GenEvent>, VecDeque<GenEvent>)>;

pub(super) fn run(
    backend: &'static LlamaBackend,
    model: Arc<LlamaModel>,
    cfg: Config,
    requests: Receiver<Request>,
    active: Arc<AtomicUsize>,
    ready: Sender<Result<(), AiError>>,
) {
    let n_seq = cfg.n_seq.clamp(1, MAX_SEQ);
    let threads = i32::try_from(cfg.threads).unwrap_or(1).max(1);
    let batch_threads = i32::try_from(cfg.batch_threads).unwrap_or(1).max(1);
    let params = LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(cfg.n_ctx.saturating_mul(n_seq)))
        .with_n_batch(BATCH)
        .with_n_ubatch(BATCH)
        .with_n_seq_max(n_seq)
        // One KV stream per sequence: each has its full window whatever the others hold.
        .with_kv_unified(false)
        .with_n_threads(threads)
        // llama.cpp picks these for any step of more than one token.
        .with_n_threads_batch(batch_threads);
    let mut ctx = match model.new_context(backend, params) {
        Ok(c) => c,
        Err(e) => {
            let _ = ready.send(Err(AiError::BadModel(format!(
                "cannot create a context: {e}"
            ))));
            return;
        }
    };
    let _ = ready.send(Ok(()));
    let mut w = Worker {
        model: &model,
        cfg: &cfg,
        slots: (0..n_seq).map(|_| None).collect(),
        warm: vec![Vec::new(); n_seq as usize],
        waiting: VecDeque::new(),
        undelivered: Vec::new(),
        active: &active,
    };
    let mut batch = LlamaBatch::new(BATCH as usize, n_seq as i32);
    loop {
        if !w.intake(&requests) {
            break;
        }
        w.admit(&mut ctx);
        w.drop_cancelled(&mut ctx);
        if !w.fill(&mut batch) {
            continue;
        }
        if let Err(e) = ctx.decode(&mut batch) {
            w.fail_batch(&mut ctx, &format!("decode failed: {e}"));
            continue;
        }
        w.sample(&mut ctx);
    }
    // The model is being unloaded: tell whoever is still reading.
    for seq in w.slots.iter_mut().filter_map(Option::take) {
        let _ = seq
            .events
            .try_send(GenEvent::Error("the model was unloaded".into()));
        active.fetch_sub(1, Ordering::SeqCst);
    }
    for req in w.waiting.drain(..) {
        let _ = req
            .events
            .try_send(GenEvent::Error("the model was unloaded".into()));
        active.fetch_sub(1, Ordering::SeqCst);
    }
}

struct Worker<'a> {
    model: &'a LlamaModel,
    cfg: &'a Config,
    slots: Vec<Option<Seq>>,
    /// For each free slot, the tokens whose KV cells its sequence id still holds (empty when
    /// it holds none).
    warm: Vec<Vec<LlamaToken>>,
    waiting: VecDeque<Request>,
    undelivered: Undelivered,
    active: &'a AtomicUsize,
}

impl Worker<'_> {
    fn busy(&self) -> bool {
        self.slots.iter().any(Option::is_some) || !self.waiting.is_empty()
    }

    /// Collects new requests, sleeping while there is nothing to do. False when the model is
    /// being dropped.
    fn intake(&mut self, requests: &Receiver<Request>) -> bool {
        self.retry_undelivered();
        if !self.busy() {
            let got = if self.undelivered.is_empty() {
                requests.recv().map_err(|_| RecvTimeoutError::Disconnected)
            } else {
                requests.recv_timeout(Duration::from_millis(10))
            };
            match got {
                Ok(r) => self.waiting.push_back(r),
                Err(RecvTimeoutError::Timeout) => return true,
                Err(RecvTimeoutError::Disconnected) => return false,
            }
        }
        loop {
            match requests.try_recv() {
                Ok(r) => self.waiting.push_back(r),
                Err(TryRecvError::Empty) => return true,
                Err(TryRecvError::Disconnected) => return false,
            }
        }
    }

    /// Starts waiting requests in free slots: one that may use the prompt cache in the free slot
    /// whose cells share the longest prefix with its prompt, any other in the free slot holding
    /// the least (so that the cache others could use survives).
    fn admit(&mut self, ctx: &mut LlamaContext) {
        let active = self.active;
        self.waiting.retain(|r| {
            let open = !r.events.is_closed();
            if !open {
                active.fetch_sub(1, Ordering::SeqCst);
            }
            open
        });
        while self.slots.iter().any(Option::is_none) {
            let Some(req) = self.waiting.pop_front() else {
                break;
            };
            let prompt = tokenize(self.model, &req.prompt);
            let cached = self.cfg.prompt_cache && may_use_cache(&req.params);
            let free = (0..self.slots.len())
                .filter(|&i| self.slots[i].is_none())
                .max_by_key(|&i| {
                    let fit = if cached {
                        common_prefix(&self.warm[i], &prompt) as isize
                    } else {
                        -(self.warm[i].len() as isize)
                    };
                    (fit, usize::MAX - i)
                })
                .expect("a free slot");
            self.slots[free] = self.start(ctx, free as i32, req, prompt, cached);
        }
    }

    fn start(
        &mut self,
        ctx: &mut LlamaContext,
        id: i32,
        req: Request,
        prompt: Vec<LlamaToken>,
        cached: bool,
    ) -> Option<Seq> {
        let window = self.cfg.n_ctx as usize;
        let reject = if prompt.is_empty() {
            Some(GenEvent::Error("the prompt is empty".into()))
        } else if prompt.len() >= window {
            Some(GenEvent::Error(
                AiError::ContextOverflow {
                    needed: prompt.len() + 1,
                    window,
                }
                .to_string(),
            ))
        } else if req.params.max_tokens == 0 {
            Some(GenEvent::Done {
                usage: TokenUsage {
                    prompt_tokens: prompt.len() as u32,
                    ..TokenUsage::default()
                },
                finish: FinishReason::Length,
            })
        } else {
            None
        };
        if let Some(ev) = reject {
            self.active.fetch_sub(1, Ordering::SeqCst);
            self.deliver_final(&req.events, String::new(), ev);
            return None;
        }
        let reused = if cached {
            self.reuse(ctx, id, &prompt)
        } else {
            if !std::mem::take(&mut self.warm[id as usize]).is_empty() {
                free_cells(ctx, id);
            }
            0
        };
        Some(Seq {
            id,
            sampler: sampler_for(self.model, &req.params),
            text: TextStream::new(&req.params.stop),
            max_tokens: req.params.max_tokens,
            events: req.events,
            prompt,
            fed: reused,
            n_past: reused as i32,
            reused,
            decoded: Vec::new(),
            generated: 0,
            next: None,
            row: None,
            backlog: String::new(),
        })
    }

    /// Keeps the cells of slot `id` that hold a prefix of `prompt` and clears the rest; returns
    /// how many tokens are kept. The prompt's last token is always decoded again (its logits
    /// start the reply). Where the cache cannot be cut there (a recurrent model, or cells a
    /// sliding window has already dropped), everything is cleared and the prompt decoded whole.
    fn reuse(&mut self, ctx: &mut LlamaContext, id: i32, prompt: &[LlamaToken]) -> usize {
        let warm = std::mem::take(&mut self.warm[id as usize]);
        if warm.is_empty() {
            return 0;
        }
        let keep = common_prefix(&warm, prompt).min(prompt.len().saturating_sub(1));
        let cut = keep > 0
            && (keep == warm.len()
                || matches!(
                    ctx.clear_kv_cache_seq(Some(id as u32), Some(keep as u32), None),
                    Ok(true)
                ))
            && ctx.kv_cache_seq_pos_min(id) == 0;
        if cut {
            keep
        } else {
            free_cells(ctx, id);
            0
        }
    }

    /// Frees the slots of generations nobody reads any more.
    fn drop_cancelled(&mut self, ctx: &mut LlamaContext) {
        for slot in &mut self.slots {
            if slot.as_ref().is_some_and(|s| s.events.is_closed()) {
                let seq = slot.take().expect("checked above");
                free_cells(ctx, seq.id);
                self.active.fetch_sub(1, Ordering::SeqCst);
            }
        }
    }

    /// Builds this step's batch; false when there is nothing to decode.
    fn fill(&mut self, batch: &mut LlamaBatch) -> bool {
        batch.clear();
        for seq in self.slots.iter_mut().flatten() {
            seq.row = None;
            if let Some(tok) = seq.next.take() {
                batch
                    .add(tok, seq.n_past, &[seq.id], true)
                    .expect("batch sized for every slot");
                seq.row = Some(batch.n_tokens() - 1);
                seq.n_past += 1;
                seq.decoded.push(tok);
            }
        }
        for seq in self.slots.iter_mut().flatten() {
            let room = (BATCH as i32 - batch.n_tokens()).max(0) as usize;
            let left = seq.prompt.len() - seq.fed;
            if left == 0 || room == 0 {
                continue;
            }
            let take = left.min(room);
            for i in 0..take {
                let last = seq.fed + i + 1 == seq.prompt.len();
                batch
                    .add(seq.prompt[seq.fed + i], seq.n_past, &[seq.id], last)
                    .expect("room");
                seq.n_past += 1;
            }
            seq.fed += take;
            if seq.fed == seq.prompt.len() {
                seq.row = Some(batch.n_tokens() - 1);
            }
        }
        batch.n_tokens() > 0
    }

    /// A decode failed: every sequence in it ends with an error.
    fn fail_batch(&mut self, ctx: &mut LlamaContext, reason: &str) {
        tracing::warn!(reason, "llama.cpp decode failed");
        for slot in &mut self.slots {
            if slot.as_ref().is_some_and(|s| s.row.is_some() || s.fed > 0) {
                let seq = slot.take().expect("checked above");
                free_cells(ctx, seq.id);
                self.active.fetch_sub(1, Ordering::SeqCst);
                let _ = seq
                    .events
                    .try_send(GenEvent::Error(format!("engine error: {reason}")));
            }
        }
    }

    /// Samples every sequence that has logits this step and delivers its text.
    fn sample(&mut self, ctx: &mut LlamaContext) {
        let vocab = self.model.vocab();
        let n_ctx = self.cfg.n_ctx as usize;
        for i in 0..self.slots.len() {
            let Some(seq) = self.slots[i].as_mut() else {
                continue;
            };
            let Some(row) = seq.row else { continue };
            let tok = seq.sampler.sample(ctx, row);
            // (why it ended, whether held-back text is still to be released)
            let finish = if vocab.is_eog(tok) {
                Some((FinishReason::Stop, true))
            } else {
                seq.generated += 1;
                let out = seq.text.push(&vocab.token_to_piece(tok, false, None));
                seq.backlog.push_str(&out.text);
                if out.stopped {
                    Some((FinishReason::Stop, false))
                } else if seq.generated >= seq.max_tokens
                    || seq.prompt.len() + seq.generated as usize >= n_ctx
                {
                    // Prompt plus reply never exceed the window.
                    Some((FinishReason::Length, true))
                } else {
                    seq.next = Some(tok);
                    None
                }
            };
            match finish {
                None => {
                    if !seq.backlog.is_empty() {
                        let text = std::mem::take(&mut seq.backlog);
                        match seq.events.try_send(GenEvent::Token(text)) {
                            Ok(()) => {}
                            // A slow reader: keep the text and send it with the next token.
                            Err(TrySendError::Full(GenEvent::Token(t))) => seq.backlog = t,
                            // Gone: freed at the next step.
                            Err(_) => {}
                        }
                    }
                }
                Some((finish, release_held)) => {
                    let mut seq = self.slots[i].take().expect("present");
                    let usage = TokenUsage {
                        prompt_tokens: seq.prompt.len() as u32,
                        completion_tokens: seq.generated,
                        cached_prompt_tokens: seq.reused as u32,
                    };
                    if self.cfg.prompt_cache {
                        // The slot stays warm: its cells hold the prompt and the decoded reply.
                        let mut held = std::mem::take(&mut seq.prompt);
                        held.append(&mut seq.decoded);
                        debug_assert_eq!(held.len(), seq.n_past as usize);
                        self.warm[seq.id as usize] = held;
                    } else {
                        free_cells(ctx, seq.id);
                    }
                    self.active.fetch_sub(1, Ordering::SeqCst);
                    let mut text = std::mem::take(&mut seq.backlog);
                    if release_held {
                        text.push_str(&seq.text.finish());
                    }
                    self.deliver_final(&seq.events, text, GenEvent::Done { usage, finish });
                }
            }
        }
    }

    /// Sends the last text and the final event, parking them if the reader's buffer is full.
    fn deliver_final(
        &mut self,
        events: &tokio::sync::mpsc::Sender<GenEvent>,
        text: String,
        last: GenEvent,
    ) {
        let mut queue = VecDeque::new();
        if !text.is_empty() {
            queue.push_back(GenEvent::Token(text));
        }
        queue.push_back(last);
        if !flush(events, &mut queue) {
            self.undelivered.push((events.clone(), queue));
        }
    }

    fn retry_undelivered(&mut self) {
        self.undelivered.retain_mut(|(tx, queue)| !flush(tx, queue));
    }
}

/// Sends queued events in order; true when done (all sent, or the reader is gone).
fn flush(tx: &tokio::sync::mpsc::Sender<GenEvent>, queue: &mut VecDeque<GenEvent>) -> bool {
    while let Some(ev) = queue.pop_front() {
        match tx.try_send(ev) {
            Ok(()) => {}
            Err(TrySendError::Full(ev)) => {
                queue.push_front(ev);
                return false;
            }
            Err(TrySendError::Closed(_)) => return true,
        }
    }
    true
}

/// Whether a request may start from cells computed for another: not when it asks for a
/// reproducible answer (temperature 0, or a seed). Cells computed in other batches can differ in
/// their last bits from a whole prompt computed at once, which may change a greedy or seeded
/// reply; such a request computes its prompt whole, so its answer depends on its input alone.
fn may_use_cache(p: &SamplingParams) -> bool {
    p.temperature > 0.0 && p.seed.is_none()
}

/// How many leading tokens `a` and `b` share.
fn common_prefix(a: &[LlamaToken], b: &[LlamaToken]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

fn free_cells(ctx: &mut LlamaContext, id: i32) {
    if let Err(e) = ctx.clear_kv_cache_seq(Some(id as u32), None, None) {
        tracing::warn!(error = %e, "clearing a sequence's KV cells failed");
    }
}

/// The sampler chain for one request: repeat penalty, then greedy at temperature 0, else
/// top-k → top-p → temperature → seeded draw.
fn sampler_for(model: &LlamaModel, p: &SamplingParams) -> LlamaSampler {
    let mut chain = Vec::new();
    if p.repeat_penalty > 0.0 && (p.repeat_penalty - 1.0).abs() > f32::EPSILON {
        let penalties =
            LlamaSampler::penalties(model.n_vocab(), PENALTY_LAST_N, p.repeat_penalty, 0.0, 0.0);
        chain.push(penalties);
    }
    if p.temperature <= 0.0 {
        chain.push(LlamaSampler::greedy());
    } else {
        if p.top_k > 0 {
            chain.push(LlamaSampler::top_k(p.top_k));
        }
        if p.top_p > 0.0 && p.top_p < 1.0 {
            chain.push(LlamaSampler::top_p(p.top_p, 1));
        }
        chain.push(LlamaSampler::temp(p.temperature));
        let seed = p
            .seed
            .unwrap_or_else(|| RandomState::new().hash_one(0u8) as u32);
        chain.push(LlamaSampler::dist(seed));
    }
    LlamaSampler::chain_simple(chain)
}
