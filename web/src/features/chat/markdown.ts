/**
 * Replies as HTML: Markdown through `marked`, then `dompurify`, because the text comes from a
 * model (and, through retrieved passages, from documents) and must never run script in the
 * page. Partial Markdown (an unclosed fence mid-stream) renders as well as it can.
 */
import DOMPurify from "dompurify";
import { marked } from "marked";

// A private DOMPurify instance, so the link hook below does not change other screens' sanitising.
let purifier: ReturnType<typeof DOMPurify> | null = null;

function purify(): ReturnType<typeof DOMPurify> {
  if (purifier) return purifier;
  purifier = DOMPurify(window);
  purifier.addHook("afterSanitizeAttributes", (node) => {
    // Links in a reply leave the app: open them apart and give the target no handle on us.
    if (node.tagName === "A" && node.getAttribute("href")) {
      node.setAttribute("target", "_blank");
      node.setAttribute("rel", "noopener noreferrer");
    }
  });
  return purifier;
}

export function renderMarkdown(text: string): string {
  const html = marked.parse(text, { async: false, gfm: true, breaks: true });
  return purify().sanitize(html, { USE_PROFILES: { html: true } });
}
