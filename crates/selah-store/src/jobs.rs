//! Job run history (`job_runs`): one row per job per run, with its statistics or error.

use serde::Serialize;
use sqlx::Row;

use crate::{Result, Store, new_id};

/// One finished run of a job.
#[derive(Debug, Clone, Serialize)]
pub struct JobRun {
    /// Row id.
    pub id: String,
    /// Job name.
    pub job: String,
    /// Started, ms.
    pub started_at: i64,
    /// Finished, ms.
    pub finished_at: i64,
    /// Whether it succeeded.
    pub ok: bool,
    /// Its statistics, a JSON object (text).
    pub stats: String,
    /// Why it failed.
    pub error: Option<String>,
}

impl Store {
    /// Records a finished run.
    pub async fn record_job_run(
        &self,
        job: &str,
        started_at: i64,
        finished_at: i64,
        stats: &str,
        error: Option<&str>,
    ) -> Result<String> {
        let id = new_id();
        sqlx::query(
            "INSERT INTO job_runs (id, job, started_at, finished_at, ok, stats, error) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&id)
        .bind(job)
        .bind(started_at)
        .bind(finished_at)
        .bind(i64::from(error.is_none()))
        .bind(stats)
        .bind(error)
        .execute(self.writer())
        .await?;
        Ok(id)
    }

    /// The most recent runs of a job, newest first.
    pub async fn job_runs(&self, job: &str, limit: i64) -> Result<Vec<JobRun>> {
        let rows = sqlx::query(
            "SELECT id, job, started_at, finished_at, ok, stats, error FROM job_runs \
             WHERE job = $1 ORDER BY started_at DESC, id DESC LIMIT $2",
        )
        .bind(job)
        .bind(limit)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(JobRun {
                    id: r.try_get("id")?,
                    job: r.try_get("job")?,
                    started_at: r.try_get("started_at")?,
                    finished_at: r.try_get("finished_at")?,
                    ok: r.try_get::<i64, _>("ok")? != 0,
                    stats: r.try_get("stats")?,
                    error: r.try_get("error")?,
                })
            })
            .collect()
    }
}
