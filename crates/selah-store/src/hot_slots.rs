//! Hot-slot assignments (`hot_slots`): which model each slot keeps loaded. Slots are a
//! machine-wide setting, not a user's resource, so these queries take no scope.

use sqlx::Row;

use crate::{Result, Store, StoreError, now_ms};

/// One assigned slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HotSlotRow {
    /// Slot number, from 1.
    pub slot_num: i64,
    /// The model id it keeps loaded.
    pub model_id: String,
    /// Who assigned it (null once that user is deleted).
    pub assigned_by: Option<String>,
    /// When, ms since the epoch.
    pub assigned_at: i64,
}

impl Store {
    /// Every assigned slot, by slot number.
    pub async fn hot_slots(&self) -> Result<Vec<HotSlotRow>> {
        let rows = sqlx::query(
            "SELECT slot_num, model_id, assigned_by, assigned_at FROM hot_slots ORDER BY slot_num",
        )
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(HotSlotRow {
                    slot_num: r.try_get("slot_num")?,
                    model_id: r.try_get("model_id")?,
                    assigned_by: r.try_get("assigned_by")?,
                    assigned_at: r.try_get("assigned_at")?,
                })
            })
            .collect()
    }

    /// Puts `model_id` in `slot_num`, replacing what was there. A model already in another
    /// slot is a [`StoreError::Conflict`].
    pub async fn assign_hot_slot(
        &self,
        slot_num: i64,
        model_id: &str,
        assigned_by: Option<&str>,
    ) -> Result<()> {
        let mut tx = self.writer().begin().await?;
        sqlx::query("DELETE FROM hot_slots WHERE slot_num = $1")
            .bind(slot_num)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO hot_slots (slot_num, model_id, assigned_by, assigned_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(slot_num)
        .bind(model_id)
        .bind(assigned_by)
        .bind(now_ms())
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from_sqlx)?;
        tx.commit().await?;
        Ok(())
    }

    /// Empties a slot; returns the model it held, if any.
    pub async fn clear_hot_slot(&self, slot_num: i64) -> Result<Option<String>> {
        let mut tx = self.writer().begin().await?;
        let model: Option<String> =
            sqlx::query("SELECT model_id FROM hot_slots WHERE slot_num = $1")
                .bind(slot_num)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.try_get("model_id"))
                .transpose()?;
        if model.is_some() {
            sqlx::query("DELETE FROM hot_slots WHERE slot_num = $1")
                .bind(slot_num)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(model)
    }
}
