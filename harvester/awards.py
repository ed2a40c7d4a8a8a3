"""Best-paper awards, from ``seeds/awards.csv``, matched to papers by normalised title.

Titles are the only key both sides share; the venue and year of the award break ties when
one title won more than once (or two papers share a title).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from harvester.errors import SeedError
from harvester.records import normalise_title

AWARDS_FILE = "awards.csv"
COLUMNS = ("venue", "year", "title", "source", "award", "url")


@dataclass(frozen=True)
class Award:
    venue: str
    year: int
    title: str
    award: str
    source: str

    @property
    def label(self) -> str:
        """What the list prints: ``CVPR 2017 Best Paper``."""
        return f"{self.venue} {self.year} {self.award}"


class Awards:
    def __init__(self, awards: list[Award]) -> None:
        self._by_title: dict[str, list[Award]] = {}
        for award in awards:
            self._by_title.setdefault(normalise_title(award.title), []).append(award)

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_title.values())

    def match(self, title: str, venue: str | None = None, year: int | None = None) -> Award | None:
        """The award of the paper with this title, preferring one at its venue and year."""
        found = self._by_title.get(normalise_title(title))
        if not found:
            return None
        return max(found, key=lambda a: (a.venue == venue, a.year == year, -a.year))


def load_awards(root: Path) -> Awards:
    path = root / AWARDS_FILE
    if not path.exists():
        return Awards([])
    awards = []
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = set(COLUMNS) - set(reader.fieldnames or [])
        if missing:
            raise SeedError(f"{path}:1: missing column {sorted(missing)[0]!r}")
        for row in reader:
            line = reader.line_num
            try:
                year = int(row["year"])
            except (TypeError, ValueError):
                raise SeedError(f"{path}:{line}: year {row['year']!r} is not a number") from None
            if not row["title"] or not row["venue"] or not row["award"]:
                raise SeedError(f"{path}:{line}: venue, title and award are required")
            awards.append(Award(row["venue"], year, row["title"], row["award"], row["source"]))
    return Awards(awards)
