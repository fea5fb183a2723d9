"""Benchmark stores: write a store's quotes file, import it through the project's own import
path (``quotes_db.importing.import_file``), and cache both under ``.cache/bench/``.

A store is reused when its manifest (written only after a successful import) records the
expected number of quotes, the schema version the current code migrates to, and the same
fingerprint of the storage code; otherwise it is rebuilt and the import timed afresh.

The import runs in a child process (``python -m bench.stores DB QUOTES``) so that its time
and peak memory are its own and the benchmark process stays small.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .corpus import Corpus, size_label

__all__ = ["CACHE", "BuiltStore", "database_bytes", "ensure_store", "read_texts"]

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "bench"
DATA_VERSION = 1  # bump when the generated quotes change
# The storage code whose changes can make a built store stale.
STORAGE_CODE = (
    "sqlite_store.py",
    "postgres_store.py",
    "storage.py",
    "schema.py",
    "importing.py",
    "normalization.py",
    "store.py",
    "models.py",
)
BACKENDS = ("sqlite", "postgresql")
# The PostgreSQL server the bench builds its stores on (a database per size, kept).
POSTGRES_URL = os.environ.get(
    "QUOTECHECK_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


@dataclass(frozen=True, slots=True)
class BuiltStore:
    """A store ready to query, with what its (possibly earlier) build measured."""

    label: str
    count: int
    real: int
    synthetic: int
    db: Path
    quotes: Path  # the .jsonl.gz that was imported
    manifest: dict
    cached: bool
    backend: str = "sqlite"

    @property
    def url(self) -> str:
        return postgres_url(self.label) if self.backend == "postgresql" else f"sqlite:///{self.db}"

    @property
    def where(self) -> str:
        return self.url.rsplit("@", 1)[-1] if self.backend == "postgresql" else str(self.db)

    def size_bytes(self) -> int:
        """The database's size on disk (with SQLite's -wal)."""
        if self.backend == "postgresql":
            return postgres_bytes(self.url)
        return sum(database_bytes(self.db))


def postgres_url(label: str) -> str:
    """The URL of the bench's PostgreSQL database for a store size."""
    return f"{POSTGRES_URL.rsplit('/', 1)[0]}/quotecheck_bench_{label}"


