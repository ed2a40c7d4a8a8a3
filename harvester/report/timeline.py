"""The Big Event Timeline: Domain × Year, each cell the milestone papers of that year.

A timeline is read at a glance: each paper is its short name (``MSDNet``, ``SkipNet``),
linked, with its citations and award, and a cell shows a handful of papers (awards first,
then the most cited); the rest are counted and linked to that year's report, which lists
them all.
"""

from __future__ import annotations

import re
from typing import Any

from harvester.markdown import escape
from harvester.report.common import link, table
from harvester.seeds import DOMAINS, Seeds

TIMELINE_TITLE = "Big Event Timeline(cite > 100 / Best Paper...)"
# Papers shown in one cell; a year report holds the rest.
PER_CELL = 4
# The heading of the yearly report's list of milestones, linked from a full cell.
YEAR_ANCHOR = "milestones-and-awards"

_HEAD_WORDS = 3
_NAME_CHARS = 24
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "for",
        "and",
        "or",
        "in",
        "on",
        "with",
        "to",
        "via",
        "by",
        "from",
        "at",
        "as",
        "is",
        "are",
        "towards",
        "toward",
    ]
)
# A token that reads as a name: capitals inside (SkipNet, FastBERT, EE-LLM), or a digit
# beside capitals (D2NN).
_NAME = r"[A-Za-z][A-Za-z0-9]*(?:[-+][A-Za-z0-9]+)*"
_CLAIM = (
    r"\b(?:propose|present|introduce|describe|develop|design|build|release)[sd]?\s+"
    r"(?:(?:here|a|an|the|novel|new|simple|but|effective|general|unified|lightweight|"
    r"method|approach|framework|system|model|technique|toolkit|algorithm|architecture|"
    r"library|compiler|network|engine|runtime)\s*,?\s+)*"
)
_PROPOSED_RE = re.compile(_CLAIM + rf"({_NAME})(?=\s*[,(:;]|\s+(?:--|[-–—])\s)")
_CALLED_RE = re.compile(
    r"\b(?:called|named|dubbed|termed|coined|nicknamed)\s+[\"“'‘]?([A-Z][A-Za-z0-9]*"
    r"(?:[-+][A-Za-z0-9]+)*)"
)
# What "we propose" names, then its acronym: no comma or colon between, a few words at most
# (a longer clause is describing something else: "…in natural language processing (NLP)").
_ACRONYM_RE = re.compile(
    r"\b(?:propose|present|introduce|describe|develop|design|build)[sd]?\s+"
    r"((?:[\w-]+\s+){1,8}?)\(([A-Za-z0-9][A-Za-z0-9\-]{1,15})\)"
)


def _name_like(token: str) -> bool:
    """``SkipNet``, ``FastBERT``, ``EE-LLM``, ``D2NN``: capitals beyond the first letter."""
    if len(token) < 2 or len(token) > _NAME_CHARS:
        return False
    capitals = sum(c.isupper() for c in token)
    return capitals >= 2 or (capitals >= 1 and any(c.isdigit() for c in token))


def _singular(acronym: str) -> str:
    """``DDNNs`` -> ``DDNN``, ``MSDNets`` -> ``MSDNet``: a name, not a plural."""
    if acronym.endswith("s") and len(acronym) > 2 and acronym[-2].isupper():
        return acronym[:-1]
    if acronym.endswith("Nets"):
        return acronym[:-1]
    return acronym


def name_in_abstract(abstract: str | None) -> str | None:
    """The name an abstract gives its own work: "called X", "we propose X, a …", or the
    acronym in brackets after what "we propose" (``Adaptive Computation Time (ACT)``)."""
    if not abstract:
        return None
    text = " ".join(abstract.split())
    if match := _CALLED_RE.search(text):
        word = match.group(1)
        if word.lower() not in _STOPWORDS and word not in ("A", "An", "The", "This"):
            return word
    for match in _PROPOSED_RE.finditer(text):
        if _name_like(match.group(1)):
            return match.group(1)
    for match in _ACRONYM_RE.finditer(text):
        words, acronym = match.group(1).split(), match.group(2)
        initials = {part[0].lower() for w in words for part in w.split("-") if part}
        if _name_like(acronym) and acronym[0].lower() in initials:
            return _singular(acronym)
    return None


def _title_words(title: str) -> str:
    words = title.split()
    if len(words) > 1 and words[0].lower() in ("a", "an"):
        words = words[1:]
    head = words[:_HEAD_WORDS]
    while len(head) > 1 and (head[-1].lower() in _STOPWORDS or len(" ".join(head)) > _NAME_CHARS):
        head.pop()
    text = " ".join(head).rstrip(",;:-")
    return text + ("…" if len(head) < len(words) else "")


def short_name(title: str, abstract: str | None = None) -> str:
    """What a timeline cell calls a paper.

    The name before a title's colon (``MSDNet: …`` -> ``MSDNet``; at most three words), a
    title of three words or fewer itself, else the name the abstract introduces
    (``we introduce SkipNet, …``, ``called X``, ``(ACT)``), else the title's first words.
    """
    title = " ".join(title.split())
    head, colon, _ = title.partition(":")
    head = head.strip()
    if colon and head and len(head.split()) <= _HEAD_WORDS and len(head) <= _NAME_CHARS:
        return head
    if len(title.split()) <= _HEAD_WORDS and len(title) <= _NAME_CHARS:
        return title
    return name_in_abstract(abstract) or _title_words(title)


def _order(paper: dict[str, Any]) -> tuple[Any, ...]:
    """Awards first, then the most cited; title and id settle ties."""
    return (
        paper.get("award") is None,
        -(paper.get("citation_count") or 0),
        paper.get("title_key") or "",
        paper.get("id") or 0,
    )


def _entry(paper: dict[str, Any]) -> str:
    name = escape(short_name(paper["title"], paper.get("abstract")))
    url = link(paper)
    text = f"[{name}]({url})" if url else name
    details = []
    if paper.get("citation_count") is not None:
        details.append(f"{paper['citation_count']:,}")
    if paper.get("award"):
        details.append(f"🏆 {escape(paper['award'])}")
    return text + (f" ({', '.join(details)})" if details else "")


def cell(papers: list[dict[str, Any]], year: int, per_cell: int = PER_CELL) -> str:
    """A cell: the first ``per_cell`` papers, then how many more, linked to the year."""
    chosen = sorted(papers, key=_order)
    lines = [_entry(p) for p in chosen[:per_cell]]
    rest = len(chosen) - per_cell
    if rest > 0:
        lines.append(f"[+{rest} more](years/{year}.md#{YEAR_ANCHOR})")
    return "<br>".join(lines)


def render_timeline(
    seeds: Seeds, papers: list[dict[str, Any]], per_cell: int = PER_CELL
) -> list[str]:
    """Every accepted milestone in its category's domain and its venue year; a cell shows
    ``per_cell`` of them. Only the years that have a milestone get a column: one paper of
    1991 would otherwise spread the table over decades of empty cells."""
    events: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for paper in papers:
        category = seeds.categories.get(paper["category"] or "")
        year = paper.get("venue_year") or paper.get("year")
        if paper["milestone"] and category and year:
            events.setdefault((category.domain, year), []).append(paper)
    if not events:
        return ["", "No milestones yet."]
    years = sorted({y for _, y in events})
    rows = [
        [domain, *(cell(events.get((domain, y), []), y, per_cell) for y in years)]
        for domain in DOMAINS
    ]
    return table(["Domain", *map(str, years)], rows)
