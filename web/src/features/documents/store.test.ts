// The list store against a fake fetch: optimistic rename and delete, put back on refusal with
// the server's message, and polls that do not undo edits still in flight.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { pollDocuments, useDocs, type DocumentView } from "./store";

const doc = (id: string, title: string, state = "ready"): DocumentView => ({
  id,
  title,
  state,
  owner_id: "u1",
  team_id: null,
  kind: "file",
  file_name: `${title}.txt`,
  format: "text",
  size_bytes: 10,
  sha256: "",
  progress: state === "ready" ? 100 : 0,
  error: null,
  passages: 1,
  created_at: 0,
  updated_at: 0,
  indexed_at: null,
});

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

let fetchMock: ReturnType<typeof vi.fn>;

beforeEach(() => {
  fetchMock = vi.fn();
  vi.stubGlobal("fetch", fetchMock);
  useDocs.setState({ docs: [doc("a", "Alpha"), doc("b", "Beta")], loaded: true, loadError: "", actionError: "" });
});
afterEach(() => vi.unstubAllGlobals());

describe("rename", () => {
  it("shows the new title at once and keeps the server's answer", async () => {
    let answer!: (r: Response) => void;
    fetchMock.mockReturnValue(new Promise<Response>((r) => (answer = r)));
    const done = useDocs.getState().rename("a", "Alpha 2");
    expect(useDocs.getState().docs[0].title).toBe("Alpha 2");
    const [url, init] = fetchMock.mock.calls[0];
    expect(url).toBe("/api/v1/docs/documents/a");
    expect(init.method).toBe("PATCH");
    expect(JSON.parse(init.body)).toEqual({ title: "Alpha 2" });
    answer(json(200, doc("a", "Alpha 2")));
    expect(await done).toBe(true);
    expect(useDocs.getState().docs.map((d) => d.title)).toEqual(["Alpha 2", "Beta"]);
  });

  it("puts the old title back and shows the server's message when refused", async () => {
    fetchMock.mockResolvedValue(json(422, { error: { code: "validation", message: "title must be 1 to 200 characters" } }));
    expect(await useDocs.getState().rename("a", "x".repeat(300))).toBe(false);
    expect(useDocs.getState().docs[0].title).toBe("Alpha");
    expect(useDocs.getState().actionError).toBe("Could not rename “Alpha”: title must be 1 to 200 characters");
  });
});

describe("delete", () => {
  it("removes at once and puts the document back in place when refused", async () => {
    let answer!: (r: Response) => void;
    fetchMock.mockReturnValueOnce(new Promise<Response>((r) => (answer = r)));
    const done = useDocs.getState().remove("a");
    expect(useDocs.getState().docs.map((d) => d.id)).toEqual(["b"]);
    answer(json(403, { error: { code: "forbidden", message: "needs docs.write" } }));
    expect(await done).toBe(false);
    expect(useDocs.getState().docs.map((d) => d.id)).toEqual(["a", "b"]);
    expect(useDocs.getState().actionError).toMatch(/needs docs.write/);
  });

  it("a poll answering during the delete does not bring the document back", async () => {
    let answer!: (r: Response) => void;
    fetchMock.mockReturnValueOnce(new Promise<Response>((r) => (answer = r)));
    const done = useDocs.getState().remove("a");
    fetchMock.mockResolvedValueOnce(json(200, [doc("a", "Alpha"), doc("b", "Beta")]));
    await useDocs.getState().load();
    expect(useDocs.getState().docs.map((d) => d.id)).toEqual(["b"]);
    answer(new Response(null, { status: 204 }));
    expect(await done).toBe(true);
    expect(useDocs.getState().docs.map((d) => d.id)).toEqual(["b"]);
  });
});

describe("load", () => {
  it("keeps the server's message when the list cannot be read", async () => {
    fetchMock.mockResolvedValue(json(403, { error: { code: "forbidden", message: "needs docs.read" } }));
    await useDocs.getState().load();
    expect(useDocs.getState().loadError).toBe("needs docs.read");
  });
  it("upsert puts a new document first and replaces a known one", () => {
    useDocs.getState().upsert(doc("c", "Gamma", "queued"));
    useDocs.getState().upsert(doc("b", "Beta", "failed"));
    expect(useDocs.getState().docs.map((d) => `${d.id}:${d.state}`)).toEqual(["c:queued", "a:ready", "b:failed"]);
  });
});

describe("pollDocuments", () => {
  it("polls while a document is indexing, backing off, and stops once all are final", async () => {
    vi.useFakeTimers();
    try {
      const answers = [
        [doc("a", "Alpha", "queued")],
        [{ ...doc("a", "Alpha", "indexing"), progress: 40 }],
        [doc("a", "Alpha", "ready")],
      ];
      fetchMock.mockImplementation(async () => json(200, answers.shift() ?? [doc("a", "Alpha", "ready")]));
      const stop = pollDocuments();
      await vi.advanceTimersByTimeAsync(0);
      expect(fetchMock).toHaveBeenCalledTimes(1);
      expect(useDocs.getState().docs[0].state).toBe("queued");
      await vi.advanceTimersByTimeAsync(1000);
      expect(fetchMock).toHaveBeenCalledTimes(2);
      expect(useDocs.getState().docs[0].progress).toBe(40);
      // The second wait is longer (1.5 s): nothing at 1 s.
      await vi.advanceTimersByTimeAsync(1000);
      expect(fetchMock).toHaveBeenCalledTimes(2);
      await vi.advanceTimersByTimeAsync(500);
      expect(fetchMock).toHaveBeenCalledTimes(3);
      expect(useDocs.getState().docs[0].state).toBe("ready");
      await vi.advanceTimersByTimeAsync(60_000);
      expect(fetchMock).toHaveBeenCalledTimes(3);
      // A new upload makes the list pending again: polling resumes.
      useDocs.getState().upsert(doc("n", "New", "queued"));
      fetchMock.mockImplementation(async () => json(200, [doc("n", "New", "ready"), doc("a", "Alpha", "ready")]));
      await vi.advanceTimersByTimeAsync(1000);
      expect(fetchMock).toHaveBeenCalledTimes(4);
      stop();
    } finally {
      vi.useRealTimers();
    }
  });
});
