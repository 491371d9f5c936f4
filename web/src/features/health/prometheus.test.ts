// Tests for the Prometheus text parser, on text shaped like Selah's own /metrics.
import { describe, expect, it } from "vitest";
import { gaugeValue, parsePrometheus, parseValue, sumOf } from "./prometheus";

const TEXT = `# HELP selah_http_requests_total HTTP requests by method, route template and status.
# TYPE selah_http_requests_total counter
selah_http_requests_total{method="GET",route="/api/v1/auth/me",status="200"} 12
selah_http_requests_total{method="POST",route="/api/v1/chat/sessions/{id}/messages",status="500"} 3
selah_http_requests_total{method="GET",route="/health",status="200"} 40
# TYPE selah_http_request_duration_seconds histogram
selah_http_request_duration_seconds_bucket{route="/api/v1/auth/me",le="0.005"} 10
selah_http_request_duration_seconds_bucket{route="/api/v1/auth/me",le="+Inf"} 12
selah_http_request_duration_seconds_sum{route="/api/v1/auth/me"} 0.0421
# HELP selah_process_resident_memory_bytes Resident memory of the Selah process.
# TYPE selah_process_resident_memory_bytes gauge
selah_process_resident_memory_bytes 123456789
selah_weird{path="a \\"quoted\\" \\\\ back\\nline",x="1"} 2.5e3 1700000000000
selah_nan NaN
selah_bad{unterminated="x} 1
not a metric line
`;

describe("parsePrometheus", () => {
  const { samples, types } = parsePrometheus(TEXT);

  it("reads labelled and unlabelled samples with their values", () => {
    expect(samples.find((s) => s.labels.route === "/api/v1/auth/me" && s.name === "selah_http_requests_total")).toEqual({
      name: "selah_http_requests_total",
      labels: { method: "GET", route: "/api/v1/auth/me", status: "200" },
      value: 12,
    });
    expect(gaugeValue(samples, "selah_process_resident_memory_bytes")).toBe(123456789);
  });

  it("keeps braces inside label values and reads +Inf bounds", () => {
    const s = samples.find((x) => x.labels.status === "500");
    expect(s?.labels.route).toBe("/api/v1/chat/sessions/{id}/messages");
    expect(samples.find((x) => x.labels.le === "+Inf")?.value).toBe(12);
  });

  it("unescapes label values and ignores a trailing timestamp", () => {
    const w = samples.find((x) => x.name === "selah_weird");
    expect(w?.labels.path).toBe('a "quoted" \\ back\nline');
    expect(w?.labels.x).toBe("1");
    expect(w?.value).toBe(2500);
  });

  it("records declared types and skips lines it cannot read", () => {
    expect(types.selah_http_request_duration_seconds).toBe("histogram");
    expect(types.selah_process_resident_memory_bytes).toBe("gauge");
    expect(samples.some((s) => s.name === "selah_bad")).toBe(false);
    expect(samples.some((s) => s.name === "not")).toBe(false);
    expect(Number.isNaN(gaugeValue(samples, "selah_nan") as number)).toBe(true);
  });

  it("sums a family under a label filter", () => {
    expect(sumOf(samples, "selah_http_requests_total")).toBe(55);
    expect(sumOf(samples, "selah_http_requests_total", (l) => l.route !== "/health")).toBe(15);
    expect(gaugeValue(samples, "absent")).toBeNull();
  });
});

describe("parseValue", () => {
  it("knows Prometheus' special floats", () => {
    expect(parseValue("+Inf")).toBe(Infinity);
    expect(parseValue("-Inf")).toBe(-Infinity);
    expect(parseValue("0.25")).toBe(0.25);
    expect(Number.isNaN(parseValue(""))).toBe(true);
  });
});
