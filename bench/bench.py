"""The benchmark: ``make bench``.

For each store size (10k, 100k, 1M quotes by default; real development quotes plus
synthetic ones, see ``bench.corpus``) it builds or reuses a cached SQLite store, then
prints one block of plain-text tables: the import, in-process ``verify`` latency and
recall per query kind, the same queries over HTTP against a real gunicorn (latency, memory
of master and workers, worker restart time), a brute-force rapidfuzz comparison (10k and
100k only), article-length inputs and page scans (``scan_text`` on ~3,000- and
~5,000-word articles). Everything is deterministic except the timings. The
output also goes to ``.cache/bench/last-run.txt``; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import datetime as dt
import fcntl
import json
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from quotes_db import matching, scanning
from quotes_db.normalization import words
from quotes_db.store import QuoteStore, open_store

from .corpus import DEV_QUERIES, QUERY_BASE, Corpus, load_corpus, parse_size, size_label
from .queries import (
    KINDS,
    LongInput,
    Query,
    QueryMaterial,
    build_long_inputs,
    build_queries,
    is_equivalent,
)
from .server import ServerError, served
from .stores import CACHE, ROOT, BuiltStore, database_bytes, ensure_store, read_texts
from .tables import format_table, megabytes, millis, percentile, ratio

LIMIT = 10  # matches asked for per query, in process and over HTTP
UNSEEN_SYNTHETIC = 1_000  # synthetic quotes made from held-out quotes, in no store
BRUTE_MAX_SIZE = 100_000  # brute force is minutes per query beyond this
LONG_SIZES = (2_000, 20_000)
SCAN_SIZES = (20_000, 32_000)  # POST /v1/scan's page text; 32,000 characters: ~5,000 words
WARMUP = 5
SHINGLE = 5  # words in a run that long-input filler may not share with a stored quote


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What ``verify`` answered to one query, and whether it found the expected quote."""

    qid: str
    kind: str
    verdict: str
    seconds: float
    hit1: bool  # the top match is the expected quote (or the same words recorded again)
    hit10: bool  # ... among the matches returned
    by_ref1: bool  # the top match is the expected quote itself, by ref


# -- material ------------------------------------------------------------------------------


