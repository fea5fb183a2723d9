/* The context menu entries and the page scan. Chromium runs this as the service worker
 * (client.js comes in through importScripts); Firefox runs client.js and this file as its
 * background scripts. */
"use strict";

if (typeof importScripts === "function" && typeof globalThis.quotecheck === "undefined") {
  importScripts("client.js");
}

const MENU_CHECK = "quotecheck-check";
const MENU_SCAN = "quotecheck-scan";

chrome.runtime.onInstalled.addListener(() => {
  chrome.contextMenus.removeAll(() => {
    chrome.contextMenus.create({ id: MENU_CHECK, title: "Check this quote", contexts: ["selection"] });
    chrome.contextMenus.create({ id: MENU_SCAN, title: "Scan this page for quotes", contexts: ["page"] });
  });
});

/** Open the check window for ``text``: the popup page with the text in its address. */
async function openCheck(text, speaker) {
  const params = new URLSearchParams({ text });
  if (speaker) params.set("speaker", speaker);
  return chrome.windows.create({
    url: chrome.runtime.getURL(`popup.html?${params}`),
    type: "popup",
    width: 520,
    height: 680,
  });
}

/** Send the tab's page to /v1/scan and mark what was found; return the counts. */
async function scanTab(tabId) {
  const target = { tabId };
  await chrome.scripting.insertCSS({ target, files: ["mark.css"] });
  await chrome.scripting.executeScript({ target, files: ["mark.js"] });
  // the page as it was: an earlier scan's labels would otherwise become part of its quotes
  const [{ result: page }] = await chrome.scripting.executeScript({
    target,
    func: () => {
      globalThis.quotecheckClear();
      return { html: document.documentElement.outerHTML, url: location.href };
    },
  });
  let response;
  try {
    response = await quotecheck.scan(page.html, page.url);
  } catch (error) {
    await chrome.scripting.executeScript({
      target,
      func: (message) => globalThis.quotecheckNotice(message),
      args: [error.message],
    });
    throw error;
  }
  const labels = Object.fromEntries(
    Object.entries(quotecheck.VERDICTS).map(([verdict, info]) => [verdict, info.label]),
  );
  const [{ result }] = await chrome.scripting.executeScript({
    target,
    func: (text, findings, names) => globalThis.quotecheckMark(text, findings, names),
    args: [response.text || "", response.findings || [], labels],
  });
  await chrome.action.setBadgeText({ tabId, text: String(result.marked) });
  return result;
}

chrome.contextMenus.onClicked.addListener((info, tab) => {
  if (info.menuItemId === MENU_CHECK && info.selectionText) {
    openCheck(info.selectionText).catch((error) => console.error("quotecheck:", error));
  } else if (info.menuItemId === MENU_SCAN && tab && tab.id !== undefined) {
    scanTab(tab.id).catch((error) => console.error("quotecheck:", error));
  }
});

// The toolbar popup asks for a scan of the active tab (its click granted activeTab).
chrome.runtime.onMessage.addListener((message, _sender, sendResponse) => {
  if (message && message.type === "scan" && Number.isInteger(message.tabId)) {
    scanTab(message.tabId).then(
      (result) => sendResponse({ ok: true, ...result }),
      (error) => sendResponse({ ok: false, error: error.message }),
    );
    return true; // the answer comes asynchronously
  }
  return false;
});
