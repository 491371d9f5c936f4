/**
 * The collaborative Markdown editor (loaded lazily: CodeMirror and Yjs are most of this screen's
 * weight). CodeMirror 6 is bound to the room's Yjs document through y-codemirror.next, and the
 * document travels over y-websocket's WebsocketProvider to the server's `/ws/yjs/{room}` — the
 * provider appends "/{room}" to the URL it is given, and the session cookie authenticates the
 * same-origin upgrade. Awareness carries each person's name and colour for the remote cursors.
 */
import { defaultKeymap } from "@codemirror/commands";
import { markdownKeymap, markdownLanguage } from "@codemirror/lang-markdown";
import { EditorState } from "@codemirror/state";
import { drawSelection, EditorView, highlightActiveLine, keymap, placeholder } from "@codemirror/view";
import { useEffect, useRef, useState } from "react";
import { yCollab, yUndoManagerKeymap } from "y-codemirror.next";
import { WebsocketProvider } from "y-websocket";
import * as Y from "yjs";
import { colourFor, editorsFrom, lightColourFor } from "./people";

/** The shared text's name in the document; the server's own tools read "text" too. */
export const TEXT_NAME = "text";

export function yjsServerUrl(): string {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${location.host}/ws/yjs`;
}

const theme = EditorView.theme({
  "&": { minHeight: "18rem", fontSize: "0.95rem", backgroundColor: "#fff", color: "#0f172a" },
  "&.cm-focused": { outline: "2px solid #0369a1", outlineOffset: "2px" },
  ".cm-content": { fontFamily: "ui-monospace, SFMono-Regular, Menlo, monospace", padding: "0.75rem 0" },
  ".cm-line": { padding: "0 0.75rem" },
  ".cm-placeholder": { color: "#475569" },
  ".cm-activeLine": { backgroundColor: "#f1f5f9" },
});

type Status = "connecting" | "connected" | "disconnected";

export default function CollabEditor({ roomId, userId, userName }: { roomId: string; userId: string; userName: string }) {
  const host = useRef<HTMLDivElement>(null);
  const [status, setStatus] = useState<Status>("connecting");
  const [synced, setSynced] = useState(false);
  const [refused, setRefused] = useState("");
  const [editors, setEditors] = useState<{ name: string; color: string }[]>([]);

  useEffect(() => {
    const parent = host.current;
    if (!parent) return;
    const doc = new Y.Doc();
    const provider = new WebsocketProvider(yjsServerUrl(), roomId, doc);
    const ytext = doc.getText(TEXT_NAME);
    const undoManager = new Y.UndoManager(ytext);
    provider.awareness.setLocalStateField("user", { name: userName, color: colourFor(userId), colorLight: lightColourFor(userId) });
    const view = new EditorView({
      parent,
      state: EditorState.create({
        doc: ytext.toString(),
        extensions: [
          keymap.of([...yUndoManagerKeymap, ...markdownKeymap, ...defaultKeymap]),
          // The Markdown language alone: `markdown()` would also pull in the HTML, CSS and
          // JavaScript modes for embedded HTML, tripling the chunk for little gain here.
          markdownLanguage.extension,
          EditorView.lineWrapping,
          drawSelection(),
          highlightActiveLine(),
          placeholder("Write together, in Markdown…"),
          yCollab(ytext, provider.awareness, { undoManager }),
          EditorView.contentAttributes.of({ "aria-label": "Shared document" }),
          theme,
        ],
      }),
    });
    const onStatus = ({ status }: { status: Status }) => setStatus(status);
    const onSync = (s: boolean) => setSynced(s);
    // 4400–4499 are the server's final refusals: y-websocket stops retrying, so say why.
    const onClosed = (ev: { code: number; reason: string }) => setRefused(`The document connection was refused (${ev.code}${ev.reason ? `: ${ev.reason}` : ""}).`);
    const onAwareness = () => setEditors(editorsFrom(provider.awareness.getStates().values()));
    provider.on("status", onStatus);
    provider.on("sync", onSync);
    provider.on("closed", onClosed);
    provider.awareness.on("change", onAwareness);
    onAwareness();
    return () => {
      provider.awareness.off("change", onAwareness);
      provider.off("status", onStatus);
      provider.off("sync", onSync);
      provider.off("closed", onClosed);
      view.destroy();
      provider.destroy();
      undoManager.destroy();
      doc.destroy();
    };
  }, [roomId, userId, userName]);

  const state = refused ? "Refused" : status === "connected" ? (synced ? "Saved and in sync" : "Syncing…") : status === "connecting" ? "Connecting…" : "Disconnected — retrying";
  return (
    <section className="card space-y-2" aria-labelledby="doc-heading">
      <div className="flex flex-wrap items-center gap-x-3 gap-y-1">
        <h3 id="doc-heading" className="font-semibold">
          Shared document
        </h3>
        <p role="status" data-doc-status={refused ? "refused" : synced && status === "connected" ? "synced" : status} className="text-sm text-slate-700">
          {state}
        </p>
        <ul aria-label="Editing now" className="ml-auto flex flex-wrap gap-1">
          {editors.map((e) => (
            <li key={e.name} className="rounded-full px-2 py-0.5 text-xs font-medium text-white" style={{ background: e.color }}>
              {e.name}
            </li>
          ))}
        </ul>
      </div>
      {refused && <p role="alert" className="error-text">{refused}</p>}
      <div ref={host} className="overflow-hidden rounded-md border border-slate-300" data-collab-editor />
      <p className="text-xs text-slate-700">Every change is stored on the server before the others see it. Tab moves on to the next control.</p>
    </section>
  );
}