def _unrelated_texts(path: Path = DEV_QUERIES) -> list[str]:
    with open(path, encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return [r["text"] for r in rows if r["kind"] == "unrelated"]


def make_material(corpus: Corpus, base_size: int) -> QueryMaterial:
    """Everything queries are made from, for stores whose first ``base_size`` quotes of the
    store order are the query sources."""
    from quotes_db.lexicon import load as load_lexicon

    english = load_lexicon()
    store_words: set[str] = set()
    shingles: set[int] = set()  # hashed runs of SHINGLE words of the stored real quotes
    for record in corpus.pool:
        found = words(record["text"])
        store_words.update(found)
        shingles.update(_shingles(found))
    base = corpus.pool[:base_size]
    base_words = {w for r in base for w in words(r["text"])}
    vocabulary = sorted(w for w in base_words if w.isalpha() and 4 <= len(w) <= 12 and w in english)
    unseen = list(corpus.held_out) + corpus.unseen_synthetic(UNSEEN_SYNTHETIC)
    # long texts are made of held-out quotes sharing no run of words with a stored one, so
    # that the quote put inside is the only thing in them a store could match
    filler = [
        r["text"] for r in corpus.held_out if shingles.isdisjoint(_shingles(words(r["text"])))
    ]
    return QueryMaterial(
        base=base,
        unseen=unseen,
        unrelated=_unrelated_texts(),
        vocabulary=vocabulary,
        speakers=sorted({r["speaker"] for r in corpus.pool}),
        known=lambda w: w in english or w in store_words,
        filler=filler,
    )


def _shingles(found: Sequence[str]) -> list[int]:
    return [hash(tuple(found[i : i + SHINGLE])) for i in range(len(found) - SHINGLE + 1)]


# -- measurements --------------------------------------------------------------------------


def _matches_hits(query: Query | LongInput, matches: Sequence) -> list[bool]:
    return [is_equivalent(query, m.quote.ref, m.quote.text) for m in matches]


def run_in_process(store: QuoteStore, queries: Sequence[Query]) -> list[Outcome]:
    """Verify every query in this process; time each call."""
    for q in queries[:WARMUP]:
        matching.verify(store, q.text, speaker=q.speaker, limit=LIMIT)
    out = []
    for i, q in enumerate(queries, 1):
        start = time.perf_counter()
        result = matching.verify(store, q.text, speaker=q.speaker, limit=LIMIT)
        seconds = time.perf_counter() - start
        hits = _matches_hits(q, result.matches) if q.ref else []
        out.append(
            Outcome(
                q.qid,
                q.kind,
                result.verdict,
                seconds,
                bool(hits) and hits[0],
                any(hits),
                bool(result.matches) and result.matches[0].quote.ref == q.ref,
            )
        )
        if i % 200 == 0:
            _log(f"  verify: {i}/{len(queries)}")
    return out


def run_long(store: QuoteStore, inputs: Sequence[LongInput]) -> list[tuple[LongInput, dict]]:
    out = []
    for item in inputs:
        start = time.perf_counter()
        result = matching.verify(store, item.text, limit=LIMIT)
        seconds = time.perf_counter() - start
        hits = _matches_hits(item, result.matches)
        out.append(
            (
                item,
                {
                    "seconds": seconds,
                    "hit1": bool(hits) and hits[0],
                    "hit10": any(hits),
                    "verdict": result.verdict,
                },
            )
        )
    return out


def run_scan(store: QuoteStore, inputs: Sequence[LongInput]) -> list[tuple[LongInput, dict]]:
    """Scan each page as POST /v1/scan does; note whether the quoted stored quote is found."""
    out = []
    for item in inputs:
        start = time.perf_counter()
        result = scanning.scan_text(store, item.text)
        seconds = time.perf_counter() - start
        found = any(
            f.verification.matches and f.verification.matches[0].quote.ref == item.ref
            for f in result.findings
        )
        out.append((item, {"seconds": seconds, "found": found, "findings": len(result.findings)}))
    return out


def _rows_by_size(
    results: Sequence[tuple[LongInput, dict]],
    length: Callable[[LongInput], int],
    more: Callable[[list[dict]], list[object]],
) -> list[list[object]]:
    """One row per input size: the size, the range of ``length`` over its inputs, how many,
    latency p50 and max, then ``more`` of the group's results."""
    by_size: dict[int, list[tuple[LongInput, dict]]] = defaultdict(list)
    for item, r in results:
        by_size[item.size].append((item, r))
    rows = []
    for size in sorted(by_size):
        group = [r for _, r in by_size[size]]
        lengths = [length(item) for item, _ in by_size[size]]
        lat = [r["seconds"] for r in group]
        rows.append(
            [
                f"{size:,}",
                f"{min(lengths):,}-{max(lengths):,}",
                len(group),
                millis(percentile(lat, 50)),
                millis(max(lat)),
                *more(group),
            ]
        )
    return rows


def scan_table(results: Sequence[tuple[LongInput, dict]]) -> str:
    rows = _rows_by_size(
        results,
        lambda item: len(item.text.split()),
        lambda group: [
            ratio(sum(r["found"] for r in group), len(group)),
            f"{sum(r['findings'] for r in group) / len(group):.1f}",
        ],
    )
    headers = ["chars", "words", "n", "p50 ms", "max ms", "found", "findings/page"]
    title = "page scan (scan_text, as POST /v1/scan): an article with one stored quote quoted"
    return format_table(headers, rows, title=title)


def run_brute(texts: list[str], refs: list[str], queries: Sequence[Query]) -> list[dict]:
    """rapidfuzz over every stored text, as a user would write it, with two scorers."""
    from rapidfuzz import fuzz, process, utils

    out = []
    for name, scorer in (("WRatio", fuzz.WRatio), ("token_set_ratio", fuzz.token_set_ratio)):
        rows = []
        for i, q in enumerate(queries, 1):
            start = time.perf_counter()
            found = process.extract(
                q.text, texts, scorer=scorer, processor=utils.default_process, limit=LIMIT
            )
            seconds = time.perf_counter() - start
            hits = [is_equivalent(q, refs[index], texts[index]) for _, _, index in found]
            rows.append({"q": q, "seconds": seconds, "hits": hits})
            if i % 20 == 0:
                _log(f"  brute force {name}: {i}/{len(queries)}")
        out.append({"name": name, "rows": rows})
    return out


def _first(queries: Sequence[Query], n: int) -> list[Query]:
    """The first ``n`` queries: the kinds are interleaved, so this is a sample of every kind
    in equal shares (an evenly spaced one could miss kinds)."""
    return list(queries[:n])


# -- tables --------------------------------------------------------------------------------


def build_table(built: BuiltStore) -> str:
    m = built.manifest
    if built.backend == "sqlite":
        main_bytes, wal_bytes = database_bytes(built.db)
    else:
        main_bytes, wal_bytes = built.size_bytes(), 0
    status = "cached" if built.cached else "built now"
    rows = [
        [
            status,
            f"{m['count']:,}",
            f"{m['import_seconds']:.1f}",
            f"{m['quotes_per_second']:,.0f}",
            "-" if m.get("read_seconds") is None else f"{m['read_seconds']:.1f}",
            f"{m['cpu_seconds']:.1f}" if m.get("cpu_seconds") is not None else "-",
            megabytes(m.get("peak_rss_bytes")),
            megabytes(m.get("children_peak_rss_bytes"))
            if m.get("children_peak_rss_bytes")
            else "-",
            megabytes(main_bytes + wal_bytes),
            megabytes(wal_bytes),
            megabytes(m.get("wal_bytes_after_import")),
        ]
    ]
    headers = [
        "import",
        "quotes",
        "wall s",
        "quotes/s",
        "1st progress s",
        "cpu s",
        "peak RSS MB",
        "helper RSS MB",
        "db+wal MB",
        "wal MB",
        "wal at commit MB",
    ]
    when = f" on {m.get('built_at')}" if built.cached else ""
    title = f"import_file() into {built.backend}, in a child process{when}"
    return format_table(headers, rows, title=title)


def verify_table(outcomes: Sequence[Outcome], queries: Sequence[Query]) -> tuple[str, dict]:
    expected = {q.qid: q.verdict for q in queries}
    by_kind: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        by_kind[o.kind].append(o)
    rows = []
    summary: dict = {}
    groups = [(kind, by_kind[kind]) for kind in KINDS if by_kind[kind]] + [("all", list(outcomes))]
    for kind, group in groups:
        matchable = [o for o in group if expected[o.qid] != "no_match"]
        right = sum(o.verdict == expected[o.qid] for o in group)
        wrong = Counter(o.verdict for o in group if o.verdict != expected[o.qid]).most_common(2)
        lat = [o.seconds for o in group]
        hit1 = sum(o.hit1 for o in matchable)
        rows.append(
            [
                kind,
                len(group),
                ratio(right, len(group)),
                ratio(hit1, len(matchable)),
                ratio(sum(o.hit10 for o in matchable), len(matchable)),
                sum(o.hit1 and not o.by_ref1 for o in matchable) if matchable else "-",
                millis(percentile(lat, 50)),
                millis(percentile(lat, 99)),
                millis(max(lat)),
                ", ".join(f"{v} {c}" for v, c in wrong),
            ]
        )
        if kind == "all":
            summary = {
                "p50": percentile(lat, 50),
                "p99": percentile(lat, 99),
                "accuracy": right / len(group),
                "recall1": hit1 / len(matchable) if matchable else 0.0,
            }
    headers = [
        "kind",
        "n",
        "verdict acc",
        "R@1",
        "R@10",
        "dup@1",
        "p50 ms",
        "p99 ms",
        "max ms",
        "wrong verdicts",
    ]
    title = (
        f"verify() in process, limit={LIMIT}, after prepare(), a read of the database file "
        f"(a warm page cache) and {WARMUP} untimed calls"
    )
    return format_table(headers, rows, title=title), summary


def http_table(results: Sequence[dict]) -> str:
    rows = []
    for r in results:
        if "error" in r:
            rows.append([r["workers"], r["clients"], f"failed: {r['error']}"] + ["-"] * 13)
            continue
        run, memory = r["run"], r["memory"]
        master = [p for p in memory if p.role == "master"]
        workers = [p for p in memory if p.role == "worker"]
        pss = [p.pss_bytes for p in workers if p.pss_bytes is not None]
        rows.append(
            [
                r["workers"],
                r["clients"],
                len(run.latencies),
                millis(percentile(run.latencies, 50)),
                millis(percentile(run.latencies, 99)),
                millis(max(run.latencies, default=0.0)),
                f"{len(run.latencies) / run.wall_seconds:.1f}",
                f"{len(run.errors)}",
                f"{r['agree']}/{r['compared']}",
                f"{r['startup']:.1f}",
                "-" if r["restart"] is None else f"{r['restart']:.3f}",
                megabytes(master[0].hwm_bytes) if master else "-",
                megabytes(master[0].pss_bytes) if master else "-",
                "/".join(f"{p.hwm_bytes / 2**20:.0f}" for p in workers),
                "/".join(f"{(p.pss_bytes or 0) / 2**20:.0f}" for p in workers),
                megabytes(sum(pss) + (master[0].pss_bytes or 0) if master else sum(pss)),
            ]
        )
    headers = [
        "workers",
        "clients",
        "n",
        "p50 ms",
        "p99 ms",
        "max ms",
        "req/s",
        "errors",
        "same verdict",
        "start s",
        "restart s",
        "master HWM MB",
        "master PSS MB",
        "worker HWM MB",
        "worker PSS MB",
        "total PSS MB",
    ]
    table = format_table(headers, rows, title="POST /v1/verify over HTTP (gunicorn, loopback)")
    differ = sorted({q for r in results for q in r.get("differ", ())})
    if differ:
        shown = ", ".join(differ[:8]) + (" ..." if len(differ) > 8 else "")
        table += f"\nverdicts that differ from the in-process run: {shown}"
    return table


def brute_table(brute: Sequence[dict], ours: Sequence[Outcome]) -> tuple[str, dict]:
    ours_p50 = percentile([o.seconds for o in ours], 50)
    matchable = [o for o in ours if o.kind not in ("unseen", "unrelated")]
    rows = [
        [
            "quotecheck verify()",
            len(ours),
            millis(ours_p50),
            ratio(sum(o.hit1 for o in matchable), len(matchable)),
            ratio(sum(o.hit10 for o in matchable), len(matchable)),
            "1.0x",
        ]
    ]
    summary = {}
    for method in brute:
        lat = [r["seconds"] for r in method["rows"]]
        scored = [r for r in method["rows"] if r["q"].ref]
        p50 = percentile(lat, 50)
        speedup = p50 / ours_p50 if ours_p50 else 0.0
        summary[method["name"]] = speedup
        rows.append(
            [
                f"rapidfuzz extract {method['name']}",
                len(lat),
                millis(p50),
                ratio(sum(bool(r["hits"]) and r["hits"][0] for r in scored), len(scored)),
                ratio(sum(any(r["hits"]) for r in scored), len(scored)),
                f"{speedup:,.0f}x",
            ]
        )
    headers = ["method", "n", "p50 ms", "R@1", "R@10", "brute p50 / ours"]
    title = "brute force over every stored text, same queries (R@ over the matchable ones)"
    return format_table(headers, rows, title=title), summary


def long_table(results: Sequence[tuple[LongInput, dict]]) -> str:
    rows = _rows_by_size(
        results,
        lambda item: len(item.text),
        lambda group: [
            ratio(sum(r["hit1"] for r in group), len(group)),
            ratio(sum(r["hit10"] for r in group), len(group)),
            ratio(sum(r["verdict"] == "verified" for r in group), len(group)),
        ],
    )
    headers = ["chars", "actual", "n", "p50 ms", "max ms", "R@1", "found@10", "verified"]
    title = "article-length input: one stored quote quoted amid held-out quotes' sentences"
    return format_table(headers, rows, title=title)


def summary_table(summaries: Sequence[dict]) -> str:
    headers = [
        "store",
        "import s",
        "quotes/s",
        "db MB",
        "p50 ms",
        "p99 ms",
        "verdict acc",
        "R@1",
        "http p50 ms",
        "brute WRatio / ours",
    ]
    rows = [
        [
            s["label"],
            f"{s['import_seconds']:.1f}" + (" (cached)" if s["cached"] else ""),
            f"{s['quotes_per_second']:,.0f}",
            megabytes(s["db_bytes"]),
            millis(s["p50"]),
            millis(s["p99"]),
            f"{s['accuracy']:.3f}",
            f"{s['recall1']:.3f}",
            s.get("http", "-"),
            f"{s['brute']:,.0f}x" if s.get("brute") else "-",
        ]
        for s in summaries
    ]
    return format_table(headers, rows, title="summary")


# -- one store size ------------------------------------------------------------------------


def warm_page_cache(db: Path) -> None:
    """Read the database file once, as a server that has been up for a while has: latency
    is measured against the operating system's page cache, not the disk."""
    with open(db, "rb") as handle:
        while handle.read(1 << 20):
            pass


def warm_postgres(store: object) -> None:
    """Read the tables verify reads once (into PostgreSQL's buffers and the page cache)."""
    import psycopg

    with psycopg.connect(getattr(store, "url", "")) as conn:
        for table in ("postings", "terms", "quotes", "speakers", "speaker_names"):
            conn.execute(f"SELECT count(*) FROM {table}").fetchone()
        conn.execute("SELECT sum(length(ids)) FROM postings").fetchone()


def measure(
    built: BuiltStore,
    queries: Sequence[Query],
    args: argparse.Namespace,
    long_inputs: Sequence[LongInput],
    scan_inputs: Sequence[LongInput] = (),
) -> tuple[str, dict]:
    """Run every measurement on one store; return its printed block and a summary row."""
    store = open_store(built.url)
    store.migrate()
    prepare = getattr(matching, "prepare", None)
    if prepare is not None:
        prepare()
    if built.backend == "sqlite":
        warm_page_cache(built.db)
    else:
        warm_postgres(store)
    parts = [
        f"== store {built.label}: {built.count:,} quotes ({built.real:,} real + "
        f"{built.synthetic:,} synthetic) on {built.backend}, {built.where} ==",
        build_table(built),
    ]
    _log(f"[{built.label}] verify in process: {len(queries)} queries")
    outcomes = run_in_process(store, queries)
    table, summary = verify_table(outcomes, queries)
    parts.append(table)
    summary.update(
        label=f"{built.label} {built.backend}",
        cached=built.cached,
        import_seconds=built.manifest["import_seconds"],
        quotes_per_second=built.manifest["quotes_per_second"],
        db_bytes=built.size_bytes(),
    )
    if long_inputs:
        _log(f"[{built.label}] long inputs: {len(long_inputs)}")
        parts.append(long_table(run_long(store, long_inputs)))
    if scan_inputs:
        _log(f"[{built.label}] page scans: {len(scan_inputs)}")
        parts.append(scan_table(run_scan(store, scan_inputs)))
    store.close()
    if not args.skip_brute and built.count <= BRUTE_MAX_SIZE and args.brute_queries > 0:
        subset = _first(queries, args.brute_queries)
        ours = [o for o in outcomes if o.qid in {q.qid for q in subset}]
        texts, refs = read_texts(built.quotes)
        _log(f"[{built.label}] brute force: {len(subset)} queries x {len(texts):,} texts")
        table, speedups = brute_table(run_brute(texts, refs, subset), ours)
        parts.append(table)
        summary["brute"] = speedups.get("WRatio")
    if not args.skip_http and args.http_queries > 0:
        results = run_http(built, queries, outcomes, args)
        parts.append(http_table(results))
        summary["http"] = " / ".join(
            f"{millis(percentile(r['run'].latencies, 50))} ({r['workers']}w)"
            for r in results
            if "run" in r
        )
    return "\n\n".join(parts), summary


def run_http(
    built: BuiltStore,
    queries: Sequence[Query],
    outcomes: Sequence[Outcome],
    args: argparse.Namespace,
) -> list[dict]:
    subset = _first(queries, args.http_queries)
    ours = {o.qid: o.verdict for o in outcomes}
    items = [(q.qid, q.text, q.speaker) for q in subset]
    warmup = [(f"w{i}", q.text, q.speaker) for i, q in enumerate(queries[-8:])]
    results = []
    for workers in args.workers:
        clients = args.clients or workers
        log = CACHE / f"gunicorn-{built.label}-{workers}w.log"
        log.unlink(missing_ok=True)
        try:
            with served(built.url, workers, log) as server:
                up = server.startup_seconds
                _log(f"[{built.label}] HTTP: {workers} worker(s) up in {up:.1f} s")
                server.verify_all(warmup * workers, clients=clients, limit=LIMIT)
                run = server.verify_all(items, clients=clients, limit=LIMIT)
                memory = server.memory()
                _log(f"[{built.label}] HTTP: {len(items)} requests done; restarting a worker")
                restart = server.restart_seconds()
            compared = [qid for qid in run.verdicts if qid in ours]
            for qid in compared:
                if run.verdicts[qid] != ours[qid]:
                    _log(f"  {qid}: {ours[qid]} in process, {run.verdicts[qid]} over HTTP")
            results.append(
                {
                    "differ": [q for q in compared if run.verdicts[q] != ours[q]],
                    "workers": workers,
                    "clients": clients,
                    "run": run,
                    "memory": memory,
                    "startup": server.startup_seconds,
                    "restart": restart,
                    "agree": sum(run.verdicts[q] == ours[q] for q in compared),
                    "compared": len(compared),
                }
            )
            for error in run.errors[:5]:
                _log(f"  HTTP error: {error}")
        except ServerError as exc:
            _log(f"[{built.label}] HTTP with {workers} worker(s) failed: {exc}")
            results.append({"workers": workers, "clients": clients, "error": str(exc)[:60]})
    return results


LEGEND = """\
columns
  import: "built now" (timed in this run) or "cached" (numbers recorded when it was built);
    wall s / quotes/s: import_file() alone; 1st progress s: until import_file() first
    called its progress callback; cpu s: user+system CPU of the importer and any helper
    processes; peak RSS: of the importing process; helper RSS: the largest helper process
    import_file() started (if any); db+wal: the database now, with its -wal; wal at commit:
    the -wal right after the import, before the connection closed.
  verify: verdict acc: headline verdict as expected (for unseen/unrelated: no_match rate);
    R@1 / R@10: the expected quote is the top match / among the (up to 10) matches, over
    queries with an expected quote; a quote with the same words (or, for a fragment, one
    holding the fragment's words) counts too, and dup@1 says how often the top match was
    such a twin rather than the expected ref; p50/p99/max: latency of verify() per call.
  HTTP: clients: concurrent client threads (one requests.Session each); req/s: requests
    over wall time; same verdict: HTTP verdicts equal to the in-process run's; start s:
    gunicorn spawn until /readyz answers and every worker idles in select(); restart s:
    SIGTERM to one worker until /healthz answers from the new worker's pid; HWM: VmHWM
    (peak RSS) after the run; PSS: from smaps_rollup (shared pages split between sharers).
  brute force: rapidfuzz process.extract(text, all stored texts, processor=default_process,
    limit=10); brute p50 / ours: how many times slower than verify() on the same queries.
  article-length: verify() of a text of about that many characters quoting one stored
    quote amid held-out quotes that share no 5-word run with any stored quote; R@1: the
    quote is the top match; found@10: among the matches; verified: headline verdict.
  page scan: scan_text() of such an article (the quote credited to its speaker, in quotation
    marks), every quotation verified and the whole text searched for unmarked quotes; found:
    a finding's top match is the quote; findings/page: quotations and unmarked quotes."""


# -- main ----------------------------------------------------------------------------------


def _header() -> str:
    def git(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return "?"

    dirty = " (uncommitted changes)" if git("status", "--porcelain", "--untracked-files=no") else ""
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return (
        f"quotecheck bench, {now}, commit {git('rev-parse', '--short', 'HEAD')}{dirty}, "
        f"{os.cpu_count()} CPUs, load {load}, Python {sys.version.split()[0]}"
    )


def _int_list(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--sizes", default="10k,100k,1m", help="store sizes (default 10k,100k,1m)")
    parser.add_argument("--queries", type=int, default=1000, help="queries per store (1000)")
    parser.add_argument("--http-queries", type=int, default=200, help="of them over HTTP (200)")
    parser.add_argument("--brute-queries", type=int, default=100, help="brute-forced (100)")
    parser.add_argument("--long", type=int, default=20, help="long inputs of each length (20)")
    parser.add_argument("--scans", type=int, default=10, help="pages scanned of each length (10)")
    parser.add_argument("--workers", type=_int_list, default=[1, 4], help="gunicorn workers (1,4)")
    parser.add_argument("--clients", type=int, default=0, help="HTTP client threads (= workers)")
    parser.add_argument(
        "--backends",
        default="sqlite,postgresql",
        help="stores to build and measure, side by side (sqlite,postgresql); PostgreSQL at"
        " $QUOTECHECK_BENCH_POSTGRES_URL's server, a database quotecheck_bench_<size> each",
    )
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-brute", action="store_true")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the stores even if cached")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="reuse a cached store although the storage code changed since it was built",
    )
    return parser.parse_args(argv)


def _lock_cache() -> IO[str]:
    """Hold a lock on .cache/bench/ for the run: two runs would share the same files and
    share the same two cores, spoiling each other's timings."""
    CACHE.mkdir(parents=True, exist_ok=True)
    handle = open(CACHE / ".lock", "a+", encoding="utf-8")  # noqa: SIM115 - held for the run
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "?"
        handle.close()
        raise SystemExit(
            f"another bench run (pid {holder}) is using {CACHE}; wait for it"
        ) from None
    handle.truncate(0)
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    lock = _lock_cache()  # noqa: F841 - released when the process exits
    sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    started = time.perf_counter()
    _log("loading the development quotes")
    corpus = load_corpus()
    materials: dict[int, tuple[list[Query], list[LongInput], list[LongInput]]] = {}
    out = [_header()]
    print(out[0], flush=True)
    summaries = []
    CACHE.mkdir(parents=True, exist_ok=True)
    report = CACHE / "last-run.txt"
    for n in sizes:
        base = min(n, QUERY_BASE, len(corpus.pool))
        if base not in materials:
            _log(f"making {args.queries} queries from {base:,} stored quotes")
            material = make_material(corpus, base)
            queries = build_queries(material, args.queries)
            long_inputs = build_long_inputs(material, LONG_SIZES, args.long)
            scan_inputs = build_long_inputs(material, SCAN_SIZES, args.scans, seed=3)
            materials[base] = (queries, long_inputs, scan_inputs)
        queries, long_inputs, scan_inputs = materials[base]
        with open(CACHE / f"queries-{size_label(n)}.jsonl", "w", encoding="utf-8") as handle:
            for q in queries:
                handle.write(json.dumps(q.record(), ensure_ascii=False) + "\n")
        for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
            built = ensure_store(corpus, n, rebuild=args.rebuild, reuse=args.reuse, backend=backend)
            block, summary = measure(built, queries, args, long_inputs, scan_inputs)
            summaries.append(summary)
            print("\n" + block, flush=True)
            out.append(block)
            report.write_text("\n\n".join(out) + "\n")
    if len(summaries) > 1:
        table = summary_table(summaries)
        print("\n" + table, flush=True)
        out.append(table)
    print("\n" + LEGEND, flush=True)
    out.append(LEGEND)
    out.append(f"(whole run {time.perf_counter() - started:.0f} s)")
    report.write_text("\n\n".join(out) + "\n")
    _log(f"wrote {report.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
