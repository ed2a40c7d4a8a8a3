"""Incremental state per source, category and query: how far a read has got.

A query is read newest first. ``newest`` is the newest date (arXiv's submission date, S2's
publication date) a *complete* read has seen; the next run stops once a page reaches
``newest`` minus the overlap. While a read is under way, ``resume_*`` say where it is (the
offset or continuation token after the last stored page, and the newest date it has met),
written in the same transaction as that page. So a run killed or failing mid-query leaves
the old ``newest`` in place, and the next run resumes the unfinished read below it instead of
stopping at the top: the older pages it missed are still read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from sqlite_utils import Database

from harvester.store import watermarks as rows


def newer(a: str | None, b: str | None) -> str | None:
    """The later of two ISO dates, either of which may be missing."""
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


@dataclass(frozen=True)
class Watermark:
    """One query's state; ``resume_offset`` is not None while a read is unfinished."""

    source: str
    category: str
    query: str
    newest: str | None = None
    resume_offset: int | None = None
    resume_token: str | None = None
    resume_newest: str | None = None

    @property
    def unfinished(self) -> bool:
        return self.resume_offset is not None

    def cutoff(self, overlap_days: int) -> str | None:
        """The date below which a page ends an incremental read; None reads to the end."""
        if not self.newest:
            return None
        return (date.fromisoformat(self.newest[:10]) - timedelta(days=overlap_days)).isoformat()


def load(db: Database, source: str, category: str, query: str) -> Watermark:
    state = rows.read(db, source, category, query)
    if state is None:
        return Watermark(source, category, query)
    return Watermark(source, category, query, *state)


def load_read(
    db: Database, source: str, category: str, query: str, parts: Sequence[str]
) -> Watermark:
    """The state of a query that stands for ``parts`` (seed queries OR-combined into one).

    A combined query read for the first time starts from what its parts knew: when every
    part has a complete read, the oldest of their watermarks (the combined read then
    stops where the most behind of them would have); else it reads to the end.
    """
    state = rows.read(db, source, category, query)
    if state is not None or list(parts) == [query]:
        return load(db, source, category, query)
    before = [rows.read(db, source, category, part) for part in parts]
    if any(s is None or s[0] is None or s[1] is not None for s in before):
        return Watermark(source, category, query)
    return Watermark(source, category, query, newest=min(s[0] for s in before if s and s[0]))


def _write(db: Database, wm: Watermark, run_id: int) -> None:
    state = (wm.newest, wm.resume_offset, wm.resume_token, wm.resume_newest)
    rows.write(db, wm.source, wm.category, wm.query, state, run_id)


def progress(
    db: Database,
    wm: Watermark,
    *,
    offset: int,
    token: str | None,
    newest: str | None,
    run_id: int,
) -> Watermark:
    """A page is stored and more follow: remember where to resume. Call inside its transaction."""
    updated = replace(wm, resume_offset=offset, resume_token=token, resume_newest=newest)
    _write(db, updated, run_id)
    return updated


def complete(
    db: Database,
    wm: Watermark,
    *,
    newest: str | None,
    run_id: int,
    replaces: Sequence[str] = (),
) -> Watermark:
    """The read reached the old watermark (or the end): advance it, forget the resume state.

    ``replaces`` names the queries it stands for: their own rows, from before they were
    combined, have served and go.
    """
    updated = Watermark(wm.source, wm.category, wm.query, newer(wm.newest, newest))
    _write(db, updated, run_id)
    for query in replaces:
        if query != wm.query:
            rows.delete(db, wm.source, wm.category, query)
    return updated


def all_watermarks(db: Database) -> list[dict[str, Any]]:
    """Every query's state, for ``status``."""
    return rows.all_rows(db)
