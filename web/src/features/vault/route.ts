/**
 * The vault's paths: `/vault` (top level), `/vault/folder/<id>`, `/vault/trash`. A folder in the
 * address survives a reload and the back button walks the breadcrumbs.
 */
import { params } from "../../router";

export type VaultView = { view: "folder"; folderId: string | null } | { view: "trash" };

export function parseVaultPath(path: string): VaultView {
  const p = params(path);
  if (p[0] === "trash") return { view: "trash" };
  if (p[0] === "folder" && p[1]) return { view: "folder", folderId: decodeURIComponent(p[1]) };
  return { view: "folder", folderId: null };
}

export function vaultPath(v: VaultView): string {
  if (v.view === "trash") return "/vault/trash";
  return v.folderId ? `/vault/folder/${encodeURIComponent(v.folderId)}` : "/vault";
}
