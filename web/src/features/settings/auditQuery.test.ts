// Tests for the audit log's query strings and detail summaries.
import { describe, expect, it } from "vitest";
import { auditQuery, EMPTY_FILTERS, exportHref, localToMs, summarizeDetails } from "./auditQuery";

const params = (q: string) => Object.fromEntries(new URLSearchParams(q.replace(/^\?/, "")));

describe("auditQuery", () => {
  it("sends nothing for empty filters, and only paging when asked", () => {
    expect(auditQuery(EMPTY_FILTERS)).toEqual({ ok: true, query: "" });
    expect(auditQuery({ ...EMPTY_FILTERS, eventType: "   " }, { limit: 50 })).toEqual({ ok: true, query: "?limit=50" });
  });

  it("trims and encodes the filters under the server's parameter names", () => {
    const r = auditQuery({ eventType: " user.created ", user: "u 1&x", since: "", until: "" }, { limit: 25, cursor: "1234" });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(params(r.query)).toEqual({ event_type: "user.created", user: "u 1&x", limit: "25", cursor: "1234" });
    expect(r.query).toContain("user=u+1%26x");
  });

  it("turns the local time range into epoch milliseconds", () => {
    const r = auditQuery({ ...EMPTY_FILTERS, since: "2025-01-31T12:00", until: "2025-02-01T08:30" });
    if (!r.ok) throw new Error(r.error);
    expect(params(r.query)).toEqual({
      since: String(new Date(2025, 0, 31, 12, 0).getTime()),
      until: String(new Date(2025, 1, 1, 8, 30).getTime()),
    });
  });

  it("refuses a range that ends before it starts, or a date that is not one", () => {
    expect(auditQuery({ ...EMPTY_FILTERS, since: "2025-02-01T00:00", until: "2025-01-01T00:00" })).toEqual({
      ok: false,
      error: "The start must be before the end.",
    });
    expect(auditQuery({ ...EMPTY_FILTERS, since: "yesterday" })).toEqual({ ok: false, error: "The start time is not a valid date." });
    expect(auditQuery({ ...EMPTY_FILTERS, user: "x".repeat(257) }).ok).toBe(false);
  });

  it("clamps the page size to what the server accepts", () => {
    const r = auditQuery(EMPTY_FILTERS, { limit: 9000 });
    expect(r.ok && params(r.query).limit).toBe("500");
  });
});

describe("exportHref", () => {
  it("links the CSV export with the same filters and no paging", () => {
    expect(exportHref({ ...EMPTY_FILTERS, eventType: "auth.login" })).toBe("/api/v1/admin/audit-log/export.csv?event_type=auth.login");
    expect(exportHref(EMPTY_FILTERS)).toBe("/api/v1/admin/audit-log/export.csv");
    expect(exportHref({ ...EMPTY_FILTERS, since: "nope" })).toBeNull();
  });
});

describe("localToMs", () => {
  it("is null for blank or invalid input", () => {
    expect(localToMs("")).toBeNull();
    expect(localToMs("not a date")).toBeNull();
    expect(localToMs("2025-01-31T12:00")).toBe(new Date(2025, 0, 31, 12).getTime());
  });
});

describe("summarizeDetails", () => {
  it("lists the facts, skipping nulls, and cuts long ones", () => {
    expect(summarizeDetails({ username: "ada", role: "member", gone: null })).toBe("username: ada, role: member");
    expect(summarizeDetails({ filters: { user: null, event_type: "auth.login" }, cursor: null, format: "csv" })).toBe(
      "filters: (event_type: auth.login), format: csv",
    );
    expect(summarizeDetails({ filters: { user: null, since_ms: null }, cursor: null })).toBe("");
    expect(summarizeDetails({ added: ["u1", "u2"], ok: true, checked: 12 })).toBe("added: u1, u2, ok: true, checked: 12");
    expect(summarizeDetails(null)).toBe("");
    expect(summarizeDetails({ s: "x".repeat(300) }, 20)).toHaveLength(20);
  });
});
