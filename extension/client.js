/* The quotecheck server as the extension sees it: its settings, two calls, the words for
 * each verdict. Loaded by the service worker (importScripts), the Firefox background page
 * (background.scripts) and the extension's pages (a <script> tag). */
"use strict";

globalThis.quotecheck = (() => {
  const DEFAULTS = Object.freeze({ server: "http://127.0.0.1:8000", apiKey: "" });
  const TIMEOUT_MS = 30000; // a scan of a long page takes well under a second on the server

  // Words first: a verdict must never be told by colour alone.
  const VERDICTS = Object.freeze({
    verified: { label: "Verified", symbol: "✓" },
    fragment: { label: "Fragment of a real quote", symbol: "…" },
    altered: { label: "Altered", symbol: "≠" },
    misattributed: { label: "Misattributed", symbol: "⚠" },
    no_match: { label: "Not in our records", symbol: "?" },
  });

  function verdictInfo(verdict) {
    return VERDICTS[verdict] || { label: String(verdict || "unknown"), symbol: "?" };
  }

  /** The server's base URL without a trailing slash, or throw when it is not http(s). */
  function normaliseServer(value) {
    const text = String(value || "").trim() || DEFAULTS.server;
    const url = new URL(text);
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new Error(`The server must be an http:// or https:// URL, not ${text}`);
    }
    return url.origin + url.pathname.replace(/\/+$/, "");
  }

  /** The match pattern a host permission for this server needs. */
  function originPattern(server) {
    return `${new URL(server).origin}/*`;
  }

  async function settings() {
    const stored = await chrome.storage.local.get(DEFAULTS);
    return { server: normaliseServer(stored.server), apiKey: String(stored.apiKey || "").trim() };
  }

  async function post(path, body) {
    const { server, apiKey } = await settings();
    const headers = { "Content-Type": "application/json", Accept: "application/json" };
    if (apiKey) headers.Authorization = `Bearer ${apiKey}`;
    let response;
    try {
      response = await fetch(server + path, {
        method: "POST",
        headers,
        body: JSON.stringify(body),
        credentials: "omit",
        cache: "no-store",
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (error) {
      if (error.name === "TimeoutError") {
        throw new Error(`The quotecheck server at ${server} did not answer in ${TIMEOUT_MS / 1000} s.`);
      }
      throw new Error(
        `Cannot reach the quotecheck server at ${server} (${error.message}). Is it running, ` +
          "and is it allowed on the extension's options page?",
      );
    }
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    if (!response.ok) {
      const problem = data && (data.detail || data.title);
      throw new Error(`The server answered ${response.status}${problem ? `: ${problem}` : ""}`);
    }
    return data;
  }

  return Object.freeze({
    DEFAULTS,
    VERDICTS,
    verdictInfo,
    normaliseServer,
    originPattern,
    settings,
    verify: (text, speaker) => post("/v1/verify", speaker ? { text, speaker } : { text }),
    scan: (html, url) => post("/v1/scan", { html, url }),
  });
})();
