/** Tests of item metadata: JSON rules, names, and sealing to age and back. */
import { describe, expect, it } from "vitest";
import { newIdentity } from "./agefile";
import { fromBase64 } from "./bytes";
import { checkName, decodeMeta, encodeMeta, openMeta, sealMeta, uniqueName } from "./meta";

const enc = (s: string) => new TextEncoder().encode(s);

describe("encodeMeta / decodeMeta", () => {
  it("round-trips names, tags and fields another client added", () => {
    const m = { name: "Ünïcode report.pdf", tags: ["tax", "2025"], colour: "blue" };
    expect(decodeMeta(encodeMeta(m))).toEqual(m);
  });
  it("writes the JSON the CLI reads", () => {
    expect(new TextDecoder().decode(encodeMeta({ name: "a", tags: [] }))).toBe('{"name":"a","tags":[]}');
  });
  it("defaults tags and drops tags that are not strings", () => {
    expect(decodeMeta(enc('{"name":"x"}'))).toEqual({ name: "x", tags: [] });
    expect(decodeMeta(enc('{"name":"x","tags":["a",1,null]}'))).toEqual({ name: "x", tags: ["a"] });
  });
  it("refuses what is not metadata", () => {
    expect(() => decodeMeta(enc("nope"))).toThrow(/not JSON/);
    expect(() => decodeMeta(enc("[1]"))).toThrow(/not a JSON object/);
    expect(() => decodeMeta(enc('{"tags":[]}'))).toThrow(/no name/);
    expect(() => decodeMeta(new Uint8Array([0xff, 0xfe]))).toThrow(/not JSON/);
  });
});

describe("checkName", () => {
  it("accepts ordinary names and refuses empty, slashes and control characters", () => {
    expect(checkName("Report 2025.pdf")).toBeNull();
    expect(checkName("  ")).toMatch(/empty/);
    expect(checkName("a/b")).toMatch(/“\/”/);
    expect(checkName("a\nb")).toMatch(/control/);
  });
});

describe("uniqueName", () => {
  it("keeps a free name and numbers a taken one before its extension", () => {
    expect(uniqueName("a.txt", ["b.txt"])).toBe("a.txt");
    expect(uniqueName("a.txt", ["a.txt"])).toBe("a (2).txt");
    expect(uniqueName("a.txt", ["a.txt", "a (2).txt"])).toBe("a (3).txt");
    expect(uniqueName("notes", ["notes"])).toBe("notes (2)");
    expect(uniqueName(".bashrc", [".bashrc"])).toBe(".bashrc (2)");
  });
});

describe("sealMeta / openMeta", () => {
  it("seals to every recipient and opens with each key, and not with another", async () => {
    const a = await newIdentity();
    const b = await newIdentity();
    const c = await newIdentity();
    const sealed = await sealMeta({ name: "secret plan.txt", tags: ["x"] }, [a.publicKey, b.publicKey]);
    const bytes = fromBase64(sealed);
    expect(new TextDecoder().decode(bytes.subarray(0, 21))).toBe("age-encryption.org/v1");
    expect(new TextDecoder("latin1").decode(bytes)).not.toContain("secret plan");
    expect((await openMeta(sealed, a.secret)).name).toBe("secret plan.txt");
    expect((await openMeta(sealed, b.secret)).tags).toEqual(["x"]);
    await expect(openMeta(sealed, c.secret)).rejects.toThrow(/no identity matched/);
  });
  it("refuses metadata larger than the server takes", async () => {
    const a = await newIdentity();
    await expect(sealMeta({ name: "x".repeat(70_000), tags: [] }, [a.publicKey])).rejects.toThrow(/too long/);
  });
});
