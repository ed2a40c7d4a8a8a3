"""The rows a page is merged into and written from, as plain data.

``store.papers`` reads a ``StoredPage`` and writes ``SourceRow``s; ``merge`` and ``derive``
work on them without touching the database.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from harvester.records import VenueClaim

# The columns of ``papers`` whose schema default is not NULL, with that default.
_DEFAULTS = {"score": 0.0, "is_seed": 0, "manual_fields": "[]", "status": "pending", "milestone": 0}


def manual_fields(row: Mapping[str, Any]) -> frozenset[str]:
    """The fields a person set on a paper (``manual_fields``, a JSON list, mostly empty)."""
    text = row["manual_fields"]
    return frozenset() if text == "[]" else frozenset(json.loads(text))


@dataclass
class StoredPage:
    """What the database holds about the papers one page of records may describe.

    ``rows`` by id; ``hits`` their (source, category, query) query hits; ``claims`` their
    venue claims by source id, newest first; ``said`` the stored text of each record's own
    source row, by (source, source id), with the paper it belongs to; ``next_id`` the id a
    new paper gets.
    """

    rows: dict[int, dict[str, Any]] = field(default_factory=dict)
    hits: dict[int, set[tuple[str, str, str]]] = field(default_factory=dict)
    claims: dict[int, dict[str, VenueClaim]] = field(default_factory=dict)
    said: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict)
    columns: list[str] = field(default_factory=list)
    next_id: int = 1

    def blank(self) -> dict[str, Any]:
        """A new paper's row before anything is known: every column, at its default."""
        return dict.fromkeys(self.columns) | _DEFAULTS


class SourceRow(NamedTuple):
    """One source's own record of a paper, as ``paper_sources`` keeps it (a tuple: a
    harvest makes one per record it stores)."""

    paper_id: int
    source: str
    source_id: str
    data: str
    fetched_at: str
    claim: VenueClaim | None = None
