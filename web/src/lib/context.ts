/**
 * The Local/Team context rules: which context a list item belongs to, and the badge it wears.
 * Local is green and team is blue; both colour pairs meet WCAG 2.1 AA contrast (4.5:1) for the
 * badge's small text.
 */

/** The personal context has no team id. */
export const LOCAL = "";

export interface ContextInfo {
  kind: "local" | "team";
  label: string;
  /** Tailwind classes for the badge: text on background, both AA at 12px. */
  className: string;
}

/** Green-800 on green-100 (7.0:1) and blue-800 on blue-100 (7.9:1). */
const LOCAL_CLASS = "bg-green-100 text-green-800 ring-green-700/30";
const TEAM_CLASS = "bg-blue-100 text-blue-800 ring-blue-700/30";

/**
 * The badge for an item or for the header: items with a team id belong to that team, the rest
 * are the user's own. An unknown team id (the user left the team) still shows as a team.
 */
export function contextOf(teamId: string | null | undefined, teams: { id: string; name: string }[]): ContextInfo {
  if (!teamId) return { kind: "local", label: "Local", className: LOCAL_CLASS };
  const team = teams.find((t) => t.id === teamId);
  return { kind: "team", label: team ? team.name : "Team", className: TEAM_CLASS };
}
