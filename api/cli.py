"""The ``quotecheck`` command: create the database, import and export quotes, ingest
articles, verify a quote locally or against a running server, and serve the API with
gunicorn.

Exit codes: 0 success, 1 a problem with the input or the database (the message on stderr
says which), 2 the server given with ``verify --url`` could not answer (and argparse's own
usage errors). Errors are one-line messages on stderr, never tracebacks.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from quotes_db.errors import ImportFormatError, QuotesDbError, StoreUnavailableError
from quotes_db.models import API_KEY_SCOPES, Appearance, Match, Quote, Source, Verification
from quotes_db.store import QuoteStore, open_store

if TYPE_CHECKING:
    from quotes_db.fetching import Fetcher
    from quotes_db.ingestion import IngestReport

__all__ = ["main", "verification_dict"]

DATABASE_URL_ENV = "QUOTECHECK_DATABASE_URL"
CONNECT_TIMEOUT, READ_TIMEOUT = 3.05, 30
REPO_ROOT = Path(__file__).resolve().parent.parent


class CommandError(Exception):
    """A failure to report as a message on stderr, with the exit code to return."""

    def __init__(self, message: str, *, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


# the JSON the HTTP API returns -------------------------------------------------------------


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _source_dict(source: Source) -> dict[str, Any]:
    return {
        "title": source.title,
        "url": source.url,
        "publisher": source.publisher,
        "published_at": _iso(source.published_at),
    }


def _appearance_dict(appearance: Appearance | None) -> dict[str, Any] | None:
    if appearance is None:
        return None
    return {
        **_source_dict(appearance.source),
        "article_id": appearance.article_id,
        "start": appearance.start,
        "end": appearance.end,
    }


def quote_dict(quote: Quote) -> dict[str, Any]:
    """Return a stored quote as the HTTP API shows it."""
    return {
        "id": quote.id,
        "ref": quote.ref,
        "text": quote.text,
        "speaker": {"id": quote.speaker.id, "name": quote.speaker.name},
        "said_at": _iso(quote.said_at),
        "context": quote.context,
        "source": None if quote.source is None else _source_dict(quote.source),
        "tags": list(quote.tags),
        "review": quote.review,
        "appearances": [_appearance_dict(a) for a in quote.appearances],
        "first_appearance": _appearance_dict(quote.first_appearance),
        "created_at": _iso(quote.created_at),
        "updated_at": _iso(quote.updated_at),
    }


def _match_dict(match: Match) -> dict[str, Any]:
    return {
        "quote": quote_dict(match.quote),
        "match": match.match,
        "similarity": match.similarity,
        "diff": [
            {"op": d.op, "original": d.original, "submitted": d.submitted} for d in match.diff
        ],
        "quote_span": list(match.quote_span),
        "text_span": list(match.text_span),
    }


def verification_dict(result: Verification) -> dict[str, Any]:
    """Return a verification as the body ``POST /v1/verify`` answers with."""
    return {
        "verdict": result.verdict,
        "confidence": result.confidence,
        "summary": result.summary,
        "attribution": {
            "claimed": result.attribution.claimed,
            "recorded": result.attribution.recorded,
            "agrees": result.attribution.agrees,
        },
        "matches": [_match_dict(m) for m in result.matches],
        "pending_matches": [_match_dict(m) for m in result.pending],
    }


# the store ---------------------------------------------------------------------------------


def default_database_url() -> str:
    """The database the commands use: $QUOTECHECK_DATABASE_URL, else instance/quotecheck.db."""
    return os.environ.get(DATABASE_URL_ENV) or (
        f"sqlite:///{Path('instance').resolve() / 'quotecheck.db'}"
    )


@contextmanager
def _opened(url: str, *, require_schema: bool = True) -> Iterator[QuoteStore]:
    try:
        store = open_store(url)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    path = getattr(store, "path", None)
    if require_schema and isinstance(path, Path) and not path.exists():
        raise CommandError(f"no database at {path}: run `quotecheck init` first")
    try:
        if require_schema:
            store.ping()
        yield store
    finally:
        store.close()


def _init_store(store: QuoteStore, *, seeds: bool) -> None:
    from quotes_db.seeding import load_seeds

    version = store.migrate()
    print(f"database {store.url} at schema version {version}")
    count = store.count_quotes()
    if not seeds:
        print(f"seed quotes not loaded (--no-seeds); the store holds {count} quotes")
    elif count:
        print(f"the store already holds {count} quotes; seed quotes not loaded")
    else:
        report = load_seeds(store)
        print(f"loaded {report.created} seed quotes")


# commands ----------------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    with _opened(args.database_url, require_schema=False) as store:
        _init_store(store, seeds=not args.no_seeds)
    return 0


def _import_error(exc: ImportFormatError, path: Path) -> str:
    detail = str(exc).removeprefix(f"{exc.path}:{exc.line}: " if exc.path else f"line {exc.line}: ")
    where = f"{path}, line {exc.line}" if exc.line else str(path)
    return f"{where}: {detail}; nothing from this file was imported"


def cmd_import(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from quotes_db.importing import import_file

    failed = 0
    with _opened(args.database_url) as store:
        for path in args.files:
            if not path.is_file():
                print(f"error: {path}: no such file", file=sys.stderr)
                failed += 1
                continue
            with tqdm(desc=path.name, unit=" quotes", file=sys.stderr, disable=None) as bar:
                try:
                    report = import_file(store, path, progress=bar.update)
                except ImportFormatError as exc:
                    bar.close()
                    print(f"error: {_import_error(exc, path)}", file=sys.stderr)
                    failed += 1
                    continue
            print(
                f"{path}: {report.created} created, {report.updated} updated,"
                f" {report.unchanged} unchanged"
            )
    return 1 if failed else 0


def cmd_export(args: argparse.Namespace) -> int:
    from quotes_db.importing import export_quotes

    with _opened(args.database_url) as store:
        try:
            count = export_quotes(store, args.file)
        except OSError as exc:
            raise CommandError(f"cannot write {args.file}: {exc.strerror or exc}") from None
    print(f"{args.file}: {count} quotes exported")
    return 0


@dataclass(frozen=True, slots=True)
class _ArticleInput:
    """An article read from a file or fetched from a URL, ready to ingest."""

    text: str
    url: str | None = None
    title: str | None = None
    publisher: str | None = None
    published_at: dt.date | None = None


class _InputError(Exception):
    """One input of ``ingest`` could not be read; the others go on."""


HTML_SUFFIXES = frozenset({".html", ".htm"})


def _is_url(name: str) -> bool:
    return name.lower().startswith(("http://", "https://"))


def _html_article(html: str) -> _ArticleInput:
    """The main text and metadata of an HTML page, as ``quotes_db.fetching`` reads them."""
    import trafilatura
    from trafilatura.settings import Document

    document = trafilatura.bare_extraction(
        html,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        date_extraction_params={"original_date": True, "extensive_search": False},
    )
    if not isinstance(document, Document):
        return _ArticleInput("")
    published_at = None
    if document.date:
        try:
            published_at = dt.date.fromisoformat(document.date[:10])
        except ValueError:
            pass
    return _ArticleInput(
        document.text or "",
        title=document.title or None,
        publisher=document.sitename or None,
        published_at=published_at,
    )


def _read_article(name: str, fetcher: Fetcher) -> _ArticleInput:
    """Fetch a URL, or read a file: .html/.htm as a web page, anything else as plain text.

    Raises ``_InputError``, or the fetch errors of ``quotes_db.fetching``."""
    if _is_url(name):
        fetched = fetcher.fetch(name)
        return _ArticleInput(
            fetched.text, fetched.url, fetched.title, fetched.publisher, fetched.published_at
        )
    path = Path(name)
    if not path.is_file():
        raise _InputError("no such file")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _InputError("not UTF-8 text") from None
    except OSError as exc:
        raise _InputError(exc.strerror or str(exc)) from None
    if path.suffix.lower() in HTML_SUFFIXES:
        return _html_article(text)
    return _ArticleInput(text.replace("\r\n", "\n"))


def _ingest_one(
    store: QuoteStore, name: str, fetcher: Fetcher, args: argparse.Namespace
) -> IngestReport:
    from quotes_db.ingestion import ingest_article

    article = _read_article(name, fetcher)
    if not article.text.strip():
        raise _InputError("no article text found")
    return ingest_article(
        store,
        article.text,
        url=article.url,
        title=article.title if args.title is None else args.title,
        publisher=article.publisher if args.publisher is None else args.publisher,
        published_at=article.published_at,
        dry_run=args.dry_run,
    )


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _quote_counts(outcomes: Counter[str]) -> str:
    return (
        f"{outcomes['new']} new, {_plural(outcomes['appearance'], 'appearance')},"
        f" {outcomes['unattributed']} unattributed"
    )


def _report_lines(name: str, report: IngestReport) -> list[str]:
    outcomes = Counter(q.outcome for q in report.quotes)
    if report.article is None:
        what = "dry run, nothing stored"
    else:
        known = "new" if report.article_is_new else "already stored"
        what = f"article {report.article.id} ({known})"
    lines = [f"{name}: {what}; {_plural(len(report.quotes), 'quote')}: {_quote_counts(outcomes)}"]
    for found in report.quotes:
        quote = found.extracted
        text = quote.text if len(quote.text) <= 70 else quote.text[:69] + "…"
        lines.append(f"  {found.outcome:<12} {quote.speaker or '(no speaker)'}: “{text}”")
    return lines


def cmd_ingest(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from quotes_db.fetching import Fetcher

    from . import SETTINGS

    articles: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    failed = 0
    with (
        _opened(args.database_url) as store,
        Fetcher(
            max_bytes=SETTINGS["FETCH_MAX_BYTES"],
            connect_timeout=SETTINGS["FETCH_CONNECT_TIMEOUT"],
            read_timeout=SETTINGS["FETCH_READ_TIMEOUT"],
            total_timeout=SETTINGS["FETCH_TOTAL_TIMEOUT"],
            allow_private=args.allow_private,
        ) as fetcher,
        tqdm(args.inputs, desc="ingest", unit=" articles", file=sys.stderr, disable=None) as bar,
    ):
        for name in bar:
            try:
                report = _ingest_one(store, name, fetcher, args)
            except StoreUnavailableError:
                raise  # no input can succeed: stop here
            except (_InputError, QuotesDbError) as exc:
                tqdm.write(f"error: {name}: {exc}", file=sys.stderr)
                failed += 1
                continue
            articles["new" if report.article_is_new else "known"] += 1
            outcomes.update(q.outcome for q in report.quotes)
            for line in _report_lines(name, report):
                tqdm.write(line, file=sys.stdout)
    done = articles["new"] + articles["known"]
    if args.dry_run:
        summary = f"dry run, nothing stored: {_plural(done, 'article')} read"
    else:
        summary = f"{_plural(done, 'article')}: {articles['new']} new, {articles['known']} known"
    summary += f"; quotes: {_quote_counts(outcomes)}"
    if failed:
        summary += f"; {failed} of {len(args.inputs)} inputs failed"
    print(summary)
    return 1 if failed else 0


def _verify_remote(args: argparse.Namespace) -> dict[str, Any]:
    import requests

    endpoint = args.url.rstrip("/") + "/v1/verify"
    body: dict[str, Any] = {"text": args.text}
    if args.speaker is not None:
        body["speaker"] = args.speaker
    if args.limit is not None:
        body["limit"] = args.limit
    with requests.Session() as session:
        try:
            response = session.post(endpoint, json=body, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT))
        except requests.Timeout:
            raise CommandError(f"{endpoint}: the server did not answer in time", code=2) from None
        except requests.ConnectionError:
            raise CommandError(f"{endpoint}: cannot connect to the server", code=2) from None
        except requests.RequestException as exc:
            raise CommandError(f"{endpoint}: request failed: {exc}", code=2) from None
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not response.ok:
        detail = ""
        if isinstance(answer, dict):
            detail = str(answer.get("detail") or answer.get("title") or "")
        reason = f"{response.status_code} {response.reason}" + (f": {detail}" if detail else "")
        raise CommandError(f"{endpoint}: the server answered {reason}", code=2)
    if not isinstance(answer, dict):
        raise CommandError(f"{endpoint}: the server's answer is not a JSON object", code=2)
    return answer


def _verify_local(args: argparse.Namespace) -> dict[str, Any]:
    from quotes_db.matching import verify

    with _opened(args.database_url) as store:
        limit = 3 if args.limit is None else args.limit
        return verification_dict(verify(store, args.text, speaker=args.speaker, limit=limit))


def render_verification(answer: dict[str, Any]) -> str:
    """Return a verification (as the API's JSON) as text for a person to read."""
    lines = [
        f"verdict:     {answer['verdict']} (confidence {answer['confidence']:.3f})",
        f"summary:     {answer['summary']}",
    ]
    attribution = answer.get("attribution") or {}
    if attribution.get("claimed"):
        agrees = {True: "agrees", False: "does not agree", None: "nothing to compare"}
        lines.append(
            f"attribution: credited to {attribution['claimed']}, recorded as"
            f" {attribution.get('recorded') or '-'} ({agrees[attribution.get('agrees')]})"
        )
    for number, match in enumerate(answer.get("matches") or [], 1):
        quote = match["quote"]
        context = f" ({quote['context']})" if quote.get("context") else ""
        lines += [
            "",
            f"{number}. {match['match']}, similarity {match['similarity']:.2f}:"
            f" {quote['speaker']['name']}{context}",
            f"   “{quote['text']}”",
        ]
        title = (quote.get("source") or {}).get("title")
        if title:
            lines.append(f"   source: {title}")
        changes = [_diff_line(d) for d in match.get("diff") or [] if d["op"] != "equal"]
        if changes:
            lines.append("   diff:   " + "\n           ".join(changes))
    return "\n".join(lines)


def _diff_line(op: dict[str, str]) -> str:
    removed = f'- "{op["original"]}"' if op["original"] else ""
    added = f'+ "{op["submitted"]}"' if op["submitted"] else ""
    return " ".join(part for part in (removed, added) if part)


def cmd_verify(args: argparse.Namespace) -> int:
    answer = _verify_remote(args) if args.url else _verify_local(args)
    if args.json:
        print(json.dumps(answer, ensure_ascii=False, indent=2))
    else:
        print(render_verification(answer))
    return 0


def _gunicorn() -> str:
    beside = Path(sys.executable).parent / "gunicorn"
    if beside.is_file():
        return str(beside)
    found = shutil.which("gunicorn")
    if found is None:
        raise CommandError(f"gunicorn is not installed next to {sys.executable} nor on PATH")
    return found


def cmd_serve(args: argparse.Namespace) -> int:
    with _opened(args.database_url, require_schema=False) as store:
        _init_store(store, seeds=True)
    gunicorn = _gunicorn()
    # the app factory reads its settings from QUOTECHECK_* variables
    os.environ[DATABASE_URL_ENV] = args.database_url
    argv = [gunicorn]
    config = REPO_ROOT / "docker" / "gunicorn.conf.py"
    if config.is_file():
        argv += ["--config", str(config)]
    argv += ["--bind", f"{args.host}:{args.port}"]
    if args.workers is not None:
        argv += ["--workers", str(args.workers)]
    argv.append("api:create_app()")
    print(f"serving on http://{args.host}:{args.port}", flush=True)
    sys.stderr.flush()
    os.execvp(gunicorn, argv)


def cmd_keys_create(args: argparse.Namespace) -> int:
    from quotes_db.keys import generate_key

    key = generate_key()
    with _opened(args.database_url) as store:
        record = store.add_api_key(args.name, args.scope, key.key_id, key.salt, key.digest)
    print(f"created {record.scope} key {record.key_id} ({record.name})", file=sys.stderr)
    print("the key is shown this once; only a salted hash of it is stored:", file=sys.stderr)
    print(key.token)
    return 0


def cmd_keys_list(args: argparse.Namespace) -> int:
    with _opened(args.database_url) as store:
        keys = store.list_api_keys()
    if not keys:
        print("no API keys; make one with `quotecheck keys create --name NAME`", file=sys.stderr)
        return 0
    print(f"{'KEY_ID':<14}{'SCOPE':<7}{'CREATED':<22}{'REVOKED':<22}NAME")
    for key in keys:
        created = key.created_at.strftime("%Y-%m-%d %H:%M:%S")
        revoked = key.revoked_at.strftime("%Y-%m-%d %H:%M:%S") if key.revoked_at else "-"
        print(f"{key.key_id:<14}{key.scope:<7}{created:<22}{revoked:<22}{key.name}")
    return 0


def cmd_keys_revoke(args: argparse.Namespace) -> int:
    with _opened(args.database_url) as store:
        key = store.revoke_api_key(args.key_id)
    print(f"revoked key {key.key_id} ({key.name})")
    return 0


# the parser --------------------------------------------------------------------------------


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive number")
    return number


def _port(value: str) -> int:
    number = _positive(value)
    if number > 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port number")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="quotecheck", description="Verify quotes against a database of attributed quotes."
    )
    parser.add_argument(
        "--database-url",
        help=f"the database (default: ${DATABASE_URL_ENV}, else sqlite:///instance/quotecheck.db)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    init = commands.add_parser("init", help="create or migrate the database, load seed quotes")
    init.add_argument("--no-seeds", action="store_true", help="do not load the seed quotes")
    init.set_defaults(handler=cmd_init)

    imp = commands.add_parser("import", help="upsert quotes by ref from .jsonl[.gz] or .csv")
    imp.add_argument("files", nargs="+", type=Path, metavar="FILE")
    imp.set_defaults(handler=cmd_import)

    exp = commands.add_parser("export", help="write every quote as JSON Lines (.gz: gzipped)")
    exp.add_argument("file", type=Path, metavar="FILE")
    exp.set_defaults(handler=cmd_export)

    ing = commands.add_parser(
        "ingest", help="store articles (URLs, .txt or .html files) and the quotes in them"
    )
    ing.add_argument("inputs", nargs="+", metavar="URL|FILE")
    ing.add_argument("--dry-run", action="store_true", help="report, but store nothing")
    ing.add_argument("--title", help="the articles' title (instead of the page's)")
    ing.add_argument("--publisher", help="the articles' publisher (instead of the page's)")
    # tests only: fetch from a server on the loopback interface
    ing.add_argument("--allow-private", action="store_true", help=argparse.SUPPRESS)
    ing.set_defaults(handler=cmd_ingest)

    ver = commands.add_parser("verify", help="verify a quote against the stored quotes")
    ver.add_argument("text", metavar="TEXT")
    ver.add_argument("--speaker", help="the speaker the text is credited to")
    ver.add_argument("--limit", type=_positive, help="most matches to show (default 3)")
    ver.add_argument("--json", action="store_true", help="print the API's JSON answer")
    ver.add_argument("--url", help="ask the server at this URL instead of the local database")
    ver.set_defaults(handler=cmd_verify)

    keys = commands.add_parser("keys", help="create, list and revoke API keys for writes")
    key_commands = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    create = key_commands.add_parser("create", help="make a key and print it (once)")
    create.add_argument("--name", required=True, help="who or what the key is for")
    create.add_argument("--scope", choices=API_KEY_SCOPES, default="write")
    create.set_defaults(handler=cmd_keys_create)
    key_commands.add_parser("list", help="list keys (never their secrets)").set_defaults(
        handler=cmd_keys_list
    )
    revoke = key_commands.add_parser("revoke", help="revoke a key by its KEY_ID")
    revoke.add_argument("key_id", metavar="KEY_ID")
    revoke.set_defaults(handler=cmd_keys_revoke)

    serve = commands.add_parser("serve", help="run init, then serve the API with gunicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=_port, default=8000)
    serve.add_argument("--workers", type=_positive, help="gunicorn worker processes")
    serve.set_defaults(handler=cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``quotecheck`` command line; return the exit code."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error argparse has already reported
        return exc.code if isinstance(exc.code, int) else 2
    if not args.database_url:
        args.database_url = default_database_url()
    try:
        return int(args.handler(args))
    except CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.code
    except StoreUnavailableError as exc:
        print(f"error: the database is unavailable: {exc}", file=sys.stderr)
        return 1
    except QuotesDbError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        name = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {name}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
