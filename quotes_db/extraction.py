"""Quotation extraction and speaker attribution for news article plain text.

``extract_quotes`` finds every direct quotation of at least ``min_words`` words (straight or
curly double quotes; single quotes inside them belong to the quote) and attributes it with
rules, never with a model:

* **Spans.** Quotation marks are paired within a paragraph (a line). A quote interrupted
  by its attribution (``"...," he said, "..."``) is two records; an opening mark without a
  closing one runs to the end of its paragraph, so a quote that spans paragraphs gives one
  record per paragraph. Titles of works, nicknames, labels and scare quotes are skipped:
  quotes in Title Case with no attribution, quotes right after "titled", "dubbed",
  "so-called", a work ("a story from Jan. 21, 2010, ...") or a determiner ("the ...").
* **Cues.** The attribution is read from the sentence: ``"...," X said``, ``said X``,
  ``X said: "..."``, ``X, a spokesman for Y, said``, ``according to X``, ``X told CNN``,
  ``"...," the ad reads``, ``Y quoted X as saying``, passive ``was asked by X``.
* **Mentions.** A pronoun goes to the last fitting named person (the subject of the
  sentence before first, gender from the article's own he/she and titles); "it" to an
  organisation; a document ("the e-mail", "Powell's flier", "a headline on X", "the
  website") to its owner, so campaign material goes to the candidate and an ad to the
  group; "the spokesman" to the last person introduced as one. A quote that is a sentence
  of its own continues the quote before it, or belongs to the person named in the sentence
  before. A quote with no attribution that repeats an attributed one (fact-checks restate
  claims) takes that speaker.
* **Names.** Short and titled mentions resolve to the fullest name the article gives
  ("Trump", "former U.S. President Donald Trump" -> "Donald Trump"); see ``resolve_names``.
* **Fact-check boilerplate.** "Featured Fact-check" boxes credit their claim to the box's
  speaker line (None for "Facebook posts", "Viral image" and the like); "Share the Facts"
  lines credit the claim to the name that follows it.

A speaker is None when the article does not say who (an anonymous post, an unnamed
spokeswoman, statute text): the extractor never guesses.
"""

from __future__ import annotations

import difflib
import re
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

__all__ = ["ExtractedQuote", "extract_quotes", "resolve_names"]


@dataclass(frozen=True, slots=True)
class ExtractedQuote:
    """One direct quotation: its text and span in the article, and who said it."""

    text: str
    start: int
    end: int
    speaker: str | None = None
    speaker_mention: str | None = None
    cue: str | None = None
    context: str | None = None
    aliases: tuple[str, ...] = ()


# --------------------------------------------------------------------------- vocabulary


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _verb_forms(lemmas: str) -> frozenset[str]:
    forms: set[str] = set()
    for lemma in lemmas.split():
        forms.add(lemma)
        if lemma.endswith("e"):
            forms.update({lemma + "s", lemma + "d", lemma[:-1] + "ing"})
        elif lemma.endswith("y") and lemma[-2] not in "aeiou":
            forms.update({lemma[:-1] + "ies", lemma[:-1] + "ied", lemma + "ing"})
        elif lemma.endswith(("sh", "ch", "ss", "x")):
            forms.update({lemma + "es", lemma + "ed", lemma + "ing"})
        else:
            forms.update({lemma + "s", lemma + "ed", lemma + "ing"})
    return frozenset(forms)


# Verbs that introduce a quotation.
CUE_VERBS = _verb_forms(
    """
        state add explain note argue claim insist contend assert declare announce ask answer
        reply respond remark comment observe warn suggest recall continue conclude joke muse
        crack admit acknowledge concede boast brag complain charge allege tweet post quote
        describe call testify promise vow pledge predict urge shout yell scream exclaim
        whisper mutter sigh laugh proclaim report indicate emphasize emphasise stress
        maintain mention recount reiterate repeat summarize summarise text email e-mail
        message caption retort counter opine chime agree disagree confirm deny thunder scoff
        tout blast slam praise criticize criticise accuse lament wonder question demand
        concur recollect caution advise instruct boom cry reason theorize theorise chant
        conclude find estimate forecast
        """
) | _words(
    """
        say says said saying tell tells told telling write writes wrote writing written
        found finds
        read reads reading quip quips quipped quipping snap snaps snapped snapping
        """
)
_PASSIVE_AUX = _words("was were is are been being be")
_SKIP_BEFORE_CUE = _words(
    "has have had was were is are be been being would will could should might may must do "
    "does did also later then once further previously recently again simply just only even "
    "first initially never often reportedly allegedly publicly privately quickly immediately "
    "promptly flatly bluntly repeatedly frequently famously not n't always still ultimately "
    "finally subsequently since"
)
_OBJECT_WORDS = _words(
    "us me him her them reporters you it this that himself herself themselves itself "
    "supporters listeners viewers readers"
)
PRONOUNS = _words("he she it they we i you")
_POSSESSIVE_DETS = _words("his her its their our my your")
_DETERMINERS = _words(
    "the a an this that these those another one some each any every no several many its his "
    "her their our my your"
)
_DEFINITE = _words("the this that these those")
_PREPOSITIONS = _words(
    "of in at on from to with by for about against near outside inside across through "
    "throughout into onto over under between among during after before via per toward "
    "towards upon within without around behind beyond along amid despite since until like "
    "unlike following regarding"
)
_RELATIVES = _words("who which whom whose that where")
_CONJUNCTIONS = _words("and but or then nor yet so")
_INTRO_WORDS = _PREPOSITIONS | _words(
    "when while although though if as because unless whether once after before since "
    "according however meanwhile still later earlier yes no indeed instead also asked "
    "speaking"
)

# Capitalized words that start sentences without being names.
_STOPWORDS = _words(
    """
    the a an in at on but and or nor however despite when while after before since during as
    if so this that these those it its he she they we our their his her there here what why
    how who whom whose which where according without with for from by of to under over also
    still even yet then now last next each every all some many most one two three four five
    six seven eight nine ten first second third finally meanwhile instead indeed clearly
    obviously unlike like among although though because unless until whether both either
    neither no not only just such other another any more less few several between through
    throughout against about above below across along around behind beyond inside outside
    near toward towards upon within via per plus whatever whenever wherever thus hence
    therefore moreover furthermore nevertheless nonetheless otherwise likewise similarly
    overall initially separately already again soon later earlier today yesterday tomorrow
    recently currently previously read share featured my your says said say editor note
    rating more info following is are was were be has have had do does did i you me him
    them us let yes okay ok well oh even perhaps maybe much very too sure true false half
    mostly pants fire correction update updated related see watch click sign subscribe
    """
)
_MONTHS = _words(
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec"
)
_DAYS = _words("monday tuesday wednesday thursday friday saturday sunday")
# Abbreviations whose period does not end a sentence.
_ABBREVIATIONS = _MONTHS | _words(
    """
    mr mrs ms dr st jr sr sen sens rep reps gov gen lt col maj capt sgt adm cmdr rev prof hon
    pres inc co corp ltd llc bros no vs etc mt ft ave blvd dept univ assn approx ala ariz ark
    calif colo conn del fla ga ill ind kan kans ky la md mass mich minn miss mo mont neb nev
    okla ore pa penn tenn tex va vt wash wis wisc wyo supt gens messrs
    """
)
_STATE_ABBREVIATIONS = _words(
    "ala ariz ark calif colo conn del fla ga ill ind kan kans ky la md mass mich minn miss mo "
    "mont neb nev okla ore pa penn tenn tex va vt wash wis wisc wyo wva nc sc nd sd nh nj nm "
    "ny ri dc"
)

# Words before a person's name that are not part of it ("former U.S. President").
PERSON_TITLES = _words(
    """
    president vice pres sen senator sens rep representative reps gov governor mayor
    secretary minister chancellor premier chief justice judge gen general lt col colonel maj
    major capt captain adm admiral cmdr commander sgt sergeant officer mr mrs ms miss mx dr
    prof professor sir dame lord lady king queen prince princess pope rev reverend father
    sister rabbi imam speaker leader chairman chairwoman chair ceo cfo coo founder
    commissioner director spokesman spokeswoman spokesperson economist sheriff
    superintendent councilman councilwoman councilmember congressman congresswoman
    assemblyman assemblywoman delegate former late us usa u s republican democrat democratic
    gop ambassador treasurer comptroller auditor coach detective deputy agent trooper host
    anchor columnist correspondent editor publisher author attorney lawyer analyst
    cartoonist commentator candidate nominee u.s dem
    """
)
_NEUTRAL_TITLES = _words("former late us usa u s u.s republican democrat democratic gop dem")
_MALE = _words(
    "mr sir king prince lord father brother spokesman congressman chairman councilman "
    "assemblyman businessman husband son boy man grandfather uncle nephew actor"
)
_FEMALE = _words(
    "mrs ms miss madam queen princess lady dame mother sister spokeswoman congresswoman "
    "chairwoman councilwoman assemblywoman businesswoman wife daughter girl woman "
    "grandmother aunt niece actress"
)
_MALE_PRONOUNS = _words("he him his himself")
_FEMALE_PRONOUNS = _words("she her hers herself")

