//! Per-user permission grants and denials.

use selah_core::{Effect, Permission};
use sqlx::Row;

use crate::{Result, Store, now_ms};

impl Store {
    /// A user's overrides. Unknown keys in the table (from a newer release) are skipped.
    pub async fn permission_overrides(&self, user_id: &str) -> Result<Vec<(Permission, Effect)>> {
        let rows = sqlx::query("SELECT permission, effect FROM user_permissions WHERE user_id = $1 ORDER BY permission")
            .bind(user_id)
            .fetch_all(self.reader())
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let key: String = r.try_get("permission")?;
            let effect: String = r.try_get("effect")?;
            let effect = if effect == "deny" {
                Effect::Deny
            } else {
                Effect::Grant
            };
            if let Some(p) = Permission::from_key(&key) {
                out.push((p, effect));
            }
        }
        Ok(out)
    }

    /// Replaces a user's overrides with `overrides`, atomically.
    pub async fn set_permission_overrides(
        &self,
        user_id: &str,
        overrides: &[(Permission, Effect)],
    ) -> Result<()> {
        let mut tx = self.writer().begin().await?;
        sqlx::query("DELETE FROM user_permissions WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        let now = now_ms();
        for (p, e) in overrides {
            sqlx::query("INSERT INTO user_permissions (user_id, permission, effect, created_at) VALUES ($1, $2, $3, $4)")
                .bind(user_id)
                .bind(p.key())
                .bind(match e {
                    Effect::Grant => "grant",
                    Effect::Deny => "deny",
                })
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
