/**
 * Writing or editing a note: a title, a Markdown textarea and a preview. The server's limits
 * are checked first (notes.ts) so a refusal is rare; when it happens its message is shown.
 */
import { useId, useState, type FormEvent } from "react";
import { Markdown } from "./Markdown";
import { noteProblem } from "./notes";

interface Props {
  heading: string;
  initialTitle?: string;
  initialBody?: string;
  submitLabel: string;
  /** Saves; a thrown error's message is shown and the editor stays open. */
  onSave: (title: string, body: string) => Promise<void>;
  onCancel: () => void;
}

export function NoteEditor({ heading, initialTitle = "", initialBody = "", submitLabel, onSave, onCancel }: Props) {
  const id = useId();
  const [title, setTitle] = useState(initialTitle);
  const [body, setBody] = useState(initialBody);
  const [preview, setPreview] = useState(false);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const problem = noteProblem(title, body);
    if (problem) {
      setError(problem);
      return;
    }
    setBusy(true);
    setError("");
    try {
      await onSave(title.trim(), body);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="card flex flex-col gap-3" onSubmit={(e) => void submit(e)} aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`} className="text-lg font-semibold text-slate-900">
        {heading}
      </h2>
      <div className="flex flex-col gap-1">
        <label htmlFor={`${id}-title`} className="text-sm font-medium text-slate-800">
          Note title
        </label>
        <input
          id={`${id}-title`}
          className="input"
          value={title}
          maxLength={400}
          onChange={(e) => setTitle(e.target.value)}
        />
      </div>
      <div className="flex flex-wrap items-center justify-between gap-2">
        <label htmlFor={`${id}-body`} className="text-sm font-medium text-slate-800">
          Note text (Markdown)
        </label>
        <button type="button" className="btn-secondary" aria-pressed={preview} onClick={() => setPreview((p) => !p)}>
          {preview ? "Back to writing" : "Preview"}
        </button>
      </div>
      {preview ? (
        <div className="min-h-40 rounded-md border border-slate-200 p-3" aria-label="Preview of the note">
          {body.trim() ? <Markdown source={body} /> : <p className="text-slate-700">Nothing to preview yet.</p>}
        </div>
      ) : (
        <textarea
          id={`${id}-body`}
          className="input min-h-48 font-mono"
          value={body}
          onChange={(e) => setBody(e.target.value)}
          placeholder={"# Heading\n\nWrite in Markdown: **bold**, lists with -, links…"}
        />
      )}
      {error && (
        <p className="error-text" role="alert">
          {error}
        </p>
      )}
      <div className="flex flex-wrap gap-2">
        <button className="btn" type="submit" disabled={busy}>
          {busy ? "Saving…" : submitLabel}
        </button>
        <button className="btn-secondary" type="button" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
      </div>
    </form>
  );
}
