/**
 * The Documents screen: /documents is the library (upload, notes, search, the list with each
 * document's indexing state); /documents/<id>[?chunk=&start=&end=] is the viewer.
 */
import { useEffect, useState } from "react";
import { api } from "../../api/client";
import { params, useRoute } from "../../router";
import { DocumentList } from "./DocumentList";
import { DocumentViewer } from "./DocumentViewer";
import { NoteEditor } from "./NoteEditor";
import { documentIdOf, parseViewerQuery } from "./query";
import { SearchPanel } from "./SearchPanel";
import { DOCS_PATH, pollDocuments, useDocs, type DocumentView } from "./store";
import { UploadPanel } from "./UploadPanel";

export default function DocumentsScreen() {
  const path = useRoute((s) => s.path);
  const id = documentIdOf(params(path));
  return id ? <DocumentViewer id={id} target={parseViewerQuery(path)} /> : <Library />;
}

function Library() {
  const [writing, setWriting] = useState(false);
  const [saved, setSaved] = useState("");
  useEffect(() => pollDocuments(), []);

  async function createNote(title: string, body: string) {
    const doc = await api<DocumentView>(DOCS_PATH, { body: { title, body } });
    useDocs.getState().upsert(doc);
    setWriting(false);
    setSaved(`Saved the note “${doc.title}”; it is being indexed.`);
  }

  return (
    <div className="flex flex-col gap-4">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h1 className="text-xl font-semibold text-slate-900">Documents</h1>
        {!writing && (
          <button
            className="btn"
            onClick={() => {
              setSaved("");
              setWriting(true);
            }}
          >
            New note
          </button>
        )}
      </div>
      {saved && (
        <p className="text-sm text-green-800" role="status">
          {saved}
        </p>
      )}
      {writing && (
        <NoteEditor heading="New note" submitLabel="Save note" onSave={createNote} onCancel={() => setWriting(false)} />
      )}
      {/* Narrow screens: upload, search, then the (possibly long) list; wide: search on the right. */}
      <div className="grid items-start gap-4 lg:grid-cols-2">
        <div className="min-w-0 lg:col-start-1">
          <UploadPanel />
        </div>
        <div className="min-w-0 lg:col-start-2 lg:row-span-2 lg:row-start-1">
          <SearchPanel />
        </div>
        <div className="min-w-0 lg:col-start-1">
          <DocumentList />
        </div>
      </div>
    </div>
  );
}
