/**
 * The context the app acts in: Local (personal) or one of the user's teams. Every request carries
 * it as `X-Selah-Team`; the choice survives a reload.
 */
import { create } from "zustand";
import { setTeamContext } from "../api/client";
import { LOCAL } from "../lib/context";

const KEY = "selah.context";

interface ContextState {
  teamId: string;
  /** Switches context; an id the user no longer belongs to falls back to Local. */
  choose: (teamId: string, known?: { id: string }[]) => void;
}

function initial(): string {
  try {
    return localStorage.getItem(KEY) ?? LOCAL;
  } catch {
    return LOCAL;
  }
}

export const useContextStore = create<ContextState>((set) => {
  const teamId = initial();
  setTeamContext(teamId);
  return {
    teamId,
    choose(teamId, known) {
      const id = known && teamId && !known.some((t) => t.id === teamId) ? LOCAL : teamId;
      setTeamContext(id);
      try {
        localStorage.setItem(KEY, id);
      } catch {
        // Private mode: the choice lasts for this page only.
      }
      set({ teamId: id });
    },
  };
});
