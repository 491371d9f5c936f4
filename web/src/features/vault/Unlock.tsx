/**
 * The vault's door: unlock with the vault passphrase, or create the vault (a new key pair whose
 * private half is wrapped under the passphrase in the browser) when the user has none yet. The
 * scrypt work runs in a worker; the unlocked key stays in memory only.
 */
import { useEffect, useState, type FormEvent } from "react";
import { ApiError } from "../../api/client";
import { useSession } from "../../stores/session";
import { MIN_PASSPHRASE } from "./agefile";
import { getIdentity, putIdentity, type Identity } from "./api";
import { fromBase64 } from "./bytes";
import { runInBackground } from "./runner";
import { useVaultKey } from "./store";

const LOSS_WARNING =
  "Losing the vault passphrase loses the vault: it is the only way to your private key, and nobody — not an administrator, not the server — can recover it.";

export function VaultGate() {
  const [identity, setIdentity] = useState<Identity | null | undefined>(undefined);
  const [error, setError] = useState("");
  const load = () => {
    setError("");
    getIdentity().then(setIdentity, (e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  };
  useEffect(load, []);
  return (
    <div className="mx-auto max-w-md py-6">
      {error && (
        <div className="card" role="alert">
          <p className="error-text">{error}</p>
          <button className="btn mt-3" onClick={load}>
            Try again
          </button>
        </div>
      )}
      {!error && identity === undefined && <p className="text-slate-700">Opening the vault…</p>}
      {!error && identity === null && <CreateVault onExists={load} />}
      {!error && identity && <UnlockVault identity={identity} />}
    </div>
  );
}

function UnlockVault({ identity }: { identity: Identity }) {
  const unlock = useVaultKey((s) => s.unlock);
  const userId = useSession((s) => s.me?.user.id ?? "");
  const [pass, setPass] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError("");
    try {
      const k = await runInBackground({ type: "unwrap", wrapped: fromBase64(identity.wrapped_identity), passphrase: pass });
      if (k.publicKey !== identity.public_key) {
        throw new Error(
          "The unlocked key does not match the public key the server holds for you, so items encrypted to it could not be opened. Nothing was unlocked.",
        );
      }
      setPass("");
      unlock(k.secret, k.publicKey, userId);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      setBusy(false);
    }
  }
  return (
    <form className="card space-y-3" onSubmit={(e) => void submit(e)}>
      <h1 className="text-lg font-semibold">Unlock your vault</h1>
      <p className="text-sm text-slate-700">Your files are encrypted in this browser. The key stays in this tab’s memory until you lock the vault, sign out or reload.</p>
      <label className="block text-sm font-medium text-slate-800">
        Vault passphrase
        <input
          className="input mt-1"
          type="password"
          autoComplete="current-password"
          value={pass}
          onChange={(e) => setPass(e.target.value)}
          required
          autoFocus
        />
      </label>
      {error && (
        <p className="error-text" role="alert">
          {error}
        </p>
      )}
      <button className="btn" type="submit" disabled={busy || pass === ""}>
        {busy ? "Unlocking… (a few seconds)" : "Unlock vault"}
      </button>
      <p className="text-xs text-slate-700">{LOSS_WARNING}</p>
    </form>
  );
}

function CreateVault({ onExists }: { onExists: () => void }) {
  const unlock = useVaultKey((s) => s.unlock);
  const userId = useSession((s) => s.me?.user.id ?? "");
  const [pass, setPass] = useState("");
  const [again, setAgain] = useState("");
  const [understood, setUnderstood] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const problem =
    pass.length > 0 && [...pass].length < MIN_PASSPHRASE
      ? `The passphrase needs at least ${MIN_PASSPHRASE} characters.`
      : again.length > 0 && again !== pass
        ? "The two passphrases differ."
        : "";
  const ready = [...pass].length >= MIN_PASSPHRASE && again === pass && understood;
  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!ready) return;
    setBusy(true);
    setError("");
    try {
      const k = await runInBackground({ type: "create-identity", passphrase: pass });
      await putIdentity(k.publicKey, k.wrapped, 0);
      setPass("");
      setAgain("");
      unlock(k.secret, k.publicKey, userId);
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) {
        // Made meanwhile (another tab or the CLI): unlock that one instead.
        onExists();
        return;
      }
      setError(err instanceof Error ? err.message : String(err));
      setBusy(false);
    }
  }
  return (
    <form className="card space-y-3" onSubmit={(e) => void submit(e)}>
      <h1 className="text-lg font-semibold">Create your vault</h1>
      <p className="text-sm text-slate-700">
        The vault keeps files end-to-end encrypted: they are encrypted in this browser, and the server stores only ciphertext. Choose a
        passphrase for your vault key (it can differ from your sign-in password).
      </p>
      <p className="rounded-md border border-amber-300 bg-amber-50 p-3 text-sm font-medium text-amber-900">{LOSS_WARNING}</p>
      <label className="block text-sm font-medium text-slate-800">
        Vault passphrase
        <input className="input mt-1" type="password" autoComplete="new-password" value={pass} onChange={(e) => setPass(e.target.value)} required />
      </label>
      <label className="block text-sm font-medium text-slate-800">
        Repeat vault passphrase
        <input className="input mt-1" type="password" autoComplete="new-password" value={again} onChange={(e) => setAgain(e.target.value)} required />
      </label>
      <label className="flex items-start gap-2 text-sm text-slate-800">
        <input type="checkbox" className="mt-1" checked={understood} onChange={(e) => setUnderstood(e.target.checked)} />
        <span>I understand that if I lose this passphrase, everything in my vault is lost for good.</span>
      </label>
      {(problem || error) && (
        <p className="error-text" role="alert">
          {error || problem}
        </p>
      )}
      <button className="btn" type="submit" disabled={busy || !ready}>
        {busy ? "Creating your vault key… (a few seconds)" : "Create vault"}
      </button>
    </form>
  );
}
