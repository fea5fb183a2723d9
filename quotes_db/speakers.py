"""Whether a credited speaker is the recorded one: name, alias, surname, or titled surname."""

from __future__ import annotations

import re
import unicodedata

from .models import Speaker

__all__ = ["name_tokens", "speaker_agrees"]

# Words that may stand before a name without changing who is meant.
TITLES = frozenset(
    """
    the a an former late current then future ex president presidents vice pres
    us u s usa america american united states of britain british uk
    senator sen congressman congresswoman representative rep governor gov mayor
    secretary minister prime premier chancellor chief justice judge attorney general
    gen lt col colonel major capt captain admiral commander sergeant
    mr mrs ms miss mx dr doctor prof professor sir dame lord lady king queen prince
    princess emperor empress pope saint st rev reverend father sister brother rabbi imam
    speaker leader chairman chairwoman chair ceo founder candidate nominee
    first state federal party democratic republican dem gop house senate
    ambassador envoy commissioner councillor councilor councilman councilwoman alderman
    delegate deputy assistant associate director administrator spokesman spokeswoman
    spokesperson press adviser advisor treasurer comptroller lieutenant marshal field air
    foreign defence defense home interior finance treasury health education labor labour
    trade energy environment transport war navy army
    hon honorable honourable right rt his her excellency majesty holiness highness
    duchess baron baroness countess sheikh sultan emir shah tsar czar kaiser
    cardinal archbishop pastor
    author writer poet novelist playwright philosopher scientist physicist economist
    historian journalist activist actor actress singer comedian coach
    nobel laureate presidential white un n eu nato
    russian french german chinese japanese korean indian pakistani israeli palestinian
    iranian iraqi syrian turkish ukrainian polish italian spanish portuguese dutch belgian
    swiss austrian swedish norwegian danish finnish greek irish scottish welsh english
    european canadian mexican brazilian argentine cuban venezuelan australian african
    egyptian saudi afghan south north
    """.split()
)
# After a name: these tell one person from another ("Donald Trump Jr." is not his father)...
_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "v"})
# ...and these are honours and degrees, which do not ("Winston Churchill MP")
_POSTNOMINALS = frozenset(
    {"esq", "phd", "md", "mp", "mep", "msp", "qc", "kc", "obe", "cbe", "mbe", "kbe", "dbe"}
    | {"om", "frs", "kg", "kt", "gcb", "pc", "ret"}
)
_WORD_RE = re.compile(r"[^\W_]+")


def _suffix(name: str) -> str | None:
    tokens = _WORD_RE.findall(name.casefold())
    while tokens and tokens[-1] in _POSTNOMINALS:
        tokens.pop()
    return tokens[-1] if tokens and tokens[-1] in _SUFFIXES else None


def name_tokens(name: str) -> list[str]:
    """Return the lower-case words of a name, without accents, periods or suffixes."""
    folded = unicodedata.normalize("NFKD", name.casefold())
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    plain = plain.replace("'", "").replace("\u2019", "")
    tokens = _WORD_RE.findall(plain)
    while tokens and (tokens[-1] in _SUFFIXES or tokens[-1] in _POSTNOMINALS):
        tokens.pop()
    return tokens


def _agrees_with_name(claimed: list[str], recorded: list[str]) -> bool:
    if not claimed or not recorded:
        return False
    if claimed == recorded:
        return True
    # Drop leading titles ("former U.S. President ..."), keep the rest.
    start = 0
    while start < len(claimed) - 1 and claimed[start] in TITLES:
        start += 1
    rest = claimed[start:]
    if rest == recorded:
        return True
    # The surname must be the recorded surname; any other word must be part of the
    # recorded name ("Donald Trump" for "Donald J. Trump"), or a lone initial of one.
    if rest[-1] != recorded[-1]:
        return False
    recorded_set = set(recorded)
    initials = {w[0] for w in recorded}
    return all(w in recorded_set or (len(w) == 1 and w in initials) for w in rest[:-1])


def speaker_agrees(claimed: str, speaker: Speaker) -> bool:
    """Return True when ``claimed`` names ``speaker``: its name, an alias, or the surname of
    either, alone or with titles ("Trump", "President Trump", "former U.S. President Donald
    Trump"), in any case and spacing."""
    claimed_tokens = name_tokens(claimed)
    claimed_suffix = _suffix(claimed)
    return any(
        _agrees_with_name(claimed_tokens, name_tokens(name))
        # "Donald Trump Jr." is not Donald Trump; "Martin Luther King" is Martin Luther King Jr.
        and (claimed_suffix is None or claimed_suffix == _suffix(name))
        for name in (speaker.name, *speaker.aliases)
    )
