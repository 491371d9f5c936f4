// Upload errors, percent and the queue of several files.
import { describe, expect, it } from "vitest";
import { errorFromXhr, nextWaiting, uploadPercent, uploadsReducer, type UploadItem } from "./upload";

describe("errorFromXhr", () => {
  it("keeps the server's code and message (size limit)", () => {
    const e = errorFromXhr(
      413,
      JSON.stringify({ error: { code: "payload_too_large", message: "the file is larger than the 200 MB limit" } }),
      "Payload Too Large",
    );
    expect(e.status).toBe(413);
    expect(e.code).toBe("payload_too_large");
    expect(e.message).toBe("the file is larger than the 200 MB limit");
  });
  it("keeps the server's message for a refused type", () => {
    const e = errorFromXhr(415, JSON.stringify({ error: { code: "unsupported_media_type", message: "Selah reads plain text…" } }));
    expect(e.message).toBe("Selah reads plain text…");
  });
  it("describes a body that is not the API's error JSON", () => {
    const e = errorFromXhr(502, "<html>bad gateway</html>", "Bad Gateway");
    expect(e.code).toBe("http_502");
    expect(e.message).toBe("The server answered 502 Bad Gateway.");
    expect(errorFromXhr(500, "").message).toBe("The server answered 500.");
  });
  it("explains a connection that closed before an answer", () => {
    const e = errorFromXhr(0, "");
    expect(e.code).toBe("network");
    expect(e.message).toMatch(/before the server answered/);
  });
});

describe("uploadPercent", () => {
  it("floors, clamps and treats an unknown total as 0", () => {
    expect(uploadPercent(50, 200)).toBe(25);
    expect(uploadPercent(199, 200)).toBe(99);
    expect(uploadPercent(300, 200)).toBe(100);
    expect(uploadPercent(10, 0)).toBe(0);
  });
});

describe("uploadsReducer", () => {
  const added = uploadsReducer([], {
    type: "add",
    items: [
      { key: "1", name: "a.txt", size: 10 },
      { key: "2", name: "b.pdf", size: 20 },
    ],
  });

  it("adds files as waiting and sends one at a time, in order", () => {
    expect(added.map((i) => i.status)).toEqual(["waiting", "waiting"]);
    expect(nextWaiting(added)?.key).toBe("1");
    const running = uploadsReducer(added, { type: "start", key: "1" });
    expect(nextWaiting(running)).toBeNull();
    const done = uploadsReducer(running, { type: "done", key: "1" });
    expect(done[0]).toMatchObject({ status: "done", percent: 100 });
    expect(nextWaiting(done)?.key).toBe("2");
  });

  it("progress only moves forward and only while uploading", () => {
    let s: UploadItem[] = uploadsReducer(added, { type: "start", key: "1" });
    s = uploadsReducer(s, { type: "progress", key: "1", percent: 60 });
    s = uploadsReducer(s, { type: "progress", key: "1", percent: 40 });
    expect(s[0].percent).toBe(60);
    s = uploadsReducer(s, { type: "progress", key: "2", percent: 50 });
    expect(s[1].percent).toBe(0);
  });

  it("keeps the server's reason on a failed file, and clear drops finished rows only", () => {
    let s = uploadsReducer(added, { type: "start", key: "1" });
    s = uploadsReducer(s, { type: "failed", key: "1", error: "the file is empty" });
    expect(s[0]).toMatchObject({ status: "failed", error: "the file is empty" });
    s = uploadsReducer(s, { type: "clear" });
    expect(s.map((i) => i.key)).toEqual(["2"]);
  });
});
