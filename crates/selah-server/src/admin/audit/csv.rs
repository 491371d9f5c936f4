//! The CSV export's encoding: RFC 4180 quoting, formula defusing, and a body streamed one page
//! of records at a time.

use selah_store::Store;
use selah_store::audit::{AuditFilter, AuditRecord};

use super::rfc3339;

/// Records per query while exporting.
const EXPORT_PAGE: u32 = 500;

/// The CSV header row.
const CSV_HEADER: &str = "seq,time,ts_ms,user_id,event_type,action,resource_type,resource_id,details,ip,user_agent,prev_hash,hash\r\n";

/// One CSV cell: quoted when it holds a comma, quote or line break, and prefixed with `'` when
/// it starts like a spreadsheet formula (`= + - @`, tab, carriage return).
pub fn csv_cell(v: &str) -> String {
    let v = if v.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{v}")
    } else {
        v.to_string()
    };
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

fn csv_row(r: &AuditRecord, out: &mut String) {
    let e = &r.event;
    let opt = |v: &Option<String>| csv_cell(v.as_deref().unwrap_or(""));
    let cells = [
        r.seq.to_string(),
        rfc3339(e.ts),
        e.ts.to_string(),
        opt(&e.user_id),
        csv_cell(&e.event_type),
        csv_cell(&e.action),
        opt(&e.resource_type),
        opt(&e.resource_id),
        opt(&e.details),
        opt(&e.ip),
        opt(&e.user_agent),
        csv_cell(&r.prev_hash),
        csv_cell(&r.hash),
    ];
    out.push_str(&cells.join(","));
    out.push_str("\r\n");
}

/// Where a streamed export is.
enum ExportState {
    Header,
    Page(Option<i64>),
    Done,
}

/// The CSV body: the header, then one page of records per chunk, newest first, so memory stays
/// bounded however large the log is.
pub(super) fn stream(
    store: Store,
    filter: AuditFilter,
) -> impl futures_util::Stream<Item = Result<String, std::io::Error>> {
    futures_util::stream::unfold(ExportState::Header, move |st| {
        let (store, filter) = (store.clone(), filter.clone());
        async move {
            match st {
                ExportState::Header => Some((Ok(CSV_HEADER.to_string()), ExportState::Page(None))),
                ExportState::Done => None,
                ExportState::Page(before) => {
                    match store.query_audit(&filter, before, EXPORT_PAGE).await {
                        Ok(page) => {
                            let mut chunk = String::new();
                            for r in &page.records {
                                csv_row(r, &mut chunk);
                            }
                            let next = match page.next_before {
                                Some(b) => ExportState::Page(Some(b)),
                                None => ExportState::Done,
                            };
                            Some((Ok(chunk), next))
                        }
                        Err(e) => {
                            // Headers are sent: the only way left to signal failure is to cut
                            // the body short.
                            tracing::error!(error = %e, "audit export failed part way");
                            Some((
                                Err(std::io::Error::other("export failed")),
                                ExportState::Done,
                            ))
                        }
                    }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::csv_cell;

    #[test]
    fn quotes_and_defuses() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_cell("=1+1"), "'=1+1");
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("-1"), "'-1");
        assert_eq!(csv_cell("@x"), "'@x");
        assert_eq!(csv_cell("=a,\"b\""), "\"'=a,\"\"b\"\"\"");
        assert_eq!(csv_cell(""), "");
    }
}
