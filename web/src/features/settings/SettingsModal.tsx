/**
 * Settings: a modal with tabs for the profile, chat preferences, effective permissions, the
 * audit log (only for those who may read it) and the danger zone. Each tab is its own lazily
 * loaded chunk, so opening Settings costs only the tab shown.
 */
import { lazy, Suspense, useEffect, useRef, useState, type KeyboardEvent } from "react";
import { api } from "../../api/client";
import { ErrorBoundary } from "../../components/ErrorBoundary";
import { isAdmin } from "../../components/Header";
import { Modal } from "../../components/Modal";
import { useSession } from "../../stores/session";
import type { EffectivePermissions } from "./permissions";

const ProfileTab = lazy(() => import("./ProfileTab"));
const ModelsTab = lazy(() => import("./ModelsTab"));
const PermissionsTab = lazy(() => import("./PermissionsTab"));
const AuditTab = lazy(() => import("./AuditTab"));
const DangerTab = lazy(() => import("./DangerTab"));

type TabId = "profile" | "models" | "permissions" | "audit" | "danger";

const TABS: { id: TabId; label: string }[] = [
  { id: "profile", label: "Profile" },
  { id: "models", label: "Models" },
  { id: "permissions", label: "Permissions" },
  { id: "audit", label: "Audit log" },
  { id: "danger", label: "Danger zone" },
];

/**
 * Whether the audit tab shows: the caller's effective `admin.view_audit` once known (a denial
 * can take it from an admin, a grant can give it to a member), the role until then.
 */
function useCanReadAudit(): boolean {
  const role = useSession((s) => s.me?.user.role);
  const [granted, setGranted] = useState<boolean | null>(null);
  useEffect(() => {
    let live = true;
    api<EffectivePermissions>("/api/v1/auth/permissions/effective")
      .then((p) => {
        if (live) setGranted(p.permissions.some((d) => d.key === "admin.view_audit" && d.granted));
      })
      .catch((e: unknown) => {
        // The Permissions tab shows this failure; here the role decides instead.
        console.warn("Selah: could not read effective permissions", e);
      });
    return () => {
      live = false;
    };
  }, []);
  return granted ?? isAdmin(role);
}

function tabClass(danger: boolean, selected: boolean): string {
  if (selected) return danger ? "border-red-700 font-semibold text-red-900" : "border-sky-700 font-semibold text-sky-900";
  return danger ? "border-transparent text-red-800 hover:text-red-900" : "border-transparent text-slate-700 hover:text-slate-900";
}

export default function SettingsModal({ onClose }: { onClose: () => void }) {
  const canAudit = useCanReadAudit();
  const tabs = TABS.filter((t) => t.id !== "audit" || canAudit);
  const [current, setCurrent] = useState<TabId>("profile");
  const active = tabs.some((t) => t.id === current) ? current : "profile";
  const refs = useRef<Record<string, HTMLButtonElement | null>>({});

  // Arrow keys move between tabs (the WAI-ARIA tabs pattern), Home and End jump to the ends.
  const onKey = (e: KeyboardEvent) => {
    const i = tabs.findIndex((t) => t.id === active);
    const next =
      e.key === "ArrowRight" ? (i + 1) % tabs.length : e.key === "ArrowLeft" ? (i - 1 + tabs.length) % tabs.length : e.key === "Home" ? 0 : e.key === "End" ? tabs.length - 1 : -1;
    if (next < 0) return;
    e.preventDefault();
    setCurrent(tabs[next].id);
    refs.current[tabs[next].id]?.focus();
  };

  return (
    <Modal title="Settings" open onClose={onClose} width="max-w-4xl">
      <div role="tablist" aria-label="Settings sections" className="mb-4 flex flex-wrap gap-1 border-b border-slate-200" onKeyDown={onKey}>
        {tabs.map((t) => {
          const selected = t.id === active;
          return (
            <button
              key={t.id}
              ref={(el) => {
                refs.current[t.id] = el;
              }}
              role="tab"
              id={`settings-tab-${t.id}`}
              aria-selected={selected}
              aria-controls={`settings-panel-${t.id}`}
              tabIndex={selected ? 0 : -1}
              onClick={() => setCurrent(t.id)}
              className={`-mb-px rounded-t-md border-b-2 px-3 py-2 text-sm whitespace-nowrap focus-visible:outline-2 focus-visible:outline-sky-700 ${tabClass(
                t.id === "danger",
                selected,
              )}`}
            >
              {t.label}
            </button>
          );
        })}
      </div>
      <div role="tabpanel" id={`settings-panel-${active}`} aria-labelledby={`settings-tab-${active}`} className="min-h-64">
        <ErrorBoundary where={`the ${active} settings`} key={active}>
          <Suspense fallback={<p className="text-sm text-slate-700">Loading…</p>}>
            {active === "profile" && <ProfileTab />}
            {active === "models" && <ModelsTab />}
            {active === "permissions" && <PermissionsTab />}
            {active === "audit" && <AuditTab />}
            {active === "danger" && <DangerTab onSignedOut={onClose} />}
          </Suspense>
        </ErrorBoundary>
      </div>
    </Modal>
  );
}
