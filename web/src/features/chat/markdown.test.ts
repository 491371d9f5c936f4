// Replies render as Markdown and never carry script into the page.
import { describe, expect, it } from "vitest";
import { renderMarkdown } from "./markdown";

describe("renderMarkdown", () => {
  it("renders emphasis, lists and code", () => {
    const html = renderMarkdown("**bold** and `code`\n\n- one\n- two");
    expect(html).toContain("<strong>bold</strong>");
    expect(html).toContain("<code>code</code>");
    expect(html).toMatch(/<ul>\s*<li>one<\/li>\s*<li>two<\/li>\s*<\/ul>/);
  });

  it("removes scripts and event handlers", () => {
    const html = renderMarkdown('Hi <script>alert(1)</script><img src="x" onerror="alert(2)"> [x](javascript:alert(3))');
    expect(html).not.toContain("<script");
    expect(html).not.toContain("onerror");
    expect(html).not.toContain("javascript:");
    expect(html).toContain("Hi");
  });

  it("opens links apart", () => {
    const html = renderMarkdown("[site](https://example.org)");
    expect(html).toContain('href="https://example.org"');
    expect(html).toContain('target="_blank"');
    expect(html).toContain('rel="noopener noreferrer"');
  });

  it("renders an unclosed fence while it streams", () => {
    const html = renderMarkdown("Here:\n```js\nlet a = 1;");
    expect(html).toContain("<pre><code");
    expect(html).toContain("let a = 1;");
  });
});
