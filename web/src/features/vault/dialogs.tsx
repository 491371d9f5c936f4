/** The vault's dialogs: a name (new folder, rename), a move target, sharing, and confirming a purge. */
import { useEffect, useState, type FormEvent } from "react";
import { Modal } from "../../components/Modal";
import { useSession } from "../../stores/session";
import { candidates, setRecipients } from "./actions";
import { checkName } from "./meta";
import { folderPath, moveTargets, type Entry } from "./tree";

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Runs an async action with busy and error state; closes on success. */
function useAction(onDone: () => void) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  async function run(f: () => Promise<unknown>) {
    setBusy(true);
    setError("");
    try {
      await f();
      onDone();
    } catch (e) {
      setError(message(e));
      setBusy(false);
    }
  }
  return { busy, error, run };
}

export function NameDialog(props: {
  title: string;
  label: string;
  initial: string;
  submit: string;
  onSave: (name: string) => Promise<unknown>;
  onClose: () => void;
}) {
  const [name, setName] = useState(props.initial);
  const { busy, error, run } = useAction(props.onClose);
  const problem = name === "" ? null : checkName(name);
  function submit(e: FormEvent) {
    e.preventDefault();
    if (checkName(name) === null) void run(() => props.onSave(name.trim()));
  }
  return (
    <Modal title={props.title} open onClose={props.onClose}>
      <form className="space-y-3" onSubmit={submit}>
        <label className="block text-sm font-medium text-slate-800">
          {props.label}
          <input className="input mt-1" value={name} onChange={(e) => setName(e.target.value)} autoFocus required />
        </label>
        {(problem || error) && (
          <p className="error-text" role="alert">
            {error || problem}
          </p>
        )}
        <div className="flex flex-wrap justify-end gap-2">
          <button type="button" className="btn-secondary" onClick={props.onClose}>
            Cancel
          </button>
          <button className="btn" type="submit" disabled={busy || checkName(name) !== null}>
            {props.submit}
          </button>
        </div>
      </form>
    </Modal>
  );
}

export function MoveDialog(props: { entry: Entry; name: string; all: Entry[]; onMove: (parentId: string | null) => Promise<unknown>; onClose: () => void }) {
  const targets = moveTargets(props.all, props.entry.item);
  const atRoot = !props.entry.item.parent_id;
  const [to, setTo] = useState<string>(atRoot ? (targets[0]?.item.id ?? "") : "");
  const { busy, error, run } = useAction(props.onClose);
  const options = [
    ...(atRoot ? [] : [{ id: "", label: "Top level" }]),
    ...targets.map((t) => ({ id: t.item.id, label: folderPath(props.all, t.item.id) })).sort((a, b) => a.label.localeCompare(b.label)),
  ];
  return (
    <Modal title={`Move ${props.name}`} open onClose={props.onClose}>
      <form
        className="space-y-3"
        onSubmit={(e) => {
          e.preventDefault();
          void run(() => props.onMove(to === "" ? null : to));
        }}
      >
        {options.length === 0 ? (
          <p className="text-sm text-slate-700">There is no other folder to move it to. Make one with “New folder”.</p>
        ) : (
          <label className="block text-sm font-medium text-slate-800">
            Move to
            <select className="input mt-1" value={to} onChange={(e) => setTo(e.target.value)}>
              {options.map((o) => (
                <option key={o.id} value={o.id}>
                  {o.label}
                </option>
              ))}
            </select>
          </label>
        )}
        {error && (
          <p className="error-text" role="alert">
            {error}
          </p>
        )}
        <div className="flex flex-wrap justify-end gap-2">
          <button type="button" className="btn-secondary" onClick={props.onClose}>
            Cancel
          </button>
          <button className="btn" type="submit" disabled={busy || options.length === 0}>
            Move
          </button>
        </div>
      </form>
    </Modal>
  );
}

interface Person {
  userId: string;
  username: string;
  hasVault: boolean;
}

