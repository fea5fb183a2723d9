"""Quote extraction on the annotated development articles: ``python -m bench.eval_extraction``.

Runs ``quotes_db.extraction.extract_quotes`` over ``../shared/eval/extraction/dev.jsonl``
(read where it lies, never copied into the repository) and prints quote precision, recall
and F1, speaker accuracy, one row per article, and the same for a bare regex baseline
(every double-quoted span of four words or more, no speaker). ``--show-errors`` lists the
missed quotations, the false positives and the wrong speakers.

Scoring follows the data's README: a predicted quotation matches a gold one when their
spans (trimmed of whitespace and edge punctuation) overlap by at least half of the longer;
pairs are matched one to one, largest overlap first. Speaker accuracy is over matched pairs
whose gold speaker is not null, comparing names case-insensitively (a surname alone is
wrong).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from quotes_db.extraction import ExtractedQuote, extract_quotes

DEV = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "extraction" / "dev.jsonl"

_EDGE = " \t\n\u00a0.,;:!?\u2014\u2013-\"'\u2018\u2019\u201c\u201d"
_BASELINE_RE = re.compile(r"[\"\u201c]([^\"\u201c\u201d\n]*)[\"\u201d]")
_WORD_RE = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")


@dataclass(frozen=True, slots=True)
class Item:
    """A quotation, gold or predicted: its trimmed span and speaker."""

    start: int
    end: int
    text: str
    speaker: str | None


@dataclass(slots=True)
class ArticleResult:
    id: str
    gold: list[Item]
    pred: list[Item]
    pairs: list[tuple[int, int]] = field(default_factory=list)  # (gold index, pred index)

    @property
    def speaker_pairs(self) -> list[tuple[Item, Item]]:
        return [(self.gold[g], self.pred[p]) for g, p in self.pairs if self.gold[g].speaker]


def trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """The span without surrounding whitespace and punctuation (never empty)."""
    a, b = start, end
    while a < b and text[a] in _EDGE:
        a += 1
    while b > a and text[b - 1] in _EDGE:
        b -= 1
    return (a, b) if a < b else (start, end)


def same_speaker(gold: str | None, got: str | None) -> bool:
    def norm(name: str) -> str:
        return " ".join(name.replace("\u2019", "'").casefold().split())

    return gold is not None and got is not None and norm(gold) == norm(got)


def match(gold: Sequence[Item], pred: Sequence[Item]) -> list[tuple[int, int]]:
    """One-to-one pairs whose overlap is at least half of the longer span."""
    candidates = []
    for g, a in enumerate(gold):
        for p, b in enumerate(pred):
            overlap = min(a.end, b.end) - max(a.start, b.start)
            if overlap > 0 and overlap >= 0.5 * max(a.end - a.start, b.end - b.start):
                candidates.append((overlap, g, p))
    pairs, used_g, used_p = [], set(), set()
    for _, g, p in sorted(candidates, reverse=True):
        if g not in used_g and p not in used_p:
            pairs.append((g, p))
            used_g.add(g)
            used_p.add(p)
    return sorted(pairs)


def gold_items(record: dict) -> list[Item]:
    text = record["text"]
    items = []
    for q in record["quotes"]:
        a, b = trimmed(text, q["start"], q["start"] + len(q["quote"]))
        items.append(Item(a, b, text[a:b], q["speaker"]))
    return items


def regex_baseline(text: str) -> list[ExtractedQuote]:
    """Every double-quoted span of four words or more, no speaker."""
    return [
        ExtractedQuote(m.group(1), m.start(1), m.end(1))
        for m in _BASELINE_RE.finditer(text)
        if len(_WORD_RE.findall(m.group(1))) >= 4
    ]


def evaluate(
    records: Sequence[dict], extract: Callable[[str], list[ExtractedQuote]]
) -> tuple[list[ArticleResult], float]:
    results = []
    elapsed = 0.0
    for record in records:
        text = record["text"]
        started = time.perf_counter()
        quotes = extract(text)
        elapsed += time.perf_counter() - started
        pred = []
        for q in quotes:
            a, b = trimmed(text, q.start, q.end)
            pred.append(Item(a, b, text[a:b], q.speaker))
        gold = gold_items(record)
        results.append(ArticleResult(record["id"], gold, pred, match(gold, pred)))
    return results, elapsed


def ratio(num: int, den: int) -> float:
    return num / den if den else 0.0


def metrics(results: Sequence[ArticleResult]) -> dict[str, float]:
    gold = sum(len(r.gold) for r in results)
    pred = sum(len(r.pred) for r in results)
    matched = sum(len(r.pairs) for r in results)
    precision, recall = ratio(matched, pred), ratio(matched, gold)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    pairs = [pair for r in results for pair in r.speaker_pairs]
    right = sum(same_speaker(g.speaker, p.speaker) for g, p in pairs)
    nulls = [(r.gold[g], r.pred[p]) for r in results for g, p in r.pairs if not r.gold[g].speaker]
    return {
        "gold": gold,
        "predicted": pred,
        "matched": matched,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "speaker_pairs": len(pairs),
        "speaker_right": right,
        "speaker_accuracy": ratio(right, len(pairs)),
        "null_pairs": len(nulls),
        "null_right": sum(p.speaker is None for _, p in nulls),
    }


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        parts = [c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(row)]
        lines.append("  ".join(parts).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def print_articles(results: Sequence[ArticleResult], out=sys.stdout) -> None:
    rows = []
    for r in results:
        pairs = r.speaker_pairs
        right = sum(same_speaker(g.speaker, p.speaker) for g, p in pairs)
        rows.append(
            (
                r.id,
                len(r.gold),
                len(r.pred),
                len(r.pairs),
                f"{ratio(len(r.pairs), len(r.pred)):.3f}" if r.pred else "-",
                f"{ratio(len(r.pairs), len(r.gold)):.3f}" if r.gold else "-",
                f"{right}/{len(pairs)}",
            )
        )
    headers = ("article", "gold", "pred", "matched", "precision", "recall", "speakers")
    print(table(headers, rows), file=out)


def short(text: str, width: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def print_errors(results: Sequence[ArticleResult], out=sys.stdout) -> None:
    for r in results:
        matched_g = {g for g, _ in r.pairs}
        matched_p = {p for _, p in r.pairs}
        lines = [
            f"  miss   [{g.speaker}] {short(g.text)}"
            for i, g in enumerate(r.gold)
            if i not in matched_g
        ]
        lines += [
            f"  false  [{p.speaker}] {short(p.text)}"
            for i, p in enumerate(r.pred)
            if i not in matched_p
        ]
        lines += [
            f"  wrong  gold {g.speaker!r} got {p.speaker!r}: {short(g.text, 70)}"
            for g, p in r.speaker_pairs
            if not same_speaker(g.speaker, p.speaker)
        ]
        lines += [
            f"  wrong  gold None got {r.pred[p].speaker!r}: {short(r.gold[g].text, 70)}"
            for g, p in r.pairs
            if not r.gold[g].speaker and r.pred[p].speaker is not None
        ]
        if lines:
            print(f"{r.id}", file=out)
            print("\n".join(lines), file=out)


def load(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEV, help="annotated articles (JSON Lines)")
    parser.add_argument(
        "--show-errors", action="store_true", help="list misses, false positives and wrong speakers"
    )
    args = parser.parse_args(argv)
    if not args.data.exists():
        print(f"no evaluation data at {args.data}", file=sys.stderr)
        return 2
    records = load(args.data)
    ours, ours_time = evaluate(records, extract_quotes)
    base, _ = evaluate(records, regex_baseline)
    mine, theirs = metrics(ours), metrics(base)

    print(f"== quote extraction: {len(records)} articles, {mine['gold']} gold quotations ==")
    print_articles(ours)
    print()
    rows = []
    for key, label in (
        ("precision", "quote precision"),
        ("recall", "quote recall"),
        ("f1", "quote F1"),
        ("speaker_accuracy", "speaker accuracy"),
    ):
        rows.append((label, f"{mine[key]:.4f}", f"{theirs[key]:.4f}"))
    rows += [
        (
            "predicted / gold",
            f"{mine['predicted']}/{mine['gold']}",
            f"{theirs['predicted']}/{theirs['gold']}",
        ),
        ("matched", mine["matched"], theirs["matched"]),
        (
            "speakers right",
            f"{mine['speaker_right']}/{mine['speaker_pairs']}",
            f"{theirs['speaker_right']}/{theirs['speaker_pairs']}",
        ),
        (
            "null speakers kept null",
            f"{mine['null_right']}/{mine['null_pairs']}",
            f"{theirs['null_right']}/{theirs['null_pairs']}",
        ),
    ]
    print(table(("metric", "quotecheck", "regex baseline"), rows))
    print(f"\nextraction time: {1000 * ours_time / max(1, len(records)):.1f} ms per article")
    if args.show_errors:
        print("\n== errors (quotecheck) ==")
        print_errors(ours)
    return 0


if __name__ == "__main__":
    sys.exit(main())
