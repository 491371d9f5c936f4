/**
 * The unlocked vault: a folder's items (names decrypted here), breadcrumbs, uploads and
 * downloads with progress, rename, move, share, and the trash. Item names are opened with the
 * key in memory; the server sees none of them.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import { ContextBadge } from "../../components/ContextBadge";
import { linkHandler, useRoute } from "../../router";
import { useSession } from "../../stores/session";
import * as actions from "./actions";
import { listItems, purgeItem, restoreItem, trashItem } from "./api";
import { formatBytes } from "./bytes";
import { ConfirmDialog, MoveDialog, NameDialog, ShareDialog } from "./dialogs";
import { parseVaultPath, vaultPath } from "./route";
import { useVaultKey } from "./store";
import { Transfers } from "./Transfers";
import { breadcrumbs, children, displayName, sortEntries, type Entry } from "./tree";

type Dialog =
  | { kind: "new-folder" }
  | { kind: "rename" | "move" | "share"; entry: Entry }
  | { kind: "purge"; entry: Entry };

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function when(ms: number | null | undefined): string {
  return ms ? new Date(ms).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) : "";
}

export function VaultBrowser() {
  const path = useRoute((s) => s.path);
  const view = parseVaultPath(path);
  const folderId = view.view === "folder" ? view.folderId : null;
  const lock = useVaultKey((s) => s.lock);
  const [entries, setEntries] = useState<Entry[] | null>(null);
  const [trash, setTrash] = useState<Entry[] | null>(null);
  const [error, setError] = useState("");
  const [notice, setNotice] = useState("");
  const [dialog, setDialog] = useState<Dialog | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);

  const refresh = useCallback(async () => {
    try {
      const [live, trashed] = await Promise.all([listItems(false), view.view === "trash" ? listItems(true) : Promise.resolve(null)]);
      setEntries(await actions.openEntries(live));
      if (trashed) setTrash(await actions.openEntries(trashed));
      setError("");
    } catch (e) {
      setError(message(e));
    }
  }, [view.view]);
  useEffect(() => {
    void refresh();
  }, [refresh]);

  /** Runs a row action, showing its failure above the list. */
  const act = (f: () => Promise<unknown>) => {
    setNotice("");
    f().then(refresh, (e: unknown) => setNotice(message(e)));
  };

  const here = entries ? sortEntries(children(entries, folderId)) : [];
  const crumbs = entries ? breadcrumbs(entries, folderId) : [];
  const missing = entries !== null && folderId !== null && crumbs.length === 0;

  function onFiles(list: FileList | null) {
    const files = list ? [...list] : [];
    if (fileInput.current) fileInput.current.value = "";
    if (files.length === 0) return;
    setNotice("");
    const taken = here.map(displayName);
    void actions.uploadFiles(files, folderId, taken, () => void refresh());
  }

  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-center gap-2">
        <h1 className="mr-auto text-xl font-semibold">Vault</h1>
        {view.view === "folder" && (
          <>
            <button className="btn-secondary" onClick={() => setDialog({ kind: "new-folder" })} disabled={missing}>
              New folder
            </button>
            <label className={`btn cursor-pointer focus-within:outline-2 focus-within:outline-offset-2 focus-within:outline-sky-700 ${missing ? "pointer-events-none opacity-50" : ""}`}>
              Upload files
              <input ref={fileInput} type="file" multiple className="sr-only" disabled={missing} onChange={(e) => onFiles(e.target.files)} />
            </label>
            <a className="btn-secondary" href={vaultPath({ view: "trash" })} onClick={linkHandler(vaultPath({ view: "trash" }))}>
              Trash
            </a>
          </>
        )}
        {view.view === "trash" && (
          <a className="btn-secondary" href={vaultPath({ view: "folder", folderId: null })} onClick={linkHandler("/vault")}>
            Back to files
          </a>
        )}
        <button className="btn-secondary" onClick={lock} title="Forget the unlocked key in this tab">
          Lock vault
        </button>
      </div>

      {view.view === "folder" && <Breadcrumbs crumbs={crumbs} />}
      <Transfers />
      {error && (
        <div className="card" role="alert">
          <p className="error-text">{error}</p>
          <button className="btn mt-3" onClick={() => void refresh()}>
            Try again
          </button>
        </div>
      )}
      {notice && (
        <p className="error-text" role="alert">
          {notice}
        </p>
      )}

      {view.view === "folder" && !error && (
        <section aria-label="Items" className="card p-0">
          {entries === null && <p className="p-4 text-slate-700">Decrypting names…</p>}
          {missing && (
            <p className="p-4 text-slate-700">
              This folder is not in the vault (it may be in the trash).{" "}
              <a className="text-sky-800 underline" href="/vault" onClick={linkHandler("/vault")}>
                Go to the top level
              </a>
            </p>
          )}
          {entries !== null && !missing && here.length === 0 && (
            <p className="p-4 text-slate-700">{folderId ? "This folder is empty." : "Your vault is empty. Upload files to keep them encrypted here."}</p>
          )}
          {here.length > 0 && (
            <ul className="divide-y divide-slate-200">
              {here.map((e) => (
                <ItemRow
                  key={e.item.id}
                  entry={e}
                  onDownload={() => void actions.download(e, displayName(e))}
                  onDialog={(kind) => setDialog({ kind, entry: e })}
                  onTrash={() => act(() => trashItem(e.item.id))}
                />
              ))}
            </ul>
          )}
        </section>
      )}

      {view.view === "trash" && !error && (
        <section aria-label="Trash" className="card p-0">
          <p className="border-b border-slate-200 p-4 text-sm text-slate-700">
            Items in the trash are deleted for good after a while (30 days unless the server says otherwise). A folder comes back with everything
            that was in it.
          </p>
          {trash === null && <p className="p-4 text-slate-700">Decrypting names…</p>}
          {trash?.length === 0 && <p className="p-4 text-slate-700">The trash is empty.</p>}
          {trash && trash.length > 0 && (
            <ul className="divide-y divide-slate-200">
              {sortEntries(trash).map((e) => (
                <li key={e.item.id} className="flex flex-wrap items-center gap-x-3 gap-y-2 px-4 py-3">
                  <Kind kind={e.item.kind} />
                  <span className="min-w-0 font-medium break-all">{displayName(e)}</span>
                  <span className="text-xs text-slate-700">trashed {when(e.item.trashed_at)}</span>
                  <ContextBadge teamId={e.item.team_id} />
                  <span className="ml-auto flex flex-wrap gap-2">
                    <button className="btn-secondary" aria-label={`Restore ${displayName(e)}`} onClick={() => act(() => restoreItem(e.item.id))}>
                      Restore
                    </button>
                    <button className="btn-danger" aria-label={`Delete ${displayName(e)} forever`} onClick={() => setDialog({ kind: "purge", entry: e })}>
                      Delete forever
                    </button>
                  </span>
                </li>
              ))}
            </ul>
          )}
        </section>
      )}

      <p className="text-xs text-slate-700">
        Everything here is encrypted in your browser before it is sent. Losing the vault passphrase loses the vault.
      </p>

      {dialog?.kind === "new-folder" && (
        <NameDialog
          title="New folder"
          label="Folder name"
          initial=""
          submit="Create folder"
          onSave={async (name) => {
            await actions.createFolder(name, folderId);
            await refresh();
          }}
          onClose={() => setDialog(null)}
        />
      )}
      {dialog?.kind === "rename" && (
        <NameDialog
          title={`Rename ${displayName(dialog.entry)}`}
          label="New name"
          initial={dialog.entry.meta?.name ?? ""}
          submit="Rename"
          onSave={async (name) => {
            await actions.rename(dialog.entry, name);
            await refresh();
          }}
          onClose={() => setDialog(null)}
        />
      )}
      {dialog?.kind === "move" && entries && (
        <MoveDialog
          entry={dialog.entry}
          name={displayName(dialog.entry)}
          all={entries}
          onMove={async (to) => {
            await actions.move(dialog.entry, to);
            await refresh();
          }}
          onClose={() => setDialog(null)}
        />
      )}
      {dialog?.kind === "share" && (
        <ShareDialog entry={dialog.entry} name={displayName(dialog.entry)} onDone={() => void refresh()} onClose={() => setDialog(null)} />
      )}
      {dialog?.kind === "purge" && (
        <ConfirmDialog
          title={`Delete ${displayName(dialog.entry)} forever?`}
          body="It is deleted for good with every version (and, for a folder, everything in it). Nobody can bring it back."
          confirm="Delete forever"
          onConfirm={async () => {
            await purgeItem(dialog.entry.item.id);
            await refresh();
          }}
          onClose={() => setDialog(null)}
        />
      )}
    </div>
  );
}

