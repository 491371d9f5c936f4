// Passage text is rendered as text with <mark> elements, never as HTML.
import { render } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { Highlighted } from "./Highlighted";

describe("Highlighted", () => {
  it("marks the spans and keeps markup in the text inert", () => {
    const text = '<img src=x onerror="alert(1)"> generator at 06:30';
    const { container } = render(
      <p>
        <Highlighted text={text} spans={[{ start: 31, end: 40 }]} />
      </p>,
    );
    expect(container.querySelector("img")).toBeNull();
    expect(container.textContent).toBe(text);
    const marks = [...container.querySelectorAll("mark")].map((m) => m.textContent);
    expect(marks).toEqual(["generator"]);
  });
  it("renders overlapping spans as one mark", () => {
    const { container } = render(
      <p>
        <Highlighted text="Thursday at 06:30" spans={[{ start: 0, end: 5 }, { start: 3, end: 8 }]} />
      </p>,
    );
    expect([...container.querySelectorAll("mark")].map((m) => m.textContent)).toEqual(["Thursday"]);
  });
});
