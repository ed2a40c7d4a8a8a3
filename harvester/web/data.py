"""What the review page and the JSON API show, as plain dicts built by one set of functions.

The page is rendered from exactly what ``/api/paper`` and ``/api/queue`` return, so a script
sees what a person sees. Nothing here writes; decisions go through ``harvester.review``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sqlite_utils import Database

from harvester import review, screening, store
from harvester.links import paper_links
from harvester.report.common import accepted_papers
from harvester.report.yearly import render_chart
from harvester.review import QueuePage, ReviewError
from harvester.seeds import Seeds

# Links come from the citation graph snowballing reads; where it has none for a paper the
# page says so instead of guessing links from shared words.
CITATION_LINKS_NOTE = (
    "No citation links to accepted papers known yet: snowballing reads them from "
    "Semantic Scholar for accepted papers and their neighbours."
)
STATUS_FILTERS = (*review.STATUSES, "all")
HISTORY_LIMIT = 5


@dataclass(frozen=True)
class Filters:
    """The queue a person is looking at: status, category and a full-text search."""

    status: str = "pending"
    category: str | None = None
    q: str = ""

    @classmethod
    def read(cls, params: Mapping[str, str], seeds: Seeds) -> Filters:
        """Filters from query parameters; an unknown status or category is a ``ReviewError``."""
        status = params.get("status") or "pending"
        if status not in STATUS_FILTERS:
            raise ReviewError(f"unknown status {status!r} (use {', '.join(STATUS_FILTERS)})")
        category = params.get("category") or None
        if category is not None and category not in seeds.categories:
            raise ReviewError(
                f"unknown category {category!r} (known: {', '.join(seeds.categories)})"
            )
        return cls(status=status, category=category, q=(params.get("q") or "").strip()[:200])

    def params(self, **extra: Any) -> dict[str, str]:
        """Query parameters that reproduce these filters (defaults left out), plus ``extra``."""
        out = {"status": self.status, "category": self.category or "", "q": self.q}
        out |= {k: str(v) for k, v in extra.items() if v is not None}
        return {k: v for k, v in out.items() if v and (k, v) != ("status", "pending")}

    def url(self, **extra: Any) -> str:
        query = urlencode(self.params(**extra))
        return "/" + (f"?{query}" if query else "")


def links(paper: Mapping[str, Any]) -> list[dict[str, str]]:
    """The paper's own pages, built from its valid ids by ``harvester.links`` (as reports)."""
    return [{"label": link.label, "url": link.url} for link in paper_links(paper)]


def versions(db: Database) -> dict[int, int]:
    """``review.paper_version`` of every paper with decisions, in one query."""
    return store.decisions.versions(db)


def queue_page(
    db: Database,
    seeds: Seeds,
    filters: Filters,
    *,
    limit: int | None = None,
    offset: int = 0,
    order: str = "likely",
) -> QueuePage:
    """A page of the filtered queue best first, without the per-paper ``why`` (see
    ``paper``): the ranking is read once, only the rows shown are built into JSON."""
    ids = set(review.search(db, filters.q)) if filters.q else None
    # Never waits for a training: a page ranked by the order held before says so (stale).
    return review.queue_page(
        db,
        seeds,
        status=filters.status,
        category=filters.category,
        ids=ids,
        explain=False,
        limit=limit,
        offset=offset,
        order=order,
        wait=False,
    )


def queue_json(db: Database, page: QueuePage, *, limit: int | None, offset: int) -> dict[str, Any]:
    """A page of the queue as ``/api/queue`` returns it: ``total`` papers match the filters,
    ``items`` are the ``limit`` from ``offset`` on."""
    known = versions(db)
    return {
        "total": page.total,
        "count": page.total,
        # Ranked by the order held before the last decisions while they train.
        "stale": page.stale,
        "offset": offset,
        "limit": limit,
        "items": [i.as_json() | {"version": known.get(i.id, 0)} for i in page.items],
    }


def proposed_category(
    db: Database, seeds: Seeds, paper: Mapping[str, Any], current: screening.Order | None = None
) -> tuple[str | None, bool]:
    """The category the paper is shown and an accept files it under, and whether a person
    chose it (``screening.shown_category``, as ``review.accept``)."""
    chosen = bool(paper["category"]) and "category" in json.loads(paper["manual_fields"])
    return screening.shown_category(paper, current or screening.order(db, seeds)), chosen


def history(db: Database, paper_id: int) -> list[dict[str, Any]]:
    """The paper's last decisions, newest first: who did what when, one entry per action."""
    return store.decisions.history(db, paper_id, HISTORY_LIMIT)


def paper(
    db: Database, seeds: Seeds, row: Mapping[str, Any], *, decided: bool = False
) -> dict[str, Any]:
    """Everything the page shows about one paper, and the ``version`` a decision must quote.

    Its category and "why" come from the order held, without waiting for a training
    (``screening.order_now``): ``ranking_stale`` says when that order is older than the
    decisions. ``decided``: the answer to a decision on it, from the ranking held before
    the decision (the training it starts runs after the answer)."""
    if decided:
        current = screening.latest(db, seeds)
        stale = current.key != screening.order_key(db, seeds)
        words = False
    else:
        current, stale = screening.order_now(db, seeds)
        # The strongest words when the app holds the model (from its first training on),
        # never a load of the vocabulary while the reviewer waits.
        words = not stale and screening.model_held(db, seeds, current)
    category, chosen = proposed_category(db, seeds, row, current)
    lines = screening.explain_lines(db, seeds, [row["id"]], words=words, current=current)
    extra = [lines[row["id"]]] if row["id"] in lines else []
    return {
        "id": row["id"],
        "title": row["title"],
        "authors": json.loads(row["authors"] or "[]"),
        "year": row["year"],
        "venue": row["venue"],
        "venue_year": row["venue_year"],
        "citation_count": row["citation_count"],
        "influential_citation_count": row["influential_citation_count"],
        "tldr": row["tldr"],
        "abstract": row["abstract"],
        "status": row["status"],
        "category": category,
        "proposed_category": category,
        "category_set_by_person": chosen,
        "focus": row["focus"],
        "notes": row["notes"],
        "milestone": bool(row["milestone"]),
        "award": row["award"],
        "arxiv_id": row["arxiv_id"],
        "doi": row["doi"],
        "s2_id": row["s2_id"],
        "links": links(row),
        "why": review.why(db, seeds, dict(row), extra, current),
        "citation_links": (cited := store.citation_links(db, dict(row))),
        "citation_links_note": "" if cited else CITATION_LINKS_NOTE,
        "history": history(db, row["id"]),
        "version": review.paper_version(db, row["id"]),
        "ranking_stale": stale,
    }


def dashboard(db: Database, seeds: Seeds, current: screening.Order | None = None) -> dict[str, Any]:
    """Queue size, decisions today, and the yearly report's chart of accepted papers (the
    counts by ``current``, the order the page is ranked by, when given)."""
    counts = {key: dict.fromkeys(review.STATUSES, 0) for key in [*seeds.categories, None]}
    for category, by_status in review.category_counts(db, seeds, current).items():
        for status, n in by_status.items():
            counts[category if category in seeds.categories else None][status] += n
    return {
        "queue_size": store.queue_size(db),
        "decisions_today": review.decisions_today(db),
        "by_category": counts,
        "chart_svg": render_chart(seeds, accepted_papers(db)),
    }
