//! The [`Runtime`] facade the server holds: one place to list models, count tokens, render
//! prompts and chat, whichever provider serves the model, with queues, memory guards, hot
//! slots and remote-backend resilience behind it.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use selah_core::config::AiConfig;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::engine::EngineOptions;
use crate::memory::{FitReport, MemoryProbe};
use crate::ollama_store;
use crate::queue::ModelQueue;
use crate::registry::{
    LocalSource, ModelInfo, Registry, RegistryError, effective_context, models_dir,
};
use crate::remote::{Backend, RemoteTiming};
use crate::slots::ModelPool;

use crate::{AiError, ChatMessage, GenEvent, ModelId, SamplingParams};

/// How long a failed generation keeps the status at `error`.
pub const ERROR_WINDOW: Duration = Duration::from_secs(60);

/// Models, engine, queues and backends.
pub struct Runtime {
    pub(crate) config: AiConfig,
    pub(crate) registry: Arc<Registry>,
    pub(crate) pool: Arc<ModelPool>,
    pub(crate) probe: Arc<MemoryProbe>,
    pub(crate) store: selah_store::Store,
    pub(crate) backends: Vec<Arc<Backend>>,
    timing: Arc<RemoteTiming>,
    pub(crate) queues: Mutex<HashMap<ModelId, Arc<ModelQueue>>>,
    pub(crate) last_failure: Mutex<Option<(Instant, String)>>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    /// Serialises hot-slot changes (check, persist, update the map as one step).
    pub(crate) slot_lock: tokio::sync::Mutex<()>,
}

/// Where a model id leads.
enum Target {
    Local(LocalSource),
    Remote(Arc<Backend>, String),
}

impl Runtime {
    /// Builds the runtime: reads the hot-slot assignments, starts loading them in the
    /// background (start-up does not wait for any model) and starts the keep-alive reaper.
    pub async fn start(
        config: &selah_core::Config,
        data_dir: &Path,
        store: selah_store::Store,
    ) -> Result<Arc<Self>, AiError> {
        let ai = config.ai.clone();
        let probe = Arc::new(MemoryProbe::new());
        let registry = Arc::new(Registry::new(
            models_dir(&ai.models_dir, data_dir),
            ollama_store::store_dir(&ai.ollama_models_dir),
        ));
        let pool = Arc::new(ModelPool::new(
            EngineOptions::from_config(&ai),
            ai.memory_budget_fraction,
            Duration::from_secs(ai.keep_alive_secs),
            probe.clone(),
        ));
        let timing = Arc::new(RemoteTiming::default());
        let rt = Arc::new(Self {
            backends: crate::remote::from_config(&ai, &timing),
            config: ai,
            registry,
            pool,
            probe,
            store,
            timing,
            queues: Mutex::new(HashMap::new()),
            last_failure: Mutex::new(None),
            tasks: Mutex::new(Vec::new()),
            slot_lock: tokio::sync::Mutex::new(()),
        });
        let hot = rt
            .store
            .hot_slots()
            .await
            .map_err(|e| AiError::Engine(format!("cannot read the hot slots: {e}")))?;
        rt.pool.set_hot(
            hot.into_iter()
                .map(|r| (r.slot_num as u32, ModelId(r.model_id)))
                .collect(),
        );
        let loader = tokio::spawn({
            let rt = rt.clone();
            async move {
                for id in rt.pool.hot().into_values() {
                    rt.load_hot(&id).await;
                }
            }
        });
        let reaper = tokio::spawn({
            let pool = rt.pool.clone();
            let tick = Duration::from_secs(rt.config.keep_alive_secs.clamp(1, 30));
            async move {
                loop {
                    tokio::time::sleep(tick).await;
                    pool.unload_idle();
                }
            }
        });
        rt.tasks().extend([loader, reaper]);
        Ok(rt)
    }

    fn tasks(&self) -> std::sync::MutexGuard<'_, Vec<JoinHandle<()>>> {
        self.tasks.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Loads a hot-slot model, recording a failure for the status and `/health`.
    pub(crate) async fn load_hot(&self, id: &ModelId) {
        let res = match self.registry.resolve(id) {
            Ok(src) => self.pool.get(&src).await.map(|_| ()),
            Err(e) => Err(e),
        };
        if let Err(e) = res {
            tracing::error!(model = %id, error = %e, "a hot-slot model failed to load");
            self.pool.hot_failed(id, e.to_string());
        }
    }

    /// Hot-slot models that failed to load, with the reason.
    pub fn hot_slot_failures(&self) -> Vec<(ModelId, String)> {
        self.pool.hot_failures()
    }

    /// Stops the background tasks and unloads every model.
    pub async fn shutdown(&self) {
        for t in self.tasks().drain(..) {
            t.abort();
        }
        self.pool.unload_all().await;
    }

    /// The memory figures' source (tests give it synthetic totals).
    pub fn memory(&self) -> &MemoryProbe {
        &self.probe
    }