function Breadcrumbs({ crumbs }: { crumbs: Entry[] }) {
  const top = crumbs.length === 0;
  return (
    <nav aria-label="Folder path">
      <ol className="flex flex-wrap items-center gap-1 text-sm">
        <li>
          <a className="text-sky-800 underline-offset-2 hover:underline" href="/vault" onClick={linkHandler("/vault")} aria-current={top ? "page" : undefined}>
            All files
          </a>
        </li>
        {crumbs.map((c, i) => {
          const to = vaultPath({ view: "folder", folderId: c.item.id });
          const last = i === crumbs.length - 1;
          return (
            <li key={c.item.id} className="flex items-center gap-1">
              <span aria-hidden="true" className="text-slate-700">
                /
              </span>
              <a className="break-all text-sky-800 underline-offset-2 hover:underline" href={to} onClick={linkHandler(to)} aria-current={last ? "page" : undefined}>
                {displayName(c)}
              </a>
            </li>
          );
        })}
      </ol>
    </nav>
  );
}

function Kind({ kind }: { kind: string }) {
  const label = kind === "folder" ? "Folder" : kind === "note" ? "Note" : "File";
  return (
    <span className="w-14 shrink-0 rounded bg-slate-100 px-1.5 py-0.5 text-center text-xs font-medium text-slate-800" title={label}>
      {label}
    </span>
  );
}

