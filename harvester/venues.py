"""Venues: the short form awesome lists write (``ICLR 2018``) from what the services say.

Semantic Scholar names venues in full and often gives the preprint's year; DBLP keys and arXiv
comments carry the venue's own year. The table lives in ``seeds/venues.toml`` so a curator can
teach the tool a new venue without touching code; a venue the table does not know is still
shortened by rule (``Venues.place``), so a Date cell never holds a venue's full name, and never
stays empty.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from harvester.errors import SeedError

UNPUBLISHED = "arXiv"
THESIS = "Thesis"
# A paper nothing names a place for: no venue, no DOI, no arXiv id.
UNKNOWN = "Unknown"
VENUES_FILE = "venues.toml"
# The longest venue a Date cell shows (``USENIX ATC``, ``Nat. Mach. Intell.``).
MAX_SHORT = 18
# Kinds of venue, for exports: ``@inproceedings``, ``@article``, ``@misc``.
CONFERENCE, JOURNAL, PREPRINT = "conference", "journal", "preprint"
KINDS = (CONFERENCE, JOURNAL, PREPRINT)
# venues.toml's table of DOI prefixes: the publisher names a paper with only a DOI.
PUBLISHERS_TABLE = "publishers"


_WORD_RE = re.compile(r"[a-z0-9]+")


def _key(name: str) -> str:
    return " ".join(_WORD_RE.findall(name.lower()))


@dataclass(frozen=True)
class Venue:
    """One venue of the table; the first of ``names`` is its full name (exports write it)."""

    short: str
    names: tuple[str, ...] = ()
    abbrev: tuple[str, ...] = ()
    dblp: tuple[str, ...] = ()
    kind: str | None = None

    @property
    def full_name(self) -> str:
        return self.names[0] if self.names else self.short

    @property
    def venue_kind(self) -> str | None:
        """Conference or journal: as the table says, else as its DBLP keys say."""
        if self.kind:
            return self.kind
        if self.short == UNPUBLISHED:
            return PREPRINT
        for prefix in self.dblp:
            if prefix.startswith("conf/"):
                return CONFERENCE
            if prefix.startswith("journals/"):
                return JOURNAL
        return None


class VenueEvidence(NamedTuple):
    """Everything a source said that can name a paper's venue and its year (a tuple: it
    keys ``Venues.place``'s answers, looked up for every paper derived)."""

    names: tuple[str, ...] = ()
    dblp: str | None = None
    year: int | None = None
    texts: tuple[str, ...] = ()
    doi: str | None = None


