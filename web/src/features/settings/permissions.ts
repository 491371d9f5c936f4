/**
 * The Permissions tab's logic: what each key means, why it ended up granted or denied (from the
 * server's `source`, the global role and the team role of the context it was computed in), and
 * the text + granted/denied filter. Mirrors selah-core's permissions.rs: founder first, then a
 * personal denial, a personal grant, the team role (team-scoped keys only), the role baseline.
 */

/** Why a key was decided (selah-core's `Source`). */
export type Source = "founder" | "denial" | "grant" | "team_role" | "role_baseline" | "not_in_baseline";

/**
 * One key's decision as the server sends it. (The generated schema types `key` as the Rust
 * variant names; on the wire it is the dotted key, e.g. `docs.read`.)
 */
export interface Decision {
  key: string;
  category: string;
  granted: boolean;
  source: Source;
}

/** `GET /api/v1/auth/permissions/effective`. */
export interface EffectivePermissions {
  user: { id: string; username: string };
  role: string;
  team?: { id: string; role: string } | null;
  permissions: Decision[];
}

export type Show = "all" | "granted" | "denied";

export const DESCRIPTIONS: Record<string, string> = {
  "chat.use": "Chat with the AI models",
  "chat.manage_sessions": "Rename, archive and delete chat sessions",
  "docs.read": "Read and search documents",
  "docs.write": "Upload, change and delete documents",
  "vault.use": "Use the end-to-end encrypted vault",
  "workflows.view": "See workflows",
  "workflows.execute": "Run workflows",
  "workflows.manage": "Create and change workflows",
  "live.join": "Join live sessions",
  "live.host": "Host live sessions",
  "data.run_sql": "Run SQL queries on the data",
  "backups.manage": "Make and restore backups",
  "mesh.manage": "Manage the mesh of Selah servers",
  "admin.manage_users": "Create, change and disable accounts",
  "admin.view_audit": "Read, export and verify the audit log",
  "admin.manage_settings": "Change the server's settings",
  "admin.cleanup": "Run the cleanup jobs",
  "founder.all": "The founder's own rights: administrator accounts and permissions",
};

/** Categories a team role can never give (permissions.rs: administrative keys). */
const ADMINISTRATIVE = new Set(["admin", "data", "backups", "mesh"]);

/** "super_admin" → "super admin". */
export function roleLabel(role: string): string {
  return role.replace(/_/g, " ");
}

/** The reason shown beside a decision, in words. */
export function reasonOf(d: Decision, role: string, teamRole?: string | null): string {
  const r = roleLabel(role);
  switch (d.source) {
    case "founder":
      return "You are the founder, who holds every permission.";
    case "denial":
      return "Denied to you personally by an administrator; a personal denial overrides your roles.";
    case "grant":
      return "Granted to you personally by an administrator.";
    case "team_role":
      return d.granted
        ? `Given by your role in this team (${roleLabel(teamRole ?? "member")}).`
        : `Not given by your role in this team (${roleLabel(teamRole ?? "member")}).`;
    case "role_baseline":
      return `Part of the ${r} role.`;
    case "not_in_baseline":
      if (d.category === "founder") return "Only the founder holds this.";
      if (teamRole && ADMINISTRATIVE.has(d.category)) return `Not part of the ${r} role; a team role never gives administrative permissions.`;
      return `Not part of the ${r} role.`;
    default:
      return String(d.source);
  }
}

/** Decisions passing the granted/denied choice and every word of the text filter. */
export function filterPermissions(
  list: Decision[],
  filter: { text: string; show: Show },
  ctx: { role: string; teamRole?: string | null },
): Decision[] {
  const words = filter.text.toLowerCase().split(/\s+/).filter(Boolean);
  return list.filter((d) => {
    if (filter.show === "granted" && !d.granted) return false;
    if (filter.show === "denied" && d.granted) return false;
    if (!words.length) return true;
    const hay = [d.key, d.category, DESCRIPTIONS[d.key] ?? "", reasonOf(d, ctx.role, ctx.teamRole), d.granted ? "granted" : "denied"]
      .join(" ")
      .toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}

/** How many are granted and denied. */
export function tally(list: Decision[]): { granted: number; denied: number } {
  const granted = list.filter((d) => d.granted).length;
  return { granted, denied: list.length - granted };
}
