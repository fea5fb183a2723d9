/* Injected into a scanned page: marks each finding of /v1/scan in the page's own text with
 * its verdict (a <mark> around the words, a title with the summary, a visible label). The
 * scan's spans are offsets in the server's text of the page, not in this DOM, so each
 * finding's quotation is looked for in the page's text nodes, comparing letters and digits
 * only (quote marks, apostrophes, dashes and spacing differ between the two). */
"use strict";

(() => {
  const MARK = "quotecheck-mark";
  const LABEL = "quotecheck-label";
  const NOTICE = "quotecheck-notice";
  const SKIP = new Set(["SCRIPT", "STYLE", "NOSCRIPT", "TEXTAREA", "TEMPLATE", "SVG", "IFRAME"]);
  const WORD = /[\p{L}\p{N}]/u;

  /** A confidence as a percentage: 0.9974 is "99.7%", not "100%" (as in popup.js). */
  function percent(confidence) {
    const value = confidence * 100;
    if (value >= 99 && confidence < 1) return `${(Math.floor(value * 10) / 10).toFixed(1)}%`;
    return `${Math.round(value)}%`;
  }

  function clear() {
    for (const node of document.querySelectorAll(`.${LABEL}, .${NOTICE}`)) node.remove();
    for (const mark of document.querySelectorAll(`mark.${MARK}`)) {
      const parent = mark.parentNode;
      while (mark.firstChild) parent.insertBefore(mark.firstChild, mark);
      mark.remove();
      parent.normalize();
    }
  }

  /** The page's text, lower-cased, letters and digits only, single spaces between words,
   * with the text node and offset of each of its characters. */
  function pageIndex() {
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {
      acceptNode(node) {
        for (let el = node.parentElement; el; el = el.parentElement) {
          if (SKIP.has(el.tagName.toUpperCase()) || el.classList.contains(LABEL)) {
            return NodeFilter.FILTER_REJECT;
          }
        }
        return NodeFilter.FILTER_ACCEPT;
      },
    });
    let text = "";
    const where = [];
    let space = true;
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const value = node.nodeValue;
      for (let i = 0; i < value.length; i++) {
        if (WORD.test(value[i])) {
          text += value[i].toLowerCase();
          where.push([node, i]);
          space = false;
        } else if (!space) {
          text += " ";
          where.push([node, i]);
          space = true;
        }
      }
    }
    return { text, where };
  }

  function simplify(text) {
    return Array.from(String(text || ""), (c) => (WORD.test(c) ? c.toLowerCase() : " "))
      .join("")
      .replace(/ +/g, " ")
      .trim();
  }

  /** Wrap the characters from ``start`` to ``end`` (a text node and offset each) in marks,
   * one per text node crossed; return the marks. */
  function wrap(start, end, attributes) {
    const range = document.createRange();
    range.setStart(start[0], start[1]);
    range.setEnd(end[0], end[1] + 1);
    const nodes = [];
    const walker = document.createTreeWalker(range.commonAncestorContainer, NodeFilter.SHOW_TEXT);
    for (let node = walker.currentNode; node; node = walker.nextNode()) {
      if (node.nodeType === Node.TEXT_NODE && range.intersectsNode(node)) nodes.push(node);
    }
    const marks = [];
    for (const node of nodes) {
      let piece = node;
      const from = node === start[0] ? start[1] : 0;
      const to = node === end[0] ? end[1] + 1 : node.nodeValue.length;
      if (from >= to || !piece.nodeValue.slice(from, to).trim()) continue;
      if (to < piece.nodeValue.length) piece.splitText(to);
      if (from > 0) piece = piece.splitText(from);
      const mark = document.createElement("mark");
      mark.className = MARK;
      for (const [name, value] of Object.entries(attributes)) mark.setAttribute(name, value);
      piece.parentNode.insertBefore(mark, piece);
      mark.appendChild(piece);
      marks.push(mark);
    }
    return marks;
  }

  function describe(finding, labels) {
    const verification = finding.verification || {};
    const verdict = verification.verdict || "no_match";
    const label = labels[verdict] || verdict;
    const confidence =
      typeof verification.confidence === "number"
        ? ` (confidence ${percent(verification.confidence)})`
        : "";
    const speaker = finding.speaker ? ` Credited here to ${finding.speaker}.` : "";
    const summary = verification.summary ? ` ${verification.summary}` : "";
    return { verdict, label, title: `quotecheck: ${label}${confidence}.${speaker}${summary}` };
  }

  /** Mark every finding; return how many were found and how many could be marked. */
  globalThis.quotecheckMark = (pageText, findings, labels) => {
    clear();
    let marked = 0;
    for (const finding of findings) {
      const passage =
        finding.quote || (Number.isInteger(finding.start) ? pageText.slice(finding.start, finding.end) : "");
      const needle = simplify(passage);
      if (!needle) continue;
      const { text, where } = pageIndex();
      const at = text.indexOf(needle);
      if (at < 0) continue;
      const info = describe(finding, labels);
      const marks = wrap(where[at], where[at + needle.length - 1], {
        "data-verdict": info.verdict,
        "data-kind": finding.kind || "quotation",
        title: info.title,
      });
      if (!marks.length) continue;
      const badge = document.createElement("span");
      badge.className = LABEL;
      badge.setAttribute("data-verdict", info.verdict);
      badge.setAttribute("role", "note");
      badge.title = info.title;
      badge.textContent = `quotecheck: ${info.label}`;
      const last = marks[marks.length - 1];
      last.parentNode.insertBefore(badge, last.nextSibling);
      marked += 1;
    }
    return { found: findings.length, marked };
  };

  globalThis.quotecheckClear = clear;

  /** Say at the top of the page why a scan failed. */
  globalThis.quotecheckNotice = (message) => {
    clear();
    const notice = document.createElement("div");
    notice.className = NOTICE;
    notice.setAttribute("role", "alert");
    notice.textContent = `quotecheck: ${message}`;
    document.body.prepend(notice);
  };
})();