class Venues:
    """The venue table and the rules that apply it."""

    def __init__(self, venues: Iterable[Venue], publishers: dict[str, str] | None = None) -> None:
        self.venues = list(venues)
        self.publishers = dict(publishers or {})
        self._by_short = {v.short: v for v in self.venues}
        # DBLP key prefix -> (the first venue in table order that has it, its short name).
        self._by_dblp: dict[str, tuple[int, str]] = {}
        for position, venue in enumerate(self.venues):
            for prefix in venue.dblp:
                self._by_dblp.setdefault(prefix, (position, venue.short))
        # ``place`` is pure over the table, and a harvest asks it about the same few hundred
        # venues, years and comments for every paper: each answer is kept (for one table).
        self._placed: dict[tuple[VenueEvidence, int | None, int | None], tuple[str, int | None]]
        self._placed = {}
        self._by_name: dict[str, str] = {}
        # ``by_name``'s answers by the name as given: a corpus names a few hundred venues,
        # each for thousands of papers, and a name the table lacks costs five regexes.
        self._named: dict[str, str | None] = {}
        # ``shorten_unknown``'s answers, by the names a paper's sources give.
        self._shortened: dict[tuple[str, ...], str | None] = {}
        for venue in self.venues:
            for name in (venue.short, *venue.names, *venue.abbrev):
                self._by_name.setdefault(_key(name), venue.short)
        # Short names that are plain words ("Nature", "Neural Networks") would be found in
        # any sentence; only acronyms and the listed abbreviations are looked for in text.
        shorts = [
            re.escape(a)
            for v in self.venues
            if v.short != UNPUBLISHED
            for a in sorted(
                {*v.abbrev, *([v.short] if _acronym_words(v.short) else [])},
                key=len,
                reverse=True,
            )
        ]
        # "Accepted at ICLR 2018", "NeurIPS'20", "ACL 2020 (long paper)".
        self._in_text = re.compile(
            r"(?<![A-Za-z])(" + "|".join(shorts) + r")\s*['’]?\s*((?:19|20)\d{2}|\d{2})(?!\d)"
        )
        self._abbrev_to_short = {
            a.lower(): v.short for v in self.venues for a in (v.short, *v.abbrev)
        }

    def by_name(self, name: str) -> str | None:
        """The table's venue for a name, compared without case or punctuation, also once a
        year, an ordinal or "Proceedings of the" are taken off it or by the acronym it
        gives in brackets ("2016 23rd International Conference on Pattern Recognition
        (ICPR)")."""
        if not name:
            return None
        try:
            return self._named[name]
        except KeyError:
            pass
        if len(self._named) >= 50_000:
            self._named.clear()
        found = self._named[name] = self._find_name(name)
        return found

    def _find_name(self, name: str) -> str | None:
        found = self._by_name.get(_key(name))
        if found:
            return found
        for acronym in _BRACKETED_RE.findall(name):
            found = self._abbrev_to_short.get(_strip_year(acronym).lower())
            if found:
                return found
        bare = _key(_bare(name))
        return self._by_name.get(bare) if bare else None

    def get(self, short: str) -> Venue | None:
        """The table's entry for a short name, if it has one."""
        return self._by_short.get(short)

    def by_dblp(self, key: str) -> tuple[str, int | None] | None:
        """``conf/iclr/HuangCLWMW18`` -> ``("ICLR", 2018)``."""
        # Every prefix of the key that ends before a "/"; the table's first venue wins.
        found = [
            self._by_dblp[key[:i]]
            for i, char in enumerate(key)
            if char == "/" and key[:i] in self._by_dblp
        ]
        if not found:
            return None
        match = _DBLP_YEAR_RE.search(key)
        return min(found)[1], _century(int(match.group(1))) if match else None

    def in_text(self, text: str) -> tuple[str, int] | None:
        match = self._in_text.search(text)
        if not match:
            return None
        year = int(match.group(2))
        return self._abbrev_to_short[match.group(1).lower()], year if year > 99 else _century(year)

    def resolve(self, evidence: VenueEvidence) -> tuple[str, int | None] | None:
        """The table's venue and its year, or None when nothing names a venue it knows.

        A published venue beats ``arXiv`` from any source; among published ones the order of
        trust is the DBLP key (it carries the venue's year), an explicit "VENUE YEAR" in the
        arXiv comment or journal ref, then Semantic Scholar's names with its year. A
        workshop held at a conference ("EMDL@MobiSys") is the workshop, though DBLP files
        its papers under the conference.
        """
        unpublished = False
        if evidence.dblp:
            found = self.by_dblp(evidence.dblp)
            if found and found[0] != UNPUBLISHED:
                workshop = self._workshop(evidence.names)
                return (workshop, found[1]) if workshop else found
            unpublished |= found is not None
        for text in evidence.texts:
            found_text = self.in_text(text)
            if found_text:
                return found_text
        for name in evidence.names:
            short = self.by_name(name)
            if short and short != UNPUBLISHED:
                return short, evidence.year
            unpublished |= short == UNPUBLISHED
        return (UNPUBLISHED, None) if unpublished else None

    def _workshop(self, names: Iterable[str]) -> str | None:
        for name in names:
            match = _WORKSHOP_RE.match(name.strip())
            if match:
                return self.by_name(match.group(1)) or _fit(match.group(1))
        return None

    def place(
        self, evidence: VenueEvidence, *, preprint_year: int | None, year: int | None
    ) -> tuple[str, int | None]:
        """Where a paper appeared and the venue's year, never blank.

        In order: a venue of the table (``resolve``); a thesis; a venue the table does not
        know, shortened by rule (``shorten_unknown``); the publisher its DOI names (a paper
        with a DOI was published, even where no venue is known); ``arXiv`` for a preprint
        (``preprint_year`` is its first submission's year); else ``Unknown``.
        """
        key = (evidence, preprint_year, year)
        placed = self._placed.get(key)
        if placed is None:
            if len(self._placed) >= 50_000:
                self._placed.clear()
            placed = self._placed[key] = self._place(evidence, preprint_year, year)
        return placed

    def _place(
        self, evidence: VenueEvidence, preprint_year: int | None, year: int | None
    ) -> tuple[str, int | None]:
        found = self.resolve(evidence)
        if found and found[0] != UNPUBLISHED:
            return found[0], found[1] or year
        named = [n for n in evidence.names if self.by_name(n) != UNPUBLISHED]
        if any(_THESIS_RE.search(t) for t in (*named, *evidence.texts)):
            return THESIS, evidence.year or year
        key = tuple(named)
        try:
            short = self._shortened[key]
        except KeyError:
            if len(self._shortened) >= 50_000:
                self._shortened.clear()
            short = self._shortened[key] = shorten_unknown(named)
        if short:
            return short, evidence.year or year
        publisher = self.publisher(evidence.doi)
        if publisher:
            return publisher, evidence.year or year
        if preprint_year is not None or found is not None:
            return UNPUBLISHED, preprint_year or evidence.year or year
        return UNKNOWN, year

    def publisher(self, doi: str | None) -> str | None:
        """``10.1109/…`` -> ``IEEE``: the registrant of a DOI, from the publishers table."""
        if not doi or "/" not in doi:
            return None
        return self.publishers.get(doi.split("/", 1)[0].strip().lower())


