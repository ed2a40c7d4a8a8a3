"""``reports/new.md``: what changed since the previous report, for people who read it weekly.

"The previous report" is the one written after the harvest before the last: a scheduled job
harvests and then reports, and reviewers decide in between (on the page, or in a checklist
imported before the next harvest). So the page lists the papers accepted since that harvest
ended, and the candidates the last harvest found, best first. Both come from the database
alone (runs, decisions, first-seen times), so a report written twice is the same file.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from sqlite_utils import Database

from harvester import review, store
from harvester.markdown import escape
from harvester.report.common import date_cell, focus_cell, linked_title, table
from harvester.seeds import Seeds

# Candidates listed; the review queue has them all.
MAX_CANDIDATES = 50


class Candidate(Protocol):
    """What the page lists of a pending paper: a queue item, or a checklist line's row."""

    @property
    def id(self) -> int: ...

    @property
    def citation_count(self) -> int | None: ...

    @property
    def category(self) -> str | None: ...


def _day(timestamp: str | None) -> str:
    return (timestamp or "")[:10]


def _section(seeds: Seeds, key: str | None) -> str:
    category = seeds.categories.get(key or "")
    return escape(category.title) if category else ""


def render_new(
    db: Database,
    seeds: Seeds,
    papers: list[dict[str, Any]],
    pending: Sequence[Candidate] | None = None,
) -> str:
    """The page: accepted since the previous harvest, then the last harvest's candidates.

    ``pending`` is the pending queue when the caller has it (``report``: read once for the
    checklist and this page)."""
    runs = store.finished_runs(db)
    out = ["# What's new", ""]
    out += [
        "[The list](README.md) · [review queue](review-queue.md) · [Atom feed](feed.xml)"
        " · [BibTeX](papers.bib)",
        "",
    ]
    if not runs:
        return "\n".join([*out, "No harvest yet."]) + "\n"
    latest = runs[0]
    since = runs[1]["ended"] if len(runs) > 1 else None
    accepted_at = store.accepted_times(db)
    fresh = [p for p in papers if since is None or accepted_at.get(p["id"], "") > since]
    fresh.sort(key=lambda p: (accepted_at.get(p["id"], ""), p["id"]), reverse=True)
    candidate_ids = store.first_seen_between(db, latest["started"], latest["ended"])
    wanted = set(candidate_ids)
    if not wanted:
        candidates: Sequence[Candidate] = []
    elif pending is not None:
        candidates = [item for item in pending if item.id in wanted]
    else:
        candidates = review.queue(db, seeds, ids=wanted, explain=False)
    boundary = f"the harvest of {_day(since)}" if since else "the first harvest"
    out += [
        f"Since {boundary}: {len(fresh)} {'paper' if len(fresh) == 1 else 'papers'} accepted."
        f" The harvest of {_day(latest['ended'])} found {len(candidates)} new"
        f" {'candidate' if len(candidates) == 1 else 'candidates'}.",
        "",
        f"## Accepted since {boundary}",
        "",
    ]
    if fresh:
        rows = [
            [
                _day(accepted_at.get(p["id"])),
                date_cell(p),
                linked_title(p),
                _section(seeds, p["category"]),
                focus_cell(p, seeds.categories[p["category"]].name)
                if p["category"] in seeds.categories
                else focus_cell(p),
            ]
            for p in fresh
        ]
        out += table(["Accepted", "Date", "Paper", "Section", "Focused On"], rows)
    else:
        out.append("None.")
    out += ["", f"## New candidates from the harvest of {_day(latest['ended'])}", ""]
    if not candidates:
        out.append("None.")
    by_id = store.papers_by_id(db, [item.id for item in candidates[:MAX_CANDIDATES]])
    for item in candidates[:MAX_CANDIDATES]:
        paper = by_id[item.id]
        parts = [linked_title(paper), date_cell(paper)]
        if item.citation_count is not None:
            parts.append(f"{item.citation_count:,} citations")
        if item.category:
            parts.append(f"suggested: {_section(seeds, item.category)}")
        out.append(f"1. {' · '.join(p for p in parts if p)} `#{item.id}`")
    if len(candidates) > MAX_CANDIDATES:
        out += [
            "",
            f"… and {len(candidates) - MAX_CANDIDATES} more in the"
            " [review queue](review-queue.md).",
        ]
    return "\n".join(out).rstrip() + "\n"
