/**
 * The Vault screen: end-to-end encrypted files in the browser. Locked, it asks for the vault
 * passphrase (or creates the vault); unlocked, it shows the folders and files, whose names and
 * contents are encrypted and decrypted here with age (docs/VAULT.md).
 */
import { VaultBrowser } from "./Browser";
import { useVaultKey } from "./store";
import { VaultGate } from "./Unlock";

/** X25519 needs WebCrypto, which browsers only offer on HTTPS or localhost. */
function secureEnough(): boolean {
  return typeof crypto !== "undefined" && crypto.subtle !== undefined;
}

export default function VaultScreen() {
  const unlocked = useVaultKey((s) => s.secret !== null);
  if (!secureEnough()) {
    return (
      <div className="card mx-auto max-w-md" role="alert">
        <h1 className="text-lg font-semibold">The vault needs a secure connection</h1>
        <p className="mt-2 text-sm text-slate-800">
          Browsers only allow the encryption the vault uses on HTTPS or on this computer (localhost). Open Selah over HTTPS to use the vault.
        </p>
      </div>
    );
  }
  return unlocked ? <VaultBrowser /> : <VaultGate />;
}