# Words that make a name an organisation.
ORG_WORDS = _words(
    """
    pac committee corporation corp inc llc ltd co company foundation group department dept
    bureau agency administration association council center centre centers institute
    university college school party campaign times post news journal herald tribune press
    network media wire bank capital systems club union league coalition alliance fund
    project board commission office service services society trust church ministry army
    navy force corps police court congress senate assembly legislature caucus division
    authority federation organization organisation industries holdings partners associates
    labs publishing reserve politifact panel nations government gazette chronicle observer
    magazine radio television tv channel broadcasting review report institution cdc fbi cia
    epa irs nasa
    """
)
_CORPORATE = _words("corporation corp company co inc llc ltd holdings group plc")
_CONNECTORS = _words("of for and on the & at")
_PARTICLES = _words("de van von bin al la le du del della da di dos ten ter ibn")
_PLACE_FIRST = _words(
    "new north south east west northeast northwest southeast southwest central upper lower "
    "greater little old fort port mount lake san santa los las el"
)
_PLACE_LAST = _words(
    "street avenue road airport county island islands river mountains valley beach square "
    "tower boulevard highway bridge station stadium arena province region republic kingdom "
    "states city heights falls hills park"
)
PLACES = _words(
    """
    alabama alaska arizona arkansas california colorado connecticut delaware florida georgia
    hawaii idaho illinois indiana iowa kansas kentucky louisiana maine maryland
    massachusetts michigan minnesota mississippi missouri montana nebraska nevada ohio
    oklahoma oregon pennsylvania tennessee texas utah vermont virginia washington wisconsin
    wyoming america afghanistan pakistan china russia iran iraq syria israel ukraine mexico
    canada venezuela haiti cuba australia japan germany france britain england india korea
    taiwan turkey egypt europe africa asia brazil italy spain ireland scotland
    """
)
# Platforms: where something was posted, never who posted it.
PLATFORMS = _words(
    "facebook twitter instagram tiktok youtube reddit whatsapp telegram snapchat linkedin "
    "threads truth gab rumble parler x"
)

# Nouns for things that carry words: their owner is the speaker.
DOC_NOUNS = _words(
    """
    ad ads advertisement commercial spot mailer flier flyer brochure pamphlet leaflet e-mail
    email letter memo release statement report study website site page post tweet blog
    article story column op-ed editorial headline caption video image meme petition
    campaign bill law section strip cartoon book speech transcript survey document filing
    lawsuit complaint brief message text newsletter sign banner billboard graphic chart
    slide summary analysis claim remarks comments words promise pledge vow warning
    assertion headline piece segment broadcast episode podcast show program programme
    resolution amendment measure act clause provision rule regulation script order
    proclamation directive decree notice proposal plan manifesto platform policy
    """
)
# Nouns for what someone said: "Biden's claim that "..."" is Biden's.
SPEECH_NOUNS = _words(
    "claim claims statement statements remark remarks words comment comments promise pledge "
    "vow assertion argument warning boast message tweet post answer response reply quip"
)
# Verbs whose subject owns the document they introduce ("the group released an ad").
PUBLISH_VERBS = _words(
    "released ran aired published posted sent issued launched tweeted shared wrote circulated "
    "distributed mailed unveiled produced sponsored created put paid emailed e-mailed "
    "releases runs airs publishes posts sends issues launches shares writes circulates"
)
_VERB_DOCS = _words("tweet post email text message")
_DOC_FAMILY = {
    "e-mail": "email",
    "flyer": "flier",
    "mailer": "flier",
    "brochure": "flier",
    "advertisement": "ad",
    "commercial": "ad",
    "spot": "ad",
    "site": "website",
    "page": "website",
    "article": "story",
    "piece": "story",
}
# Nouns for people in a role; "the spokesman" is the last person introduced as one.
PERSON_ROLES = _words(
    """
    spokesman spokeswoman spokesperson official aide adviser advisor lawyer attorney analyst
    expert economist professor researcher scientist director president chairman chairwoman
    chair secretary manager consultant strategist candidate senator representative governor
    mayor lawmaker legislator member resident voter reader viewer user caller witness source
    person man woman officer agent detective sheriff deputy judge justice prosecutor teacher
    student doctor nurse worker employee executive ceo founder owner publisher editor
    reporter writer columnist host anchor commentator pundit blogger activist organizer
    leader minister ambassador diplomat general commander soldier veteran historian
    criminologist partner counsel staffer fellow dean cartoonist character guest alien critic
    supporter opponent challenger incumbent councilman councilwoman congressman
    congresswoman commissioner administrator trooper father mother son daughter wife husband
    friend neighbor neighbour spokespeople representative insider
    """
)
# Nouns for organisations; "the group" is the last organisation introduced as one.
ORG_ROLES = _words(
    """
    group organization organisation company firm agency department committee administration
    office outlet newspaper paper publication network station party pac union coalition
    association foundation institute center council board commission bureau ministry
    government team caucus nonprofit charity corporation bank manufacturer retailer
    think-tank watchdog
    """
)
_ROLE_NOUNS = PERSON_ROLES | ORG_ROLES | _words("site website blog")
# Plural nouns that name nobody in particular.
GENERIC_NOUNS = _words(
    """
    bloggers blogs posts users people officials experts democrats republicans conservatives
    liberals opponents supporters protesters residents voters viewers readers commenters
    researchers scientists analysts reports critics some others many social media viral
    images videos memes tweets messages emails websites sites sources observers pundits
    advocates activists lawmakers legislators politicians economists doctors teachers
    instagram multiple various chain
    """
)
# Nouns that say where a thing was said.
SETTING_NOUNS = _words(
    """
    rally speech interview conference briefing hearing debate town hall meeting event tweet
    post e-mail email letter statement op-ed column article story ad video website flier
    program show broadcast podcast radio television tv segment appearance remarks address
    introduction testimony session forum panel summit convention campaign studio book memo
    release report blog newsletter message text phone call episode documentary film visit
    luncheon dinner breakfast fundraiser ceremony floor news media facebook twitter
    instagram youtube tiktok commercial mailer brochure editorial interview stop
    """
)
_CONTEXT_PREPS = _words("in during at on while before from over via through")
_TITLE_MARKERS = _words(
    "titled entitled headlined dubbed nicknamed so-called labeled labelled branded billed "
    "slogan motto hashtag phrase term"
)
_WORK_NOUNS = _words(
    "story article column op-ed editorial book song film movie documentary show program "
    "programme series episode album poem play essay bill act law measure amendment "
    "resolution initiative proposition report study paper headline banner sign novel "
    "chapter website blog podcast"
)
_SMALL_WORDS = _words("of the and a an in on at to for by with from or nor but as vs & de")

_SUFFIXES = _words("jr sr ii iii iv")
_PARTY_TAG = re.compile(r"[RDI]-[A-Z]")
_QUOTE_MARKS = re.compile(r"[\"\u201c\u201d\u201e\u201f]")
_OPENERS = "\u201c\u201e\u201f"
_WORD_RE = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")
_TOKEN_RE = re.compile(r"[^\W_](?:[\w\u2019'.&\-]*[^\W_])?\.?|\S")
_APOSTROPHES = "'\u2019"


# --------------------------------------------------------------------------- structures


@dataclass(slots=True)
class _Span:
    """A quotation in the text: its marks and its trimmed content."""

    open: int
    close: int  # one past the closing mark, or the paragraph end when unclosed
    start: int
    end: int
    para: int
    closed: bool
    words: int
    token: int = -1


@dataclass(slots=True)
class _Token:
    start: int
    end: int
    text: str
    kind: str  # "w" word, "p" punctuation, "q" a whole quotation
    para: int
    lower: str = ""
    sent: int = -1
    quote: int = -1


@dataclass(slots=True)
class _Mention:
    run_first: int  # first token, titles included
    first: int  # first token of the name itself
    last: int
    key: tuple[str, ...]
    name: str  # the name as written, without titles or a possessive ending
    surface: str  # with titles ("former U.S. President Donald Trump")
    possessive: bool
    titles: tuple[str, ...]
    entity: int = -1


@dataclass(slots=True)
class _Entity:
    name: str
    key: tuple[str, ...]
    kind: str  # "person", "org", "place" or "unknown"
    gender: int = 0  # > 0 male, < 0 female
    surfaces: list[str] = field(default_factory=list)
    titled: bool = False  # a person's title was seen ("Sen.", "Mr.")


@dataclass(slots=True)
class _NP:
    """A noun phrase that can be a speaker: a name, pronoun, document, role or generic."""

    kind: str  # "name", "pronoun", "doc", "role", "org", "generic"
    first: int
    last: int
    head: str = ""
    det: str = ""
    mention: _Mention | None = None
    owner: _NP | None = None


@dataclass(slots=True)
class _Attribution:
    speaker: str | None = None
    mention: str | None = None
    cue: str | None = None
    context: str | None = None
    how: str = ""  # "" when nothing attributed the quote
    entity: int = -1


# --------------------------------------------------------------------------- quote spans


def _paragraphs(text: str) -> list[tuple[int, int]]:
    bounds = []
    start = 0
    for line in text.split("\n"):
        bounds.append((start, start + len(line)))
        start += len(line) + 1
    return bounds


def _quote_spans(text: str, paragraphs: Sequence[tuple[int, int]]) -> list[_Span]:
    """Pair quotation marks within each paragraph; an unclosed quote runs to its end."""
    spans: list[_Span] = []
    for para, (p0, p1) in enumerate(paragraphs):
        open_at: int | None = None
        for mark in _QUOTE_MARKS.finditer(text, p0, p1):
            i, ch = mark.start(), mark.group()
            if open_at is None:
                inch = ch == '"' and i > p0 and text[i - 1].isdigit()  # a 55" screen
                if ch != "\u201d" and not inch:
                    open_at = i
            elif ch == '"' or ch == "\u201d":
                _add_span(text, spans, open_at, i, i + 1, para, closed=True)
                open_at = None
            # a second opening curly mark while open is taken as part of the quote
        if open_at is not None:
            _add_span(text, spans, open_at, p1, p1, para, closed=False)
    return spans


def _add_span(
    text: str, spans: list[_Span], open_at: int, stop: int, close: int, para: int, *, closed: bool
) -> None:
    start, end = open_at + 1, stop
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    n_words = len(_WORD_RE.findall(text, start, end))
    spans.append(_Span(open_at, close, start, end, para, closed, n_words))


# --------------------------------------------------------------------------- tokens


def _is_abbreviation(word: str) -> bool:
    base = word[:-1]
    if "." in base or (len(base) == 1 and base.isalpha()):
        return True
    low = base.lower()
    return low in _ABBREVIATIONS or low.rsplit("-", 1)[-1] in _ABBREVIATIONS


