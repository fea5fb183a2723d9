"""Plain-text tables and the few statistics the benchmark prints."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["format_table", "megabytes", "millis", "percentile", "ratio"]


def percentile(values: Sequence[float], p: float) -> float:
    """Return the nearest-rank ``p``-th percentile of ``values`` (0.0 for none)."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def millis(seconds: float | None) -> str:
    """Format a duration in seconds as milliseconds, with precision that suits its size."""
    if seconds is None:
        return "-"
    ms = seconds * 1000
    return f"{ms:.2f}" if ms < 10 else f"{ms:.1f}" if ms < 1000 else f"{ms:,.0f}"


def megabytes(n_bytes: float | None) -> str:
    return "-" if n_bytes is None else f"{n_bytes / 2**20:,.1f}"


def ratio(hits: int, total: int) -> str:
    return "-" if total == 0 else f"{hits / total:.3f}"


def format_table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], *, title: str | None = None
) -> str:
    """Return ``rows`` as an aligned plain-text table: text columns left, numbers right.

    A column is numeric when every non-empty cell in it starts like a number ("-" counts
    as empty), so the same call formats "12.3", "1,024" and "0.998x" alike.
    """
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    width = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    numeric = [
        all(_looks_numeric(row[i]) for row in cells[1:] if row[i] not in ("", "-"))
        for i in range(len(headers))
    ]
    lines = [title] if title else []
    for n, row in enumerate(cells):
        parts = [
            cell.rjust(width[i]) if numeric[i] else cell.ljust(width[i])
            for i, cell in enumerate(row)
        ]
        lines.append("  ".join(parts).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in width))
    return "\n".join(lines)


def _looks_numeric(cell: str) -> bool:
    head = cell.lstrip("+-<>~")
    return bool(head) and (head[0].isdigit() or head.startswith("."))
