"""Exports: the list as BibTeX, CSL-JSON (Zotero and citation processors) and RIS.

Every format is written from one record per paper (``Citation``), made by one function
(``to_citation``), so a paper has one kind, one venue and one year in all of them: the
venue's year (MSDNet is ICLR 2018, though its preprint is of 2017).

Citation keys are the first author's surname, the year and the first significant word of the
title, folded to ASCII (``huang2018multi``). They are made over every paper of the database in
the order papers were stored, so a key does not depend on what is exported, and no key
already pasted into a paper changes when a later paper would have the same one: the later
paper takes ``b``, ``c``, ….

BibTeX keeps non-ASCII letters as UTF-8 (biber and modern BibTeX read it), escapes LaTeX's
special characters, and braces the words of a title a style must not lower-case (``{BERT}``,
``{MSDNet}``).
"""

from __future__ import annotations

import functools
import itertools
import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from harvester import screening, store
from harvester.records import VenueClaim
from harvester.report.common import last_harvest, link
from harvester.seeds import Seeds
from harvester.venues import (
    CONFERENCE,
    JOURNAL,
    PREPRINT,
    THESIS,
    UNKNOWN,
    UNPUBLISHED,
    Venues,
)

FORMATS = ("bibtex", "csl-json", "ris")
STATUSES = ("accepted", "pending", "all")
# A record's kinds beyond the venue's: a thesis, and anything whose kind is not known.
THESIS_KIND, MISC = "thesis", "misc"

_PARTICLES = frozenset(
    [
        "van",
        "von",
        "der",
        "den",
        "de",
        "del",
        "della",
        "di",
        "da",
        "du",
        "dos",
        "das",
        "la",
        "le",
        "ten",
        "ter",
        "zu",
    ]
)
_SUFFIXES = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"})
_KEY_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "on",
        "of",
        "in",
        "for",
        "to",
        "towards",
        "toward",
        "and",
        "with",
        "via",
        "from",
        "at",
        "by",
        "is",
        "are",
        "do",
        "does",
        "how",
        "what",
        "when",
        "why",
        "can",
    ]
)
_JOURNAL_WORDS = re.compile(r"\b(?:transactions|journal|letters|magazine|review)\b", re.I)
_CONFERENCE_WORDS = re.compile(
    r"\b(?:conference|symposium|workshop|proceedings|meeting|congress)\b", re.I
)


@dataclass(frozen=True)
class Name:
    """An author as citation formats want one: family name, given names."""

    family: str
    given: str = ""


@dataclass(frozen=True)
class Citation:
    """One paper as every export writes it."""

    key: str
    kind: str  # conference, journal, preprint, thesis or misc
    title: str
    authors: tuple[Name, ...]
    year: int | None
    venue: str | None = None  # the short form, as in the list
    container: str | None = None  # booktitle or journal: the venue's full name
    publisher: str | None = None
    doi: str | None = None
    arxiv_id: str | None = None
    primary_class: str | None = None
    url: str | None = None
    abstract: str | None = None
    keywords: tuple[str, ...] = field(default_factory=tuple)


# --- names and keys -----------------------------------------------------------------------


def split_name(name: str) -> Name:
    """``Gao Huang`` -> Huang, Gao; ``Laurens van der Maaten`` -> van der Maaten, Laurens;
    ``Huang, Gao`` stays as written; a single word is a family name."""
    text = " ".join(name.split())
    if "," in text:
        family, given = (part.strip() for part in text.split(",", 1))
        return Name(family, given)
    words = text.split(" ")
    suffix: list[str] = []
    while len(words) > 2 and words[-1].lower() in _SUFFIXES:
        suffix.insert(0, words.pop())
    if len(words) == 1:
        return Name(" ".join([*words, *suffix]))
    start = len(words) - 1
    while start > 1 and words[start - 1].lower() in _PARTICLES:
        start -= 1
    family = " ".join(words[start:] + suffix)
    return Name(family, " ".join(words[:start]))


