import { afterEach, describe, expect, it } from "vitest";
import { useContextStore } from "./context";
import { authHeaders } from "../api/client";

afterEach(() => useContextStore.getState().choose(""));

describe("context store", () => {
  it("a chosen team travels on every request and survives a reload", () => {
    useContextStore.getState().choose("t1", [{ id: "t1" }]);
    expect(useContextStore.getState().teamId).toBe("t1");
    expect(authHeaders()["X-Selah-Team"]).toBe("t1");
    expect(localStorage.getItem("selah.context")).toBe("t1");
  });

  it("a team the user no longer belongs to falls back to Local", () => {
    useContextStore.getState().choose("gone", [{ id: "t1" }]);
    expect(useContextStore.getState().teamId).toBe("");
    expect(authHeaders()["X-Selah-Team"]).toBeUndefined();
  });

  it("Local sends no team header", () => {
    useContextStore.getState().choose("t1", [{ id: "t1" }]);
    useContextStore.getState().choose("");
    expect(authHeaders("POST")["X-Selah-Team"]).toBeUndefined();
  });
});
