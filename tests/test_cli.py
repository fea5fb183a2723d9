"""The ``quotecheck`` command, run in-process against a database in tmp_path."""

from __future__ import annotations

import gzip
import json
import os
import re
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import loopback_site

from api import cli
from quotes_db.importing import quote_record
from quotes_db.models import Quote
from quotes_db.seeding import SEED_FILE
from quotes_db.store import QuoteStore, open_store

SEED_COUNT = sum(  # the seed quotes; the file's other records (speakers' aliases) are not
    1
    for line in SEED_FILE.read_text(encoding="utf-8").splitlines()
    if line.strip() and '"text"' in line
)
SEED_QUOTE = (
    "If we're going to pay billions of dollars a year, tell them we're not going to give "
    "them the money unless they give back our military equipment"
)
MILLIONS = SEED_QUOTE.replace("billions", "millions")

JSONL = [
    {"ref": "t:1", "text": "The only thing we have to fear is fear itself.", "speaker": "FDR"},
    {
        "ref": "t:2",
        "text": "Ask not what your country can do for you.",
        "speaker": "John F. Kennedy",
        "said_at": "1961-01-20",
        "context": "Inaugural Address",
        "source": {"title": "Inaugural Address", "publisher": "Miller Center"},
        "tags": ["speech"],
    },
]
CSV = (
    "ref,text,speaker,said_at,source_title,tags\n"
    'c:1,"A house divided against itself, they say, cannot stand.",Abraham Lincoln,1858-06-16,'
    "House Divided Speech,speech;civil war\n"
    "c:2,Speak softly and carry a big stick.,Theodore Roosevelt,,,\n"
)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def write_jsonl(path: Path, records: list[dict] | list[str]) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def by_ref(store: QuoteStore, prefix: str) -> dict[str, Quote]:
    """The stored quotes whose ref starts with ``prefix``, by ref, in id order."""
    return {q.ref: q for q in store.iter_quotes() if q.ref and q.ref.startswith(prefix)}


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The database the commands use, named by $QUOTECHECK_DATABASE_URL."""
    monkeypatch.chdir(tmp_path)  # a stray default database would land here, not in the repo
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("QUOTECHECK_DATABASE_URL", url)
    return url


@pytest.fixture
def opened(db_url: str) -> Iterator[QuoteStore]:
    """A way to look into the CLI's database (opened after the commands ran)."""
    store = open_store(db_url)
    yield store
    store.close()


