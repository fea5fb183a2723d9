"""Calibrated confidence: the probability that a verdict is right, learned from labelled data.

The matcher scores its own evidence for each answer (``raw``, in [0, 1]: how clear-cut the
alignment was). A monotone map per verdict turns that score into the share of answers that
were right in labelled data: isotonic regression (pool-adjacent-violators) fitted by
``bench/calibrate.py`` on one half of the development set and stored in
``calibration.json`` next to this file; ``make eval`` reports the error on the other half.
Each step of the map is shrunk towards a prior (``PRIOR_MEAN`` weighted as ``PRIOR_WEIGHT``
answers), so that a step backed by few answers never claims certainty.
"""

from __future__ import annotations

import bisect
import functools
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

__all__ = ["TABLE_FILE", "apply", "expected_calibration_error", "fit", "load_table"]

TABLE_FILE = Path(__file__).with_name("calibration.json")
PRIOR_MEAN = 0.8
PRIOR_WEIGHT = 4.0
FALLBACK = 0.5  # the confidence of a verdict the table has never seen

Table = dict[str, list[tuple[float, float]]]  # verdict -> [(raw upper bound, probability)]


def fit(samples: Iterable[tuple[str, float, bool]]) -> Table:
    """Fit one isotonic step function per verdict to ``(verdict, raw, correct)`` samples."""
    by_verdict: dict[str, list[tuple[float, bool]]] = {}
    for verdict, raw, correct in samples:
        by_verdict.setdefault(verdict, []).append((raw, correct))
    return {v: _isotonic(sorted(points)) for v, points in sorted(by_verdict.items())}


def _isotonic(points: Sequence[tuple[float, bool]]) -> list[tuple[float, float]]:
    # blocks of [upper raw, correct count, total]; merge while a block's (shrunk) rate is no
    # higher than the one before it: pool adjacent violators, so the map never falls
    groups: dict[float, list[float]] = {}  # equal scores must get one probability
    for raw, correct in points:
        group = groups.setdefault(raw, [raw, 0.0, 0.0])
        group[1] += float(correct)
        group[2] += 1.0
    blocks: list[list[float]] = []
    for group in sorted(groups.values()):
        blocks.append(list(group))
        while len(blocks) > 1 and _rate(blocks[-2]) >= _rate(blocks[-1]):
            upper, right, total = blocks.pop()
            blocks[-1] = [upper, blocks[-1][1] + right, blocks[-1][2] + total]
    steps = [(b[0], _rate(b)) for b in blocks]
    steps[-1] = (1.0, steps[-1][1])  # the last step covers everything above
    return [(round(u, 6), round(p, 4)) for u, p in steps]


def _rate(block: list[float]) -> float:
    return (block[1] + PRIOR_MEAN * PRIOR_WEIGHT) / (block[2] + PRIOR_WEIGHT)


@functools.cache
def load_table(path: Path = TABLE_FILE) -> Table:
    """Return the fitted table (empty when none was fitted)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {v: [(float(u), float(p)) for u, p in steps] for v, steps in data["steps"].items()}


def apply(verdict: str, raw: float, table: Table | None = None) -> float:
    """Return the calibrated confidence of ``verdict`` given its evidence score ``raw``."""
    steps = (load_table() if table is None else table).get(verdict)
    if not steps:
        return FALLBACK
    index = bisect.bisect_left([u for u, _ in steps], raw)
    return steps[min(index, len(steps) - 1)][1]


def expected_calibration_error(pairs: Sequence[tuple[float, bool]], bins: int = 10) -> float:
    """ECE of ``(confidence, correct)`` pairs over ``bins`` equal-width bins."""
    if not pairs:
        return 0.0
    buckets: dict[int, list[tuple[float, bool]]] = {}
    for confidence, correct in pairs:
        buckets.setdefault(min(bins - 1, int(confidence * bins)), []).append((confidence, correct))
    total = len(pairs)
    return sum(
        len(b) / total * abs(sum(c for c, _ in b) / len(b) - sum(o for _, o in b) / len(b))
        for b in buckets.values()
    )