function ItemRow(props: { entry: Entry; onDownload: () => void; onDialog: (kind: "rename" | "move" | "share") => void; onTrash: () => void }) {
  const { item } = props.entry;
  const myId = useSession((s) => s.me?.user.id);
  const name = displayName(props.entry);
  const folder = item.kind === "folder";
  // Someone else's personal item shared with me: I may open it, not change it.
  const mine = !item.shared;
  const readable = props.entry.meta !== null;
  const sharedWith = item.recipients.filter((r) => r !== myId).length;
  const to = vaultPath({ view: "folder", folderId: item.id });
  return (
    <li className="flex flex-wrap items-center gap-x-3 gap-y-2 px-4 py-3" data-item={item.id}>
      <Kind kind={item.kind} />
      {folder && readable ? (
        <a className="min-w-0 font-medium break-all text-sky-800 underline-offset-2 hover:underline" href={to} onClick={linkHandler(to)}>
          {name}
        </a>
      ) : (
        <span className="min-w-0 font-medium break-all text-slate-900" title={props.entry.error}>
          {name}
        </span>
      )}
      <span className="text-xs text-slate-700">
        {!folder && (item.size != null ? formatBytes(item.size) + " · " : "no content yet · ")}
        {when(item.updated_at)}
      </span>
      <ContextBadge teamId={item.team_id} />
      {item.shared && <span className="rounded-full bg-violet-100 px-2 py-0.5 text-xs font-medium text-violet-900">Shared with you</span>}
      {!item.shared && sharedWith > 0 && (
        <span className="rounded-full bg-violet-100 px-2 py-0.5 text-xs font-medium text-violet-900">
          Shared with {sharedWith} {sharedWith === 1 ? "person" : "people"}
        </span>
      )}
      <span className="ml-auto flex flex-wrap gap-2">
        {!folder && item.current_version_id && readable && (
          <button className="btn" onClick={props.onDownload} aria-label={`Download ${name}`}>
            Download
          </button>
        )}
        {mine && readable && (
          <>
            <button className="btn-secondary" onClick={() => props.onDialog("rename")} aria-label={`Rename ${name}`}>
              Rename
            </button>
            <button className="btn-secondary" onClick={() => props.onDialog("move")} aria-label={`Move ${name}`}>
              Move
            </button>
            <button className="btn-secondary" onClick={() => props.onDialog("share")} aria-label={`Share ${name}`}>
              Share
            </button>
          </>
        )}
        {mine && (
          <button className="btn-secondary" onClick={props.onTrash} aria-label={`Trash ${name}`}>
            Trash
          </button>
        )}
      </span>
    </li>
  );
}
