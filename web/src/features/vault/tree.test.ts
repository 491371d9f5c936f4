/** Tests of the vault's folder tree rules and its paths. */
import { describe, expect, it } from "vitest";
import { parseVaultPath, vaultPath } from "./route";
import { breadcrumbs, children, displayName, folderPath, moveTargets, sortEntries, type Entry } from "./tree";

function entry(id: string, kind: string, name: string | null, parent: string | null = null, team: string | null = null): Entry {
  return {
    item: {
      id,
      kind,
      parent_id: parent,
      team_id: team,
      meta: "",
      owner_id: "u",
      recipients: ["u"],
      shared: false,
      created_at: 0,
      updated_at: 0,
      row_version: 1,
    },
    meta: name === null ? null : { name, tags: [] },
  };
}

// root ─ A (folder) ─ B (folder) ─ f3
//      │            └ f2
//      ├ C (folder)
//      ├ f1
//      └ orphan (its folder is not visible to this user)
const all = [
  entry("A", "folder", "Taxes"),
  entry("B", "folder", "2025", "A"),
  entry("C", "folder", "Photos"),
  entry("f1", "file", "readme.txt"),
  entry("f2", "file", "scan.pdf", "A"),
  entry("f3", "file", "receipt.png", "B"),
  entry("orphan", "file", "shared.doc", "HIDDEN"),
];
const ids = (es: Entry[]) => es.map((e) => e.item.id);

describe("children", () => {
  it("lists the top level, with items whose folder is not visible", () => {
    expect(ids(children(all, null))).toEqual(["A", "C", "f1", "orphan"]);
  });
  it("lists a folder's children", () => {
    expect(ids(children(all, "A"))).toEqual(["B", "f2"]);
    expect(ids(children(all, "C"))).toEqual([]);
  });
});

describe("breadcrumbs", () => {
  it("walks from the top level to the folder", () => {
    expect(ids(breadcrumbs(all, "B"))).toEqual(["A", "B"]);
    expect(ids(breadcrumbs(all, null))).toEqual([]);
    expect(folderPath(all, "B")).toBe("Taxes / 2025");
  });
  it("stops on a cycle instead of looping", () => {
    const loop = [entry("X", "folder", "x", "Y"), entry("Y", "folder", "y", "X")];
    expect(ids(breadcrumbs(loop, "X"))).toEqual(["Y", "X"]);
  });
});

describe("moveTargets", () => {
  it("never offers the item itself, its subfolders, or where it already is", () => {
    expect(ids(moveTargets(all, all[0].item))).toEqual(["C"]);
    expect(ids(moveTargets(all, all[4].item))).toEqual(["B", "C"]);
    expect(ids(moveTargets(all, all[3].item))).toEqual(["A", "B", "C"]);
  });
  it("only offers folders of the same vault (personal or the same team)", () => {
    const mixed = [...all, entry("T", "folder", "Team folder", null, "team1")];
    expect(ids(moveTargets(mixed, all[3].item))).toEqual(["A", "B", "C"]);
  });
});

describe("sortEntries", () => {
  it("puts folders first, then names in natural order", () => {
    const list = [entry("1", "file", "file 10"), entry("2", "file", "file 2"), entry("3", "folder", "zeta"), entry("4", "file", "Alpha")];
    expect(sortEntries(list).map(displayName)).toEqual(["zeta", "Alpha", "file 2", "file 10"]);
  });
  it("names an unreadable item by its id", () => {
    expect(displayName(entry("01HXYZABCDEF", "file", null))).toBe("Unreadable item ABCDEF");
  });
});

describe("vault paths", () => {
  it("round-trips the views", () => {
    for (const v of [{ view: "folder", folderId: null }, { view: "folder", folderId: "01ABC" }, { view: "trash" }] as const) {
      expect(parseVaultPath(vaultPath(v))).toEqual(v);
    }
    expect(parseVaultPath("/vault/folder/")).toEqual({ view: "folder", folderId: null });
    expect(parseVaultPath("/vault?x=1")).toEqual({ view: "folder", folderId: null });
  });
});
