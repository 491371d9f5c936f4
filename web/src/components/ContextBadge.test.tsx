import { afterEach, describe, expect, it } from "vitest";
import { cleanup, render } from "@testing-library/react";
import { ContextBadge } from "./ContextBadge";
import { useSession, type Me } from "../stores/session";

afterEach(() => {
  cleanup();
  useSession.setState({ me: null });
});

describe("ContextBadge", () => {
  it("names the team of a team item and marks personal ones Local", () => {
    useSession.setState({ me: { teams: [{ id: "t1", name: "Clinic" }] } as unknown as Me });
    const team = render(<ContextBadge teamId="t1" />).container.firstElementChild!;
    expect(team.textContent).toBe("Clinic");
    expect(team.getAttribute("data-context")).toBe("team");
    const local = render(<ContextBadge teamId={null} />).container.firstElementChild!;
    expect(local.textContent).toBe("Local");
    expect(local.getAttribute("data-context")).toBe("local");
  });
});
