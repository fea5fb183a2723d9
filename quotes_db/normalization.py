"""Text normalisation: the word sequence that comparison works on, with spans in the original.

Comparison ignores case, punctuation, quote marks, dashes, whitespace, soft hyphens,
zero-width characters, line breaks, hyphenation across a line break and Unicode form
(NFKC). Every token keeps the character span it came from, so that spans and diffs can be
reported against the text the caller sent, not against our normalised copy.

One limit: a single character whose compatibility form holds several words ("¼" is
"1⁄4") gives each of those words the span of that one character.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["NormalizedText", "Token", "has_words", "normalize", "words"]

# Characters that carry no letters and are dropped before anything else.
_INVISIBLE = dict.fromkeys(
    map(
        ord,
        "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u200e\u200f"
        "\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069"
        "\ufeff\u3164\uffa0",
    ),
    None,
)
# Variants folded onto the few ASCII marks the tokenizer reasons about.
_FOLD = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u02bc": "'",
        "\u02bb": "'",
        "`": "'",
        "\u00b4": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2033": '"',
        "\u301d": '"',
        "\u301e": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2026": "...",
    }
)

_CJK = r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_ALNUM = rf"[^\W_{_CJK}]"
# Inside a word: an apostrophe, a hyphen (also one that ends a line), or a digit separator.
_JOIN = r"(?:'|-(?:[ \t]*\r?\n[ \t]*)?|(?<=\d)[,.](?=\d))"
_WORD_RE = re.compile(rf"[{_CJK}]|{_ALNUM}+(?:{_JOIN}{_ALNUM}+)*")
_STRIP_RE = re.compile(r"['\-\s,]")
_ASCII_ALNUM_RE = re.compile(r"[A-Za-z0-9]")
# The fast path of words(), for ASCII text without digit separators ("1,000", "1.5").
_DIGIT_JOIN = re.compile(r"[0-9][,.][0-9]")
_APOSTROPHE_JOIN = re.compile(r"(?<=[a-z0-9])'(?=[a-z0-9])")
_HYPHEN_JOIN = re.compile(r"(?<=[a-z0-9])-(?:[ \t]*\r?\n[ \t]*)?(?=[a-z0-9])")
_ASCII_SEPARATORS = str.maketrans({chr(c): " " for c in range(128) if not chr(c).isalnum()})
_ELLIPSIS_RE = re.compile(r"\.\s?\.\s?\.|\u2026|\[\s*\]")
# Characters that the fast path may fold one-for-one (so spans stay put) ...
_ONE_TO_ONE = str.maketrans(
    {
        **{k: v for k, v in _FOLD.items() if isinstance(v, str) and len(v) == 1},
        0xA0: " ",  # what NFKC makes of a no-break space
    }
)
# ... and the only non-ASCII characters it leaves in place: separators that NFKC would not
# turn into letters. Anything else takes the careful path.
_NEEDS_CAREFUL = re.compile(r"[^\x00-\x7f\u2013\u2014\u2015\u2026\u00a0\u2018\u2019\u201c\u201d]")


@dataclass(frozen=True, slots=True)
class Token:
    """One normalised word and the [start, end) span it came from in the original text."""

    norm: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class NormalizedText:
    """A text as a sequence of normalised tokens, plus the marks found between them.

    ``ellipsis_before[i]`` is true when an ellipsis (``...``, ``…``, ``[...]``) stands
    between token ``i - 1`` and token ``i`` (index ``len(tokens)`` means after the last).
    ``quote_before[i]`` likewise records a double quotation mark.
    """

    original: str
    tokens: tuple[Token, ...]
    ellipsis_before: tuple[bool, ...]
    quote_before: tuple[bool, ...]
    words: tuple[str, ...]  # the tokens' normalised words

    def span(self, first: int, last: int) -> tuple[int, int]:
        """Return the original-text span covering tokens ``first`` to ``last`` inclusive."""
        return self.tokens[first].start, self.tokens[last].end


def _canonical(text: str) -> tuple[str, list[int] | None, list[int] | None]:
    """Fold ``text`` for tokenizing; return it with maps to original starts and ends.

    Text that is ASCII apart from curly quotes, dashes, no-break spaces and "…" keeps its
    length (those fold one-for-one or separate words as they are), so no map is needed
    (``None``): the common case, and a fast one.
    """
    if text.isascii():
        return text.lower().replace("`", "'"), None, None
    if not _NEEDS_CAREFUL.search(text):
        return text.translate(_ONE_TO_ONE).lower(), None, None
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    n = len(text)

    def safe(a: int, b: int) -> None:  # a run that folds one-for-one, copied wholesale
        if a < b:
            out.append(text[a:b].translate(_ONE_TO_ONE).lower())
            starts.extend(range(a, b))
            ends.extend(range(a + 1, b + 1))

    pos = 0
    for match in _NEEDS_CAREFUL.finditer(text):
        k = match.start()
        if k < pos:
            continue  # inside a cluster already folded
        if unicodedata.combining(text[k]) and k > pos:
            k -= 1  # a combining mark folds together with the letter before it
        safe(pos, k)
        j = k + 1
        while j < n and unicodedata.combining(text[j]):
            j += 1
        piece = text[k:j].translate(_INVISIBLE).translate(_FOLD)
        if piece:
            folded = unicodedata.normalize("NFKC", piece).casefold().translate(_FOLD)
            folded = unicodedata.normalize("NFKC", folded).translate(_INVISIBLE)
            out.append(folded)
            starts.extend([k] * len(folded))
            ends.extend([j] * len(folded))
        pos = j
    safe(pos, n)
    return "".join(out), starts, ends


def normalize(text: str) -> NormalizedText:
    """Return ``text`` as normalised tokens with their spans in ``text``."""
    canon, starts, ends = _canonical(text)
    tokens: list[Token] = []
    ellipsis: list[bool] = []
    quotes: list[bool] = []
    prev_end = 0
    for m in _WORD_RE.finditer(canon):
        gap = canon[prev_end : m.start()]
        ellipsis.append(bool(_ELLIPSIS_RE.search(gap)))
        quotes.append('"' in gap)
        norm = _STRIP_RE.sub("", m.group())
        if starts is None or ends is None:
            tokens.append(Token(norm, m.start(), m.end()))
        else:
            tokens.append(Token(norm, starts[m.start()], ends[m.end() - 1]))
        prev_end = m.end()
    gap = canon[prev_end:]
    ellipsis.append(bool(_ELLIPSIS_RE.search(gap)))
    quotes.append('"' in gap)
    return NormalizedText(
        text, tuple(tokens), tuple(ellipsis), tuple(quotes), tuple(t.norm for t in tokens)
    )


def words(text: str) -> list[str]:
    """Return the normalised word sequence of ``text`` (what comparison and the index see).

    The same words as ``normalize(text).words``, computed faster: without spans, the joins
    inside words are plain substitutions and the rest is a split on everything else.
    """
    canon, starts, _ = _canonical(text)
    if starts is not None or not canon.isascii() or _DIGIT_JOIN.search(canon):
        found = _WORD_RE.findall(canon)
        # strip the joiners of all words in one pass (NUL never survives into a word)
        return _STRIP_RE.sub("", "\x00".join(found)).split("\x00") if found else []
    if "'" in canon:
        canon = _APOSTROPHE_JOIN.sub("", canon)
    if "-" in canon:
        canon = _HYPHEN_JOIN.sub("", canon)
    return canon.translate(_ASCII_SEPARATORS).split()


def has_words(text: str) -> bool:
    """Return True when ``text`` has at least one word (cheaper than ``words``)."""
    if text.isascii():
        return _ASCII_ALNUM_RE.search(text) is not None
    return bool(words(text))
