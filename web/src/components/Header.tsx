/** The header: navigation, the Local/Team context switcher, the engine light, settings, sign-out. */
import { useContextStore } from "../stores/context";
import { useSession } from "../stores/session";
import { linkHandler, section, useRoute } from "../router";
import { contextOf } from "../lib/context";
import { EngineLight } from "./EngineLight";

export interface NavItem {
  path: string;
  label: string;
  adminOnly?: boolean;
}

export const NAV: NavItem[] = [
  { path: "/chat", label: "Chat" },
  { path: "/documents", label: "Documents" },
  { path: "/vault", label: "Vault" },
  { path: "/live", label: "Live" },
  { path: "/models", label: "Models" },
  { path: "/status", label: "Health", adminOnly: true },
];

export function isAdmin(role: string | undefined): boolean {
  return role === "founder" || role === "super_admin" || role === "admin";
}

export function Header({ onSettings }: { onSettings: () => void }) {
  const me = useSession((s) => s.me);
  const logout = useSession((s) => s.logout);
  const { teamId, choose } = useContextStore();
  const path = useRoute((s) => s.path);
  const teams = me?.teams ?? [];
  const ctx = contextOf(teamId, teams);
  const current = section(path);
  return (
    <header className="bg-slate-900 text-white">
      <div className="mx-auto flex max-w-7xl flex-wrap items-center gap-x-4 gap-y-2 px-3 py-2">
        <a href="/chat" onClick={linkHandler("/chat")} className="text-lg font-semibold tracking-wide">
          Selah
        </a>
        <nav aria-label="Main" className="order-last flex w-full gap-1 overflow-x-auto md:order-none md:w-auto">
          {NAV.filter((n) => !n.adminOnly || isAdmin(me?.user.role)).map((n) => {
            const active = current === n.path.slice(1);
            return (
              <a
                key={n.path}
                href={n.path}
                onClick={linkHandler(n.path)}
                aria-current={active ? "page" : undefined}
                className={`rounded-md px-3 py-1.5 text-sm whitespace-nowrap ${
                  active ? "bg-white/15 font-medium" : "text-slate-200 hover:bg-white/10"
                }`}
              >
                {n.label}
              </a>
            );
          })}
        </nav>
        <div className="ml-auto flex items-center gap-2">
          <label className="flex items-center gap-2 text-sm">
            <span
              data-context={ctx.kind}
              className={`rounded-full px-2 py-0.5 text-xs font-semibold ring-1 ring-inset ${ctx.className}`}
            >
              {ctx.kind === "local" ? "Local" : "Team"}
            </span>
            <span className="sr-only">Context</span>
            <select
              aria-label="Context"
              value={teamId}
              onChange={(e) => choose(e.target.value, teams)}
              className="max-w-40 rounded-md border border-white/20 bg-slate-800 px-2 py-1 text-sm text-white"
            >
              <option value="">Local (personal)</option>
              {teams.map((t) => (
                <option key={t.id} value={t.id}>
                  Team: {t.name}
                </option>
              ))}
            </select>
          </label>
          <EngineLight />
          <button className="btn-ghost text-sm" onClick={onSettings}>
            Settings
          </button>
          <button className="btn-ghost text-sm" onClick={() => void logout()} title={`Signed in as ${me?.user.username}`}>
            Sign out
          </button>
        </div>
      </div>
    </header>
  );
}
