/**
 * A small router over the History API: the app has a handful of top-level screens, so a path
 * string in a store is all it needs. The server answers every non-API path with index.html.
 */
import { create } from "zustand";

interface RouteState {
  path: string;
  navigate: (to: string, opts?: { replace?: boolean }) => void;
}

export const useRoute = create<RouteState>((set) => ({
  path: typeof location === "undefined" ? "/" : location.pathname + location.search,
  navigate(to, opts) {
    if (opts?.replace) history.replaceState(null, "", to);
    else history.pushState(null, "", to);
    set({ path: to });
    window.scrollTo?.(0, 0);
  },
}));

if (typeof window !== "undefined") {
  window.addEventListener("popstate", () => useRoute.setState({ path: location.pathname + location.search }));
}

/** The first path segment: "/chat/abc" → "chat"; "/" → "". */
export function section(path: string): string {
  return path.replace(/^\/+/, "").split(/[/?#]/)[0] ?? "";
}

/** The path segments after the section: "/chat/abc" → ["abc"]. */
export function params(path: string): string[] {
  return path.split(/[?#]/)[0].split("/").filter(Boolean).slice(1);
}

/** A link that navigates without reloading the page. */
export function linkHandler(to: string) {
  return (e: { preventDefault: () => void; metaKey?: boolean; ctrlKey?: boolean }) => {
    if (e.metaKey || e.ctrlKey) return;
    e.preventDefault();
    useRoute.getState().navigate(to);
  };
}
