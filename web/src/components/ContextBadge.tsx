/** The inline Local/Team badge every list item wears (rules in lib/context.ts). */
import { contextOf } from "../lib/context";
import { useSession } from "../stores/session";

export function ContextBadge({ teamId }: { teamId: string | null | undefined }) {
  const teams = useSession((s) => s.me?.teams ?? []);
  const c = contextOf(teamId, teams);
  return (
    <span
      data-context={c.kind}
      className={`inline-flex items-center rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset ${c.className}`}
    >
      {c.label}
    </span>
  );
}