def postgres_bytes(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    return int(row[0]) if row else 0


def _postgres_schema(url: str) -> int | None:
    """The schema version of the bench database at ``url``; None when it does not exist."""
    import psycopg

    from quotes_db.store import open_store

    try:
        psycopg.connect(url, connect_timeout=5).close()
    except psycopg.Error:
        return None
    store = open_store(url)
    try:
        return int(store.schema_version())  # type: ignore[attr-defined]
    finally:
        store.close()


def _recreate_postgres(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[-1]
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def code_fingerprint() -> str:
    """Return a short hash of the storage code (a changed importer may store other data)."""
    digest = hashlib.blake2b(digest_size=8)
    for name in STORAGE_CODE:
        path = ROOT / "quotes_db" / name
        digest.update(name.encode())
        digest.update(path.read_bytes() if path.exists() else b"")
    return digest.hexdigest()


def current_schema_version() -> int:
    """Return the schema version that ``migrate()`` of the current code produces."""
    from quotes_db.store import open_store

    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/schema.db")
        try:
            return int(store.migrate())
        finally:
            store.close()


def _user_version(db: Path) -> int | None:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return None


def database_bytes(db: Path) -> tuple[int, int]:
    """Return the sizes of the database file and of its write-ahead log (0 when absent)."""
    wal = db.with_name(db.name + "-wal")
    return (
        db.stat().st_size if db.exists() else 0,
        wal.stat().st_size if wal.exists() else 0,
    )


def _remove_database(db: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)


def write_quotes(records: Iterable[dict], path: Path) -> int:
    """Write ``records`` as gzipped JSON Lines (written aside, then renamed); return how many."""
    tmp = path.with_name(path.name + ".tmp")
    count = 0
    with gzip.open(tmp, "wt", encoding="utf-8", compresslevel=1) as out:
        batch: list[str] = []
        for record in records:
            batch.append(json.dumps(record, ensure_ascii=False))
            count += 1
            if len(batch) == 10_000:
                out.write("\n".join(batch) + "\n")
                batch.clear()
        if batch:
            out.write("\n".join(batch) + "\n")
    tmp.replace(path)
    return count


def read_texts(path: Path) -> tuple[list[str], list[str]]:
    """Return the texts and refs of a quotes file, in file order."""
    texts, refs = [], []
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                record = json.loads(line)
                texts.append(record["text"])
                refs.append(record["ref"])
    return texts, refs


def _read_manifest(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _ensure_quotes_file(corpus: Corpus, n: int, label: str) -> Path:
    path = CACHE / f"quotes-{label}.jsonl.gz"
    manifest_path = CACHE / f"quotes-{label}.json"
    manifest = _read_manifest(manifest_path)
    if path.exists() and manifest == {"version": DATA_VERSION, "count": n}:
        return path
    _log(f"[{label}] writing {n:,} quotes to {path.relative_to(ROOT)}")
    start = time.perf_counter()
    count = write_quotes(corpus.store_records(n), path)
    if count != n:
        raise RuntimeError(f"wrote {count} quotes, expected {n}")
    manifest_path.write_text(json.dumps({"version": DATA_VERSION, "count": n}))
    _log(f"[{label}] wrote {count:,} quotes in {time.perf_counter() - start:.1f} s")
    return path


def _stale_reasons(
    manifest: dict | None, db: Path, n: int, schema: int, *, url: str | None = None
) -> list[str]:
    """Why the cached store (the SQLite file ``db``, or the PostgreSQL database at ``url``)
    cannot be reused; empty when it can."""
    found = _postgres_schema(url) if url else _user_version(db) if db.exists() else None
    if manifest is None or found is None:
        return ["no complete build"]
    reasons = []
    if manifest.get("version") != DATA_VERSION or manifest.get("count") != n:
        reasons.append("other quotes")
    if manifest.get("schema") != schema or found != schema:
        reasons.append(f"schema {manifest.get('schema')} -> {schema}")
    if manifest.get("code") != code_fingerprint():
        reasons.append("storage code changed")
    return reasons


def ensure_store(
    corpus: Corpus,
    n: int,
    *,
    rebuild: bool = False,
    reuse: bool = False,
    backend: str = "sqlite",
) -> BuiltStore:
    """Return the store of ``n`` quotes, building (and timing) it unless a usable one exists.

    ``rebuild`` always rebuilds; ``reuse`` keeps a complete store even when the storage code
    changed since it was built (it still must hold the same quotes under the same schema).
    """
    CACHE.mkdir(parents=True, exist_ok=True)
    label = size_label(n)
    db = CACHE / f"store-{label}.db"
    suffix = "" if backend == "sqlite" else f"-{backend}"
    manifest_path = CACHE / f"store-{label}{suffix}.json"
    manifest = _read_manifest(manifest_path)
    schema = current_schema_version()
    real = min(n, len(corpus.pool))
    reasons = (
        ["--rebuild"]
        if rebuild
        else _stale_reasons(
            manifest, db, n, schema, url=postgres_url(label) if backend != "sqlite" else None
        )
    )
    if reuse and reasons == ["storage code changed"]:
        reasons = []
    if not reasons and manifest is not None:
        _log(f"[{label}] reusing the {backend} store (built {manifest.get('built_at')})")
        quotes = _ensure_quotes_file(corpus, n, label)
        return BuiltStore(label, n, real, n - real, db, quotes, manifest, True, backend)
    _log(f"[{label}] building the {backend} store ({', '.join(reasons)})")
    manifest_path.unlink(missing_ok=True)
    if backend == "sqlite":
        _remove_database(db)
        target = str(db)
    else:
        target = postgres_url(label)
        _recreate_postgres(target)
    quotes = _ensure_quotes_file(corpus, n, label)
    measured = run_import(target, quotes, label)
    if measured["count"] != n:
        raise RuntimeError(f"the store holds {measured['count']} quotes, expected {n}")
    manifest = {
        "version": DATA_VERSION,
        "count": n,
        "real": real,
        "synthetic": n - real,
        "schema": schema,
        "code": code_fingerprint(),
        "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        **measured,
    }
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    return BuiltStore(label, n, real, n - real, db, quotes, manifest, False, backend)


def run_import(db: str, quotes: Path, label: str) -> dict:
    """Import ``quotes`` into a fresh store at ``db`` (a SQLite path or a PostgreSQL URL) in
    a child process; return its report."""
    proc = subprocess.run(
        [sys.executable, "-m", "bench.stores", str(db), str(quotes), label],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"the import of {quotes} failed (exit status {proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


class _Progress:
    """import_file's progress callback: notes when it is first called, logs every 5 s."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.start = self.shown = time.perf_counter()
        self.first: float | None = None
        self.stored = 0

    def __call__(self, n: int) -> None:
        now = time.perf_counter()
        if self.first is None:
            self.first = now - self.start
            _log(f"[{self.label}] import: first progress after {self.first:.1f} s")
        self.stored += n
        if now - self.shown >= 5:
            self.shown = now
            elapsed = now - self.start
            _log(f"[{self.label}] import: {self.stored:,} quotes stored, {elapsed:.1f} s")


def _peak_rss_bytes() -> int:
    with open("/proc/self/status", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _cpu_seconds() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _import_main(target: str, quotes: Path, label: str) -> dict:
    from quotes_db.importing import import_file
    from quotes_db.store import open_store

    db = Path(target)
    store = open_store(target if "://" in target else f"sqlite:///{db}")
    store.migrate()
    cpu_before = _cpu_seconds()
    progress = _Progress(label)
    start = progress.start
    _log(f"[{label}] import: reading {quotes.name}")
    report = import_file(store, quotes, progress=progress)
    seconds = time.perf_counter() - start
    if "://" in target:
        main_bytes, wal_bytes = postgres_bytes(target), 0
    else:
        main_bytes, wal_bytes = database_bytes(db)
    count = store.count_quotes()
    store.close()
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    _log(f"[{label}] import: {count:,} quotes in {seconds:.1f} s ({count / seconds:,.0f}/s)")
    return {
        "count": count,
        "created": report.created,
        "import_seconds": round(seconds, 3),
        "quotes_per_second": round(count / seconds, 1),
        "read_seconds": None if progress.first is None else round(progress.first, 3),
        "wal_bytes_after_import": wal_bytes,
        "db_bytes_after_import": main_bytes,
        # VmHWM, not ru_maxrss: after fork and exec, ru_maxrss still counts the parent's pages
        "peak_rss_bytes": _peak_rss_bytes(),
        # the largest helper process import_file started, if any (they are reaped by now)
        "children_peak_rss_bytes": kids.ru_maxrss * 1024,
        "cpu_seconds": round(
            me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime - cpu_before, 2
        ),
    }


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: python -m bench.stores DB QUOTES LABEL")
    result = _import_main(sys.argv[1], Path(sys.argv[2]), sys.argv[3])
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    os._exit(0)  # skip tearing down a large heap