_DBLP_YEAR_RE = re.compile(r"(\d{2})[a-z]?$")
_WORKSHOP_RE = re.compile(r"^([A-Za-z][\w\-]*)\s*@\s*\S")
_THESIS_RE = re.compile(r"\b(?:thesis|dissertation)\b", re.I)
_BRACKETED_RE = re.compile(r"\(([^()]{2,24})\)")
_YEAR_RE = re.compile(r"(?:^|\s)['’]?(?:(?:19|20)\d{2}|\d{2})$")
_ORDINAL_RE = re.compile(r"\b\d+(?:st|nd|rd|th)\b|\b(?:19|20)\d{2}\b", re.I)
_PROCEEDINGS_RE = re.compile(r"^\s*(?:proc(?:eedings|\.)?\s+of\s+(?:the\s+)?)", re.I)
# Names of publishers and societies that stand before a venue's name, not in its acronym.
_PUBLISHER_WORDS = frozenset(
    {"ieee", "acm", "usenix", "siam", "ifip", "springer", "elsevier", "ieee/acm", "acm/ieee"}
    | {"ieee/cvf", "cvf", "aaai", "sigplan", "sigarch", "sigops", "sigmobile", "iacr", "the"}
)
_SMALL_WORDS = frozenset(
    ["of", "on", "the", "and", "for", "in", "&", "with", "to", "a", "an", "at", "by", "from", "its"]
)
# Words whose initials make an acronym when a venue's long name matches no rule.
_KIND_WORDS = re.compile(
    r"\b(?:conference|symposium|workshop|transactions|journal|letters|magazine|meeting|"
    r"congress|proceedings|review|forum|colloquium)\b",
    re.I,
)


def _acronym_words(short: str) -> bool:
    """``USENIX ATC``, ``IEEE S&P``, ``MobiSys``: every word written with capitals inside."""
    return all(sum(c.isupper() for c in word) >= 2 for word in short.split())


def _strip_year(text: str) -> str:
    """``USENIX ATC 22`` -> ``USENIX ATC``."""
    return _YEAR_RE.sub("", text.strip()).strip()


def _bare(name: str) -> str:
    """A name without its year, ordinals, "Proceedings of the", bracketed acronym, and a
    leading "MICRO-54:"."""
    text = _BRACKETED_RE.sub(" ", name)
    text = re.sub(r"^[A-Za-z]+-\d+\s*:\s*", "", text.strip())
    text = _PROCEEDINGS_RE.sub("", text)
    text = _ORDINAL_RE.sub(" ", text)
    text = re.sub(r"^\s*annual\b", " ", text.strip(), flags=re.I)
    return " ".join(text.split())


def is_acronym(name: str) -> bool:
    """``MobiSys``, ``ICDCS``, ``FCCM``: one word, capitals beyond its first letter."""
    text = name.strip()
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9\-]{1,11}", text):
        return False
    if text.lower() in _PUBLISHER_WORDS:
        return False
    return sum(c.isupper() for c in text) >= 2