export function ShareDialog(props: { entry: Entry; name: string; onDone: () => void; onClose: () => void }) {
  const myId = useSession((s) => s.me?.user.id ?? "");
  const [people, setPeople] = useState<Person[] | null>(null);
  const [chosen, setChosen] = useState<Set<string>>(() => new Set(props.entry.item.recipients.filter((r) => r !== myId)));
  const [loadError, setLoadError] = useState("");
  const { busy, error, run } = useAction(() => {
    props.onDone();
    props.onClose();
  });
  useEffect(() => {
    candidates(props.entry.item).then(setPeople, (e: unknown) => setLoadError(message(e)));
  }, [props.entry.item]);
  const before = new Set(props.entry.item.recipients.filter((r) => r !== myId));
  const removing = [...before].some((r) => !chosen.has(r));
  const changed = removing || [...chosen].some((r) => !before.has(r));
  const toggle = (id: string, on: boolean) =>
    setChosen((s) => {
      const n = new Set(s);
      if (on) n.add(id);
      else n.delete(id);
      return n;
    });
  return (
    <Modal title={`Share ${props.name}`} open onClose={props.onClose}>
      <form
        className="space-y-3"
        onSubmit={(e) => {
          e.preventDefault();
          void run(() => setRecipients(props.entry, [...chosen], props.name));
        }}
      >
        <p className="text-sm text-slate-700">
          The people you choose can open this {props.entry.item.kind}. Its key is rewrapped for them in this browser; the server never sees it.
          {props.entry.item.team_id ? " A team item can be shared with members of its team." : ""}
        </p>
        {loadError && (
          <p className="error-text" role="alert">
            {loadError}
          </p>
        )}
        {!loadError && people === null && <p className="text-sm text-slate-700">Finding your teammates…</p>}
        {people && people.length === 0 && <p className="text-sm text-slate-700">Nobody to share with: you are in no team with other people.</p>}
        {people && people.length > 0 && (
          <fieldset className="space-y-2">
            <legend className="text-sm font-medium text-slate-800">Recipients</legend>
            {people.map((p) => (
              <label key={p.userId} className="flex items-center gap-2 text-sm text-slate-800">
                <input
                  type="checkbox"
                  checked={chosen.has(p.userId)}
                  disabled={!p.hasVault && !chosen.has(p.userId)}
                  onChange={(e) => toggle(p.userId, e.target.checked)}
                />
                <span>{p.username}</span>
                {!p.hasVault && <span className="text-xs text-slate-700">(has no vault yet)</span>}
              </label>
            ))}
          </fieldset>
        )}
        {removing && props.entry.item.kind !== "folder" && (
          <p className="text-sm text-slate-700">
            Removing someone also re-encrypts the content under a new key, so a key they may have kept opens nothing they can still fetch.
          </p>
        )}
        {error && (
          <p className="error-text" role="alert">
            {error}
          </p>
        )}
        <div className="flex flex-wrap justify-end gap-2">
          <button type="button" className="btn-secondary" onClick={props.onClose}>
            Cancel
          </button>
          <button className="btn" type="submit" disabled={busy || !changed}>
            {busy ? "Saving…" : "Save recipients"}
          </button>
        </div>
      </form>
    </Modal>
  );
}

export function ConfirmDialog(props: { title: string; body: string; confirm: string; onConfirm: () => Promise<unknown>; onClose: () => void }) {
  const { busy, error, run } = useAction(props.onClose);
  return (
    <Modal title={props.title} open onClose={props.onClose}>
      <p className="text-sm text-slate-800">{props.body}</p>
      {error && (
        <p className="error-text mt-2" role="alert">
          {error}
        </p>
      )}
      <div className="mt-4 flex flex-wrap justify-end gap-2">
        <button className="btn-secondary" onClick={props.onClose}>
          Cancel
        </button>
        <button className="btn-danger" disabled={busy} onClick={() => void run(props.onConfirm)}>
          {props.confirm}
        </button>
      </div>
    </Modal>
  );
}