def _tokenize(
    text: str, paragraphs: Sequence[tuple[int, int]], spans: Sequence[_Span]
) -> list[_Token]:
    tokens: list[_Token] = []
    by_para: dict[int, list[int]] = {}
    for n, span in enumerate(spans):
        by_para.setdefault(span.para, []).append(n)
    for para, (p0, p1) in enumerate(paragraphs):
        pos = p0
        for n in [*by_para.get(para, []), -1]:
            stop = spans[n].open if n >= 0 else p1
            for m in _TOKEN_RE.finditer(text, pos, stop):
                word = m.group()
                kind = "w" if word[0].isalnum() else "p"
                if (
                    kind == "w"
                    and len(word) > 1
                    and word.endswith(".")
                    and not (_is_abbreviation(word))
                ):
                    tokens.append(_Token(m.start(), m.end() - 1, word[:-1], "w", para))
                    tokens.append(_Token(m.end() - 1, m.end(), ".", "p", para))
                else:
                    tokens.append(_Token(m.start(), m.end(), word, kind, para))
            if n >= 0:
                span = spans[n]
                span.token = len(tokens)
                tokens.append(
                    _Token(span.open, span.close, text[span.open : span.close], "q", para, quote=n)
                )
                pos = span.close
    for tok in tokens:
        tok.lower = tok.text.lower()
    return tokens


def _quote_ends_sentence(text: str, span: _Span) -> str:
    """The sentence-final mark the quote ends with ("." / "?" / "!"), or ""."""
    content = text[span.start : span.end].rstrip(" '\u2019\u2018")
    return content[-1] if content and content[-1] in ".?!\u2026" else ""


def _split_sentences(text: str, tokens: list[_Token], spans: Sequence[_Span]) -> list[int]:
    """Give each token its sentence number; return each sentence's first token index."""
    starts: list[int] = []
    sent = -1
    for i, tok in enumerate(tokens):
        new = i == 0 or tok.para != tokens[i - 1].para
        if not new:
            prev = tokens[i - 1]
            upper = tok.kind == "q" or tok.text[0].isupper() or tok.text[0].isdigit()
            if prev.kind == "p" and prev.text in ".?!\u2026" and (upper or tok.text in "([\u2022"):
                new = True
            elif prev.kind == "q" and prev.quote >= 0:
                mark = _quote_ends_sentence(text, spans[prev.quote])
                new = bool(mark) and (
                    (mark in ".\u2026" and upper) or (mark in "?!" and tok.kind == "q")
                )
        if new:
            sent += 1
            starts.append(i)
        tok.sent = sent
    return starts


# --------------------------------------------------------------------------- mentions


def _norm(word: str) -> str:
    low = word.lower().replace(".", "")
    if low.endswith(("'s", "\u2019s")):
        low = low[:-2]
    return low.replace("'", "").replace("\u2019", "")


def _is_possessive(word: str) -> bool:
    return word.endswith(("'s", "\u2019s"))


def _is_cap(tok: _Token) -> bool:
    if tok.kind != "w" or not tok.text[0].isupper():
        return False
    low = _norm(tok.text)
    return (
        low not in _MONTHS
        and low not in _DAYS
        and tok.text != "I"
        and not _PARTY_TAG.match(tok.text)  # "R-Ohio", "D-N.Y."
    )


class _Article:
    """Everything the rules read: tokens, sentences, names, roles, boilerplate regions."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.paragraphs = _paragraphs(text)
        self.spans = _quote_spans(text, self.paragraphs)
        self.tokens = _tokenize(text, self.paragraphs, self.spans)
        self.sent_starts = _split_sentences(text, self.tokens, self.spans)
        self.lower_words = {t.text for t in self.tokens if t.kind == "w" and t.text.islower()}
        self.norm_words = {_norm(t.text) for t in self.tokens if t.kind == "w"}
        self.midcaps = {
            t.text
            for i, t in enumerate(self.tokens)
            if _is_cap(t) and i > 0 and self.sent_starts[t.sent] != i
        }
        self.mentions = self._find_mentions()
        self.mention_firsts = [m.first for m in self.mentions]
        self.mention_by_last = {m.last: m for m in self.mentions}
        self.mention_by_first: dict[int, _Mention] = {}
        for m in self.mentions:
            self.mention_by_first[m.first] = m
            self.mention_by_first.setdefault(m.run_first, m)
        self.entities = self._link_entities()
        self.roles: list[tuple[int, str, int]] = []  # (token, role noun, entity)
        self._find_roles()
        self._vote_gender()
        self.boxes = _find_boxes(text)
        self.stf = _stf_regions(text)
        # fact-check boilerplate: no antecedents, continuations or document owners in here
        self.regions = [(b.start, b.end) for b in self.boxes] + self.stf

    # sentences ----------------------------------------------------------------------

    def sentence_bounds(self, sent: int) -> tuple[int, int]:
        start = self.sent_starts[sent]
        stop = self.sent_starts[sent + 1] if sent + 1 < len(self.sent_starts) else len(self.tokens)
        return start, stop

    def in_region(self, pos: int) -> bool:
        return any(a <= pos < b for a, b in self.regions)

    # names ----------------------------------------------------------------------------

    def _find_mentions(self) -> list[_Mention]:
        mentions: list[_Mention] = []
        tokens = self.tokens
        i = 0
        while i < len(tokens):
            if not _is_cap(tokens[i]):
                i += 1
                continue
            run = [i]
            j = i + 1
            while j < len(tokens) and tokens[j].sent == tokens[i].sent:
                if _is_cap(tokens[j]):
                    run.append(j)
                    j += 1
                elif self._joins(run, j):
                    run.extend((j, j + 1))
                    j += 2
                else:
                    break
            # a possessive ends the run unless a capitalised word follows ("Sam's Misguided")
            for n, k in enumerate(run[:-1]):
                if _is_possessive(tokens[k].text) and not _is_cap(tokens[run[n + 1]]):
                    run = run[: n + 1]
                    break
            mention = self._make_mention(run)
            if mention is not None:
                mentions.append(mention)
            i = max(j, i + 1)
        return mentions

    def _joins(self, run: list[int], j: int) -> bool:
        """A lower-case word inside a name: "Ludwig van Beethoven", "Bureau of Labor
        Statistics"; not "Park Corporation of Charleston" nor "Larry Kilgore of Arlington"."""
        tokens = self.tokens
        tok = tokens[j]
        nxt = tokens[j + 1] if j + 1 < len(tokens) else None
        if nxt is None or nxt.sent != tok.sent or not _is_cap(nxt):
            return False
        if tok.lower in _PARTICLES:
            return True
        return (
            tok.lower in _CONNECTORS
            and any(_norm(tokens[k].text) in ORG_WORDS for k in run)
            and not (tok.lower in ("of", "in", "at") and _norm(tokens[run[-1]].text) in _CORPORATE)
        )

    def _starts_sentence(self, k: int) -> bool:
        if self.sent_starts[self.tokens[k].sent] == k:
            return True
        prev = self.tokens[k - 1] if k > 0 else None
        return prev is not None and (prev.kind == "q" or prev.text in ":\u2022-\u2014(")

    def _trim(self, run: list[int]) -> list[int]:
        """Drop a sentence's capitalised first word unless it looks like a name ("Despite
        Trump's ultimatum"), and titles at the end ("Amy Klobuchar U.S. senator")."""
        tokens = self.tokens
        while run and self._starts_sentence(run[0]):
            tok = tokens[run[0]]
            low = _norm(tok.text)
            common = tok.text not in self.midcaps and low in self.lower_words
            shout = tok.text.isupper() and len(tok.text) > 1
            if not ((low in _STOPWORDS and not shout) or common or low in GENERIC_NOUNS):
                break
            if len(run) > 1 and "".join(_norm(tokens[k].text) for k in run) in self.norm_words:
                break  # "Your News Wire" is "YourNewsWire"
            run = run[1:]
        while run and tokens[run[0]].lower in _CONNECTORS | _PARTICLES:
            run = run[1:]
        while len(run) > 1 and _norm(tokens[run[-1]].text) in PERSON_TITLES:
            run = run[:-1]
        return run

    def _make_mention(self, run: list[int]) -> _Mention | None:
        tokens = self.tokens
        run = self._trim(run)
        if not run:
            return None
        norms = [_norm(tokens[k].text) for k in run]
        first = 0
        for n in range(len(run) - 1):
            # "Senate Majority Leader Chuck Schumer", but "U.S. Bureau of Labor Statistics"
            if norms[n] in PERSON_TITLES and not any(w in ORG_WORDS for w in norms[n + 1 :]):
                first = n + 1
        name_idx = run[first:]
        key = tuple(norms[first:])
        if len(key) == 1 and (
            key[0] in GENERIC_NOUNS
            or key[0] in DOC_NOUNS
            or key[0] in PERSON_ROLES
            or key[0] in PERSON_TITLES
            or key[0] in _STOPWORDS
        ):
            return None
        last_tok = tokens[name_idx[-1]]
        possessive = _is_possessive(last_tok.text)
        nxt = name_idx[-1] + 1
        if not possessive and nxt < len(tokens) and tokens[nxt].text in _APOSTROPHES:
            possessive = last_tok.text.endswith("s")
        name_end = last_tok.end - (2 if _is_possessive(last_tok.text) else 0)
        name = self.text[tokens[name_idx[0]].start : name_end]
        surface_start = tokens[run[0]].start
        k = run[0] - 1
        while k >= 0 and tokens[k].kind == "w" and tokens[k].lower in _words("former late then"):
            surface_start = tokens[k].start
            k -= 1
        surface = self.text[surface_start:name_end]
        titles = tuple(norms[:first])
        return _Mention(run[0], name_idx[0], name_idx[-1], key, name, surface, possessive, titles)

    def _link_entities(self) -> list[_Entity]:
        entities: list[_Entity] = []
        full = [m for m in self.mentions if len(m.key) >= 2]
        for m in full:
            for n, e in enumerate(entities):
                if _same_name(m.key, e.key):
                    m.entity = n
                    if len(m.key) > len(e.key):
                        e.key, e.name = m.key, m.name
                    break
            else:
                m.entity = len(entities)
                entities.append(_Entity(m.name, m.key, _kind_of(m)))
        for m in self.mentions:
            if m.entity < 0:
                m.entity = self._resolve_short(m, entities)
        best: dict[int, _Mention] = {}
        for m in self.mentions:  # the fullest form: most letters, then first seen
            held = best.get(m.entity)
            if held is None or len("".join(m.key)) > len("".join(held.key)):
                best[m.entity] = m
        for n, m in best.items():
            entities[n].name, entities[n].key = m.name, m.key
        for m in self.mentions:
            e = entities[m.entity]
            if any(n in ORG_WORDS for n in m.key):
                e.kind = "org"
            for surface in (m.surface, m.name):
                if surface != e.name and surface.lower() not in (s.lower() for s in e.surfaces):
                    e.surfaces.append(surface)
            for t in m.titles:
                e.gender += (t in _MALE) - (t in _FEMALE)
                if t not in _NEUTRAL_TITLES:
                    e.titled = True
        return entities

    def _resolve_short(self, m: _Mention, entities: list[_Entity]) -> int:
        """The entity a short mention names: "Trump" is the Donald Trump nearest before it
        (else the first after it), "EPA" the Environmental Protection Agency."""
        fitting = {n for n, e in enumerate(entities) if e.kind != "place" and _shortens(m.key, e)}
        best, best_distance = -1, None
        for other in self.mentions:
            if other.entity not in fitting or other is m:
                continue
            distance = m.first - other.first if other.first < m.first else 10**9 + other.first
            if best_distance is None or distance < best_distance:
                best, best_distance = other.entity, distance
        if best >= 0:
            return best
        for n, e in enumerate(entities):
            if e.key == m.key:
                return n
        entities.append(_Entity(m.name, m.key, _kind_of(m)))
        return len(entities) - 1

    # roles and gender ------------------------------------------------------------------

    def _find_roles(self) -> None:
        """Record who holds a role: "Gov. X", "X, a spokesman for Y", "advocacy group X"."""
        tokens = self.tokens
        for m in self.mentions:
            for t in m.titles:
                role = {"gov": "governor", "sen": "senator", "rep": "representative"}.get(t, t)
                self.roles.append((m.first, role, m.entity))
            k = m.last + 1
            if k < len(tokens) and tokens[k].text == "," and not m.possessive:
                role = self._role_after(k + 1)
                if role:
                    self._add_role(m, role)
            k = m.run_first - 1
            if k >= 0 and tokens[k].kind == "w" and tokens[k].sent == tokens[m.first].sent:
                low = _norm(tokens[k].text)
                if low in _ROLE_NOUNS:
                    self._add_role(m, low)

    def _role_after(self, k: int) -> str:
        tokens = self.tokens
        role = ""
        for n in range(k, min(k + 8, len(tokens))):
            tok = tokens[n]
            if tok.kind != "w" or tok.lower in _PREPOSITIONS or tok.lower in _RELATIVES:
                break
            low = _norm(tok.text)
            if low in _ROLE_NOUNS:
                role = low
        return role

    def _add_role(self, m: _Mention, role: str) -> None:
        e = self.entities[m.entity]
        self.roles.append((m.first, role, m.entity))
        if role in ORG_ROLES or role in ("website", "site", "blog"):
            if not e.titled and e.gender == 0:
                e.kind = "org"
        elif role in PERSON_ROLES and not any(w in ORG_WORDS for w in e.key):
            e.kind = "person"
        e.gender += (role in _MALE) - (role in _FEMALE)

    def _vote_gender(self) -> None:
        """A sentence about one person that says "he" or "she" tells that person's gender."""
        for sent in range(len(self.sent_starts)):
            start, stop = self.sentence_bounds(sent)
            people = {
                m.entity
                for m in self.mentions_in(start, stop)
                if self.entities[m.entity].kind == "person"
            }
            if len(people) != 1:
                continue
            (entity,) = people
            first = min(m.first for m in self.mentions_in(start, stop) if m.entity == entity)
            for tok in self.tokens[first:stop]:
                if tok.lower in _MALE_PRONOUNS:
                    self.entities[entity].gender += 1
                    break
                if tok.lower in _FEMALE_PRONOUNS:
                    self.entities[entity].gender -= 1
                    break

    def mentions_in(self, start: int, stop: int) -> list[_Mention]:
        """The name mentions that start in tokens ``start`` to ``stop`` (exclusive)."""
        return self.mentions[
            bisect_left(self.mention_firsts, start) : bisect_left(self.mention_firsts, stop)
        ]


