/**
 * Choosing a session's model: which models get a memory check first, what the check's answer
 * means for the switch (lib/fit.ts decides when a report warns), and which model the header
 * names.
 */
import type { Schemas } from "../../api/client";
import { needsFitWarning } from "../../lib/fit";
import type { ChatSession, ModelInfo } from "./types";

/** Models the embedded engine runs (local files and Ollama's store) have a fit check; remote ones do not. */
export function hasFitCheck(modelId: string): boolean {
  const provider = modelId.split(":", 1)[0];
  return provider === "local" || provider === "ollama";
}

export type SwitchStep = "switch" | "warn";

/**
 * After the check: switch at once, or first ask (Cancel / Load anyway). No report (a remote
 * model) never warns.
 */
export function switchStep(fit: Schemas["FitReport"] | null): SwitchStep {
  return needsFitWarning(fit) ? "warn" : "switch";
}

/**
 * The model the session's next message uses, as far as the page knows: the session's own
 * choice, else what the token meter counted with (the server resolves the user's default
 * there), else the server's default.
 */
export function effectiveModel(session: Pick<ChatSession, "active_model"> | null, meterModel: string | null, defaultModel: string | null): string | null {
  return session?.active_model ?? meterModel ?? defaultModel ?? null;
}

/** The option's text: "SmolLM2-135M-Instruct.Q4_1 (local)", marked when its backend is down. */
export function modelOptionLabel(m: Pick<ModelInfo, "name" | "provider" | "available">): string {
  return `${m.name} (${m.provider})${m.available ? "" : " — unavailable"}`;
}
