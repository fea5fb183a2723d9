"""The exceptions quotes_db raises; the HTTP layer maps each to one status."""

from __future__ import annotations

__all__ = [
    "ConflictError",
    "ImportFormatError",
    "InvalidQuoteError",
    "NotFoundError",
    "QuotesDbError",
    "StoreUnavailableError",
]


class QuotesDbError(Exception):
    """Base class for every error quotes_db raises on purpose."""


class NotFoundError(QuotesDbError):
    """The quote or speaker asked for does not exist."""


class ConflictError(QuotesDbError):
    """A write would break a uniqueness rule (a ref, a speaker name or alias)."""


class InvalidQuoteError(QuotesDbError):
    """A quote record is unusable (no words in its text, no speaker, a bad date...)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class ImportFormatError(QuotesDbError):
    """A line of an import file is malformed; ``line`` is 1-based."""

    def __init__(self, message: str, *, line: int, path: str | None = None) -> None:
        where = f"{path}:{line}" if path else f"line {line}"
        super().__init__(f"{where}: {message}")
        self.message = message
        self.line = line
        self.path = path

    def __reduce__(self) -> tuple[object, ...]:
        # keyword-only arguments: rebuild explicitly (it crosses process boundaries)
        return (_import_format_error, (self.message, self.line, self.path))


def _import_format_error(message: str, line: int, path: str | None) -> ImportFormatError:
    return ImportFormatError(message, line=line, path=path)


class StoreUnavailableError(QuotesDbError):
    """The database cannot be reached or opened."""
