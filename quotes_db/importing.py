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
import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

from .errors import ConflictError, ImportFormatError, InvalidQuoteError
from .models import REVIEW_STATES, ImportReport, NewQuote, NormalizedQuote, Page, Quote, Source
from .normalization import has_words, words
from .store import QuoteStore

__all__ = ["export_quotes", "import_file", "parse_quote", "quote_record", "read_quotes"]

MAX_TEXT_CHARS = 10_000
_KNOWN = {"ref", "text", "speaker", "said_at", "context", "source", "tags", "review", "appearances"}
_APPEARANCE_KNOWN = {"title", "url", "publisher", "published_at", "article", "start", "end"}
_ARTICLE_KNOWN = {"key", "url", "title", "publisher", "published_at", "text"}
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
    if not text or not has_words(text):
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
    review = _optional_str(record, "review", limit=20) or "approved"
    if review not in REVIEW_STATES:
        raise InvalidQuoteError(f"review must be one of {', '.join(REVIEW_STATES)}", field="review")
    _appearance_records(record)  # checked here, applied after the quotes are stored
    return NewQuote(
        text=text,
        speaker=speaker,
        ref=_optional_str(record, "ref", limit=200),
        said_at=_optional_date(record, "said_at"),
        context=_optional_str(record, "context"),
        source=source,
        tags=tuple(dict.fromkeys(t.strip() for t in tags if t.strip())),
        review=review,
    )


def _appearance_records(record: dict[str, Any]) -> list[dict[str, Any]]:
    items = record.get("appearances") or []
    if not isinstance(items, list) or not all(isinstance(a, dict) for a in items):
        raise InvalidQuoteError("appearances must be a list of objects", field="appearances")
    for item in items:
        extra = set(item) - _APPEARANCE_KNOWN
        if extra:
            raise InvalidQuoteError(
                f"unknown appearance field {sorted(extra)[0]!r}", field="appearances"
            )
        for key in ("start", "end", "article"):
            if item.get(key) is not None and not isinstance(item[key], int):
                raise InvalidQuoteError(f"appearance {key} must be an integer", field="appearances")
    return items


@dataclass(frozen=True, slots=True)
class _Extra:
    """A record that is not a quote: an article, a speaker's aliases, or a quote's
    appearances (applied once the quotes are stored)."""

    kind: str  # "article" | "speaker" | "appearances"
    data: dict[str, Any]


def _parse_record(record: object) -> tuple[NewQuote | None, list[_Extra]]:
    """Parse one line's record: a quote (with its appearances, if any) or an extra."""
    if isinstance(record, dict) and set(record) == {"article"}:
        article = record["article"]
        if not isinstance(article, dict) or set(article) - _ARTICLE_KNOWN:
            raise InvalidQuoteError("an article record needs key, text and its metadata")
        if not isinstance(article.get("text"), str) or not isinstance(article.get("key"), int):
            raise InvalidQuoteError("an article record needs an integer key and a text")
        return None, [_Extra("article", article)]
    if isinstance(record, dict) and set(record) == {"speaker_aliases"}:
        entry = record["speaker_aliases"]
        ok = (
            isinstance(entry, dict)
            and isinstance(entry.get("name"), str)
            and isinstance(entry.get("aliases"), list)
            and all(isinstance(a, str) for a in entry["aliases"])
        )
        if not ok:
            raise InvalidQuoteError("speaker_aliases needs a name and a list of aliases")
        return None, [_Extra("speaker", entry)]
    quote = parse_quote(record)
    assert isinstance(record, dict)
    appearances = _appearance_records(record)
    if not appearances:
        return quote, []
    return quote, [
        _Extra(
            "appearances",
            {"ref": quote.ref, "text": quote.text, "speaker": quote.speaker, "items": appearances},
        )
    ]


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


def _is_jsonl(path: Path) -> bool:
    return path.name.removesuffix(".gz").endswith((".jsonl", ".ndjson", ".json"))


def _parse_line(raw: str, line: int, path: str) -> tuple[NewQuote | None, list[_Extra]]:
    try:
        record = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ImportFormatError(f"not valid JSON ({exc.msg})", line=line, path=path) from None
    try:
        return _parse_record(record)
    except InvalidQuoteError as exc:
        raise ImportFormatError(str(exc), line=line, path=path) from None


def read_quotes(path: Path) -> Iterator[tuple[int, NewQuote]]:
    """Yield ``(line number, quote)`` from a .jsonl, .jsonl.gz, .csv or .csv.gz file.

    Raises ImportFormatError naming the line of the first malformed record. Records that
    are not quotes (articles, speakers' aliases) are checked and skipped.
    """
    for line, quote, _ in _read_records(Path(path)):
        if quote is not None:
            yield line, quote


