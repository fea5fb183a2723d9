"""The seed quotes shipped in ``seeds/``: the founding article's quote and a few dozen
public-domain presidential speech sentences, loaded by ``quotecheck init``."""

from __future__ import annotations

from pathlib import Path

from .importing import import_file
from .models import ImportReport
from .store import QuoteStore

__all__ = ["SEED_FILE", "load_seeds"]

SEED_FILE = Path(__file__).resolve().parent.parent / "seeds" / "quotes.jsonl"


def load_seeds(store: QuoteStore, path: Path = SEED_FILE) -> ImportReport:
    """Upsert the seed quotes (by ref, so loading twice changes nothing); return the counts."""
    return import_file(store, path)
