"""Citation snowballing: papers that cite or are cited by accepted papers become candidates.

Keyword queries miss papers that name their idea differently; the papers that cite the known
ones rarely do. From every accepted paper (seed papers first) we read its citations and
references through Semantic Scholar, keep every edge in ``citations``, and let a neighbour
into the review queue as ``pending`` only when its score passes ``snowball_min_score``:

    score = link weight × accepted papers it connects to (per category, capped) + text score

so a paper cited by everything (ResNet) needs words of the field too. Nothing is accepted
here. A paper's citations are read again only when its citation count grew; its references
never change and are read once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from harvester import clock, ingest, store
from harvester.classify import best_category, score_paper
from harvester.errors import SourceError
from harvester.records import PaperRecord
from harvester.rules import Rules
from harvester.sources.semantic_scholar import SemanticScholarSource

log = logging.getLogger(__name__)

DIRECTIONS = ("references", "citations")


@dataclass
class SnowballResult:
    sources_read: int = 0
    edges: int = 0
    candidates: int = 0
    queued: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class _Candidate:
    record: PaperRecord
    linked: set[int] = field(default_factory=set)  # accepted paper ids it connects to


def _due(db: Database, paper: dict[str, Any], direction: str) -> bool:
    """Citations are re-read when the count grew; references once."""
    before = store.graph.read_before(db, paper["id"], direction)
    if before is None:
        return True
    return direction == "citations" and (paper["citation_count"] or 0) > (before[0] or 0)


def _link_scores(
    rules: Rules, categories: dict[int, str | None], candidate: _Candidate
) -> tuple[float, str | None]:
    """The candidate's score: its links to accepted papers, by category, and its words."""
    links: dict[str, int] = {}
    for paper_id in candidate.linked:
        category = categories.get(paper_id)
        if category:
            links[category] = links.get(category, 0) + 1
    scores = score_paper(rules, candidate.record.title, candidate.record.abstract, {}, links)
    best = best_category(scores, rules.order, rules)
    return (best.score if best else 0.0), (best.category if best else None)


def snowball(
    db: Database,
    rules: Rules,
    s2: SemanticScholarSource,
    *,
    depth: int = 1,
    min_score: float = 8.0,
    cap_per_paper: int = 1000,
    run_id: int | None = None,
    stop: Callable[[], bool] = lambda: False,
    on_failure: Callable[[SourceError], None] | None = None,
) -> SnowballResult:
    """Read the neighbours of accepted papers and queue the promising ones.

    ``depth`` 2 also reads the neighbours of the candidates queued at depth 1, and so on.
    ``stop`` lets the caller give up (its circuit breaker) between requests, and
    ``on_failure`` hears of each read that failed past its retries.
    """
    result = SnowballResult()
    done: set[int] = set()
    frontier = store.graph.snowball_sources(db)
    for level in range(depth):
        candidates: dict[str, _Candidate] = {}
        for paper in frontier:
            if stop():
                return result
            done.add(paper["id"])
            read_any = False
            for direction in DIRECTIONS:
                if stop():
                    return result
                if not _due(db, paper, direction):
                    continue
                read_any = True
                try:
                    edges = _read(s2, paper, direction, cap_per_paper, candidates)
                except SourceError as exc:
                    result.errors.append(f"{exc} (snowball {direction} of #{paper['id']})")
                    if on_failure is not None:
                        on_failure(exc)
                    continue
                with store.write_transaction(db):
                    store.graph.add_edges(db, edges)
                    store.graph.record_read(
                        db, paper["id"], direction, paper["citation_count"], clock.now_iso()
                    )
                result.edges += len(edges)
            result.sources_read += read_any
        result.candidates += len(candidates)
        queued = _queue(db, rules, candidates, min_score, run_id)
        result.queued += queued
        if level + 1 < depth:
            frontier = [r for r in store.graph.queued_by_snowball(db) if r["id"] not in done]
    return result


def _read(
    s2: SemanticScholarSource,
    paper: dict[str, Any],
    direction: str,
    cap: int,
    candidates: dict[str, _Candidate],
) -> list[tuple[str, str]]:
    edges: list[tuple[str, str]] = []
    for page in s2.neighbours(paper["s2_id"], direction, max_results=cap):
        for record in page.records:
            other = record.s2_id or ""
            edge = (other, paper["s2_id"]) if direction == "citations" else (paper["s2_id"], other)
            edges.append(edge)
            candidates.setdefault(other, _Candidate(record)).linked.add(paper["id"])
    return edges


def _queue(
    db: Database,
    rules: Rules,
    candidates: dict[str, _Candidate],
    min_score: float,
    run_id: int | None,
) -> list[int]:
    """Store candidates above the threshold as pending; refresh the ones already known."""
    queued: list[int] = []
    linked = {paper_id for c in candidates.values() for paper_id in c.linked}
    categories = {i: row["category"] for i, row in store.papers_by_id(db, linked).items()}
    for _, candidate in sorted(candidates.items()):
        known = ingest.find_paper(db, candidate.record)
        if known is not None:
            # Already in the database: its new links may change its category and score.
            ingest.refresh_paper(db, rules, int(known["id"]))
            continue
        score, category = _link_scores(rules, categories, candidate)
        if score < min_score or category is None:
            continue
        saved = ingest.save_records(
            db, rules, [candidate.record], run_id=run_id, category=category, query="snowball"
        )
        queued += saved.new
        log.info("snowball: queued %s (%s, %.1f)", candidate.record.title, category, score)
    return queued
