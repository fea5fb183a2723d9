/* The toolbar popup and the "Check this quote" window: the same page. Opened with
 * ?text=...&speaker=... (as the context menu does) it checks that text at once. */
"use strict";

const $ = (id) => document.getElementById(id);

function element(tag, text, attributes = {}) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = text;
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

/** A confidence as a percentage: 0.9974 is "99.7%", not "100%", a certainty no verdict has. */
function percent(confidence) {
  const value = confidence * 100;
  if (value >= 99 && confidence < 1) return `${(Math.floor(value * 10) / 10).toFixed(1)}%`;
  return `${Math.round(value)}%`;
}

function setStatus(message, isError = false) {
  $("status").textContent = message;
  $("status").className = isError ? "error" : "";
}

/** The recorded quote with the submission's changes: removed words struck through,
 * inserted ones highlighted. */
function renderDiff(diff) {
  const box = element("p", null, { class: "diff", id: "diff" });
  for (const [index, part] of diff.entries()) {
    if (index) box.append(" ");
    if (part.op === "equal") {
      box.append(part.original || part.submitted || "");
      continue;
    }
    if (part.original) box.append(element("del", part.original, { title: "in the record, not in the text checked" }));
    if (part.original && part.submitted) box.append(" ");
    if (part.submitted) box.append(element("ins", part.submitted, { title: "in the text checked, not in the record" }));
  }
  return box;
}

function renderSource(quote) {
  const source = quote.source || (quote.appearances || [])[0] || {};
  const dd = element("dd");
  const title = source.title || "unknown source";
  if (source.url && /^https?:\/\//i.test(source.url)) {
    dd.append(element("a", title, { href: source.url, target: "_blank", rel: "noopener noreferrer" }));
  } else {
    dd.append(title);
  }
  const date = source.published_at || quote.said_at;
  if (date) dd.append(", ", element("time", String(date).slice(0, 10), { datetime: date }));
  if (source.publisher) dd.append(` (${source.publisher})`);
  return dd;
}

function renderResult(result) {
  const section = $("result");
  section.replaceChildren();
  const info = quotecheck.verdictInfo(result.verdict);
  const verdict = element("p", null, { class: "verdict", id: "verdict", "data-verdict": result.verdict });
  verdict.append(element("span", info.symbol, { class: "symbol", "aria-hidden": "true" }), info.label);
  section.append(verdict);
  if (result.summary) section.append(element("p", result.summary, { id: "summary" }));

  const facts = element("dl");
  const add = (term, value) => {
    facts.append(element("dt", term));
    facts.append(value instanceof Node ? value : element("dd", value));
  };
  if (typeof result.confidence === "number") add("Confidence", percent(result.confidence));
  const attribution = result.attribution || {};
  if (attribution.recorded) add("Said by", attribution.recorded);
  if (attribution.claimed) add("Credited to", attribution.claimed);
  const best = (result.matches || [])[0];
  if (best) {
    if (best.quote.context) add("Context", best.quote.context);
    add("Source", renderSource(best.quote));
  }
  section.append(facts);

  if (best && best.diff && best.diff.length) {
    section.append(element("h2", "The recorded quote, with your text's changes"));
    section.append(renderDiff(best.diff));
    section.append(
      element("p", "Struck through: words of the record that are missing; highlighted: words that were added.", {
        class: "legend",
      }),
    );
  }
  const others = (result.matches || []).slice(1);
  if (others.length) {
    section.append(element("h2", "Other close matches"));
    const list = element("ul");
    for (const match of others) {
      const speaker = match.quote.speaker ? match.quote.speaker.name : "unknown";
      list.append(element("li", `${match.quote.text} (${speaker}; ${quotecheck.verdictInfo(match.match).label})`));
    }
    section.append(list);
  }
  section.hidden = false;
}

async function check(text, speaker) {
  setStatus("Checking…");
  $("result").hidden = true;
  try {
    const result = await quotecheck.verify(text, speaker || undefined);
    renderResult(result);
    setStatus("");
  } catch (error) {
    setStatus(error.message, true);
  }
}

async function scanActiveTab() {
  setStatus("Scanning this page…");
  try {
    const [tab] = await chrome.tabs.query({ active: true, currentWindow: true });
    if (!tab || tab.id === undefined) throw new Error("No page to scan in this window.");
    const answer = await chrome.runtime.sendMessage({ type: "scan", tabId: tab.id });
    if (!answer || !answer.ok) throw new Error((answer && answer.error) || "The scan failed.");
    setStatus(`Marked ${answer.marked} of ${answer.found} quotations found on the page.`);
  } catch (error) {
    setStatus(error.message, true);
  }
}

document.addEventListener("DOMContentLoaded", async () => {
  const params = new URLSearchParams(location.search);
  try {
    $("server").textContent = `Server: ${(await quotecheck.settings()).server}`;
  } catch (error) {
    setStatus(error.message, true);
  }
  $("check-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("text").value.trim();
    if (text) check(text, $("speaker").value.trim());
  });
  $("scan").addEventListener("click", scanActiveTab);
  const text = params.get("text");
  if (text) {
    // opened by "Check this quote": this window is about the selection, not a tab
    $("scan").hidden = true;
    $("text").value = text;
    $("speaker").value = params.get("speaker") || "";
    check(text, params.get("speaker"));
  }
});
