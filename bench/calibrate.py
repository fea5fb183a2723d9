"""Fit the confidence calibration on one half of the development set: ``make calibrate``.

The dev queries are split in two by query id (even ids fit, odd ids are held out); the
matcher's evidence score and whether its verdict was right are collected on the fitting
half, an isotonic map per verdict is fitted (``quotes_db.calibration.fit``) and written to
``quotes_db/calibration.json``. The error is printed on both halves; ``make eval`` prints it
again on the held-out half.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from quotes_db import calibration
from quotes_db.importing import import_file
from quotes_db.matching import prepare, verify
from quotes_db.store import open_store

from .eval import SHARED, fitting_half, load_queries


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quotes", type=Path, default=SHARED / "quotes.jsonl.gz")
    parser.add_argument("--queries", type=Path, default=SHARED / "queries.jsonl")
    parser.add_argument("--db", type=Path, help="reuse this store instead of a fresh one")
    parser.add_argument("--out", type=Path, default=calibration.TABLE_FILE)
    args = parser.parse_args(argv)

    queries = load_queries(args.queries)
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{args.db or Path(tmp) / 'calibrate.db'}")
        store.migrate()
        if store.total_documents() == 0:
            import_file(store, args.quotes)
        prepare()
        samples: dict[bool, list[tuple[str, float, bool]]] = {True: [], False: []}
        for q in queries:
            result = verify(store, q["text"], speaker=q.get("speaker"))
            right = result.verdict == q["expected"]["verdict"]
            samples[fitting_half(q["qid"])].append((result.verdict, result.evidence, right))
        store.close()
    table = calibration.fit(samples[True])
    payload = {
        "fitted": time.strftime("%Y-%m-%d"),
        "on": f"{len(samples[True])} development queries with even ids",
        "prior": {"mean": calibration.PRIOR_MEAN, "weight": calibration.PRIOR_WEIGHT},
        "steps": table,
    }
    text = json.dumps(payload, indent=1)
    for steps in table.values():  # one line per verdict's steps
        text = text.replace(json.dumps(steps, indent=1).replace("\n", "\n  "), json.dumps(steps))
    args.out.write_text(text + "\n", encoding="utf-8")
    for half, name in ((True, "fitting half"), (False, "held-out half")):
        pairs = [(calibration.apply(v, e, table), ok) for v, e, ok in samples[half]]
        print(
            f"ECE on the {name} ({len(pairs)} queries): "
            f"{calibration.expected_calibration_error(pairs):.4f}"
        )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
