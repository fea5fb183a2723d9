/* The options page: the server URL and an optional API key, in chrome.storage.local. A
 * server other than the default needs a host permission, asked for when it is saved. */
"use strict";

const $ = (id) => document.getElementById(id);

function setStatus(message, isError = false) {
  $("status").textContent = message;
  $("status").className = isError ? "error" : "";
}

async function load() {
  const { server, apiKey } = await quotecheck.settings();
  $("server").value = server;
  $("api-key").value = apiKey;
}

async function save(event) {
  event.preventDefault();
  let server;
  try {
    server = quotecheck.normaliseServer($("server").value);
  } catch (error) {
    setStatus(error.message, true);
    return;
  }
  // asked first, inside the click: browsers grant permissions only on a user gesture (an
  // origin already granted, such as the default server's, is granted again without asking)
  const origins = [quotecheck.originPattern(server)];
  const granted = await chrome.permissions.request({ origins });
  if (!granted) {
    setStatus(`Not saved: the extension needs your permission to reach ${origins[0]}.`, true);
    return;
  }
  await chrome.storage.local.set({ server, apiKey: $("api-key").value.trim() });
  $("server").value = server;
  setStatus(`Saved. Checks go to ${server}.`);
}

document.addEventListener("DOMContentLoaded", () => {
  load().catch((error) => setStatus(error.message, true));
  $("options-form").addEventListener("submit", save);
  $("reset").addEventListener("click", async () => {
    await chrome.storage.local.set({ server: quotecheck.DEFAULTS.server });
    await load();
    setStatus(`Saved. Checks go to ${quotecheck.DEFAULTS.server}.`);
  });
});