# Letters NFKD does not decompose into an ASCII base letter.
_FOLD = str.maketrans(
    {"ß": "ss", "ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "ł": "l"}
    | {"Ł": "l", "đ": "d", "Đ": "d", "þ": "th", "Þ": "th", "ı": "i"}
)
_NOT_KEY = re.compile(r"[^a-z0-9]+")
_TITLE_WORDS = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")
_WORD_JOINERS = re.compile(r"[-'’]")


def ascii_fold(text: str) -> str:
    """Letters and digits of ``text`` in ASCII, lower case: ``Müller`` -> ``muller``."""
    if text.isascii():  # nothing to fold (most names and words: keys are made for all papers)
        return _NOT_KEY.sub("", text.lower())
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return _NOT_KEY.sub("", decomposed.encode("ascii", "ignore").decode("ascii").lower())


@functools.lru_cache(maxsize=65_536)
def _surname_key(name: str) -> str:
    """ "van der Maaten" -> vandermaaten: the family name with its particles. Kept by name:
    keys are made for every paper, and first authors repeat (660 names for 20,000 papers in
    the bench's corpus)."""
    return ascii_fold(split_name(name).family)


def key_base(authors: Sequence[str], year: int | None, title: str) -> str:
    """``huang2018multi``: first author's surname, year, first significant title word."""
    surname = _surname_key(authors[0]) if authors else ""
    word = ""
    for match in _TITLE_WORDS.finditer(title):
        # "Multi-Scale" -> multi: the first part of a hyphenated word, as people cite it.
        folded = ascii_fold(_WORD_JOINERS.split(match.group(0), maxsplit=1)[0])
        if folded and folded not in _KEY_STOPWORDS:
            word = folded
            break
    return f"{surname or 'anon'}{year or 'nd'}{word or 'paper'}"


def _suffixes() -> Iterable[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    yield from letters[1:]
    for first in letters:
        for second in letters:
            yield first + second


def assign_keys(bases: Sequence[tuple[int, str]]) -> dict[int, str]:
    """Unique keys from (paper id, key base) in the order papers were stored: the first
    keeps its base, later ones take ``b``, ``c``, … (never a key another paper has)."""
    taken: set[str] = set()
    out: dict[int, str] = {}
    wanted = {base for _, base in bases}
    for paper_id, base in sorted(bases):
        key = base
        if key in taken:
            key = next(k for s in _suffixes() if (k := base + s) not in taken and k not in wanted)
        taken.add(key)
        out[paper_id] = key
    return out


# The version of ``key_base``'s rule: bumped whenever a paper's base would come out
# differently, so that the bases stored by an earlier rule are made again, not used.
KEY_RULE = 1


def _bases(inputs: Iterable[tuple[int, str | None, int | None, str]]) -> list[tuple[int, str]]:
    return [
        (paper_id, key_base([first] if first else [], year, title))
        for paper_id, first, year, title in inputs
    ]


def citation_keys(db: Database) -> dict[int, str]:
    """Every paper's citation key: from the stored bases (``keep_key_bases``), the bases of
    papers stored since made here."""
    stored, missing = store.citation_keys.stored_bases(db, KEY_RULE)
    return assign_keys([*stored.items(), *_bases(missing)])


def keep_key_bases(db: Database) -> int:
    """Store the bases of the papers that have none (or one of an earlier rule), in a write
    transaction of their own: for the writer that added or changed papers (a harvest), so
    that no report or export derives them again. Returns how many were stored."""
    with store.write_transaction(db):
        store.citation_keys.clear_other_rules(db, KEY_RULE)
        _, missing = store.citation_keys.stored_bases(db, KEY_RULE)
        made = _bases(missing)
        store.citation_keys.store_bases(db, KEY_RULE, made)
    return len(made)


# --- the record ---------------------------------------------------------------------------


def venue_kind(venue: str | None, venues: Venues, claim: VenueClaim | None) -> str:
    """Conference, journal, preprint, thesis or misc, for a paper's (short) venue."""
    if venue in (None, UNKNOWN):
        return MISC
    if venue == UNPUBLISHED:
        return PREPRINT
    if venue == THESIS:
        return THESIS_KIND
    entry = venues.get(venue)
    if entry is not None and entry.venue_kind:
        return entry.venue_kind
    if entry is None and venue in venues.publishers.values():
        return MISC  # only the DOI's publisher is known
    if claim is not None and claim.kind:
        return claim.kind
    names = " ".join(claim.names) if claim else ""
    if _JOURNAL_WORDS.search(names):
        return JOURNAL
    if _CONFERENCE_WORDS.search(names):
        return CONFERENCE
    return MISC


def _container(venue: str | None, venues: Venues, claim: VenueClaim | None) -> str | None:
    """The venue's full name: the table's, else the first name the newest claim gives."""
    entry = venues.get(venue or "")
    if entry is not None:
        return entry.full_name
    for name in claim.names if claim else ():
        if venues.by_name(name) != UNPUBLISHED:
            return name
    return venue


def to_citation(
    paper: dict[str, Any],
    key: str,
    venues: Venues,
    claim: VenueClaim | None = None,
    category: str | None = None,
) -> Citation:
    """One stored paper (a ``papers`` row and its newest venue claim) as the record every
    export writes."""
    venue = paper.get("venue")
    kind = venue_kind(venue, venues, claim)
    container = _container(venue, venues, claim) if kind in (CONFERENCE, JOURNAL) else None
    publisher = None
    if kind == PREPRINT:
        publisher = "arXiv"
    elif kind == MISC and venue not in (None, UNKNOWN):
        publisher = venue
    return Citation(
        key=key,
        kind=kind,
        title=" ".join(paper["title"].split()),
        authors=tuple(split_name(a) for a in json.loads(paper.get("authors") or "[]") if a),
        year=paper.get("venue_year") or paper.get("year"),
        venue=venue,
        container=container,
        publisher=publisher,
        doi=paper.get("doi"),
        arxiv_id=paper.get("arxiv_id"),
        primary_class=paper.get("primary_category"),
        url=link(paper),
        abstract=" ".join(paper["abstract"].split()) if paper.get("abstract") else None,
        keywords=(category,) if category else (),
    )


def citations(
    db: Database, seeds: Seeds, *, status: str = "accepted", category: str | None = None
) -> list[Citation]:
    """The papers of a status (``accepted``, ``pending`` or ``all``) and category, sorted
    by citation key."""
    if status not in STATUSES:
        raise ValueError(status)
    if category is not None:
        seeds.category(category)
    if status == "accepted":
        rows = store.papers_with(db, status, category)
    else:
        # A paper nobody decided is filed where the queue shows it (the ranking's say).
        current = screening.order(db, seeds)
        rows = [
            dict(row, category=screening.shown_category(row, current))
            for row in store.papers_with(db, status)
        ]
        rows = [row for row in rows if category is None or row["category"] == category]
    if not rows:
        return []
    keys = citation_keys(db)
    claims = store.latest_claims(db, [r["id"] for r in rows])
    records = [
        to_citation(
            row,
            keys[row["id"]],
            seeds.venues,
            claims.get(row["id"]),
            seeds.categories[row["category"]].name if row["category"] in seeds.categories else None,
        )
        for row in rows
    ]
    return sorted(records, key=lambda c: c.key)


# --- BibTeX -------------------------------------------------------------------------------

_LATEX = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_LATEX_RE = re.compile(r"[\\&%$#_{}~^]")
_WORD_RE = re.compile(r"[^\W_]+")


def latex_escape(text: str) -> str:
    """Text that LaTeX prints as itself; letters beyond ASCII stay as they are (UTF-8)."""
    flat = re.sub(r"\s+", " ", text)
    return _LATEX_RE.sub(lambda m: _LATEX[m.group(0)], flat)


def _protected(word: str) -> bool:
    """Words a style must not lower-case: acronyms and names written with inner capitals
    (``BERT``, ``MSDNet``, ``iPhone``, ``3D``)."""
    capitals = sum(c.isupper() for c in word)
    if capitals >= 2:
        return True
    if capitals and any(c.isdigit() for c in word):
        return True
    return any(a.islower() and b.isupper() for a, b in itertools.pairwise(word))


def bibtex_title(title: str) -> str:
    """The title escaped for LaTeX, with acronyms braced: ``{FastBERT}: a Self-distilling
    {BERT} …``."""
    out, last = [], 0
    flat = " ".join(title.split())
    for match in _WORD_RE.finditer(flat):
        out.append(latex_escape(flat[last : match.start()]))
        word = match.group(0)
        out.append("{" + word + "}" if _protected(word) else word)
        last = match.end()
    out.append(latex_escape(flat[last:]))
    return "".join(out)


def _bibtex_name(name: Name) -> str:
    family = latex_escape(name.family)
    # A family name of several words ("van der Maaten") needs no braces in "Last, First".
    return f"{family}, {latex_escape(name.given)}" if name.given else "{" + family + "}"


_ENTRY_TYPES = {
    CONFERENCE: "inproceedings",
    JOURNAL: "article",
    PREPRINT: "misc",
    THESIS_KIND: "misc",
    MISC: "misc",
}


def bibtex_entry(c: Citation) -> str:
    """One entry: ``@inproceedings`` with ``booktitle``, ``@article`` with ``journal``,
    ``@misc`` with ``eprint``/``archivePrefix``/``primaryClass`` for a preprint."""
    fields: list[tuple[str, str]] = []
    if c.authors:
        fields.append(("author", " and ".join(_bibtex_name(n) for n in c.authors)))
    fields.append(("title", bibtex_title(c.title)))
    if c.kind == CONFERENCE and c.container:
        container = c.container
        if c.venue and c.venue.lower() not in container.lower():
            container += f" ({c.venue})"
        fields.append(("booktitle", latex_escape(container)))
    elif c.kind == JOURNAL and c.container:
        fields.append(("journal", latex_escape(c.container)))
    if c.year:
        fields.append(("year", str(c.year)))
    if c.kind == THESIS_KIND:
        fields.append(("howpublished", "Thesis"))
    if c.publisher and c.kind != PREPRINT:
        fields.append(("publisher", latex_escape(c.publisher)))
    if c.doi:
        fields.append(("doi", latex_escape(c.doi)))
    if c.arxiv_id:
        fields.append(("eprint", c.arxiv_id))
        fields.append(("archivePrefix", "arXiv"))
        if c.primary_class:
            fields.append(("primaryClass", latex_escape(c.primary_class)))
    if c.url:
        fields.append(("url", c.url))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@{_ENTRY_TYPES[c.kind]}{{{c.key},\n{body}\n}}\n"


def bibtex(records: Sequence[Citation], header: str = "") -> str:
    """A ``.bib`` file: a comment line, then one entry per paper."""
    lead = "".join(f"% {line}\n" for line in header.splitlines()) + ("\n" if header else "")
    return lead + "\n".join(bibtex_entry(c) for c in records)


# --- CSL-JSON -----------------------------------------------------------------------------

_CSL_TYPES = {
    CONFERENCE: "paper-conference",
    JOURNAL: "article-journal",
    PREPRINT: "article",  # Zotero reads it as a preprint
    THESIS_KIND: "thesis",
    MISC: "document",
}


def csl_item(c: Citation) -> dict[str, Any]:
    """One item of CSL-JSON, the format Zotero and citeproc read."""
    item: dict[str, Any] = {"id": c.key, "type": _CSL_TYPES[c.kind], "title": c.title}
    authors = [
        {"family": n.family, "given": n.given} if n.given else {"literal": n.family}
        for n in c.authors
    ]
    if authors:
        item["author"] = authors
    if c.year:
        item["issued"] = {"date-parts": [[c.year]]}
    if c.container:
        item["container-title"] = c.container
        if c.venue and c.venue != c.container:
            item["container-title-short"] = c.venue
    if c.publisher:
        item["publisher"] = c.publisher
    if c.kind == PREPRINT and c.arxiv_id:
        item["number"] = c.arxiv_id
    if c.doi:
        item["DOI"] = c.doi
    if c.url:
        item["URL"] = c.url
    if c.abstract:
        item["abstract"] = c.abstract
    if c.keywords:
        item["keyword"] = ", ".join(c.keywords)
    return item


def csl_json(records: Sequence[Citation]) -> str:
    return json.dumps([csl_item(c) for c in records], ensure_ascii=False, indent=2) + "\n"


# --- RIS ----------------------------------------------------------------------------------

_RIS_TYPES = {
    CONFERENCE: "CONF",
    JOURNAL: "JOUR",
    PREPRINT: "UNPB",
    THESIS_KIND: "THES",
    MISC: "GEN",
}


def ris_record(c: Citation) -> str:
    """One RIS record, ``TY`` to ``ER``."""
    lines = [("TY", _RIS_TYPES[c.kind]), ("ID", c.key)]
    lines += [("AU", f"{n.family}, {n.given}" if n.given else n.family) for n in c.authors]
    lines.append(("TI", c.title))
    if c.container:
        lines.append(("T2", c.container))
        if c.kind == JOURNAL and c.venue and c.venue != c.container:
            lines.append(("J2", c.venue))
    if c.year:
        lines.append(("PY", str(c.year)))
    if c.publisher:
        lines.append(("PB", c.publisher))
    if c.doi:
        lines.append(("DO", c.doi))
    if c.url:
        lines.append(("UR", c.url))
    if c.arxiv_id:
        lines.append(("N1", f"arXiv:{c.arxiv_id}"))
    lines += [("KW", k) for k in c.keywords]
    if c.abstract:
        lines.append(("AB", c.abstract))
    lines.append(("ER", ""))
    return "".join(f"{tag}  - {' '.join(value.split())}\n" for tag, value in lines)


def ris(records: Sequence[Citation]) -> str:
    return "\n".join(ris_record(c) for c in records)


# --- one call for the CLI and the reports -------------------------------------------------


def render(
    db: Database,
    seeds: Seeds,
    fmt: str = "bibtex",
    *,
    status: str = "accepted",
    category: str | None = None,
    title: str = "",
) -> str:
    """The papers of a status and category in one of ``FORMATS``."""
    if fmt not in FORMATS:
        raise ValueError(fmt)
    records = citations(db, seeds, status=status, category=category)
    if fmt == "csl-json":
        return csl_json(records)
    if fmt == "ris":
        return ris(records)
    harvested = last_harvest(db)
    which = "" if status == "all" else f"{status} "
    header = (
        f"{title + ': ' if title else ''}{len(records)} {which}papers"
        f"{f' in {category}' if category else ''}, exported by harvester"
        + (f" from the harvest of {harvested}" if harvested else "")
        + "."
    )
    return bibtex(records, header)
