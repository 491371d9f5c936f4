//! Reading and checking the audit log (admin.view_audit): a filtered, cursor-paginated list, a
//! streamed CSV export and chain verification. Reading the log is itself audited
//! (`audit.viewed`, `audit.exported`, `audit.verified`). There is no route that writes events.

mod csv;

use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use selah_store::audit::{AuditFilter, AuditRecord};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::audit::AuditEvent;
use crate::authz::{Require, perm};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Query;
use crate::observe::client::ClientInfo;
use crate::state::AppState;

/// Default page size.
const DEFAULT_LIMIT: u32 = 50;
/// Largest page size.
const MAX_LIMIT: u32 = 500;
/// Longest accepted filter value.
const MAX_FILTER_LEN: usize = 256;

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(export_csv))
        .routes(routes!(verify))
}

/// Filters shared by the list and the export. Times are RFC 3339 (`2025-01-31T12:00:00Z`) or
/// milliseconds since the Unix epoch.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FilterParams {
    /// Only events by this user id.
    user: Option<String>,
    /// Only this event type (exact), e.g. `auth.login_failed`.
    event_type: Option<String>,
    /// Only this resource type.
    resource_type: Option<String>,
    /// Only this resource id.
    resource_id: Option<String>,
    /// At or after this time: RFC 3339 or epoch milliseconds.
    since: Option<String>,
    /// Before this time: RFC 3339 or epoch milliseconds.
    until: Option<String>,
}

/// List parameters: the filters plus paging.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only events by this user id.
    user: Option<String>,
    /// Only this event type (exact).
    event_type: Option<String>,
    /// Only this resource type.
    resource_type: Option<String>,
    /// Only this resource id.
    resource_id: Option<String>,
    /// At or after this time: RFC 3339 or epoch milliseconds.
    since: Option<String>,
    /// Before this time: RFC 3339 or epoch milliseconds.
    until: Option<String>,
    /// Page size, 1–500 (default 50).
    limit: Option<u32>,
    /// `next_cursor` from the previous page (opaque).
    cursor: Option<String>,
}

/// Parses a time given as epoch milliseconds or RFC 3339.
fn parse_time(name: &str, v: &str) -> ApiResult<i64> {
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        return v
            .parse()
            .map_err(|_| ApiError::bad_request(format!("{name} is out of range")));
    }
    chrono::DateTime::parse_from_rfc3339(v)
        .map(|t| t.timestamp_millis())
        .map_err(|_| {
            ApiError::bad_request(format!(
                "{name} must be RFC 3339 (2025-01-31T12:00:00Z) or milliseconds since the epoch"
            ))
        })
}

impl FilterParams {
    fn to_filter(&self) -> ApiResult<AuditFilter> {
        let text = |name: &str, v: &Option<String>| -> ApiResult<Option<String>> {
            match v {
                Some(s) if s.is_empty() || s.len() > MAX_FILTER_LEN => Err(ApiError::bad_request(
                    format!("{name} must be 1 to {MAX_FILTER_LEN} characters"),
                )),
                other => Ok(other.clone()),
            }
        };
        let filter = AuditFilter {
            user_id: text("user", &self.user)?,
            event_type: text("event_type", &self.event_type)?,
            resource_type: text("resource_type", &self.resource_type)?,
            resource_id: text("resource_id", &self.resource_id)?,
            since_ms: self
                .since
                .as_deref()
                .map(|v| parse_time("since", v))
                .transpose()?,
            until_ms: self
                .until
                .as_deref()
                .map(|v| parse_time("until", v))
                .transpose()?,
        };
        if let (Some(s), Some(u)) = (filter.since_ms, filter.until_ms)
            && s >= u
        {
            return Err(ApiError::bad_request("since must be before until"));
        }
        Ok(filter)
    }
}

impl ListParams {
    fn split(self) -> (FilterParams, Option<u32>, Option<String>) {
        let f = FilterParams {
            user: self.user,
            event_type: self.event_type,
            resource_type: self.resource_type,
            resource_id: self.resource_id,
            since: self.since,
            until: self.until,
        };
        (f, self.limit, self.cursor)
    }
}

/// Filters as recorded in the audit event for a read.
fn filter_details(f: &AuditFilter) -> serde_json::Value {
    json!({
        "user": f.user_id, "event_type": f.event_type, "resource_type": f.resource_type,
        "resource_id": f.resource_id, "since_ms": f.since_ms, "until_ms": f.until_ms,
    })
}

/// One audit record.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntry {
    /// Position in the chain.
    pub seq: i64,
    /// When it happened (RFC 3339, UTC).
    pub time: String,
    /// When it happened, milliseconds since the epoch.
    pub ts_ms: i64,
    /// Who acted.
    pub user_id: Option<String>,
    /// Dotted event type.
    pub event_type: String,
    /// What was done.
    pub action: String,
    /// Kind of resource.
    pub resource_type: Option<String>,
    /// Resource id.
    pub resource_id: Option<String>,
    /// Extra facts (a JSON object).
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    /// Client address.
    pub ip: Option<String>,
    /// Client user agent.
    pub user_agent: Option<String>,
    /// The previous record's hash.
    pub prev_hash: String,
    /// This record's hash.
    pub hash: String,
}