def _fit(text: str, limit: int = MAX_SHORT) -> str:
    """Cut at a word to ``limit`` characters, with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut and text[limit - 1] not in " ,;:":
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-&") + "…"


def initials(name: str, limit: int = 8) -> str | None:
    """``IEEE Transactions on Wireless Communications`` -> ``TWC``: the capitals of the
    significant words, without the publisher, the year or "Proceedings of the"."""
    # "Proceedings of the ACM on …" journals are written PACM…: the publisher stays.
    owner = re.match(r"^\s*proceedings of the (acm|ieee|vldb)\b", name, re.I)
    words = ["Proceedings", owner.group(1).upper()] if owner else []
    for word in _bare(name).replace("/", " ").split():
        if word.lower() in _PUBLISHER_WORDS or word.lower() in _SMALL_WORDS:
            continue
        words += [part for part in re.split(r"[-–]", word) if part and part[0].isalpha()]
    letters = "".join(w if w.isupper() and len(w) > 1 else w[0].upper() for w in words)
    return letters if 2 <= len(letters) <= limit else None


def shorten_unknown(names: Iterable[str]) -> str | None:
    """A short form for a venue the table does not know, from every name S2 gives it.

    In order: a workshop's own name ("EMDL@MobiSys" -> ``EMDL``); an acronym S2 lists
    among its alternate names (``ICDCS``); an acronym in brackets ("… Conference
    (NorCAS)"); the shortest name that fits a Date cell ("Cogn Comput"); the initials of a
    long "… Conference on …"/"Transactions on …" name (``TWC``); else the first name cut at a
    word. Never longer than ``MAX_SHORT``.
    """
    names = [" ".join(n.split()) for n in names if n and n.strip()]
    if not names:
        return None
    for name in names:
        match = _WORKSHOP_RE.match(name)
        if match:
            return _fit(match.group(1))
    for name in names:
        if is_acronym(name):
            return name
    for name in names:
        for inner in _BRACKETED_RE.findall(name):
            acronym = _strip_year(inner)
            if is_acronym(acronym) or (
                " " in acronym and all(is_acronym(w) or w.isupper() for w in acronym.split())
            ):
                return _fit(acronym)
    fitting = sorted(
        (n for n in names if len(n) <= MAX_SHORT and n.lower() not in _PUBLISHER_WORDS), key=len
    )
    if fitting:
        return fitting[0]
    first = names[0]
    if _KIND_WORDS.search(first):
        letters = initials(first)
        if letters:
            return letters
    return _fit(_bare(first) or first)


def _century(yy: int) -> int:
    return 2000 + yy if yy < 70 else 1900 + yy


def load_venues(root: Path) -> Venues:
    """Read ``seeds/venues.toml``; an absent file means no venue rules, only ``arXiv``."""
    path = root / VENUES_FILE
    if not path.exists():
        return Venues([Venue(UNPUBLISHED)])
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SeedError(f"{path}: {exc}") from None
    publishers = _publishers(path, text, data.pop(PUBLISHERS_TABLE, {}))
    venues = []
    for short, table in data.items():
        line = text[: text.find(short)].count("\n") + 1
        if not isinstance(table, dict) or set(table) - {"names", "abbrev", "dblp", "kind"}:
            raise SeedError(
                f"{path}:{line}: [{short}] takes only names, abbrev and dblp lists and a kind"
            )
        if len(short) > MAX_SHORT:
            raise SeedError(
                f"{path}:{line}: [{short}] is longer than {MAX_SHORT} characters:"
                " a Date cell shows the short form"
            )
        lists = {}
        for field in ("names", "abbrev", "dblp"):
            value = table.get(field, [])
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                raise SeedError(f"{path}:{line}: [{short}] {field} must be a list of strings")
            lists[field] = tuple(value)
        kind = table.get("kind")
        if kind is not None and kind not in KINDS:
            raise SeedError(f"{path}:{line}: [{short}] kind must be one of {', '.join(KINDS)}")
        venues.append(Venue(short, **lists, kind=kind))
    return Venues(venues, publishers)


def _publishers(path: Path, text: str, table: object) -> dict[str, str]:
    """``[publishers]``: DOI registrant prefix = publisher's short name."""
    line = text[: text.find(f"[{PUBLISHERS_TABLE}]")].count("\n") + 1
    if not isinstance(table, dict):
        raise SeedError(f"{path}:{line}: [{PUBLISHERS_TABLE}] must be a table")
    out = {}
    for prefix, name in table.items():
        if not re.fullmatch(r"10\.\d{4,9}", prefix) or not isinstance(name, str) or not name:
            raise SeedError(
                f"{path}:{line}: [{PUBLISHERS_TABLE}] {prefix!r}: give a DOI prefix such as"
                ' "10.1109" = "IEEE"'
            )
        if len(name) > MAX_SHORT:
            raise SeedError(f"{path}:{line}: publisher {name!r} is longer than {MAX_SHORT}")
        out[prefix] = name
    return out