    /// Remote timing knobs (tests shorten the retry delays).
    pub fn remote_timing(&self) -> &RemoteTiming {
        &self.timing
    }

    /// The configured remote backends.
    pub fn backends(&self) -> &[Arc<Backend>] {
        &self.backends
    }

    /// The local registry.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    fn target(&self, id: &ModelId) -> Result<Target, AiError> {
        let provider = id.provider();
        if provider == "local" || provider == "ollama" {
            return self.registry.resolve(id).map(Target::Local);
        }
        self.backends
            .iter()
            .find(|b| {
                let prefix = b.id_prefix();
                id.0.starts_with(&prefix) && id.0.len() > prefix.len()
            })
            .map(|b| Target::Remote(b.clone(), id.0[b.id_prefix().len()..].to_string()))
            .ok_or_else(|| AiError::ModelNotFound(id.0.clone()))
    }

    /// Resolves a local model off the executor.
    pub(crate) async fn resolve_local(&self, id: &ModelId) -> Result<LocalSource, AiError> {
        let (reg, id) = (self.registry.clone(), id.clone());
        tokio::task::spawn_blocking(move || reg.resolve(&id))
            .await
            .map_err(|e| AiError::Engine(e.to_string()))?
    }

    /// Every model of every provider. Remote lists come from a short-timeout fetch or the
    /// cache, fetched concurrently, so a dead backend never delays the local list long.
    pub async fn models(&self) -> Vec<ModelInfo> {
        let reg = self.registry.clone();
        let local = tokio::task::spawn_blocking(move || reg.list())
            .await
            .unwrap_or_default();
        let mut out: Vec<ModelInfo> = local
            .iter()
            .map(|src| {
                let mut m = ModelInfo::from_source(src);
                m.loaded = self.pool.is_loaded(&src.id);
                m.hot_slot = self.pool.hot_slot_of(&src.id);
                m
            })
            .collect();
        let remote = futures_util::future::join_all(self.backends.iter().map(|b| async move {
            let ((models, ok), loaded) = tokio::join!(b.models(), b.loaded());
            (b, models, ok, loaded)
        }))
        .await;
        for (b, models, ok, loaded) in remote {
            for m in models {
                out.push(ModelInfo {
                    id: format!("{}{}", b.id_prefix(), m.name),
                    provider: b.id_prefix().trim_end_matches(':').to_string(),
                    loaded: loaded.contains(&m.name),
                    name: m.name,
                    file_size: m.size,
                    architecture: m.family,
                    parameters: None,
                    quantization: m.quantization,
                    context_length: m.context_length,
                    has_chat_template: false,
                    read_only: true,
                    hot_slot: None,
                    available: ok,
                });
            }
        }
        out
    }

    /// The model a new chat uses: the user's default, else `ai.default_model`, else the first
    /// local model.
    pub async fn default_model(&self, user_default: Option<&str>) -> Option<ModelId> {
        if let Some(d) = user_default.filter(|d| !d.trim().is_empty()) {
            return Some(ModelId(d.to_string()));
        }
        if !self.config.default_model.trim().is_empty() {
            return Some(ModelId(self.config.default_model.trim().to_string()));
        }
        let reg = self.registry.clone();
        tokio::task::spawn_blocking(move || reg.list())
            .await
            .ok()?
            .into_iter()
            .next()
            .map(|s| s.id)
    }

    /// The context window a model runs with: the configured size capped by the model's own
    /// (for remote models, what the backend reports, else the configured size).
    pub async fn context_window(&self, model: &ModelId) -> Result<u32, AiError> {
        match self.target(model)? {
            Target::Local(src) => Ok(effective_context(
                self.config.context_size,
                src.info.context_length,
            )),
            Target::Remote(b, name) => Ok(b
                .context_length(&name)
                .await
                .map(|own| effective_context(self.config.context_size, Some(own)))
                .unwrap_or(if self.config.context_size > 0 {
                    self.config.context_size
                } else {
                    4096
                })),
        }
    }

    /// Tokens in `text` with the model's own vocabulary (loading the model if needed). Remote
    /// backends expose no tokenizer: their count is an estimate (UTF-8 bytes / 4, rounded up),
    /// and the counts they report after a reply are the ones stored.
    pub async fn count_tokens(&self, model: &ModelId, text: &str) -> Result<usize, AiError> {
        match self.target(model)? {
            Target::Local(src) => {
                let m = self.pool.get(&src).await?;
                let text = text.to_string();
                tokio::task::spawn_blocking(move || m.count_tokens(&text))
                    .await
                    .map_err(|e| AiError::Engine(e.to_string()))?
            }
            Target::Remote(..) => Ok(text.len().div_ceil(4)),
        }
    }

    /// The prompt as the model will see it (the GGUF's chat template, assistant turn opened);
    /// for remote models, which apply their own template, a plain `role: content` rendering.
    pub async fn render_chat(
        &self,
        model: &ModelId,
        messages: &[ChatMessage],
    ) -> Result<String, AiError> {
        match self.target(model)? {
            Target::Local(src) => self.pool.get(&src).await?.render_chat(messages),
            Target::Remote(..) => Ok(messages
                .iter()
                .map(|m| format!("{}: {}\n", m.role.as_str(), m.content))
                .collect()),
        }
    }

    fn queue(&self, model: &ModelId) -> Arc<ModelQueue> {
        self.queues
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(model.clone())
            .or_insert_with(|| {
                ModelQueue::new(
                    self.config.max_sequences as usize,
                    self.config.queue_capacity as usize,
                )
            })
            .clone()
    }

    pub(crate) fn record_failure(&self, what: String) {
        *self.last_failure.lock().unwrap_or_else(|p| p.into_inner()) = Some((Instant::now(), what));
    }

    /// Queues the request (fair per user; [`AiError::QueueFull`] when full), loads the model if
    /// needed and streams the reply. Dropping the receiver cancels the generation.
    pub async fn chat(
        self: &Arc<Self>,
        user_id: &str,
        model: &ModelId,
        messages: Vec<ChatMessage>,
        params: SamplingParams,
    ) -> Result<mpsc::Receiver<GenEvent>, AiError> {
        let target = self.target(model)?;
        let permit = self.queue(model).acquire(user_id).await?;
        let upstream = match target {
            Target::Local(src) => {
                let started = async {
                    let m = self.pool.get(&src).await?;
                    let prompt = m.render_chat(&messages)?;
                    Ok::<_, AiError>((m.generate(prompt, params), m))
                }
                .await;
                match started {
                    Ok((rx, m)) => (rx, Some(m)),
                    Err(e) => {
                        self.record_failure(e.to_string());
                        return Err(e);
                    }
                }
            }
            Target::Remote(b, name) => match b.chat(&name, &messages, &params).await {
                Ok(rx) => (rx, None),
                Err(e) => {
                    self.record_failure(e.to_string());
                    return Err(e);
                }
            },
        };
        let (tx, rx) = mpsc::channel(64);
        let rt = self.clone();
        let model = model.clone();
        tokio::spawn(async move {
            // Holds the queue place and the model until the generation ends or is cancelled.
            let (mut upstream, model_ref) = upstream;
            let mut held = Some((permit, model_ref));
            loop {
                let ev = tokio::select! {
                    ev = upstream.recv() => ev,
                    _ = tx.closed() => break, // client gone: dropping `upstream` cancels
                };
                let Some(ev) = ev else {
                    break;
                };
                if let GenEvent::Error(e) = &ev {
                    rt.record_failure(e.clone());
                }
                if matches!(ev, GenEvent::Token(_)) {
                    if tx.send(ev).await.is_err() {
                        break;
                    }
                    continue;
                }
                // The end: free the place before telling the caller, so a caller that starts
                // the next request at once finds it free.
                held = None;
                rt.pool.mark_used(&model);
                let _ = tx.send(ev).await;
                break;
            }
            drop(upstream);
            drop(held);
            rt.pool.mark_used(&model);
        });
        Ok(rx)
    }

    /// The memory a local model is expected to need with the configured context.
    pub async fn estimated_bytes(&self, model: &ModelId) -> Result<u64, AiError> {
        let src = self.resolve_local(model).await?;
        Ok(self.pool.estimate(&src))
    }

    /// Whether a model fits the memory available now (the 50% rule).
    pub async fn check_fit(&self, model: &ModelId) -> Result<FitReport, AiError> {
        match self.target(model)? {
            Target::Local(src) => Ok(self.registry.check_fit(
                &src.info,
                self.config.context_size,
                self.probe.figures(),
            )),
            Target::Remote(..) => Err(AiError::BadModel(format!(
                "{model} runs on a remote server; its memory is that server's"
            ))),
        }
    }

    /// Imports a GGUF into the models directory (checked and fit-tested before copying).
    pub async fn import(&self, path: &Path) -> Result<ModelInfo, RegistryError> {
        let (reg, path) = (self.registry.clone(), path.to_path_buf());
        let (ctx, mem) = (self.config.context_size, self.probe.figures());
        let src = tokio::task::spawn_blocking(move || reg.import(&path, ctx, mem))
            .await
            .map_err(|e| RegistryError::Io(e.to_string()))??;
        Ok(ModelInfo::from_source(&src))
    }

    /// Removes a local model, refused while it is in a hot slot.
    pub async fn remove(&self, model: &ModelId) -> Result<(), RegistryError> {
        if let Some(slot) = self.pool.hot_slot_of(model) {
            return Err(RegistryError::InHotSlot(model.0.clone(), slot));
        }
        let (reg, id) = (self.registry.clone(), model.clone());
        tokio::task::spawn_blocking(move || reg.remove(&id))
            .await
            .map_err(|e| RegistryError::Io(e.to_string()))??;
        // A loaded copy keeps its memory until idle; unload it now rather than at keep-alive.
        self.pool.unload(model);
        Ok(())
    }
}