def _read_records(path: Path) -> Iterator[tuple[int, NewQuote | None, list[_Extra]]]:
    name = path.name.removesuffix(".gz")
    with _open_text(path) as handle:
        try:
            if name.endswith(".csv"):
                reader = csv.DictReader(handle)
                for row in reader:
                    line = reader.line_num
                    try:
                        yield line, parse_quote(_csv_record(row)), []
                    except InvalidQuoteError as exc:
                        raise ImportFormatError(str(exc), line=line, path=str(path)) from None
            elif _is_jsonl(path):
                for line, raw in enumerate(handle, 1):
                    if raw.strip():
                        yield (line, *_parse_line(raw, line, str(path)))
            else:
                raise ImportFormatError(
                    "unknown file type: use .jsonl, .jsonl.gz, .csv or .csv.gz",
                    line=0,
                    path=str(path),
                )
        except (UnicodeDecodeError, gzip.BadGzipFile, EOFError, csv.Error) as exc:
            raise ImportFormatError(f"unreadable file: {exc}", line=0, path=str(path)) from None


IMPORT_BATCH = 50_000  # quotes committed together by import_file, once the file is valid
PARALLEL_MIN_BYTES = 1 << 20  # smaller files are read in this process
CHUNK_LINES = 2_000  # quotes the reader process sends at a time


def import_file(
    store: QuoteStore,
    path: Path,
    *,
    progress: Callable[[int], None] | None = None,
    batch_size: int = IMPORT_BATCH,
    parallel: bool = True,
) -> ImportReport:
    """Upsert the quotes of a file by ``ref``; return the counts.

    Nothing is committed until every line of the file has been read and checked, so a bad
    line leaves the store untouched. From then on the import commits every ``batch_size``
    quotes: one that is interrupted keeps whole batches, and running it again finishes it
    (quotes already written come back as unchanged). A large JSON Lines file is read,
    checked and normalised by a second process while this one writes.
    """
    path = Path(path)
    if not _is_jsonl(path) or path.stat().st_size < PARALLEL_MIN_BYTES or not parallel:
        records = list(_read_records(path))
        quotes = [quote for _, quote, _ in records if quote is not None]
        report = store.import_quotes(_counted(quotes, progress))
        _apply_extras(store, [e for _, _, extras in records for e in extras])
        return report
    return _import_parallel(store, path, progress, batch_size)


def _counted(
    quotes: Iterable[NewQuote], progress: Callable[[int], None] | None
) -> Iterator[NewQuote]:
    count = 0
    for quote in quotes:
        yield quote
        count += 1
        if progress is not None and count % 1000 == 0:
            progress(1000)
    if progress is not None and count % 1000:
        progress(count % 1000)


def _import_parallel(
    store: QuoteStore, path: Path, progress: Callable[[int], None] | None, batch_size: int
) -> ImportReport:
    """Write what a reader process parses: the two cores each do about half the work.

    The reader reads, checks and normalises the whole file as fast as it can and raises
    ``valid`` when it reached the end without a bad line; until then nothing is committed.
    """
    context = multiprocessing.get_context("fork")
    chunks: multiprocessing.Queue[tuple[str, object]] = context.Queue()
    valid = context.Event()
    reader = context.Process(target=_read_ahead, args=(str(path), chunks, valid), daemon=True)
    reader.start()

    extras: list[_Extra] = []

    def quotes() -> Iterator[NormalizedQuote]:
        while True:
            kind, payload = chunks.get()
            if kind == "extras":
                extras.extend(cast(list[_Extra], payload))
            elif kind == "rows":
                rows = cast(list[tuple[Any, ...]], payload)
                yield from (_from_row(row) for row in rows)
                if progress is not None:
                    progress(len(rows))
            elif kind == "error":
                raise cast(ImportFormatError, payload)
            else:
                return

    try:
        report = store.import_quotes(quotes(), commit_every=batch_size, may_commit=valid.is_set)
        _apply_extras(store, extras)
        return report
    finally:
        if reader.is_alive():
            reader.terminate()
        reader.join()


def _read_ahead(path: str, chunks: multiprocessing.Queue, valid: Any) -> None:
    """In the reader process: send the file's quotes in chunks, then say it was valid."""
    try:
        chunk: list[tuple[Any, ...]] = []
        for line, quote, extras in _read_records(Path(path)):
            if extras:
                chunks.put(("extras", extras))
            if quote is None:
                continue
            chunk.append(_to_row(quote, line))
            if len(chunk) == CHUNK_LINES:
                chunks.put(("rows", chunk))
                chunk = []
        if chunk:
            chunks.put(("rows", chunk))
    except ImportFormatError as exc:
        chunks.put(("error", exc))
        return
    valid.set()
    chunks.put(("end", None))


def _to_row(quote: NewQuote, line: int) -> tuple[Any, ...]:
    """A quote as plain values (pickled many times faster than the dataclasses)."""
    source = quote.source
    return (
        quote.text,
        quote.speaker,
        quote.ref,
        quote.said_at.isoformat() if quote.said_at else None,
        quote.context,
        None
        if source is None
        else (
            source.title,
            source.url,
            source.publisher,
            source.published_at.isoformat() if source.published_at else None,
        ),
        quote.tags,
        " ".join(words(quote.text)),
        quote.review,
    )


