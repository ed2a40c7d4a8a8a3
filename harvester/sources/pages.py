"""What a query reader yields: pages of records, each with where the next one starts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from harvester.records import PaperRecord


@dataclass(frozen=True)
class Cursor:
    """Where a read stands: results read so far (arXiv's offset; Semantic Scholar counts
    them) and Semantic Scholar's continuation token. A read resumes from a page's cursor."""

    offset: int = 0
    token: str | None = None


# A read from the top.
START = Cursor()
# An incremental read asks for this many results first, where the service lets the caller
# choose (arXiv): a weekly run mostly needs a few dozen above its watermark, not 2,000.
FIRST_PAGE = 100


@dataclass
class Page:
    """One page of a query, newest first.

    ``cursor`` is where the next page starts; ``dates`` the dates the service sorts by
    (arXiv's submission date, Semantic Scholar's publication date) of the records that have
    one; ``last`` is true on the page that ends the read (the end of the results, the cap,
    or the caller's ``stop_when``); ``skipped`` counts objects that could not be stored.
    """

    records: list[PaperRecord]
    total: int
    cursor: Cursor
    dates: list[str] = field(default_factory=list)
    last: bool = False
    skipped: int = 0

    @property
    def start(self) -> int:
        """Results read before this page."""
        return self.cursor.offset - len(self.records) - self.skipped


# Whether a page ends an incremental read (the caller's rule: its watermark is reached).
StopWhen = Callable[[Page], bool]
