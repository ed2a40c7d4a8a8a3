"""Venues: the short form awesome lists write (``ICLR 2018``) from what the services say.

Semantic Scholar names venues in full and often gives the preprint's year; DBLP keys and arXiv
comments carry the venue's own year. The rules live in ``seeds/venues.toml`` so a curator can
teach the tool a new venue without touching code.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from harvester.errors import SeedError

UNPUBLISHED = "arXiv"
VENUES_FILE = "venues.toml"


def _key(name: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", name.lower()))


@dataclass(frozen=True)
class Venue:
    short: str
    names: tuple[str, ...] = ()
    abbrev: tuple[str, ...] = ()
    dblp: tuple[str, ...] = ()


@dataclass(frozen=True)
class VenueEvidence:
    """Everything a source said that can name a paper's venue and its year."""

    names: tuple[str, ...] = ()
    dblp: str | None = None
    year: int | None = None
    texts: tuple[str, ...] = ()


class Venues:
    """The venue table and the rules that apply it."""

    def __init__(self, venues: Iterable[Venue]) -> None:
        self.venues = list(venues)
        self._by_name: dict[str, str] = {}
        for venue in self.venues:
            for name in (venue.short, *venue.names, *venue.abbrev):
                self._by_name.setdefault(_key(name), venue.short)
        shorts = [
            re.escape(a)
            for v in self.venues
            if v.short != UNPUBLISHED
            for a in sorted({v.short, *v.abbrev}, key=len, reverse=True)
        ]
        # "Accepted at ICLR 2018", "NeurIPS'20", "ACL 2020 (long paper)".
        self._in_text = re.compile(
            r"(?<![A-Za-z])(" + "|".join(shorts) + r")\s*['’]?\s*((?:19|20)\d{2}|\d{2})(?!\d)"
        )
        self._abbrev_to_short = {
            a.lower(): v.short for v in self.venues for a in (v.short, *v.abbrev)
        }

    def by_name(self, name: str) -> str | None:
        return self._by_name.get(_key(name)) if name else None

    def by_dblp(self, key: str) -> tuple[str, int | None] | None:
        """``conf/iclr/HuangCLWMW18`` -> ``("ICLR", 2018)``."""
        for venue in self.venues:
            for prefix in venue.dblp:
                if key.startswith(prefix + "/"):
                    match = re.search(r"(\d{2})[a-z]?$", key)
                    return venue.short, _century(int(match.group(1))) if match else None
        return None

    def in_text(self, text: str) -> tuple[str, int] | None:
        match = self._in_text.search(text)
        if not match:
            return None
        year = int(match.group(2))
        return self._abbrev_to_short[match.group(1).lower()], year if year > 99 else _century(year)

    def resolve(self, evidence: VenueEvidence) -> tuple[str, int | None] | None:
        """The venue and its year, or None when nothing names a venue.

        A published venue beats ``arXiv`` from any source; among published ones the order of
        trust is the DBLP key (it carries the venue's year), an explicit "VENUE YEAR" in the
        arXiv comment or journal ref, then Semantic Scholar's names with its year.
        """
        unpublished = False
        if evidence.dblp:
            found = self.by_dblp(evidence.dblp)
            if found and found[0] != UNPUBLISHED:
                return found
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
    venues = []
    for short, table in data.items():
        line = text[: text.find(short)].count("\n") + 1
        if not isinstance(table, dict) or set(table) - {"names", "abbrev", "dblp"}:
            raise SeedError(f"{path}:{line}: [{short}] takes only names, abbrev and dblp lists")
        lists = {}
        for field in ("names", "abbrev", "dblp"):
            value = table.get(field, [])
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                raise SeedError(f"{path}:{line}: [{short}] {field} must be a list of strings")
            lists[field] = tuple(value)
        venues.append(Venue(short, **lists))
    return Venues(venues)
