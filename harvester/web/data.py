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

from harvester import review, store
from harvester.links import paper_links
from harvester.rank import Ranker
from harvester.report.common import accepted_papers
from harvester.report.yearly import render_chart
from harvester.review import QueueItem, ReviewError
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


def queue_items(db: Database, seeds: Seeds, filters: Filters, ranker: Ranker) -> list[QueueItem]:
    """The filtered queue best first, without the per-paper ``why`` (see ``paper``)."""
    ids = set(review.search(db, filters.q)) if filters.q else None
    return review.queue(
        db,
        seeds,
        status=filters.status,
        category=filters.category,
        ranker=ranker,
        ids=ids,
        explain=False,
    )


def queue_json(db: Database, items: list[QueueItem], limit: int | None = None) -> dict[str, Any]:
    known = versions(db)
    shown = items[:limit] if limit is not None else items
    return {
        "count": len(items),
        "items": [i.as_json() | {"version": known.get(i.id, 0)} for i in shown],
    }


def proposed_category(paper: Mapping[str, Any], ranker: Ranker) -> tuple[str | None, bool]:
    """The category an accept files the paper under, and whether a person chose it.

    The same rule as ``review.accept``: a category a person set wins over the suggestion.
    """
    if paper["category"] and "category" in json.loads(paper["manual_fields"]):
        return paper["category"], True
    return ranker.suggest_category(dict(paper)), False


def history(db: Database, paper_id: int) -> list[dict[str, Any]]:
    """The paper's last decisions, newest first: who did what when, one entry per action."""
    return store.decisions.history(db, paper_id, HISTORY_LIMIT)


def paper(db: Database, seeds: Seeds, ranker: Ranker, row: Mapping[str, Any]) -> dict[str, Any]:
    """Everything the page shows about one paper, and the ``version`` a decision must quote."""
    category, chosen = proposed_category(row, ranker)
    extra = [ranker.explain(dict(row))] if ranker.trained else []
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
        "category": row["category"],
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
        "why": review.why(db, seeds, dict(row), extra),
        "citation_links": (cited := store.citation_links(db, dict(row))),
        "citation_links_note": "" if cited else CITATION_LINKS_NOTE,
        "history": history(db, row["id"]),
        "version": review.paper_version(db, row["id"]),
    }


def dashboard(db: Database, seeds: Seeds) -> dict[str, Any]:
    """Queue size, decisions today, and the yearly report's chart of accepted papers."""
    counts = {key: dict.fromkeys(review.STATUSES, 0) for key in [*seeds.categories, None]}
    for category, by_status in store.counts_by_category(db).items():
        for status, n in by_status.items():
            counts[category if category in seeds.categories else None][status] += n
    return {
        "queue_size": store.queue_size(db),
        "decisions_today": review.decisions_today(db),
        "by_category": counts,
        "chart_svg": render_chart(seeds, accepted_papers(db)),
    }
