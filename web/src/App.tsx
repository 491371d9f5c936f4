/**
 * The app's frame: first-run setup, login, then the header and the current screen. Screens are
 * loaded lazily so the first paint only carries the shell and the chat.
 */
import { lazy, Suspense, useEffect, useState, type ReactNode } from "react";
import { ErrorBoundary } from "./components/ErrorBoundary";
import { Header } from "./components/Header";
import { OfflineBanner } from "./components/OfflineBanner";
import { Login } from "./features/auth/Login";
import { SetupModelsStep, SetupWizard } from "./features/auth/SetupWizard";
import { section, useRoute } from "./router";
import { pollEngine } from "./stores/engine";
import { useSession } from "./stores/session";
import { useContextStore } from "./stores/context";

const ChatScreen = lazy(() => import("./features/chat/ChatScreen"));
const ModelsScreen = lazy(() => import("./features/models/ModelsScreen"));
const DocumentsScreen = lazy(() => import("./features/documents/DocumentsScreen"));
const VaultScreen = lazy(() => import("./features/vault/VaultScreen"));
const LiveScreen = lazy(() => import("./features/live/LiveScreen"));
const HealthScreen = lazy(() => import("./features/health/HealthScreen"));
const SettingsModal = lazy(() => import("./features/settings/SettingsModal"));

const SCREENS: Record<string, { view: () => ReactNode; name: string }> = {
  chat: { view: () => <ChatScreen />, name: "the chat screen" },
  models: { view: () => <ModelsScreen />, name: "the models screen" },
  documents: { view: () => <DocumentsScreen />, name: "the documents screen" },
  vault: { view: () => <VaultScreen />, name: "the vault" },
  live: { view: () => <LiveScreen />, name: "live sessions" },
  // Not /health: the server answers that path itself (the watchdog check).
  status: { view: () => <HealthScreen />, name: "the health dashboard" },
};

export function App() {
  const phase = useSession((s) => s.phase);
  const load = useSession((s) => s.load);
  useEffect(() => {
    void load();
  }, [load]);
  return (
    <div className="flex min-h-dvh flex-col">
      <OfflineBanner />
      {phase === "loading" && <Centered>Loading Selah…</Centered>}
      {phase === "unreachable" && <Unreachable />}
      {phase === "busy" && <Busy />}
      {phase === "setup" && <SetupWizard />}
      {phase === "login" && <Login />}
      {phase === "ready" && <Workspace />}
    </div>
  );
}

function Workspace() {
  const path = useRoute((s) => s.path);
  const navigate = useRoute((s) => s.navigate);
  const teamId = useContextStore((s) => s.teamId);
  const teams = useSession((s) => s.me?.teams);
  const choose = useContextStore((s) => s.choose);
  const [settings, setSettings] = useState(false);
  const [setupStep, setSetupStep] = useState(() => sessionStorage.getItem("selah.setup.models") === "1");
  const key = section(path);
  const screen = SCREENS[key];
  useEffect(() => pollEngine(), []);
  useEffect(() => {
    if (!screen) navigate("/chat", { replace: true });
  }, [screen, navigate]);
  useEffect(() => {
    // A stored team the user has left falls back to Local.
    if (teams) choose(teamId, teams);
  }, [teams, teamId, choose]);
  return (
    <>
      <Header onSettings={() => setSettings(true)} />
      <main className="mx-auto w-full max-w-7xl flex-1 p-3 sm:p-4">
        {setupStep && <SetupModelsStep onDone={() => setSetupStep(false)} />}
        {!setupStep && screen && (
          <ErrorBoundary where={screen.name} key={key + teamId}>
            <Suspense fallback={<p className="text-slate-600">Loading…</p>}>{screen.view()}</Suspense>
          </ErrorBoundary>
        )}
      </main>
      {settings && (
        <ErrorBoundary where="settings">
          <Suspense fallback={null}>
            <SettingsModal onClose={() => setSettings(false)} />
          </Suspense>
        </ErrorBoundary>
      )}
    </>
  );
}

function Centered({ children }: { children: ReactNode }) {
  return <div className="flex flex-1 items-center justify-center p-6 text-slate-700">{children}</div>;
}

function Busy() {
  const error = useSession((s) => s.error);
  return (
    <Centered>
      <div className="card max-w-md" role="status">
        <h1 className="text-lg font-semibold">Selah is busy</h1>
        <p className="mt-2 text-sm">{error}</p>
      </div>
    </Centered>
  );
}

function Unreachable() {
  const { error, load } = useSession();
  return (
    <Centered>
      <div className="card max-w-md" role="alert">
        <h1 className="text-lg font-semibold">Selah cannot be reached</h1>
        <p className="mt-2 text-sm">{error}</p>
        <button className="btn mt-4" onClick={() => void load()}>
          Try again
        </button>
      </div>
    </Centered>
  );
}
