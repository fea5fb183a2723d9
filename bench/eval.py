"""The evaluation harness: ``make eval``.

Imports the development quotes into a fresh store, runs every labelled query through
``quotes_db.matching.verify`` (the function behind ``POST /v1/verify``) and prints the
headline accuracy, per-verdict precision/recall/F1, the confusion matrix, accuracy per
kind, top-match accuracy, calibration error and latency; then the same for a plain
rapidfuzz baseline on a fixed sample, side by side.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import random
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

from quotes_db.calibration import expected_calibration_error
from quotes_db.importing import import_file
from quotes_db.matching import prepare, verify
from quotes_db.models import VERDICTS
from quotes_db.store import QuoteStore, open_store

from .tables import percentile

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "dev"


def fitting_half(qid: str) -> bool:
    """The half of the development queries the calibration is fitted on (even ids)."""
    return int("".join(c for c in qid if c.isdigit()) or 0) % 2 == 0


def load_queries(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def report(name: str, rows: list[dict], *, out=sys.stdout) -> dict[str, float]:
    """Print the metrics of ``rows`` (dicts with expected, got, ref_ok, confidence, kind)."""
    p = lambda *a: print(*a, file=out)  # noqa: E731
    n = len(rows)
    correct = sum(r["got"] == r["expected"] for r in rows)
    p(f"\n== {name}: {n} queries ==")
    p(f"headline accuracy  {correct / n:.4f}")
    p(f"{'verdict':<14}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}")
    f1s = []
    stats: dict[str, float] = {}
    for v in VERDICTS:
        tp = sum(r["got"] == v and r["expected"] == v for r in rows)
        fp = sum(r["got"] == v and r["expected"] != v for r in rows)
        fn = sum(r["got"] != v and r["expected"] == v for r in rows)
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        f1s.append(f1)
        stats[f"precision_{v}"] = prec
        p(f"{v:<14}{prec:>10.4f}{rec:>10.4f}{f1:>10.4f}{tp + fn:>9}")
    macro = statistics.fmean(f1s)
    p(f"macro-F1           {macro:.4f}")
    p("\nconfusion (rows expected, columns got)")
    p(" " * 14 + "".join(f"{v[:9]:>10}" for v in VERDICTS))
    for e in VERDICTS:
        p(
            f"{e:<14}"
            + "".join(
                f"{sum(r['expected'] == e and r['got'] == g for r in rows):>10}" for g in VERDICTS
            )
        )
    matchable = [r for r in rows if r["expected"] != "no_match"]
    top = sum(r["ref_ok"] for r in matchable) / len(matchable) if matchable else 0.0
    p(f"\ntop-match ref accuracy (matchable)  {top:.4f}")
    calib = expected_calibration_error([(r["confidence"], r["got"] == r["expected"]) for r in rows])
    p(f"calibration error (ECE, 10 bins)    {calib:.4f}")
    held_out = [r for r in rows if not fitting_half(r["qid"])]
    if held_out and len(held_out) < len(rows):
        calib_h = expected_calibration_error(
            [(r["confidence"], r["got"] == r["expected"]) for r in held_out]
        )
        p(f"  on the half not used to fit it      {calib_h:.4f}  ({len(held_out)} queries)")
    stats.update(accuracy=correct / n, macro_f1=macro, top_ref=top, ece=calib)
    return stats


def per_kind(rows: list[dict], *, out=sys.stdout) -> None:
    kinds: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        kinds[r["kind"]].append(r)
    print(f"\n{'kind':<24}{'n':>5}{'accuracy':>10}  most common wrong answers", file=out)
    for kind in sorted(kinds):
        rs = kinds[kind]
        acc = sum(r["got"] == r["expected"] for r in rs) / len(rs)
        wrong = Counter(r["got"] for r in rs if r["got"] != r["expected"]).most_common(2)
        shown = ", ".join(f"{g} {c}" for g, c in wrong)
        print(f"{kind:<24}{len(rs):>5}{acc:>10.3f}  {shown}", file=out)


def run_quotecheck(store: QuoteStore, queries: list[dict]) -> tuple[list[dict], list[float]]:
    refs_by_id: dict[int, str | None] = {}
    rows, latencies = [], []
    for q in queries:
        start = time.perf_counter()
        result = verify(store, q["text"], speaker=q.get("speaker"), limit=3)
        latencies.append(time.perf_counter() - start)
        top_ref = result.matches[0].quote.ref if result.matches else None
        if result.matches:
            refs_by_id[result.matches[0].quote.id] = top_ref
        rows.append(
            {
                "qid": q["qid"],
                "kind": q["kind"],
                "expected": q["expected"]["verdict"],
                "got": result.verdict,
                "ref_ok": top_ref == q["expected"]["ref"],
                "confidence": result.confidence,
            }
        )
    return rows, latencies


def baseline_best(quotes: list[dict], queries: list[dict]) -> list[tuple[float, int] | None]:
    """What a user writes by hand: extractOne with WRatio over every quote."""
    from rapidfuzz import fuzz, process, utils

    texts = [utils.default_process(q["text"]) for q in quotes]
    out: list[tuple[float, int] | None] = []
    for q in queries:
        best = process.extractOne(
            utils.default_process(q["text"]),
            texts,
            scorer=fuzz.WRatio,
            processor=None,
            score_cutoff=50,
        )
        out.append(None if best is None else (best[1], best[2]))
    return out


def baseline_rows(
    quotes: list[dict], queries: list[dict], best: list[tuple[float, int] | None], cutoff: float
) -> list[dict]:
    """Apply one cut-off: below it no_match; 95 and up verified; between, altered; a credited
    speaker whose name differs from the recorded one (ignoring case) is misattributed."""
    rows = []
    for q, hit in zip(queries, best, strict=True):
        if hit is None or hit[0] < cutoff:
            got, ref, conf = "no_match", None, 0.5
        else:
            ref = quotes[hit[1]]["ref"]
            got = "verified" if hit[0] >= 95 else "altered"
            claimed = (q.get("speaker") or "").casefold().strip()
            if claimed and claimed != quotes[hit[1]]["speaker"].casefold():
                got = "misattributed"
            conf = hit[0] / 100
        rows.append(
            {
                "qid": q["qid"],
                "kind": q["kind"],
                "expected": q["expected"]["verdict"],
                "got": got,
                "ref_ok": ref == q["expected"]["ref"],
                "confidence": conf,
            }
        )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quotes", type=Path, default=SHARED / "quotes.jsonl.gz")
    parser.add_argument("--queries", type=Path, default=SHARED / "queries.jsonl")
    parser.add_argument("--db", type=Path, help="reuse this store instead of a fresh one")
    parser.add_argument(
        "--database-url",
        help="evaluate on this store (e.g. postgresql://...); the quotes are imported when"
        " it is empty (default: a fresh SQLite file)",
    )
    parser.add_argument("--sample", type=int, default=300, help="baseline sample size")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--kind", action="append", help="only queries of this kind")
    parser.add_argument("--show-errors", type=int, default=0, help="print N wrong answers")
    args = parser.parse_args(argv)

    queries = load_queries(args.queries)
    if args.kind:
        queries = [q for q in queries if q["kind"] in args.kind]
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "eval.db"
        store = open_store(args.database_url or f"sqlite:///{db}")
        store.migrate()
        if store.total_documents() == 0:
            start = time.perf_counter()
            imported = import_file(store, args.quotes)
            print(f"imported {imported.total} quotes in {time.perf_counter() - start:.1f} s")
        print(
            f"store: {store.total_documents()} quotes on {store.url.split(':', 1)[0]};"
            f" queries: {len(queries)}"
        )
        prepare()  # load the word lists before timing, as the server does at startup
        rows, latencies = run_quotecheck(store, queries)
        report("quotecheck", rows)
        per_kind(rows)
        print(
            f"\nlatency per query (in process): p50 {percentile(latencies, 50) * 1000:.1f} ms, "
            f"p99 {percentile(latencies, 99) * 1000:.1f} ms, "
            f"max {max(latencies) * 1000:.1f} ms"
        )
        if args.show_errors:
            by_qid = {q["qid"]: q for q in queries}
            wrong = [r for r in rows if r["got"] != r["expected"] or not r["ref_ok"]]
            random.Random(7).shuffle(wrong)
            for r in wrong[: args.show_errors]:
                q = by_qid[r["qid"]]
                print(
                    f"\n[{r['kind']}] expected {r['expected']} got {r['got']} "
                    f"ref_ok={r['ref_ok']} speaker={q.get('speaker')!r}\n  {q['text']!r}"
                )
        if not args.no_baseline:
            sample = random.Random(2940).sample(queries, min(args.sample, len(queries)))
            with gzip.open(args.quotes, "rt", encoding="utf-8") as handle:
                quotes = [json.loads(line) for line in handle if line.strip()]
            ids = {r["qid"] for r in sample}
            ours = [r for r in rows if r["qid"] in ids]
            print(f"\n\n######## side by side on a fixed sample of {len(sample)} queries ########")
            a = report("quotecheck (sample)", ours)
            start = time.perf_counter()
            best = baseline_best(quotes, sample)
            seconds = time.perf_counter() - start
            best_cut, best_rows, best_f1 = 0.0, [], -1.0
            for cut in (60.0, 70.0, 75.0, 80.0, 85.0, 90.0):
                b_rows = baseline_rows(quotes, sample, best, cut)
                f1 = report(f"cut-off {cut:.0f}", b_rows, out=io.StringIO())
                if f1["macro_f1"] > best_f1:
                    best_cut, best_rows, best_f1 = cut, b_rows, f1["macro_f1"]
            print(f"baseline: {seconds / len(sample) * 1000:.0f} ms per query (brute force)")
            b = report(f"baseline: extractOne WRatio, best cut-off {best_cut:.0f}", best_rows)
            print(f"\n{'metric':<22}{'quotecheck':>12}{'baseline':>12}")
            for key in ("accuracy", "macro_f1", "top_ref", "precision_no_match", "ece"):
                print(f"{key:<22}{a[key]:>12.4f}{b[key]:>12.4f}")
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