pub(crate) fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

impl From<AuditRecord> for AuditEntry {
    fn from(r: AuditRecord) -> Self {
        let e = r.event;
        AuditEntry {
            seq: r.seq,
            time: rfc3339(e.ts),
            ts_ms: e.ts,
            details: e
                .details
                .map(|d| serde_json::from_str(&d).unwrap_or(serde_json::Value::String(d)))
                .unwrap_or(serde_json::Value::Null),
            user_id: e.user_id,
            event_type: e.event_type,
            action: e.action,
            resource_type: e.resource_type,
            resource_id: e.resource_id,
            ip: e.ip,
            user_agent: e.user_agent,
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

/// A page of the audit log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    /// Records, newest first.
    pub entries: Vec<AuditEntry>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Lists audit records, newest first, with keyset pagination.
#[utoipa::path(
    get, path = "/api/v1/admin/audit-log", tag = "audit",
    params(ListParams),
    responses(
        (status = 200, description = "A page of records, newest first", body = AuditPage),
        (status = 400, description = "A bad filter, limit or cursor", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Lacks admin.view_audit", body = ErrorBody),
    )
)]
async fn list(
    state: axum::extract::State<AppState>,
    auth: Require<perm::AdminViewAudit>,
    client: ClientInfo,
    Query(params): Query<ListParams>,
) -> ApiResult<axum::Json<AuditPage>> {
    let (filter, limit, cursor) = params.split();
    let filter = filter.to_filter()?;
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit must be 1 to {MAX_LIMIT}"
        )));
    }
    let before = cursor
        .map(|c| {
            c.parse::<i64>()
                .ok()
                .filter(|v| *v > 0)
                .ok_or_else(|| ApiError::bad_request("cursor is not one this server gave out"))
        })
        .transpose()?;
    let page = state.store.query_audit(&filter, before, limit).await?;
    state
        .audit
        .record(
            AuditEvent::new("audit.viewed", "read")
                .user(auth.user.id())
                .details(json!({ "filters": filter_details(&filter), "cursor": before }))
                .client(&client),
        )
        .await;
    Ok(axum::Json(AuditPage {
        entries: page.records.into_iter().map(AuditEntry::from).collect(),
        next_cursor: page.next_before.map(|s| s.to_string()),
    }))
}

/// Exports the matching records as CSV (newest first), streamed.
#[utoipa::path(
    get, path = "/api/v1/admin/audit-log/export.csv", tag = "audit",
    params(FilterParams),
    responses(
        (status = 200, description = "CSV with a header row", content_type = "text/csv", body = String),
        (status = 400, description = "A bad filter", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Lacks admin.view_audit", body = ErrorBody),
    )
)]
async fn export_csv(
    state: axum::extract::State<AppState>,
    auth: Require<perm::AdminViewAudit>,
    client: ClientInfo,
    Query(params): Query<FilterParams>,
) -> ApiResult<Response> {
    let filter = params.to_filter()?;
    state
        .audit
        .record(
            AuditEvent::new("audit.exported", "export")
                .user(auth.user.id())
                .details(json!({ "filters": filter_details(&filter), "format": "csv" }))
                .client(&client),
        )
        .await;
    let body = Body::from_stream(csv::stream(state.store.clone(), filter));
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"selah-audit-log.csv\"",
            ),
        ],
        body,
    )
        .into_response())
}

/// The result of checking the chain.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerifyResponse {
    /// True when the chain is intact from the anchor to the head.
    pub ok: bool,
    /// Records checked.
    pub checked: u64,
    /// First seq where the chain breaks.
    pub first_bad_seq: Option<i64>,
    /// What is wrong.
    pub reason: Option<String>,
    /// Where the live chain starts (last archived seq; 0 before any archive).
    pub anchor_seq: i64,
    /// Newest seq according to the head record.
    pub head_seq: Option<i64>,
}

/// Checks the hash chain of the live audit log, from the archive anchor to the newest record.
#[utoipa::path(
    get, path = "/api/v1/admin/audit-log/verify", tag = "audit",
    responses(
        (status = 200, description = "The verdict (also when the chain is broken)", body = VerifyResponse),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Lacks admin.view_audit", body = ErrorBody),
    )
)]
async fn verify(
    state: axum::extract::State<AppState>,
    auth: Require<perm::AdminViewAudit>,
    client: ClientInfo,
) -> ApiResult<axum::Json<VerifyResponse>> {
    let r = state.store.verify_audit().await?;
    state
        .audit
        .record(
            AuditEvent::new("audit.verified", "verify")
                .user(auth.user.id())
                .details(
                    json!({ "ok": r.ok, "checked": r.checked, "first_bad_seq": r.first_bad_seq }),
                )
                .client(&client),
        )
        .await;
    Ok(axum::Json(VerifyResponse {
        ok: r.ok,
        checked: r.checked,
        first_bad_seq: r.first_bad_seq,
        reason: r.reason,
        anchor_seq: r.anchor_seq,
        head_seq: r.head_seq,
    }))
}