def _from_row(row: tuple[Any, ...]) -> NormalizedQuote:
    text, speaker, ref, said_at, context, source, tags, norm, review = row
    return NormalizedQuote(
        text=text,
        speaker=speaker,
        ref=ref,
        said_at=dt.date.fromisoformat(said_at) if said_at else None,
        context=context,
        source=None
        if source is None
        else Source(
            source[0],
            source[1],
            source[2],
            dt.date.fromisoformat(source[3]) if source[3] else None,
        ),
        tags=tags,
        norm=norm,
        review=review,
    )


def _apply_extras(store: QuoteStore, extras: list[_Extra]) -> None:
    """Store what came with the quotes: articles, speakers' aliases, appearances."""
    article_ids: dict[int, int] = {}
    for extra in extras:
        if extra.kind == "article":
            a = extra.data
            article, _ = store.add_article(
                a["text"],
                url=a.get("url"),
                title=a.get("title"),
                publisher=a.get("publisher"),
                published_at=_parse_date(a.get("published_at")),
            )
            article_ids[int(a["key"])] = article.id
        elif extra.kind == "speaker":
            speaker = store.find_speaker(extra.data["name"])
            if speaker is None:
                continue
            wanted = list(dict.fromkeys([*speaker.aliases, *extra.data["aliases"]]))
            for alias in wanted[len(speaker.aliases) :]:
                try:
                    speaker = store.update_speaker(speaker.id, aliases=[*speaker.aliases, alias])
                except ConflictError:
                    continue  # the name belongs to another speaker in this store
    for extra in extras:
        if extra.kind != "appearances":
            continue
        quote_id = _find_quote(store, extra.data)
        if quote_id is None:
            continue
        for item in extra.data["items"]:
            store.add_appearance(
                quote_id,
                Source(
                    item.get("title"),
                    item.get("url"),
                    item.get("publisher"),
                    _parse_date(item.get("published_at")),
                ),
                article_id=article_ids.get(item["article"]) if item.get("article") else None,
                start=item.get("start"),
                end=item.get("end"),
            )


def _parse_date(value: object) -> dt.date | None:
    return dt.date.fromisoformat(str(value)[:10]) if value else None


def _find_quote(store: QuoteStore, data: dict[str, Any]) -> int | None:
    page = store.list_quotes(speaker=data["speaker"], text=data["text"], limit=100)
    for quote in page.items:
        if (data["ref"] is not None and quote.ref == data["ref"]) or (
            data["ref"] is None and quote.text == data["text"]
        ):
            return quote.id
    return None


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
    if quote.review != "approved":
        record["review"] = quote.review
    appearances = [
        {
            "title": a.source.title,
            "url": a.source.url,
            "publisher": a.source.publisher,
            "published_at": a.source.published_at.isoformat() if a.source.published_at else None,
            "article": a.article_id,
            "start": a.start,
            "end": a.end,
        }
        for a in quote.appearances
        if a.id is not None  # the quote's own source is already in "source"
    ]
    if appearances:
        record["appearances"] = [{k: v for k, v in a.items() if v is not None} for a in appearances]
    if record["ref"] is None:
        del record["ref"]
    return record


def _every(lister: Callable[..., Page[Any]]) -> Iterator[Any]:
    """Every item of a paged listing, oldest pages last as the listing orders them."""
    offset, items = 0, list[Any]()
    while True:
        page = lister(limit=500, offset=offset)
        items.extend(page.items)
        offset += len(page.items)
        if not page.items or offset >= page.total:
            break
    return iter(sorted(items, key=lambda item: item.id))


def export_quotes(store: QuoteStore, path: Path) -> int:
    """Write every quote to ``path`` as JSON Lines (gzipped for .gz); return how many."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    count = 0
    tmp = path.with_name(path.name + ".tmp")
    with opener(tmp, "wt", encoding="utf-8") as out:
        # articles and speakers' aliases first, so that an import finds them in order
        for article in _every(store.list_articles):
            record = {
                "key": article.id,
                "url": article.url,
                "title": article.title,
                "publisher": article.publisher,
                "published_at": article.published_at.isoformat() if article.published_at else None,
                "text": article.text,
            }
            line = {"article": {k: v for k, v in record.items() if v is not None}}
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
        for speaker in _every(store.list_speakers):
            if speaker.aliases:
                entry = {"name": speaker.name, "aliases": list(speaker.aliases)}
                out.write(json.dumps({"speaker_aliases": entry}, ensure_ascii=False) + "\n")
        for quote in store.iter_quotes():
            out.write(json.dumps(quote_record(quote), ensure_ascii=False) + "\n")
            count += 1
    tmp.replace(path)
    return count