def _year_comma(tokens: Sequence[_Token], i: int) -> bool:
    """A comma inside a date ("July 10, 2009, e-mail")."""
    nxt = tokens[i + 1].text if i + 1 < len(tokens) else ""
    prev = tokens[i - 1].text if i > 0 else ""
    return (nxt.isdigit() and len(nxt) == 4) or (prev.isdigit() and len(prev) == 4)


def _shortens(key: tuple[str, ...], e: _Entity) -> bool:
    """Whether ``key`` is a short form of the entity's name: its surname, the same letters,
    its acronym (an organisation's), or its first words."""
    if len(key) == 1 and len(e.key) >= 2 and e.key[-1] == key[0] and e.kind != "org":
        return True
    if "".join(e.key) == "".join(key):
        return True
    if len(key) == 1 and len(key[0]) >= 2 and e.kind == "org" and key[0] == _acronym(e.key):
        return True
    return len(key) >= 2 and e.key[: len(key)] == key


def _same_name(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Two full names of one bearer: equal, one inside the other with the same surname,
    or the same letters ("YourNewsWire", "Your News Wire")."""
    if a == b or "".join(a) == "".join(b):
        return True
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    if long_[-1] in _SUFFIXES and short[-1] not in _SUFFIXES:
        return False  # "Donald Trump Jr." is not Donald Trump
    if short[-1] != long_[-1]:
        return long_[: len(short)] == short and len(short) >= 2 and _org_key(long_)
    it = iter(long_)
    return all(w in it for w in short)


def _org_key(key: tuple[str, ...]) -> bool:
    return any(w in ORG_WORDS for w in key) or len(key) >= 3


def _acronym(key: tuple[str, ...]) -> str:
    letters: list[str] = []
    for w in key:
        if w in _SMALL_WORDS:
            continue
        letters.extend(part[0] for part in w.split("-") if part)
    return "".join(letters)


def _kind_of(m: _Mention) -> str:
    key = m.key
    if any(w in ORG_WORDS for w in key):
        return "org"
    if (
        " ".join(key) in PLACES
        or key[-1] in _PLACE_LAST
        or (len(key) >= 2 and key[0] in _PLACE_FIRST and key[-1] in PLACES | _PLACE_LAST)
        or (len(key) >= 2 and key[0] in _PLACE_FIRST and key[0] in ("new", "north", "south"))
        or key[-1] in PLACES
        or key[-1] in _STATE_ABBREVIATIONS
    ):
        return "place"
    if any(t in PERSON_TITLES for t in m.titles) and m.titles not in (("us",), ("u.s",)):
        return "person"
    return "person" if len(key) >= 2 else "unknown"


# --------------------------------------------------------------------------- noun phrases


def _head_kind(low: str) -> str:
    """What a lower-case noun names: "doc", "role", "org", "generic" or ""."""
    low = low.rstrip("'\u2019")
    if low.endswith(("'s", "\u2019s")):
        low = low[:-2]
    if low in GENERIC_NOUNS:
        return "generic"
    if low in DOC_NOUNS or low in _DOC_FAMILY:
        return "doc"
    if low in PERSON_ROLES:
        return "role"
    if low in ORG_ROLES:
        return "org"
    if low.endswith("s") and len(low) > 3:
        singular = low[:-1]
        if singular in PERSON_ROLES or singular in DOC_NOUNS or singular in ORG_ROLES:
            return "generic"
    return ""


class _Parser:
    """Reads the noun phrases around a cue: names, pronouns, documents, roles."""

    def __init__(self, art: _Article) -> None:
        self.art = art
        self.tokens = art.tokens

    def word(self, i: int) -> str:
        tok = self.tokens[i]
        return tok.lower if tok.kind == "w" else ""

    # forward: "said Seth Unger", "reads the headline of the video" ---------------------

    def np_forward(self, i: int, limit: int, depth: int = 0) -> _NP | None:
        """The noun phrase that starts at token ``i``: a pronoun, a name, or a determiner,
        modifiers and a head noun with what follows it ("of the audience", "by X")."""
        if i >= limit or self.tokens[i].kind != "w":
            return None
        low = self.tokens[i].lower
        if low in PRONOUNS:
            return _NP("pronoun", i, i, head=low)
        np = self._scan_forward(i, limit)
        if np is None or np.kind == "name":
            return np
        return self._extend_forward(np, limit, depth)

    def _scan_forward(self, first: int, limit: int) -> _NP | None:
        tokens = self.tokens
        i, det, owner = first, "", None
        if tokens[i].lower in _DETERMINERS:
            det = tokens[i].lower
            if det in _POSSESSIVE_DETS:
                owner = _NP("pronoun", i, i, head=det)
            i += 1
        head_at = -1
        while i < limit and tokens[i].kind == "w" and i - first < 10:
            mention = self.art.mention_by_first.get(i)
            if mention is not None:
                after = mention.last + 1
                if after < limit and tokens[after].text in _APOSTROPHES:
                    after += 1  # "Collins' spokeswoman"
                modifies = after < limit and _head_kind(self.word(after)) != ""
                if mention.possessive or (modifies and tokens[after].text.islower()):
                    owner = _NP("name", mention.first, mention.last, mention=mention)
                    i = after
                    continue
                return _NP("name", first, mention.last, det=det, mention=mention)
            low = tokens[i].lower
            if _head_kind(low) and (tokens[i].text.islower() or (i == first and not det)):
                head_at = i
                i += 1
                nxt = self.word(i) if i < limit else ""
                if i < limit and (_head_kind(nxt) or i in self.art.mention_by_first):
                    continue  # "campaign spokesman Brad Herold", "news story"
                break
            lower_word = tokens[i].text.islower()
            if lower_word and low not in _PREPOSITIONS | _CONJUNCTIONS | _RELATIVES | CUE_VERBS:
                i += 1  # a modifier: "a glossy flier"
                continue
            if low.isdigit() or _norm(low) in _MONTHS:
                i += 1  # "a Jan. 14 headline"
                continue
            break
        if head_at < 0:
            return None
        head = _norm(tokens[head_at].text)
        return _NP(_head_kind(head), first, head_at, head=head, det=det, owner=owner)

    def _extend_forward(self, np: _NP, limit: int, depth: int) -> _NP:
        k = np.last + 1
        if np.kind == "role" and self.word(k) == "of" and depth < 2:
            inner = self.np_forward(k + 1, limit, depth + 1)
            if inner is not None and inner.kind != "name":
                np.last = inner.last  # "a member of the audience"
                return np
        if k < limit and self.word(k) in ("itself", "himself", "herself"):
            np.last = k
            k += 1
        if np.kind == "doc" and k < limit and self.word(k) in ("by", "on", "from", "of", "at"):
            if depth < 2:  # "a flier by Bill Powell", "the headline of the video"
                inner = self.np_forward(k + 1, limit, depth + 1)
                if inner is not None and inner.kind in ("name", "doc", "org"):
                    np.owner = inner
                    np.last = inner.last
        return np

    # backward: "Trump said", "Powell's flier says", "the House Majority PAC ad claims" --

    def np_backward(self, j: int, floor: int) -> _NP | None:
        """The noun phrase that ends at token ``j``: a pronoun, a name, "Section 4015", or a
        head noun with its modifiers and owner ("Powell's flier", "the House Majority PAC
        ad", "Its June 30 headline")."""
        tokens = self.tokens
        if j < floor or tokens[j].kind != "w":
            return None
        low = tokens[j].lower
        if low in ("itself", "himself", "herself") and j - 1 >= floor:
            inner = self.np_backward(j - 1, floor)
            if inner is not None:
                inner.last = j
            return inner
        if low in PRONOUNS:
            return _NP("pronoun", j, j, head=low)
        mention = self.art.mention_by_last.get(j)
        if mention is not None and not mention.possessive:
            first = mention.run_first
            if first - 1 >= floor and self.word(first - 1) in _DETERMINERS:
                first -= 1
            return _NP("name", first, j, mention=mention)
        if low.isdigit() and j - 1 >= floor and _head_kind(self.word(j - 1)) == "doc":
            return _NP("doc", j - 1, j, head=_norm(tokens[j - 1].text))  # "Section 4015"
        kind = _head_kind(low)
        if not kind:
            return None
        np = _NP(kind, j, j, head=_norm(tokens[j].text))
        self._modifiers_back(np, floor)
        return np

    def _modifiers_back(self, np: _NP, floor: int) -> None:
        tokens = self.tokens
        i = np.last - 1
        while i >= floor and np.last - i < 12:
            tok = tokens[i]
            if tok.text == "," and _year_comma(tokens, i):
                i -= 1
                continue
            if tok.kind != "w":
                return
            w = tok.lower
            mention = self.art.mention_by_last.get(i)
            if mention is not None:
                np.owner = _NP("name", mention.first, mention.last, mention=mention)
                np.first = mention.run_first
                i = mention.run_first - 1
                continue
            if w in _DETERMINERS:
                np.det, np.first = w, i
                if w in _POSSESSIVE_DETS:
                    np.owner = _NP("pronoun", i, i, head=w)
                return
            if w in _PREPOSITIONS or w in _CONJUNCTIONS or w in _RELATIVES or w in CUE_VERBS:
                return
            if not (tok.text.islower() or w.isdigit() or _norm(w) in _MONTHS):
                return
            np.first = i
            i -= 1


# --------------------------------------------------------------------------- resolution


class _Resolver:
    """Turns noun phrases into speakers: names, antecedents, document owners, roles."""

    def __init__(self, art: _Article, parser: _Parser) -> None:
        self.art = art
        self.parser = parser
        self.tokens = art.tokens
        # quote index -> attribution, filled in as quotes are attributed in order
        self.done: dict[int, _Attribution] = {}

    def entity_name(self, entity: int) -> str | None:
        return self.art.entities[entity].name if entity >= 0 else None

    def resolve(self, np: _NP | None, depth: int = 0) -> int:
        """Return the entity the phrase refers to, or -1 when it names nobody."""
        if np is None or depth > 3:
            return -1
        if np.kind == "name" and np.mention is not None:
            return np.mention.entity
        if np.kind == "pronoun":
            return self.antecedent(np.first, np.head)
        if np.kind == "generic":
            return -1
        if np.kind == "role":
            return self.role_holder(np.first, np.head) if np.det in _DEFINITE else -1
        if np.owner is not None:
            if np.owner.kind == "name" and np.owner.mention is not None:
                if np.owner.mention.key[-1] in PLATFORMS and len(np.owner.mention.key) == 1:
                    return -1
                return np.owner.mention.entity
            return self.resolve(np.owner, depth + 1)
        if np.kind == "doc":
            return self.document_owner(np, depth)
        if np.det in _DEFINITE:
            return self.role_holder(np.first, np.head)
        return -1

    def role_holder(self, pos: int, role: str) -> int:
        family = {"spokeswoman": "spokes", "spokesman": "spokes", "spokesperson": "spokes"}
        want = family.get(role, role)
        best = -1
        for at, r, entity in self.art.roles:
            if (
                at < pos
                and family.get(r, r) == want
                and not self.art.in_region(self.tokens[at].start)
            ):
                best = entity
        return best

    def document_owner(self, np: _NP, depth: int) -> int:
        """The owner of "the e-mail": found where that kind of document was introduced."""
        first = np.first
        # "Uncle Sam's Misguided Children, a website that says": apposition to a name
        if np.det in ("a", "an") and first >= 2 and self.tokens[first - 1].text == ",":
            mention = self.art.mention_by_last.get(first - 2)
            if mention is not None:
                return mention.entity
        if np.det not in _DEFINITE or depth > 2:
            return -1
        family = _DOC_FAMILY.get(np.head, np.head)
        for k in range(first - 1, -1, -1):
            tok = self.tokens[k]
            if tok.kind != "w" or self.art.in_region(tok.start):
                continue
            low = _norm(tok.text)
            floor, stop = self.art.sentence_bounds(tok.sent)
            if low in (family + "ed", family + "d") and family in _VERB_DOCS:
                by = self.parser.np_backward(k - 1, floor)
                if by is not None and by.kind in ("name", "pronoun"):
                    return self.resolve(by, depth + 1)  # "Trump tweeted ... the tweet"
            if _DOC_FAMILY.get(low, low) != family:
                continue
            earlier = self.parser.np_backward(k, floor)
            if earlier is None:
                continue
            if earlier.owner is None:  # "a report from the Department of Public Instruction"
                ahead = self.parser.np_forward(earlier.first, stop)
                if ahead is not None and ahead.last > k:
                    earlier.owner = ahead.owner
            if earlier.owner is not None:
                return self.resolve(earlier, depth + 1)
            if self.art.mention_by_first.get(k + 1) is not None:
                return -1  # a named work ("the comic strip Doonesbury") has no owner here
            if earlier.det in _DEFINITE:
                continue  # "the e-mail" again: look further back
            return self.introducer(earlier, tok.sent, depth)
        return -1

    def introducer(self, doc: _NP, sent: int, depth: int) -> int:
        """Who introduced "a July 10, 2009, e-mail" / "an ad": its sender, or nobody."""
        before = self.parser.word(doc.first - 1) if doc.first > 0 else ""
        if before in ("in", "on", "via", "through", "with"):
            named = self.art.mention_by_last.get(doc.first - 2)
            if named is not None:  # "Public Citizen in a July 10, 2009, e-mail"
                return named.entity
            if self.art.sentence_bounds(sent)[0] == doc.first - 1:  # "In an e-mail, X said"
                return self.subject_entity(sent, len(self.tokens))
            return -1  # "signatures piled up on a petition"
        if before in PUBLISH_VERBS or (
            before == "out" and self.parser.word(doc.first - 2) in PUBLISH_VERBS
        ):
            return self.subject_entity(sent, doc.first)  # "the group released an ad"
        return self.document_owner(doc, depth + 1)

    def subject_entity(self, sent: int, before: int) -> int:
        """The first named entity of a sentence that is not inside a prepositional phrase."""
        start, _ = self.art.sentence_bounds(sent)
        fallback = -1
        for m in self.art.mentions_in(start, before):
            e = self.art.entities[m.entity]
            if e.kind == "place":
                continue
            prev = self.parser.word(m.run_first - 1) if m.run_first > start else ""
            if (prev in _PREPOSITIONS and prev != "by") or m.possessive:
                fallback = m.entity if fallback < 0 else fallback
                continue
            return m.entity
        return fallback

    # antecedents --------------------------------------------------------------------------

    def antecedent(self, pos: int, pronoun: str) -> int:
        if pronoun in ("he", "him", "his", "himself"):
            return self.person_before(pos, 1)
        if pronoun in ("she", "her", "hers", "herself"):
            return self.person_before(pos, -1)
        if pronoun in ("it", "its", "itself"):
            return self.thing_before(pos)
        return -1

    def _previous_sentences(self, pos: int, limit: int) -> Iterable[int]:
        sent = self.tokens[pos].sent
        seen = 0
        for s in range(sent - 1, -1, -1):
            start, _ = self.art.sentence_bounds(s)
            if self.art.in_region(self.tokens[start].start):
                continue
            yield s
            seen += 1
            if seen >= limit:
                return

    def _fits(self, entity: int, gender: int) -> bool:
        e = self.art.entities[entity]
        return e.kind in ("person", "unknown") and e.gender * gender >= 0

    def person_before(self, pos: int, gender: int) -> int:
        sent = self.tokens[pos].sent
        start, _ = self.art.sentence_bounds(sent)
        here = sorted(self.art.mentions_in(start, pos), key=lambda m: m.possessive)
        for m in here:
            if self._fits(m.entity, gender):
                return m.entity
        for s in self._previous_sentences(pos, 5):
            for entity in self._sentence_candidates(s):
                if self._fits(entity, gender):
                    return entity
        return -1

    def thing_before(self, pos: int) -> int:
        sent = self.tokens[pos].sent
        start, _ = self.art.sentence_bounds(sent)
        for m in self.art.mentions_in(start, pos):
            if self.art.entities[m.entity].kind in ("org", "unknown"):
                return m.entity
        for s in self._previous_sentences(pos, 3):
            for entity in self._sentence_candidates(s):
                if self.art.entities[entity].kind in ("org", "unknown"):
                    return entity
        return -1

    def _sentence_candidates(self, sent: int) -> list[int]:
        """Speakers of a sentence's quotes, then its subject, then its other names."""
        start, stop = self.art.sentence_bounds(sent)
        found: list[int] = []
        for tok in self.tokens[start:stop]:
            if tok.kind == "q" and tok.quote in self.done and self.done[tok.quote].entity >= 0:
                found.append(self.done[tok.quote].entity)
        subject = self.subject_entity(sent, stop)
        if subject >= 0:
            found.append(subject)
        found.extend(m.entity for m in self.art.mentions_in(start, stop))
        return found


# --------------------------------------------------------------------------- boilerplate

# PolitiFact's "Featured Fact-check" box: speaker line, "stated on <date> in <setting>",
# the claim, and the byline.
_BOX_RE = re.compile(
    r"Featured Fact-check[ \t]*\n\s*(?P<speaker>[^\n]+?)[ \t]*\n\s*"
    r"(?P<cue>stated|said|posted|wrote|claimed|tweeted|says)[ \t]+on[ \t]+"
    r"(?P<date>[A-Z][a-z]+\.?[ \t]+\d{1,2},[ \t]+\d{4})[ \t]*(?P<ctx>[^\n]*)\n"
    r"(?P<claim>[\s\S]*?)\n[ \t]*By[ \t][^\n]*?\u2022[^\n]*"
)
_STF_RE = re.compile(r"PolitiFact Rating:")
_SEGMENT_BREAK = re.compile(r"\n|[ \t\u00a0]{2,}|\s+https?://")
_DOMAIN_RE = re.compile(r"\b([a-z0-9-]+)\.(?:com|org|net|info|news|co|us|io|tv)\b", re.I)
_STF_CONTEXT_RE = re.compile(
    r"\b((?:in|at|on|during)\s+(?:an?|the|his|her|their|its)\s+[^\n]*?)"
    r"(?=\s+(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b|\s{2,}|\n|$)",
    re.I,
)


@dataclass(slots=True)
class _Box:
    start: int
    end: int
    claim_start: int
    claim_end: int
    speaker_line: str
    speaker_at: int
    cue: str
    context: str | None


def _find_boxes(text: str) -> list[_Box]:
    boxes = []
    for m in _BOX_RE.finditer(text):
        ctx = m.group("ctx").strip().rstrip(".").strip()
        words = ctx.split()
        if len(words) > 1 and words[0] == "in" and words[1] in _CONTEXT_PREPS | {"a", "an"}:
            ctx = ctx[3:] if words[1] in _CONTEXT_PREPS else ctx
        boxes.append(
            _Box(
                m.start(),
                m.end(),
                m.start("claim"),
                m.end("claim"),
                m.group("speaker").strip(),
                m.start("speaker"),
                m.group("cue"),
                ctx or None,
            )
        )
    return boxes


def _stf_regions(text: str) -> list[tuple[int, int]]:
    regions = []
    for m in _STF_RE.finditer(text):
        head = text.rfind("Share the Facts", max(0, m.start() - 300), m.start())
        start = head if head >= 0 else m.start()
        end = text.find("Read More", m.end())
        end = min(len(text), m.end() + 1500) if end < 0 else end + len("Read More")
        regions.append((start, end))
    return regions


def _is_generic_label(line: str) -> bool:
    """A speaker line that names nobody: "Facebook posts", "Viral image", "Bloggers"."""
    words = [_norm(w) for w in _WORD_RE.findall(line)]
    if not words:
        return True
    if any(w in GENERIC_NOUNS for w in words) or all(w in PLATFORMS for w in words):
        return True
    raw = _WORD_RE.findall(line)
    return any(w[0].islower() and w.lower() not in _SMALL_WORDS for w in raw)


# --------------------------------------------------------------------------- attribution


def _title_case(content: str) -> bool:
    words = [w for w in _WORD_RE.findall(content) if not w.isdigit()]
    significant = [w for w in words if w.lower() not in _SMALL_WORDS]
    if len(significant) < 2 or re.search(r"[.?!;:]\s", content):
        return False
    return all(w[0].isupper() or w[0].isdigit() for w in significant)


def _word_list(text: str) -> list[str]:
    return [w.lower().replace("\u2019", "'") for w in _WORD_RE.findall(text)]


class _Attributor:
    """Attributes the quotations of one article, in order."""

    def __init__(self, text: str, min_words: int) -> None:
        self.art = art = _Article(text)
        self.text = text
        self.min_words = min_words
        self.parser = _Parser(art)
        self.resolver = _Resolver(art, self.parser)
        self.tokens = art.tokens
        self.boxes = art.boxes
        self.stf = art.stf

    # cues ------------------------------------------------------------------------------

    def word(self, i: int) -> str:
        return self.parser.word(i) if 0 <= i < len(self.tokens) else ""

    def is_cue(self, i: int, floor: int) -> bool:
        tok = self.tokens[i]
        if tok.kind != "w" or tok.lower not in CUE_VERBS or not tok.text.islower():
            return False
        if i - 1 >= floor:  # "the state", "his claims": a noun
            prev = self.tokens[i - 1]
            if (
                (prev.lower in _DETERMINERS and prev.lower != "that")
                or _is_possessive(prev.text)
                or prev.text.endswith("'")
            ):
                return False
        return True

    def skip_left(self, j: int, floor: int) -> int:
        """Step left over auxiliaries and adverbs ("has also said", "goes on to describe")."""
        while j >= floor:
            w = self.word(j)
            if w in _SKIP_BEFORE_CUE or (w.endswith("ly") and self.tokens[j].text.islower()):
                j -= 1
            elif (
                w == "to"
                and self.word(j - 1) == "on"
                and self.word(j - 2) in _words("goes went go going")
            ):
                j -= 3
            elif w == "to" and self.word(j - 1) in _words(
                "continued wanted went proceeded decided appeared seemed tried used began "
                "refused had has have need needs needed going"
            ):
                j -= 2
            else:
                break
        return j

    def cue_text(self, c: int) -> str:
        first = c
        while first - 1 >= 0 and self.word(first - 1) in _words("has have had was were is"):
            first -= 1
        last = c
        if self.word(c) in ("told", "tells", "tell", "telling"):
            obj = self.parser.np_forward(c + 1, len(self.tokens))
            if obj is not None and obj.kind in ("name", "org", "doc"):
                last = obj.last
            elif self.word(c + 1) in _OBJECT_WORDS:
                last = c + 1
        return self.text[self.tokens[first].start : self.tokens[last].end]

    def after_cue(self, q: int, limit: int, stop: int) -> tuple[_NP, int] | None:
        """ "...," X said / said X / the e-mail reads / according to X / as X notes."""
        i = q + 1
        while i < limit and self.tokens[i].text in (",", "\u2014", "\u2013", "-", ":", ";"):
            i += 1
        if i >= limit:
            return None
        if self.word(i) == "according" and self.word(i + 1) == "to":
            np = self.parser.np_forward(i + 2, limit)
            return (np, i) if np is not None else None
        if self.tokens[i - 1].text in ("\u2014", "\u2013", "-") and i > q + 1:
            named = self.art.mention_by_first.get(i)
            if named is not None and named.last + 1 >= limit:
                return _NP("name", named.run_first, named.last, mention=named), i - 1
        if self.word(i) == "as" and i + 1 < limit:
            i += 1
        if self.is_cue(i, i):
            np = self.parser.np_forward(i + 1, limit)
            return (np, i) if np is not None else None
        np = self.parser.np_forward(i, limit)
        if np is not None:
            k = self.skip_appositive(np.last + 1, limit)
            named = self.art.mention_by_first.get(np.last + 2)
            if k > np.last + 1 and np.kind == "role" and named is not None:
                if named.last + 1 == k - 1:
                    np = _NP("name", named.run_first, named.last, mention=named)
            while k < limit and self.word(k) in _SKIP_BEFORE_CUE:
                k += 1
            if k < limit and self.is_cue(k, i):
                if self.word(k) in ("quoted", "quotes") and self.word(k - 1) not in _PASSIVE_AUX:
                    obj = self.parser.np_forward(k + 1, limit)
                    if obj is not None:
                        return obj, k
                if not self.complement_follows(k, limit, stop):
                    return np, k
            return None
        return self.tail_cue(i, limit)

    def skip_appositive(self, k: int, limit: int) -> int:
        """Past ", a spokesman for the group," or ", D-Calif.," when a cue follows it."""
        if k >= limit or self.tokens[k].text != ",":
            return k
        for n in range(k + 1, min(limit, k + 14)):
            tok = self.tokens[n]
            if tok.kind == "q":
                return k
            if tok.text == ",":
                after = n + 1
                while after < limit and self.word(after) in _SKIP_BEFORE_CUE:
                    after += 1
                return n + 1 if after < limit and self.is_cue(after, n) else k
        return k

    def complement_follows(self, k: int, limit: int, stop: int) -> bool:
        """ "the ad claims Walters votes "..."": the cue belongs to the next quote."""
        later = self.tokens[k + 1 : stop]
        if not any(t.kind == "q" and self.art.spans[t.quote].words >= 4 for t in later):
            return False
        if self.word(k) in ("told", "tells", "tell"):
            return False
        nxt = k + 1
        if nxt >= limit:
            return False
        tok = self.tokens[nxt]
        if tok.kind != "w":
            return False
        w = tok.lower
        return w not in _PREPOSITIONS and w not in _OBJECT_WORDS and not w.endswith("ly")

    def tail_cue(self, i: int, limit: int) -> tuple[_NP, int] | None:
        """ "..." gun deaths per year, Trudeau wrote."""
        for k in range(i, min(limit, i + 8)):
            tok = self.tokens[k]
            if tok.text != ",":
                if tok.kind != "w" or not tok.text.islower():
                    return None
                continue
            np = self.parser.np_forward(k + 1, limit)
            if np is None or not (
                np.kind == "name" or (np.kind == "pronoun" and np.head in ("he", "she"))
            ):
                return None
            c = np.last + 1
            if c < limit and self.is_cue(c, k):
                rest = self.tokens[c + 1 : limit]
                if all(t.kind != "q" for t in rest):
                    return np, c
            return None
        return None

    def before_cue(self, q: int, floor: int) -> tuple[_NP | None, int] | None:
        """X said, "..." / X said the bill was a "..." / according to X, "..." """
        j = q - 1
        while j >= floor and self.word(j) in ("that", ",", ":"):
            j -= 1
        if j >= floor and _norm(self.word(j)) in SPEECH_NOUNS:
            np = self.parser.np_backward(j, floor)
            if np is not None and np.owner is not None:
                return np, j  # "Joe Biden's claim that "...""
        for c in range(q - 1, floor - 1, -1):
            if self.word(c) == "according" and self.word(c + 1) == "to":
                np = self.parser.np_forward(c + 2, q)
                return (np, c) if np is not None else None
            if self.is_cue(c, floor):
                # a cue whose subject names nobody we know still attributes the quote (to
                # no one): "the crowd chanted "..."" is not the previous speaker's
                return self.cue_subject(c, floor, q), c
        return None

    def cue_subject(self, c: int, floor: int, q: int) -> _NP | None:
        cue = self.word(c)
        if self.word(c - 1) in _PASSIVE_AUX and self.word(c + 1) == "by":
            return self.parser.np_forward(c + 2, q)
        if cue in ("quoted", "quotes", "quote", "quoting") and self.word(c - 1) not in _PASSIVE_AUX:
            obj = self.parser.np_forward(c + 1, q)
            if obj is not None:
                return obj
        participle = cue.endswith("ing")
        j = self.skip_left(c - 1, floor)
        if j < floor:
            return self.main_subject(floor, c, participle=participle)
        tok = self.tokens[j]
        if participle or tok.lower in _CONJUNCTIONS or tok.kind != "w":
            if tok.text == "," and not participle:
                np = self.comma_subject(floor, j)
                if np is not None:
                    return np
            return self.main_subject(floor, c, participle=participle)
        if tok.lower in _RELATIVES:
            return self.relative_antecedent(j, floor)
        np = self.parser.np_backward(j, floor)
        if np is not None and np.kind == "name" and self.word(np.first - 1) in _PREPOSITIONS:
            return self.head_of_prepositional(np, floor) or np
        return np

    def head_of_prepositional(self, np: _NP, floor: int) -> _NP | None:
        """ "A post shared on Facebook", "The report by the GAO", "Bob Smith of Dayton"."""
        prep = self.word(np.first - 1)
        k = np.first - 2
        while k >= floor and self.word(k).endswith("ed") and self.tokens[k].text.islower():
            k -= 1
        head = self.parser.np_backward(k, floor)
        if head is None:
            return None
        if head.kind == "name":
            return head
        if head.kind in ("doc", "org") and head.owner is None:
            if prep in ("by", "from", "of"):
                head.owner = np
            return head
        return None

    def segments(self, floor: int, stop: int) -> list[tuple[int, int]]:
        segs = []
        start = floor
        for k in range(floor, stop):
            tok = self.tokens[k]
            if tok.kind == "q" or tok.text in (",", ";", ":", "\u2014", "\u2013", "(", ")"):
                if k > start:
                    segs.append((start, k))
                start = k + 1
        if stop > start:
            segs.append((start, stop))
        return segs

    def comma_subject(self, floor: int, comma: int) -> _NP | None:
        """ "Klobuchar, who is seen as ..., said": skip appositives and relative clauses."""
        segs = self.segments(floor, comma)
        for n in range(len(segs) - 1, -1, -1):
            a, b = segs[n]
            first = self.tokens[a]
            w = first.lower
            appositive = (
                w in _RELATIVES
                or (w in ("a", "an", "the") and n > 0)
                or (first.kind == "w" and first.text.islower() and w not in PRONOUNS)
                or first.text[0].isdigit()
                or (b - a == 1 and w.endswith("ly"))
            )
            if appositive:
                continue
            np = self.parser.np_backward(b - 1, a)
            if np is not None and np.first <= a + (1 if w in _CONJUNCTIONS else 0):
                return np
            return None
        return None

    def main_subject(self, floor: int, c: int, *, participle: bool = False) -> _NP | None:
        segs = self.segments(floor, c)
        if participle and segs and self.word(segs[-1][0]) in ("which", "who"):
            return self.relative_antecedent(segs[-1][0], floor)
        for a, b in segs:
            tok = self.tokens[a]
            if tok.text == "Says":
                a += 1
            elif tok.lower in _INTRO_WORDS or tok.text[0].isdigit():
                continue
            np = self.parser.np_forward(a, b)
            if np is not None:
                return np
        return None

    def relative_antecedent(self, r: int, floor: int) -> _NP | None:
        """What "which"/"who" refers to: the phrase right before it, else the nearest name."""
        j = r - 1
        if j >= floor and self.tokens[j].text == ",":
            j -= 1
        np = self.parser.np_backward(j, floor)
        if np is not None and np.kind == "name":
            return np
        if np is not None and np.kind in ("doc", "role", "org"):
            if np.det in ("a", "an") and np.first >= 2 and self.tokens[np.first - 1].text == ",":
                named = self.art.mention_by_last.get(np.first - 2)
                if named is not None:  # "Uncle Sam's Misguided Children, a website that"
                    return _NP("name", named.first, named.last, mention=named)
            return np
        for m in sorted(self.art.mentions_in(floor, r), key=lambda m: -m.first):
            e = self.art.entities[m.entity]
            if e.kind == "place" or m.key[-1] in _STATE_ABBREVIATIONS:
                continue
            if self.word(m.run_first - 1) in _words("of in at from near outside on"):
                continue
            return _NP("name", m.first, m.last, mention=m)
        return None

    # context ---------------------------------------------------------------------------

    def context_after(self, k: int, stop: int) -> str | None:
        start = -1
        for i in range(k, min(stop, k + 6)):
            tok = self.tokens[i]
            if tok.kind != "w":
                if tok.text != "," or start >= 0:
                    return None
                continue
            if tok.lower in _CONTEXT_PREPS:
                start = i
                break
        if start < 0:
            return None
        return self.context_phrase(start, stop)

    def context_phrase(self, start: int, stop: int) -> str | None:
        end = start
        for i in range(start + 1, stop):
            tok = self.tokens[i]
            if tok.kind == "q":
                quote = self.art.spans[tok.quote]
                if quote.words >= 4:
                    break
                end = i
                continue
            if tok.kind == "p":
                if tok.text == "," and self._date_comma(i):
                    continue
                if tok.text in "-\u2019'&/":
                    continue
                break
            if tok.lower in _words("when because who which where that after as") and i > start:
                break
            end = i
        words = {_norm(t.text) for t in self.tokens[start : end + 1] if t.kind == "w"}
        if self.word(start) in ("during", "while") or words & SETTING_NOUNS:
            return self.text[self.tokens[start].start : self.tokens[end].end]
        return None

    def _date_comma(self, i: int) -> bool:
        nxt = self.tokens[i + 1].text if i + 1 < len(self.tokens) else ""
        prev = self.tokens[i - 1].text if i > 0 else ""
        return (nxt.isdigit() and len(nxt) == 4) or (prev.isdigit() and len(prev) == 4)

    def context_intro(self, floor: int, stop: int) -> str | None:
        if self.word(floor) not in ("in", "at", "during", "on", "while"):
            return None
        end = floor
        while end < stop and self.tokens[end].text != "," and self.tokens[end].kind != "q":
            end += 1
        if end == floor or end >= stop:
            return None
        return self.context_phrase(floor, end)

    # one quotation ---------------------------------------------------------------------

    def attribute_all(self) -> list[ExtractedQuote]:
        kept: list[int] = []
        for n, span in enumerate(self.art.spans):
            if span.words < self.min_words:
                continue
            attribution = self.attribute(n)
            if attribution is None:
                continue
            self.resolver.done[n] = attribution
            kept.append(n)
        self.repeat_pass(kept)
        return [self.record(n) for n in kept]

    def record(self, n: int) -> ExtractedQuote:
        span = self.art.spans[n]
        a = self.resolver.done[n]
        aliases: tuple[str, ...] = ()
        if a.entity >= 0 and a.speaker is not None:
            e = self.art.entities[a.entity]
            aliases = tuple(s for s in e.surfaces if s.lower() != a.speaker.lower())
        return ExtractedQuote(
            self.text[span.start : span.end],
            span.start,
            span.end,
            a.speaker,
            a.mention,
            a.cue,
            a.context,
            aliases,
        )

    def np_text(self, np: _NP) -> str:
        return self.text[self.tokens[np.first].start : self.tokens[np.last].end]

    def explicit(self, np: _NP, c: int, how: str) -> _Attribution:
        entity = self.resolver.resolve(np)
        cue = "according to" if self.word(c) == "according" else self.cue_text(c)
        return _Attribution(
            self.resolver.entity_name(entity), self.np_text(np), cue, None, how, entity
        )

    def attribute(self, n: int) -> _Attribution | None:
        """Attribute quotation ``n``; None when it is a title, label or scare quote."""
        span = self.art.spans[n]
        q = span.token
        tok = self.tokens[q]
        floor, stop = self.art.sentence_bounds(tok.sent)
        limit = next((k for k in range(q + 1, stop) if self.tokens[k].kind == "q"), stop)
        for region in self.stf:
            if region[0] <= span.open < region[1]:
                return self.share_the_facts(span)
        box = next((b for b in self.boxes if b.claim_start <= span.open < b.claim_end), None)
        after = self.after_cue(q, limit, stop)
        before = None if after is not None else self.before_cue(q, floor)
        if box is not None:
            return self.in_box(box, after or before)
        if self.not_a_quotation(span, q, after, before):
            return None
        found = after or before
        if found is not None:
            np, c = found
            if np is None:
                context = self.context_after(c + 1, stop) or self.context_intro(floor, stop)
                return _Attribution(None, None, self.cue_text(c), context, "before", -1)
            a = self.explicit(np, c, "after" if after else "before")
            if self.word(c) == "according":
                end = np.last + 1
            else:
                end = (np.last if after is not None and np.first > c else c) + 1
            a.context = self.context_after(end, stop) or self.context_intro(floor, stop)
            return a
        return self.implicit(n, q, floor, stop)

    def not_a_quotation(
        self,
        span: _Span,
        q: int,
        after: tuple[_NP, int] | None,
        before: tuple[_NP | None, int] | None,
    ) -> bool:
        """A title, nickname, label or scare quote rather than someone's words."""
        content = self.text[span.start : span.end]
        if _title_case(content) and after is None:
            # only an attribution right next to it makes "Make America Great Again" a quote
            if before is None or self.tokens[q - 1].text not in (",", ":") or q - before[1] > 3:
                return True
        j = q - 1
        while j >= 0 and self.tokens[j].text in (",", ":"):
            j -= 1
        w = self.word(j)
        if w in ("it", "them", "him", "her", "this") and self.word(j - 1) in _TITLE_MARKERS:
            return True  # "critics dubbed it "...""
        if w in _TITLE_MARKERS or (w == "as" and self.word(j - 1) in ("known", "billed")):
            return True
        if w in ("called", "named") and _head_kind(self.word(j - 1)):
            return True  # "a program called "...""
        if after is None and self.names_a_work(j, q, content, before):
            return True
        if after is None and before is None and w in _DETERMINERS - {"that"}:
            nxt = self.tokens[q + 1] if q + 1 < len(self.tokens) else None
            # "the "war on the middle class" rhetoric"
            return nxt is not None and nxt.kind == "w" and nxt.text.islower()
        return False

    def names_a_work(
        self, j: int, q: int, content: str, before: tuple[_NP | None, int] | None
    ) -> bool:
        """ "a Journal Sentinel story from Jan. 21, 2010, "Crime in Milwaukee ..."" """
        k = j
        while k >= 0 and q - k < 9:
            w = self.word(k)
            if not (
                self.tokens[k].text == ","
                or w.isdigit()
                or _norm(w) in _MONTHS
                or w in ("from", "on", "dated", "of", "in")
            ):
                break
            k -= 1
        return (
            _norm(self.word(k)) in _WORK_NOUNS
            and not self.is_cue(k, 0)
            and (content[:1].isupper() or content[:1].isdigit())
            and not self.is_setting(k, before)
        )

    def is_setting(self, k: int, before: tuple[_NP | None, int] | None) -> bool:
        """ "X said on the radio program, "..."": the work is where the quote was said."""
        if before is None:
            return False
        for i in range(k - 1, max(before[1], k - 10), -1):
            tok = self.tokens[i]
            if tok.text in (",", ".", ";", ":"):
                return False
            if tok.lower in _CONTEXT_PREPS:
                return True
        return False

    def in_box(self, box: _Box, found: tuple[_NP | None, int] | None) -> _Attribution:
        """A "Featured Fact-check" claim: its own cue when it names someone, else the box."""
        np = found[0] if found is not None else None
        if found is not None and np is not None:
            a = self.explicit(np, found[1], "box")
            if a.entity >= 0 and np.kind == "name":
                a.context = box.context
                return a
        speaker, entity = None, -1
        if not _is_generic_label(box.speaker_line):
            m = next(
                (
                    m
                    for m in self.art.mentions
                    if box.speaker_at
                    <= self.tokens[m.first].start
                    < box.speaker_at + len(box.speaker_line)
                ),
                None,
            )
            if m is not None:
                entity = m.entity
                speaker = self.art.entities[entity].name
            else:
                speaker = box.speaker_line
        claim = self.text[box.claim_start : box.claim_end].lstrip()
        cue = "Says" if claim.startswith("Says") else box.cue
        return _Attribution(speaker, box.speaker_line, cue, box.context, "box", entity)

    def share_the_facts(self, span: _Span) -> _Attribution:
        """ "PolitiFact Rating: False  "claim"    Speaker description https://..." """
        text = self.text
        claim_end = _SEGMENT_BREAK.search(text, span.close)
        pos = claim_end.end() if claim_end else len(text)
        while pos < len(text) and text[pos].isspace():
            pos += 1
        seg_end = _SEGMENT_BREAK.search(text, pos)
        segment = text[pos : seg_end.start() if seg_end else len(text)]
        entity = -1
        for m in self.art.mentions:
            if self.tokens[m.first].start == pos or self.tokens[m.run_first].start == pos:
                entity = m.entity
                segment = m.name
                break
        if entity < 0:
            for dom in _DOMAIN_RE.finditer(segment):
                stem = dom.group(1).lower().replace("-", "")
                entity = next(
                    (
                        n
                        for n, e in enumerate(self.art.entities)
                        if "".join(e.key) == stem and e.kind != "place"
                    ),
                    -1,
                )
                if entity >= 0:
                    break
        tail = text[pos : pos + 400]
        ctx = _STF_CONTEXT_RE.search(tail)
        return _Attribution(
            self.resolver.entity_name(entity),
            segment.strip() or None,
            None,
            ctx.group(1).strip() if ctx else None,
            "stf",
            entity,
        )

    # quotes without a cue of their own -------------------------------------------------

    def implicit(self, n: int, q: int, floor: int, stop: int) -> _Attribution:
        span = self.art.spans[n]
        tok = self.tokens[q]
        quote_only = all(t.kind != "w" for t in self.tokens[floor:stop])
        at_para_start = floor == q and (q == 0 or self.tokens[q - 1].para != tok.para)
        earlier = [
            k
            for k in self.resolver.done
            if k < n
            and self.resolver.done[k].how
            and not self.art.in_region(self.art.spans[k].open)
        ]
        prev = max(earlier) if earlier else -1
        if prev >= 0:
            prev_span = self.art.spans[prev]
            prev_sent = self.tokens[prev_span.token].sent
            same_para = prev_span.para == span.para
            continues = not prev_span.closed and prev_span.para == span.para - 1 and at_para_start
            adjacent = prev_sent >= tok.sent - 1 and (same_para or at_para_start)
            if continues or adjacent:
                return self.inherit(prev, "cont")
        if quote_only and tok.sent > 0:
            prev_floor, prev_stop = self.art.sentence_bounds(tok.sent - 1)
            first = self.tokens[prev_floor]
            if not self.art.in_region(first.start) and (first.para == tok.para or at_para_start):
                np = self.main_subject(prev_floor, prev_stop)
                if np is not None and np.kind in ("name", "pronoun"):
                    entity = self.resolver.resolve(np)
                    if entity >= 0:
                        return _Attribution(
                            self.resolver.entity_name(entity),
                            self.np_text(np),
                            None,
                            None,
                            "prev",
                            entity,
                        )
        if prev >= 0 and self.art.spans[prev].para == span.para:
            return self.inherit(prev, "cont")
        return _Attribution()

    def inherit(self, prev: int, how: str) -> _Attribution:
        p = self.resolver.done[prev]
        return _Attribution(p.speaker, p.mention, p.cue, p.context, how, p.entity)

    def repeat_pass(self, kept: list[int]) -> None:
        """An unattributed quote that repeats an attributed one takes its speaker."""
        done = self.resolver.done
        sources = [k for k in kept if done[k].how and done[k].how != "repeat"]
        words = {
            k: _word_list(self.text[self.art.spans[k].start : self.art.spans[k].end]) for k in kept
        }
        for n in kept:
            if done[n].entity >= 0:
                continue
            best, best_score = -1, 0.0
            for k in sources:
                if k == n:
                    continue
                matcher = difflib.SequenceMatcher(None, words[n], words[k], autojunk=False)
                same = sum(block.size for block in matcher.get_matching_blocks())
                score = same / max(1, len(words[n]))
                if same >= 5 and same / max(1, len(words[k])) >= 0.9:
                    score = max(score, 0.9)
                if same >= 4 and score >= 0.75 and score > best_score + 1e-9:
                    best, best_score = k, score
            if best >= 0 and done[best].entity >= 0:
                own = done[n]
                source = done[best]
                done[n] = _Attribution(
                    source.speaker,
                    own.mention,
                    own.cue,
                    own.context or None,
                    own.how or "repeat",
                    source.entity,
                )


# --------------------------------------------------------------------------- public API


def extract_quotes(text: str, *, min_words: int = 4) -> list[ExtractedQuote]:
    """Return the direct quotations of ``text`` with at least ``min_words`` words, in order,
    each with its span, its speaker's fullest name (None when the article does not say who),
    the mention and cue that attribute it, the setting when stated, and other forms of the
    speaker's name seen in the article."""
    if not text:
        return []
    return _Attributor(text, min_words).attribute_all()


def resolve_names(text: str) -> dict[str, str]:
    """Return every name mention of ``text`` (as written, with and without titles) mapped to
    the fullest name the article gives its bearer: "Trump" and "former U.S. President Donald
    Trump" both map to "Donald Trump". Names inside quotations are not read."""
    art = _Article(text)
    names: dict[str, str] = {}
    for m in art.mentions:
        full = art.entities[m.entity].name
        names.setdefault(m.surface, full)
        names.setdefault(m.name, full)
    return names