@pytest.fixture
def initialised(db_url: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert run(capsys, "init")[0] == 0
    return db_url


# init --------------------------------------------------------------------------------------


def test_init_migrates_and_loads_seeds_once(
    db_url: str, opened: QuoteStore, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "init")
    assert code == 0
    from quotes_db.schema import SCHEMA_VERSION

    assert f"schema version {SCHEMA_VERSION}" in out
    assert f"loaded {SEED_COUNT} seed quotes" in out
    assert opened.count_quotes() == SEED_COUNT

    code, out, _ = run(capsys, "init")
    assert code == 0
    assert f"already holds {SEED_COUNT} quotes" in out
    assert opened.count_quotes() == SEED_COUNT


def test_init_without_seeds(
    db_url: str, opened: QuoteStore, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "init", "--no-seeds")
    assert code == 0
    assert "not loaded" in out
    assert opened.count_quotes() == 0
    opened.ping()


def test_init_defaults_to_the_instance_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("QUOTECHECK_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "init", "--no-seeds")
    assert code == 0
    assert (tmp_path / "instance" / "quotecheck.db").is_file()
    assert str(tmp_path / "instance" / "quotecheck.db") in out


def test_database_url_option_beats_the_environment(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other.db"
    assert run(capsys, "--database-url", f"sqlite:///{other}", "init", "--no-seeds")[0] == 0
    assert other.is_file()
    assert not (tmp_path / "cli.db").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--database-url", "mysql://db/quotes", "init"], "unsupported database URL"),
        (["verify", "anything"], "quotecheck init"),  # no database yet
        (["export", "out.jsonl"], "quotecheck init"),
    ],
)
def test_errors_are_messages_not_tracebacks(
    db_url: str, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 1
    assert err.startswith("error: ")
    assert message in err


def test_an_unreadable_database_is_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    code, _, err = run(capsys, "--database-url", f"sqlite:///{blocker}/q.db", "init")
    assert code == 1
    assert "error:" in err


@pytest.mark.parametrize("argv", [["verify", "x", "--limit", "0"], ["frobnicate"], []])
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert "usage:" in err


# import ------------------------------------------------------------------------------------


def test_import_jsonl_and_csv(
    initialised: str, tmp_path: Path, opened: QuoteStore, capsys: pytest.CaptureFixture[str]
) -> None:
    jsonl = write_jsonl(tmp_path / "quotes.jsonl", JSONL)
    csv = tmp_path / "quotes.csv"
    csv.write_text(CSV, encoding="utf-8")

    code, out, err = run(capsys, "import", jsonl, csv)
    assert (code, err) == (0, "")
    assert f"{jsonl}: 2 created, 0 updated, 0 unchanged" in out
    assert f"{csv}: 2 created, 0 updated, 0 unchanged" in out
    assert opened.count_quotes() == SEED_COUNT + 4

    lincoln = by_ref(opened, "c:1")["c:1"]
    assert lincoln.ref == "c:1"
    assert lincoln.text == "A house divided against itself, they say, cannot stand."
    assert lincoln.said_at.isoformat() == "1858-06-16"
    assert lincoln.source.title == "House Divided Speech"
    assert lincoln.tags == ("speech", "civil war")
    assert quote_record(by_ref(opened, "t:2")["t:2"]) == JSONL[1]

    # upsert by ref: the same files again change nothing; an edited record is updated
    changed = [JSONL[0], {**JSONL[1], "context": "Inaugural Address, 1961"}]
    write_jsonl(jsonl, changed)
    code, out, _ = run(capsys, "import", jsonl, csv)
    assert code == 0
    assert f"{jsonl}: 0 created, 1 updated, 1 unchanged" in out
    assert f"{csv}: 0 created, 0 updated, 2 unchanged" in out
    assert opened.count_quotes() == SEED_COUNT + 4


def test_import_gzipped_jsonl(
    initialised: str, tmp_path: Path, opened: QuoteStore, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "quotes.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.write("".join(json.dumps(r) + "\n" for r in JSONL))
    code, out, _ = run(capsys, "import", path)
    assert code == 0
    assert "2 created" in out
    assert [quote_record(q) for q in by_ref(opened, "t:").values()] == JSONL


BAD_FILES = {
    "bad.jsonl": "\n".join(
        [
            json.dumps({"ref": "b:1", "text": "First good line.", "speaker": "A"}),
            json.dumps({"ref": "b:2", "text": "Second good line.", "speaker": "B"}),
            json.dumps({"ref": "b:3", "text": "No speaker here."}),
            json.dumps({"ref": "b:4", "text": "A good line after it.", "speaker": "C"}),
        ]
    ),
    "broken.jsonl": "\n".join(
        [
            json.dumps({"ref": "b:1", "text": "First good line.", "speaker": "A"}),
            json.dumps({"ref": "b:2", "text": "Second good line.", "speaker": "B"}),
            '{"ref": "b:3", "text": "cut off',  # not JSON at all
        ]
    ),
    "bad.csv": "ref,text,speaker\nb:1,First good line.,A\nb:2,,B\nb:3,Third line.,C\n",
}


@pytest.mark.parametrize("name", BAD_FILES)
def test_import_a_bad_line_writes_nothing_of_that_file(
    initialised: str,
    tmp_path: Path,
    opened: QuoteStore,
    capsys: pytest.CaptureFixture[str],
    name: str,
) -> None:
    good = write_jsonl(tmp_path / "good.jsonl", JSONL)
    bad = tmp_path / name
    bad.write_text(BAD_FILES[name] + "\n", encoding="utf-8")

    code, out, err = run(capsys, "import", bad, good)
    assert code == 1
    assert f"{bad}, line 3" in err
    assert "nothing from this file was imported" in err
    assert str(bad) not in out
    # the bad file left nothing behind; the good one after it was imported
    assert by_ref(opened, "b:") == {}
    assert set(by_ref(opened, "t:")) == {"t:1", "t:2"}
    assert opened.find_speaker("A") is None


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.jsonl", None, "no such file"),
        ("quotes.txt", "hello", "unknown file type"),
        ("fake.jsonl.gz", "not gzip", "unreadable file"),
    ],
)
def test_import_unusable_files(
    initialised: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    content: str | None,
    message: str,
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    code, _, err = run(capsys, "import", path)
    assert code == 1
    assert str(path) in err
    assert message in err


def test_import_needs_an_initialised_database(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "import", write_jsonl(tmp_path / "q.jsonl", JSONL))
    assert code == 1
    assert "quotecheck init" in err


# export ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["export.jsonl", "export.jsonl.gz"])
def test_export_round_trips(
    initialised: str,
    tmp_path: Path,
    opened: QuoteStore,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
) -> None:
    csv = tmp_path / "quotes.csv"
    csv.write_text(CSV, encoding="utf-8")
    assert run(capsys, "import", write_jsonl(tmp_path / "q.jsonl", JSONL), csv)[0] == 0
    exported = tmp_path / name
    code, out, _ = run(capsys, "export", exported)
    assert code == 0
    assert f"{SEED_COUNT + 4} quotes exported" in out
    if name.endswith(".gz"):
        assert exported.read_bytes()[:2] == b"\x1f\x8b"

    copy_url = f"sqlite:///{tmp_path / 'copy.db'}"
    monkeypatch.setenv("QUOTECHECK_DATABASE_URL", copy_url)
    assert run(capsys, "init", "--no-seeds")[0] == 0
    code, out, _ = run(capsys, "import", exported)
    assert code == 0
    assert f"{SEED_COUNT + 4} created" in out

    copy = open_store(copy_url)
    try:
        original = [quote_record(q) for q in opened.iter_quotes()]
        assert [quote_record(q) for q in copy.iter_quotes()] == original
        assert copy.document_frequencies(["billions", "fear"]) == opened.document_frequencies(
            ["billions", "fear"]
        )
    finally:
        copy.close()


def test_export_to_an_unwritable_place(
    initialised: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "export", tmp_path / "no" / "such" / "dir" / "out.jsonl")
    assert code == 1
    assert "cannot write" in err


# ingest ------------------------------------------------------------------------------------

SEED_ARTICLE = SEED_FILE.parent / "taliban-equipment-article.txt"
LIBRARIES = "We will open three new public libraries across the city next year"
MAYOR_ARTICLE = (
    "The council met on Tuesday to discuss the budget.\n"
    f"“{LIBRARIES},” Mayor Jane Doe said at the meeting.\n"
    "An unnamed spokeswoman said, “The libraries will open on schedule next spring.”\n"
)
MAYOR_PAGE = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Libraries for every district</title></head>
<body><article><h1>Libraries for every district</h1>
<p>The council met on Tuesday to discuss the budget for the coming year, and the
mayor had news for residents who had waited years for new public services.</p>
<p>“{LIBRARIES},” Mayor Jane Doe said at the meeting, to applause from the gallery.</p>
<p>Residents welcomed the plan, which follows years of cuts to public services and long
waiting lists at the two libraries the city still runs.</p>
</article></body></html>
"""


def test_ingest_text_files(
    initialised: str, tmp_path: Path, opened: QuoteStore, capsys: pytest.CaptureFixture[str]
) -> None:
    mayor = tmp_path / "mayor.txt"
    mayor.write_text(MAYOR_ARTICLE, encoding="utf-8")
    code, out, err = run(capsys, "ingest", SEED_ARTICLE, mayor, "--publisher", "Courier")
    assert (code, err) == (0, "")
    assert f"{SEED_ARTICLE}: article 1 (new); 1 quote: 0 new, 1 appearance, 0 unattributed" in out
    assert f"{mayor}: article 2 (new); 2 quotes: 1 new, 0 appearances, 1 unattributed" in out
    assert "appearance   Donald Trump: “If we’re going to pay" in out
    assert out.splitlines()[-1] == (
        "2 articles: 2 new, 0 known; quotes: 1 new, 1 appearance, 1 unattributed"
    )
    assert opened.list_articles().total == 2
    [(seed_quote, appearance)] = opened.article_quotes(1)
    assert seed_quote.ref == "seed:taliban-equipment-rally"
    assert (appearance.source.publisher, appearance.article_id) == ("Courier", 1)
    [(new_quote, _)] = opened.article_quotes(2)
    assert (new_quote.speaker.name, new_quote.review) == ("Jane Doe", "pending")

    # again: the articles are known, nothing new is stored
    code, out, _ = run(capsys, "ingest", SEED_ARTICLE, mayor)
    assert code == 0
    assert out.splitlines()[-1].startswith("2 articles: 0 new, 2 known;")
    assert opened.list_articles().total == 2


def test_ingest_dry_run_stores_nothing(
    initialised: str, opened: QuoteStore, capsys: pytest.CaptureFixture[str]
) -> None:
    quotes = opened.count_quotes()
    code, out, _ = run(capsys, "ingest", SEED_ARTICLE, "--dry-run")
    assert code == 0
    assert f"{SEED_ARTICLE}: dry run, nothing stored; 1 quote: 0 new, 1 appearance" in out
    assert out.splitlines()[-1].startswith("dry run, nothing stored: 1 article read;")
    assert opened.list_articles().total == 0
    assert opened.count_quotes() == quotes


def test_ingest_html_file(
    initialised: str, tmp_path: Path, opened: QuoteStore, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "libraries.html"
    page.write_text(MAYOR_PAGE, encoding="utf-8")
    code, out, _ = run(capsys, "ingest", page)
    assert code == 0
    assert "new          Jane Doe: “We will open three new public libraries" in out
    [article] = opened.list_articles().items
    assert article.title == "Libraries for every district"
    assert "<p>" not in article.text and LIBRARIES in article.text


def test_ingest_failures_are_reported_and_the_rest_goes_on(
    initialised: str, tmp_path: Path, opened: QuoteStore, capsys: pytest.CaptureFixture[str]
) -> None:
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("“Ça va très bien, merci beaucoup,” she said.".encode("cp1252"))
    empty = tmp_path / "empty.txt"
    empty.write_text(" \n", encoding="utf-8")
    code, out, err = run(
        capsys, "ingest", tmp_path / "missing.txt", latin1, empty, "http://127.0.0.1:9/",
        SEED_ARTICLE,
    )  # fmt: skip
    assert code == 1
    assert f"error: {tmp_path / 'missing.txt'}: no such file" in err
    assert f"error: {latin1}: not UTF-8 text" in err
    assert f"error: {empty}: no article text found" in err
    # without the hidden --allow-private, the loopback interface is never fetched
    assert "error: http://127.0.0.1:9/: 127.0.0.1 is a loopback address" in err
    assert out.splitlines()[-1].endswith("; 4 of 5 inputs failed")
    assert opened.list_articles().total == 1


def test_ingest_url(
    initialised: str, opened: QuoteStore, capsys: pytest.CaptureFixture[str]
) -> None:
    page = {"/libraries.html": (MAYOR_PAGE.encode(), "text/html; charset=utf-8")}
    with loopback_site(page) as base:
        url = f"{base}/libraries.html"
        code, out, err = run(capsys, "ingest", url, "--allow-private", "--title", "Given")
    assert (code, err) == (0, "")
    assert f"{url}: article 1 (new); 1 quote: 1 new" in out
    [article] = opened.list_articles().items
    assert (article.url, article.title) == (url, "Given")


def test_ingest_help_hides_allow_private(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "ingest", "--help")
    assert code == 0
    assert "--dry-run" in out and "--allow-private" not in out


# verify ------------------------------------------------------------------------------------

VERIFICATION_KEYS = {
    "verdict", "confidence", "summary", "attribution", "matches", "pending_matches",
}  # fmt: skip
MATCH_KEYS = {"quote", "match", "similarity", "diff", "quote_span", "text_span"}
QUOTE_KEYS = {
    "id",
    "ref",
    "text",
    "speaker",
    "said_at",
    "context",
    "source",
    "tags",
    "review",
    "appearances",
    "first_appearance",
    "created_at",
    "updated_at",
}


def test_verify_human_output(initialised: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "verify", MILLIONS, "--speaker", "Joe Biden")
    assert (code, err) == (0, "")
    assert out.startswith("verdict:     misattributed (confidence ")
    assert "summary:     " in out
    assert "credited to Joe Biden, recorded as Donald Trump (does not agree)" in out
    assert "1. altered, similarity " in out
    assert "Donald Trump (rally)" in out
    assert "source: Seed article: the Taliban rejects Donald Trump" in out
    assert 'diff:   - "billions" + "millions"' in out


def test_verify_human_output_of_a_fragment(
    initialised: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "verify", "tell them we're not going to give them the money")
    assert code == 0
    assert out.startswith("verdict:     fragment")
    assert '- "If we’re going to pay billions of dollars a year"' in out
    assert "attribution:" not in out  # nobody was credited


def test_verify_no_match(initialised: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "verify", "The Taliban will return all equipment next week.")
    assert code == 0
    assert out.startswith("verdict:     no_match")
    assert not re.search(r"^\d+\. ", out, re.MULTILINE)  # no numbered match


def test_verify_json_output(initialised: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "verify", MILLIONS, "--json", "--limit", "1")
    assert code == 0
    answer = json.loads(out)
    assert set(answer) == VERIFICATION_KEYS
    assert answer["verdict"] == "altered"
    assert answer["attribution"] == {"claimed": None, "recorded": "Donald Trump", "agrees": None}
    [match] = answer["matches"]
    assert set(match) == MATCH_KEYS
    assert set(match["quote"]) == QUOTE_KEYS
    assert match["quote"]["ref"] == "seed:taliban-equipment-rally"
    assert set(match["quote"]["speaker"]) == {"id", "name"}
    assert set(match["quote"]["source"]) == {"title", "url", "publisher", "published_at"}
    assert match["quote"]["tags"] == ["seed", "afghanistan"]
    assert {"op": "replace", "original": "billions", "submitted": "millions"} in match["diff"]
    start, end = match["text_span"]
    assert MILLIONS[start:end] == MILLIONS


# verify --url: a real HTTP server on the loopback interface --------------------------------


@pytest.fixture
def live_server(app) -> Iterator[str]:
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        (MILLIONS, "Joe Biden"),
        (SEED_QUOTE, None),
        ("tell them we're not going to give them the money", "President Trump"),
        ("The Taliban will return all equipment next week.", None),
    ],
)
def test_verify_url_answers_like_the_local_store(
    live_server: str,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    text: str,
    speaker: str | None,
) -> None:
    # the server's database and the local one are the same
    monkeypatch.setenv("QUOTECHECK_DATABASE_URL", database_url)
    extra = ["--speaker", speaker] if speaker else []
    code, remote, err = run(capsys, "verify", text, *extra, "--json", "--url", live_server + "/")
    assert (code, err) == (0, "")
    code, local, _ = run(capsys, "verify", text, *extra, "--json")
    assert code == 0
    assert json.loads(remote) == json.loads(local)

    code, human, _ = run(capsys, "verify", text, *extra, "--url", live_server)
    assert code == 0
    assert human == run(capsys, "verify", text, *extra)[1]


def test_verify_url_server_refuses(live_server: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "verify", SEED_QUOTE, "--limit", "1000", "--url", live_server)
    assert code == 2
    assert out == ""
    assert "422" in err


def test_verify_url_not_found(live_server: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "verify", SEED_QUOTE, "--url", live_server + "/nowhere")
    assert code == 2
    assert "404" in err


def test_verify_url_closed_port(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, out, err = run(capsys, "verify", SEED_QUOTE, "--url", f"http://127.0.0.1:{port}")
    assert code == 2
    assert out == ""
    assert err == f"error: http://127.0.0.1:{port}/v1/verify: cannot connect to the server\n"


def test_verify_url_that_is_not_a_url(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "verify", SEED_QUOTE, "--url", "not a url")
    assert code == 2
    assert err.startswith("error: ")


# serve -------------------------------------------------------------------------------------


class Exec(Exception):
    """Stands in for os.execvp, which never returns."""


def test_serve_initialises_then_execs_gunicorn(
    db_url: str,
    opened: QuoteStore,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    calls = []

    def fake_execvp(file: str, args: list[str]) -> None:
        calls.append((file, args, os.environ["QUOTECHECK_DATABASE_URL"]))
        raise Exec

    monkeypatch.setattr(cli.os, "execvp", fake_execvp)
    with pytest.raises(Exec):
        cli.main(["serve", "--host", "127.0.0.1", "--port", "8123", "--workers", "2"])
    out = capsys.readouterr().out
    assert f"loaded {SEED_COUNT} seed quotes" in out
    assert opened.count_quotes() == SEED_COUNT

    [(file, args, env_url)] = calls
    assert Path(file) == Path(sys.executable).parent / "gunicorn"
    assert args[0] == file
    assert args[args.index("--bind") + 1] == "127.0.0.1:8123"
    assert args[args.index("--workers") + 1] == "2"
    assert args[-1] == "api:create_app()"
    assert env_url == db_url  # the app serves the database init prepared


def test_serve_rejects_a_bad_port(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "serve", "--port", "70000")
    assert code == 2
    assert "not a port number" in err


# keys --------------------------------------------------------------------------------------


def test_keys_create_prints_the_key_once_and_stores_only_a_digest(
    initialised: str, opened: QuoteStore, capsys: pytest.CaptureFixture[str]
) -> None:
    from quotes_db.keys import parse_key, verify_secret

    code, out, err = run(capsys, "keys", "create", "--name", "newsroom curator")
    assert code == 0
    token = out.strip()
    presented = parse_key(token)
    assert presented is not None, out
    assert f"write key {presented.key_id}" in err
    found = opened.find_api_key(presented.key_id)
    assert found is not None
    record, salt, digest = found
    assert (record.name, record.scope) == ("newsroom curator", "write")
    assert verify_secret(presented.secret, salt, digest)
    db = Path(initialised.removeprefix("sqlite:///"))
    for path in db.parent.glob(db.name + "*"):  # the database and its write-ahead log
        assert presented.secret.encode() not in path.read_bytes()

    code, out, _ = run(capsys, "keys", "list")
    assert code == 0
    assert presented.key_id in out and "newsroom curator" in out
    assert presented.secret not in out


def test_keys_revoke_and_list(initialised: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "keys", "create", "--name", "ops", "--scope", "admin")
    assert code == 0
    key_id = out.strip().split("_")[1]
    code, out, _ = run(capsys, "keys", "revoke", key_id)
    assert (code, out.strip()) == (0, f"revoked key {key_id} (ops)")
    code, out, _ = run(capsys, "keys", "list")
    line = next(line for line in out.splitlines() if line.startswith(key_id))
    assert " admin " in line and " - " not in line  # a revocation time, not "-"


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (("keys", "revoke", "nosuchkey123"), 1, "no API key with id 'nosuchkey123'"),
        (("keys", "create", "--name", "x", "--scope", "read"), 2, "invalid choice"),
        (("keys", "create"), 2, "--name"),
        (("keys", "create", "--name", " "), 1, "a key needs a name"),
    ],
)
def test_keys_errors(
    initialised: str, capsys: pytest.CaptureFixture[str], argv: tuple, code: int, message: str
) -> None:
    got, _, err = run(capsys, *argv)
    assert got == code
    assert message in err


def test_keys_list_when_there_are_none(
    initialised: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "keys", "list")
    assert (code, out) == (0, "")
    assert "no API keys" in err
