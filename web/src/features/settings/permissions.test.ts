// Tests for the permission reasons and filter.
import { describe, expect, it } from "vitest";
import { filterPermissions, reasonOf, tally, type Decision } from "./permissions";

const MEMBER: Decision[] = [
  { key: "chat.use", category: "chat", granted: true, source: "role_baseline" },
  { key: "docs.write", category: "docs", granted: false, source: "denial" },
  { key: "workflows.manage", category: "workflows", granted: false, source: "not_in_baseline" },
  { key: "admin.view_audit", category: "admin", granted: true, source: "grant" },
  { key: "admin.manage_users", category: "admin", granted: false, source: "not_in_baseline" },
  { key: "founder.all", category: "founder", granted: false, source: "not_in_baseline" },
];

describe("reasonOf", () => {
  it("names the role, the personal override or the team role that decided", () => {
    expect(reasonOf(MEMBER[0], "member")).toBe("Part of the member role.");
    expect(reasonOf(MEMBER[1], "member")).toMatch(/^Denied to you personally/);
    expect(reasonOf(MEMBER[3], "member")).toBe("Granted to you personally by an administrator.");
    expect(reasonOf(MEMBER[4], "super_admin")).toBe("Not part of the super admin role.");
    expect(reasonOf({ key: "docs.write", category: "docs", granted: false, source: "team_role" }, "admin", "guest")).toBe(
      "Not given by your role in this team (guest).",
    );
    expect(reasonOf({ key: "docs.write", category: "docs", granted: true, source: "team_role" }, "guest", "owner")).toBe(
      "Given by your role in this team (owner).",
    );
  });

  it("explains the founder category and that teams never give admin keys", () => {
    expect(reasonOf(MEMBER[5], "super_admin")).toBe("Only the founder holds this.");
    expect(reasonOf(MEMBER[4], "member", "owner")).toBe("Not part of the member role; a team role never gives administrative permissions.");
    expect(reasonOf({ key: "docs.read", category: "docs", granted: true, source: "founder" }, "founder")).toMatch(/founder/);
  });
});

describe("filterPermissions", () => {
  const ctx = { role: "member" };
  const keys = (l: Decision[]) => l.map((d) => d.key);

  it("shows everything by default", () => {
    expect(keys(filterPermissions(MEMBER, { text: "", show: "all" }, ctx))).toHaveLength(6);
  });

  it("keeps only granted or only denied", () => {
    expect(keys(filterPermissions(MEMBER, { text: "", show: "granted" }, ctx))).toEqual(["chat.use", "admin.view_audit"]);
    expect(keys(filterPermissions(MEMBER, { text: "", show: "denied" }, ctx))).toEqual([
      "docs.write",
      "workflows.manage",
      "admin.manage_users",
      "founder.all",
    ]);
  });

  it("matches every word against key, description and reason, ignoring case", () => {
    expect(keys(filterPermissions(MEMBER, { text: "MANAGE users", show: "denied" }, ctx))).toEqual(["admin.manage_users"]);
    // "admin" also finds "administrator" in reasons and descriptions.
    expect(keys(filterPermissions(MEMBER, { text: "admin", show: "denied" }, ctx))).toEqual(["docs.write", "admin.manage_users", "founder.all"]);
    expect(keys(filterPermissions(MEMBER, { text: "audit log", show: "all" }, ctx))).toEqual(["admin.view_audit"]);
    expect(keys(filterPermissions(MEMBER, { text: "personally", show: "all" }, ctx))).toEqual(["docs.write", "admin.view_audit"]);
    expect(keys(filterPermissions(MEMBER, { text: "only founder", show: "all" }, ctx))).toEqual(["founder.all"]);
    expect(filterPermissions(MEMBER, { text: "nothing-like-this", show: "all" }, ctx)).toEqual([]);
  });

  it("counts granted and denied", () => {
    expect(tally(MEMBER)).toEqual({ granted: 2, denied: 4 });
  });
});
