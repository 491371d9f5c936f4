//! Reading the audit log: filters, newest first, keyset pagination on seq (one query per page,
//! stable however many records are appended meanwhile).

use super::{AuditRecord, RECORD_COLUMNS, record_from_row};
use crate::{Result, Store};

/// Which records to read. Every set field must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Who acted (user id).
    pub user_id: Option<String>,
    /// Exact event type, e.g. `auth.login_failed`.
    pub event_type: Option<String>,
    /// Kind of resource.
    pub resource_type: Option<String>,
    /// Resource id.
    pub resource_id: Option<String>,
    /// At or after this time (ms).
    pub since_ms: Option<i64>,
    /// Before this time (ms).
    pub until_ms: Option<i64>,
}

/// A bound value for a built query.
enum Arg<'a> {
    Text(&'a str),
    Int(i64),
}

impl AuditFilter {
    /// The WHERE clause and its arguments; `before_seq` continues after a previous page.
    fn clause(&self, before_seq: Option<i64>) -> (String, Vec<Arg<'_>>) {
        let mut conds: Vec<String> = Vec::new();
        let mut args: Vec<Arg<'_>> = Vec::new();
        fn push<'a>(
            conds: &mut Vec<String>,
            args: &mut Vec<Arg<'a>>,
            col: &str,
            op: &str,
            arg: Arg<'a>,
        ) {
            args.push(arg);
            conds.push(format!("t.{col} {op} ${}", args.len()));
        }
        // Only fixed column names and operators go into the text; values are always bound.
        if let Some(v) = &self.user_id {
            push(&mut conds, &mut args, "user_id", "=", Arg::Text(v));
        }
        if let Some(v) = &self.event_type {
            push(&mut conds, &mut args, "event_type", "=", Arg::Text(v));
        }
        if let Some(v) = &self.resource_type {
            push(&mut conds, &mut args, "resource_type", "=", Arg::Text(v));
        }
        if let Some(v) = &self.resource_id {
            push(&mut conds, &mut args, "resource_id", "=", Arg::Text(v));
        }
        if let Some(v) = self.since_ms {
            push(&mut conds, &mut args, "ts", ">=", Arg::Int(v));
        }
        if let Some(v) = self.until_ms {
            push(&mut conds, &mut args, "ts", "<", Arg::Int(v));
        }
        if let Some(v) = before_seq {
            push(&mut conds, &mut args, "seq", "<", Arg::Int(v));
        }
        let clause = if conds.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conds.join(" AND "))
        };
        (clause, args)
    }
}

/// One page of records, newest first.
#[derive(Debug, Clone)]
pub struct AuditPage {
    /// The records.
    pub records: Vec<AuditRecord>,
    /// Pass as `before_seq` to get the next page; None on the last page.
    pub next_before: Option<i64>,
}

impl Store {
    /// Up to `limit` records matching `filter` with seq below `before_seq` (all when None),
    /// newest first. Fetches one extra row to know whether another page follows.
    pub async fn query_audit(
        &self,
        filter: &AuditFilter,
        before_seq: Option<i64>,
        limit: u32,
    ) -> Result<AuditPage> {
        let limit = i64::from(limit.max(1));
        let (clause, args) = filter.clause(before_seq);
        let sql = format!(
            "SELECT {RECORD_COLUMNS} FROM audit_log t {clause} ORDER BY t.seq DESC LIMIT ${}",
            args.len() + 1
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for a in args {
            q = match a {
                Arg::Text(s) => q.bind(s),
                Arg::Int(i) => q.bind(i),
            };
        }
        let rows = q.bind(limit + 1).fetch_all(self.reader()).await?;
        let mut records = rows
            .iter()
            .map(record_from_row)
            .collect::<Result<Vec<_>>>()?;
        let next_before = if records.len() as i64 > limit {
            records.truncate(limit as usize);
            records.last().map(|r| r.seq)
        } else {
            None
        };
        Ok(AuditPage {
            records,
            next_before,
        })
    }
}
