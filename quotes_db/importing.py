"""Import and export of quote files: JSON Lines (optionally gzipped) and CSV.

One JSON object a line, the format of the development set:
``{"ref", "text", "speaker", "said_at"?, "context"?, "tags"?,
   "source"?: {"title", "url", "publisher", "published_at"}}``.
CSV files carry the same fields as columns, with ``source_title``, ``source_url``,
``source_publisher``, ``source_published_at`` for the source and ``tags`` separated by ``;``.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from .errors import ImportFormatError, InvalidQuoteError
from .models import ImportReport, NewQuote, Quote, Source
from .normalization import words
from .store import QuoteStore

__all__ = ["export_quotes", "import_file", "parse_quote", "quote_record", "read_quotes"]

MAX_TEXT_CHARS = 10_000
_KNOWN = {"ref", "text", "speaker", "said_at", "context", "source", "tags"}
_SOURCE_KNOWN = {"title", "url", "publisher", "published_at"}


def _open_text(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def _optional_str(record: dict[str, Any], key: str, *, limit: int = 2000) -> str | None:
    value = record.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidQuoteError(f"{key} must be a string", field=key)
    value = value.strip()
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidQuoteError(f"{key} contains a lone surrogate", field=key) from None
    if "\x00" in value:
        raise InvalidQuoteError(f"{key} contains a NUL character", field=key)
    if len(value) > limit:
        raise InvalidQuoteError(f"{key} is longer than {limit} characters", field=key)
    return value or None


def _optional_date(record: dict[str, Any], key: str) -> dt.date | None:
    value = _optional_str(record, key, limit=40)
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        raise InvalidQuoteError(f"{key} must be a date as YYYY-MM-DD", field=key) from None


def parse_quote(record: object) -> NewQuote:
    """Return the NewQuote a decoded JSON record describes; InvalidQuoteError if unusable."""
    if not isinstance(record, dict):
        raise InvalidQuoteError("a quote record must be a JSON object")
    unknown = set(record) - _KNOWN
    if unknown:
        raise InvalidQuoteError(f"unknown field {sorted(unknown)[0]!r}", field=sorted(unknown)[0])
    text = _optional_str(record, "text", limit=MAX_TEXT_CHARS)
    if not text or not words(text):
        raise InvalidQuoteError("text must contain words", field="text")
    speaker = _optional_str(record, "speaker", limit=200)
    if not speaker:
        raise InvalidQuoteError("speaker is required", field="speaker")
    source_record = record.get("source")
    source = None
    if source_record is not None:
        if not isinstance(source_record, dict):
            raise InvalidQuoteError("source must be an object", field="source")
        extra = set(source_record) - _SOURCE_KNOWN
        if extra:
            raise InvalidQuoteError(f"unknown source field {sorted(extra)[0]!r}", field="source")
        source = Source(
            title=_optional_str(source_record, "title"),
            url=_optional_str(source_record, "url"),
            publisher=_optional_str(source_record, "publisher"),
            published_at=_optional_date(source_record, "published_at"),
        )
        if source.is_empty():
            source = None
    tags = record.get("tags") or []
    if isinstance(tags, str):
        tags = [t for t in tags.split(";")]
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise InvalidQuoteError("tags must be a list of strings", field="tags")
    tags = [_optional_str({"tags": t}, "tags", limit=100) or "" for t in tags]
    return NewQuote(
        text=text,
        speaker=speaker,
        ref=_optional_str(record, "ref", limit=200),
        said_at=_optional_date(record, "said_at"),
        context=_optional_str(record, "context"),
        source=source,
        tags=tuple(dict.fromkeys(t.strip() for t in tags if t.strip())),
    )


def _csv_record(row: dict[str, str]) -> dict[str, Any]:
    record: dict[str, Any] = {}
    source: dict[str, str] = {}
    for key, value in row.items():
        if key is None:
            raise InvalidQuoteError("more values than columns")
        if value is None or value == "":
            continue
        if key.startswith("source_"):
            source[key.removeprefix("source_")] = value
        else:
            record[key] = value
    if source:
        record["source"] = source
    return record


def read_quotes(path: Path) -> Iterator[tuple[int, NewQuote]]:
    """Yield ``(line number, quote)`` from a .jsonl, .jsonl.gz, .csv or .csv.gz file.

    Raises ImportFormatError naming the line of the first malformed record.
    """
    path = Path(path)
    name = path.name.removesuffix(".gz")
    with _open_text(path) as handle:
        try:
            if name.endswith(".csv"):
                reader = csv.DictReader(handle)
                for row in reader:
                    line = reader.line_num
                    try:
                        yield line, parse_quote(_csv_record(row))
                    except InvalidQuoteError as exc:
                        raise ImportFormatError(str(exc), line=line, path=str(path)) from None
            elif name.endswith((".jsonl", ".ndjson", ".json")):
                for line, raw in enumerate(handle, 1):
                    if not raw.strip():
                        continue
                    try:
                        record = json.loads(raw)
                    except json.JSONDecodeError as exc:
                        raise ImportFormatError(
                            f"not valid JSON ({exc.msg})", line=line, path=str(path)
                        ) from None
                    try:
                        yield line, parse_quote(record)
                    except InvalidQuoteError as exc:
                        raise ImportFormatError(str(exc), line=line, path=str(path)) from None
            else:
                raise ImportFormatError(
                    "unknown file type: use .jsonl, .jsonl.gz, .csv or .csv.gz",
                    line=0,
                    path=str(path),
                )
        except (UnicodeDecodeError, gzip.BadGzipFile, EOFError, csv.Error) as exc:
            raise ImportFormatError(f"unreadable file: {exc}", line=0, path=str(path)) from None


def import_file(
    store: QuoteStore,
    path: Path,
    *,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Validate a whole file, then upsert it by ``ref`` in one transaction; return the counts.

    The file is read completely before anything is written, so a bad line leaves the store
    untouched, and the write is all-or-nothing.
    """
    quotes = [quote for _, quote in read_quotes(path)]

    def counted() -> Iterator[NewQuote]:
        for number, quote in enumerate(quotes, 1):
            yield quote
            if progress is not None and number % 1000 == 0:
                progress(1000)
        if progress is not None and len(quotes) % 1000:
            progress(len(quotes) % 1000)

    return store.import_quotes(counted())


def quote_record(quote: Quote) -> dict[str, Any]:
    """Return the import-format record of a stored quote (export is the inverse of import)."""
    record: dict[str, Any] = {"ref": quote.ref, "text": quote.text, "speaker": quote.speaker.name}
    if quote.said_at:
        record["said_at"] = quote.said_at.isoformat()
    if quote.context:
        record["context"] = quote.context
    if quote.source:
        source = {
            "title": quote.source.title,
            "url": quote.source.url,
            "publisher": quote.source.publisher,
            "published_at": (
                quote.source.published_at.isoformat() if quote.source.published_at else None
            ),
        }
        record["source"] = {k: v for k, v in source.items() if v is not None}
    if quote.tags:
        record["tags"] = list(quote.tags)
    if record["ref"] is None:
        del record["ref"]
    return record


def export_quotes(store: QuoteStore, path: Path) -> int:
    """Write every quote to ``path`` as JSON Lines (gzipped for .gz); return how many."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    count = 0
    tmp = path.with_name(path.name + ".tmp")
    with opener(tmp, "wt", encoding="utf-8") as out:
        for quote in store.iter_quotes():
            out.write(json.dumps(quote_record(quote), ensure_ascii=False) + "\n")
            count += 1
    tmp.replace(path)
    return count
