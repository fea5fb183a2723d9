"""The language's own words, for telling a misspelling from a real word.

A misspelling is a non-word: neither the store nor the language knows it. The store's
vocabulary comes from its quotes. The language's is the union of two packaged lists:
wordfreq's English words with a Zipf frequency of at least ``MIN_ZIPF`` (inflected forms
included; rarer entries of that list are mostly web misspellings such as "geting"), and
the dictionary headwords of Webster's Second and GCIDE from ``english-words`` (rare but
real words, base forms only).
"""

from __future__ import annotations

import functools

__all__ = ["MIN_ZIPF", "is_english_word", "load"]

MIN_ZIPF = 2.5


@functools.cache
def load() -> frozenset[str]:
    """Return the set of known English words (loaded once per process, ~0.5 s)."""
    from english_words import get_english_words_set
    from wordfreq import get_frequency_dict

    floor = 10 ** (MIN_ZIPF - 9)
    frequent = (w for w, f in get_frequency_dict("en", wordlist="large").items() if f >= floor)
    dictionary = get_english_words_set(["web2", "gcide"], alpha=True, lower=True)
    words = {w.replace("'", "").replace("\u2019", "") for w in frequent}
    words.update(dictionary)
    return frozenset(words)


def is_english_word(word: str) -> bool:
    """Return True when ``word`` (normalised: lower case, no apostrophes) is English."""
    return word in load()
