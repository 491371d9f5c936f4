/** Describing a session in words for the sessions list: its browser and system from the user agent. */

/** "Mozilla/5.0 (X11; Linux x86_64) … Chrome/130.0 …" → "Chrome on Linux". */
export function describeAgent(ua: string | null | undefined): string {
  if (!ua || !ua.trim()) return "Unknown device";
  const browser = /HeadlessChrome\//.test(ua)
    ? "Headless Chrome"
    : /Edg\//.test(ua)
      ? "Edge"
      : /Firefox\//.test(ua)
        ? "Firefox"
        : /(Chrome|Chromium|CriOS)\//.test(ua)
          ? "Chrome"
          : /Safari\//.test(ua) && /Version\//.test(ua)
            ? "Safari"
            : null;
  const os = /iPhone|iPad|iPod/.test(ua)
    ? "iOS"
    : /Android/.test(ua)
      ? "Android"
      : /Windows/.test(ua)
        ? "Windows"
        : /Mac OS X|Macintosh/.test(ua)
          ? "macOS"
          : /CrOS/.test(ua)
            ? "ChromeOS"
            : /Linux|X11/.test(ua)
              ? "Linux"
              : null;
  if (browser && os) return `${browser} on ${os}`;
  if (browser) return browser;
  // A program rather than a browser (curl/8.5.0, python-requests/2.32): its name.
  const tool = /^([A-Za-z][\w.-]*)\//.exec(ua.trim());
  if (tool && tool[1] !== "Mozilla") return tool[1];
  return ua.length > 48 ? ua.slice(0, 47) + "…" : ua;
}
