//! Hot-slot assignment (seed 3.1): slots `1..=ai.hot_slots`, persisted, checked against the
//! 75%-of-RAM rule before anything changes, then loaded in the background.

use std::sync::Arc;

use serde::Serialize;

use crate::memory::{GB, HOT_SLOT_FRACTION, hot_slot_refusal};
use crate::{AiError, ModelId, Runtime};

/// One slot in the hot-slots document.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SlotView {
    /// Slot number, from 1.
    pub slot_num: u32,
    /// The model it holds (null: empty).
    pub model: Option<String>,
    /// The model's estimated memory (0 when empty or the model is gone).
    pub estimated_bytes: u64,
    /// Loaded now.
    pub loaded: bool,
    /// Why it failed to load, if it did.
    pub error: Option<String>,
}

/// `GET /api/v1/chat/models/hot-slots`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct HotSlotsView {
    /// Every slot, empty ones included.
    pub slots: Vec<SlotView>,
    /// The slots' estimated memory together.
    pub total_bytes: u64,
    /// 75% of total RAM.
    pub limit_bytes: u64,
    /// Total RAM.
    pub ram_total_bytes: u64,
    /// The same three in GB, one decimal, as the seed's message shows them.
    pub total_gb: f64,
    /// Limit in GB.
    pub limit_gb: f64,
    /// RAM in GB.
    pub ram_total_gb: f64,
}

/// Why a slot change was refused.
#[derive(Debug, thiserror::Error)]
pub enum SlotError {
    /// Slot number outside `1..=ai.hot_slots`.
    #[error("there is no hot slot {0}")]
    NoSuchSlot(u32),
    /// Ejecting an empty slot.
    #[error("hot slot {0} is empty")]
    Empty(u32),
    /// The model sits in another slot already.
    #[error("{0} is already in another hot slot")]
    AlreadyHot(String),
    /// The 75% rule (the seed's message).
    #[error("{0}")]
    TooMuchMemory(String),
    /// Unknown or unusable model (remote models cannot be hot).
    #[error(transparent)]
    Ai(#[from] AiError),
    /// Database trouble.
    #[error("{0}")]
    Store(String),
}

fn gb1(b: u64) -> f64 {
    (b as f64 / GB * 10.0).round() / 10.0
}

impl Runtime {
    fn check_slot(&self, slot: u32) -> Result<(), SlotError> {
        if slot == 0 || slot > self.config.hot_slots {
            return Err(SlotError::NoSuchSlot(slot));
        }
        Ok(())
    }

    async fn slot_estimate(&self, id: &ModelId) -> Option<u64> {
        let src = self.resolve_local(id).await.ok()?;
        Some(self.pool.estimate(&src))
    }

    /// Every slot with its model and estimated memory, the total and the 75% limit.
    pub async fn hot_slots(&self) -> HotSlotsView {
        let hot = self.pool.hot();
        let failures = self.pool.hot_failures();
        let mut slots = Vec::new();
        let mut total = 0;
        for n in 1..=self.config.hot_slots {
            let model = hot.get(&n);
            let est = match model {
                Some(id) => self.slot_estimate(id).await.unwrap_or(0),
                None => 0,
            };
            total += est;
            slots.push(SlotView {
                slot_num: n,
                model: model.map(|m| m.0.clone()),
                estimated_bytes: est,
                loaded: model.is_some_and(|m| self.pool.is_loaded(m)),
                error: model.and_then(|m| {
                    failures
                        .iter()
                        .find(|(k, _)| k == m)
                        .map(|(_, e)| e.clone())
                }),
            });
        }
        let ram = self.probe.figures().total_bytes;
        let limit = (ram as f64 * HOT_SLOT_FRACTION) as u64;
        HotSlotsView {
            slots,
            total_bytes: total,
            limit_bytes: limit,
            ram_total_bytes: ram,
            total_gb: gb1(total),
            limit_gb: gb1(limit),
            ram_total_gb: gb1(ram),
        }
    }

    /// Puts a model in a slot (replacing what was there) if the slots would then stay within
    /// 75% of RAM; persists it and loads the model in the background.
    pub async fn assign_hot_slot(
        self: &Arc<Self>,
        slot: u32,
        model: &ModelId,
        by: Option<&str>,
    ) -> Result<Option<ModelId>, SlotError> {
        self.check_slot(slot)?;
        if !matches!(model.provider(), "local" | "ollama") {
            return Err(AiError::BadModel(format!(
                "{model} is served by a remote server; only local and Ollama-store models can be hot"
            ))
            .into());
        }
        let src = self.resolve_local(model).await?;
        let _one_change = self.slot_lock.lock().await;
        let mut hot = self.pool.hot();
        if let Some((other, _)) = hot.iter().find(|(n, v)| *v == model && **n != slot) {
            tracing::debug!(slot = other, "model already hot");
            return Err(SlotError::AlreadyHot(model.0.clone()));
        }
        let mut others = 0;
        for (_, id) in hot.iter().filter(|(n, _)| **n != slot) {
            others += self.slot_estimate(id).await.unwrap_or(0);
        }
        let ram = self.probe.figures().total_bytes;
        if let Some(msg) = hot_slot_refusal(others + self.pool.estimate(&src), ram) {
            return Err(SlotError::TooMuchMemory(msg));
        }
        self.store
            .assign_hot_slot(i64::from(slot), &model.0, by)
            .await
            .map_err(|e| match e {
                selah_store::StoreError::Conflict(_) => SlotError::AlreadyHot(model.0.clone()),
                other => SlotError::Store(other.to_string()),
            })?;
        let previous = hot.insert(slot, model.clone()).filter(|p| p != model);
        self.pool.set_hot(hot);
        let rt = self.clone();
        let id = model.clone();
        tokio::spawn(async move { rt.load_hot(&id).await });
        Ok(previous)
    }

    /// Empties a slot; its model stays loaded as an ordinary one (keep-alive applies).
    pub async fn eject_hot_slot(&self, slot: u32) -> Result<ModelId, SlotError> {
        self.check_slot(slot)?;
        let _one_change = self.slot_lock.lock().await;
        let removed = self
            .store
            .clear_hot_slot(i64::from(slot))
            .await
            .map_err(|e| SlotError::Store(e.to_string()))?
            .ok_or(SlotError::Empty(slot))?;
        let mut hot = self.pool.hot();
        hot.remove(&slot);
        self.pool.set_hot(hot);
        let id = ModelId(removed);
        self.pool.mark_used(&id);
        Ok(id)
    }
}
