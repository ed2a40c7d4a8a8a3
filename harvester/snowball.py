"""Citation snowballing: papers that cite or are cited by accepted papers become candidates.

Keyword queries miss papers that name their idea differently; the papers that cite the known
ones rarely do. From every accepted paper (seed papers first) we read who cites it and whom
it cites, keep every edge in ``citations``, and let a neighbour we do not have into the review
queue as ``pending`` when either

- its score passes ``min_score``: link weight × accepted papers of a category it connects to
  (capped) + its text score, so a paper cited by everything (ResNet) needs words of the field;
  or
- it is linked to at least ``min_links`` accepted papers of one category (in the whole graph
  kept so far, not only this run's reads) and its words do not speak against it: the text
  part of its score in that category, look-alike phrases included, is not negative. A paper
  linked to three accepted early-exit papers is a strong candidate even in plain words; one
  with a phrase of that category (a text score above zero) needs one link fewer, so a
  dynamic-kernel segmentation network citing two accepted dynamic-convolution papers and
  saying "kernels" is queued, a paper citing the same two in plain words is not.

Nothing is accepted here. The graph is read through the batch endpoint, ids only: up to 500
papers a request, as many as keep the answer within the 9,999 citations and references S2
lists at most (``GRAPH_MAX``, packed by the citation counts we hold; a batch S2 refuses as
too large is split in two). S2 lists at most 1,000 of each per paper there; a paper with more
citations than that, when ``cap_per_paper`` asks for more, is read through ``/citations``
pages instead. The neighbours we do not have are then described by the batch endpoint, 500 a
request. A paper's citations are read again only when its citation count grew; its
references never change.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from harvester import clock, ingest, store
from harvester.classify import best_category, score_paper
from harvester.errors import QueryError, SourceError
from harvester.records import PaperRecord
from harvester.rules import Rules
from harvester.sources.semantic_scholar import (
    BATCH_SIZE,
    GRAPH_MAX,
    GRAPH_PER_PAPER,
    REFERENCES_GUESS,
    SemanticScholarSource,
)

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
class _Reads:
    """A level's neighbours, and its in-run links to sources that are not accepted (the
    candidates queued at the level before: depth 2)."""

    neighbours: set[str] = field(default_factory=set)
    extra: dict[str, set[int]] = field(default_factory=dict)

    def add(self, paper: dict[str, Any], edges: list[tuple[str, str]]) -> None:
        for citing, cited in edges:
            other = citing if cited == paper["s2_id"] else cited
            self.neighbours.add(other)
            if paper["status"] != "accepted":
                self.extra.setdefault(other, set()).add(paper["id"])


def _due(db: Database, paper: dict[str, Any], direction: str) -> bool:
    """Citations are re-read when the count grew; references once."""
    before = store.graph.read_before(db, paper["id"], direction)
    if before is None:
        return True
    return direction == "citations" and (paper["citation_count"] or 0) > (before[0] or 0)


def _weight(paper: dict[str, Any], cap: int) -> int:
    """The citations and references a paper adds to a batch answer, as far as we know."""
    return min(paper["citation_count"] or 0, GRAPH_PER_PAPER, cap) + REFERENCES_GUESS


def pack(papers: Sequence[dict[str, Any]], cap: int) -> list[list[dict[str, Any]]]:
    """Papers in batches of at most 500 whose answers stay within ``GRAPH_MAX`` entries."""
    batches: list[list[dict[str, Any]]] = []
    size = GRAPH_MAX + 1
    for paper in papers:
        weight = _weight(paper, cap)
        if not batches or len(batches[-1]) >= BATCH_SIZE or size + weight > GRAPH_MAX:
            batches.append([])
            size = 0
        batches[-1].append(paper)
        size += weight
    return batches


@dataclass(frozen=True)
class Verdict:
    """What the rules say of a candidate: its category and score, and whether it is queued."""

    category: str | None
    score: float
    queued: bool
    links: int


def judge(
    rules: Rules,
    title: str,
    abstract: str | None,
    links: dict[str, int],
    *,
    min_score: float,
    min_links: int,
) -> Verdict:
    """The queue rule above, as a pure function of a candidate's words and links."""
    scores = score_paper(rules, title, abstract, {}, links)
    best = best_category(scores, rules.order, rules)
    if best is None:
        return Verdict(None, 0.0, False, 0)
    n = links.get(best.category, 0)
    if best.score >= min_score:
        return Verdict(best.category, best.score, True, n)
    weights = rules.seeds.rules
    words = best.score - weights.link * min(n, weights.link_cap)
    # A phrase of the category's own stands for one link: two accepted neighbours and the
    # family's words say as much as three neighbours in plain words.
    needed = max(min_links - 1, 1) if words > 0 else min_links
    strong = min_links > 0 and n >= needed and words >= 0
    return Verdict(best.category, best.score, strong, n)


def snowball(
    db: Database,
    rules: Rules,
    s2: SemanticScholarSource,
    *,
    depth: int = 1,
    min_score: float = 8.0,
    min_links: int = 3,
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
        due = [
            p for p in frontier if p["id"] not in done and any(_due(db, p, d) for d in DIRECTIONS)
        ]
        done.update(p["id"] for p in frontier)
        level_reads = _Reads()

        def failed(exc: SourceError, what: str) -> None:
            result.errors.append(f"{exc} (snowball {what})")
            if on_failure is not None:
                on_failure(exc)

        def keep(
            paper: dict[str, Any], edges: list[tuple[str, str]], reads: _Reads = level_reads
        ) -> None:
            with store.write_transaction(db):
                store.graph.add_edges(db, edges)
                for direction in DIRECTIONS:
                    store.graph.record_read(
                        db, paper["id"], direction, paper["citation_count"], clock.now_iso()
                    )
            result.edges += len(edges)
            result.sources_read += 1
            reads.add(paper, edges)

        # S2's batch lists 1,000 citations a paper: more, when asked for, come from pages.
        paged = cap_per_paper > GRAPH_PER_PAPER
        heavy = [p for p in due if paged and (p["citation_count"] or 0) > GRAPH_PER_PAPER]
        light = [p for p in due if p not in heavy]
        batches = pack(light, cap_per_paper)
        while batches:
            if stop():
                return result
            batch = batches.pop(0)
            try:
                answers = s2.links([p["s2_id"] for p in batch])
            except QueryError as exc:
                if len(batch) > 1:
                    # Too big an answer for S2 (more references than guessed): halve it.
                    half = len(batch) // 2
                    batches[:0] = [batch[:half], batch[half:]]
                    continue
                failed(exc, f"graph of #{batch[0]['id']}")
                continue
            except SourceError as exc:
                failed(exc, f"graph of {len(batch)} papers from #{batch[0]['id']}")
                continue
            for paper, links in zip(batch, answers, strict=True):
                if links is None:
                    keep(paper, [])
                    continue
                citing = links.citing[:cap_per_paper]
                cited = links.cited[:cap_per_paper]
                edges = [(c, paper["s2_id"]) for c in citing] + [(paper["s2_id"], c) for c in cited]
                keep(paper, edges)
        for paper in heavy:
            if stop():
                return result
            try:
                keep(paper, _read_pages(s2, paper, cap_per_paper))
            except SourceError as exc:
                failed(exc, f"neighbours of #{paper['id']}")
        queued = _queue(
            db,
            rules,
            s2,
            sorted(level_reads.neighbours),
            level_reads.extra,
            min_score,
            min_links,
            run_id,
            result,
            failed,
        )
        result.queued += queued
        if level + 1 < depth:
            frontier = [r for r in store.graph.queued_by_snowball(db) if r["id"] not in done]
    return result


def _read_pages(
    s2: SemanticScholarSource, paper: dict[str, Any], cap: int
) -> list[tuple[str, str]]:
    """Both directions through ``/citations`` and ``/references`` pages, 1,000 a page."""
    edges: list[tuple[str, str]] = []
    for direction in DIRECTIONS:
        for page in s2.neighbours(paper["s2_id"], direction, max_results=cap):
            for record in page.records:
                other = record.s2_id or ""
                citing_cited = (
                    (other, paper["s2_id"]) if direction == "citations" else (paper["s2_id"], other)
                )
                edges.append(citing_cited)
    return edges


def _queue(
    db: Database,
    rules: Rules,
    s2: SemanticScholarSource,
    neighbours: list[str],
    extra: dict[str, set[int]],
    min_score: float,
    min_links: int,
    run_id: int | None,
    result: SnowballResult,
    failed: Callable[[SourceError, str], None],
) -> list[int]:
    """Describe the neighbours we do not have, store those the rules queue as pending, and
    re-derive the ones we have (their new links may change their category and score)."""
    known = store.graph.papers_by_s2_id(db, neighbours)
    if known:
        ingest.refresh_papers(db, rules, sorted(set(known.values())))
    unknown = [n for n in neighbours if n not in known]
    links = store.graph.linked_categories(db, unknown)
    categories = {
        i: r["category"]
        for i, r in store.papers_by_id(db, {i for s in extra.values() for i in s}).items()
    }
    for s2_id, paper_ids in extra.items():
        for paper_id in paper_ids:
            category = categories.get(paper_id)
            if category:
                counts = links.setdefault(s2_id, {})
                counts[category] = counts.get(category, 0) + 1
    wanted = [n for n in unknown if links.get(n)]
    result.candidates += len(wanted)
    queued: list[int] = []
    for i in range(0, len(wanted), BATCH_SIZE):
        chunk = wanted[i : i + BATCH_SIZE]
        try:
            records = s2.batch(chunk)
        except SourceError as exc:
            failed(exc, f"describing {len(chunk)} candidates")
            continue
        for s2_id, record in zip(chunk, records, strict=True):
            if record is None:
                continue
            queued += _consider(db, rules, record, links[s2_id], min_score, min_links, run_id)
    return queued


def _consider(
    db: Database,
    rules: Rules,
    record: PaperRecord,
    links: dict[str, int],
    min_score: float,
    min_links: int,
    run_id: int | None,
) -> list[int]:
    verdict = judge(
        rules, record.title, record.abstract, links, min_score=min_score, min_links=min_links
    )
    if not verdict.queued or verdict.category is None:
        return []
    if ingest.find_paper(db, record) is not None:
        return []  # known by another id (arXiv, DOI) than the S2 id the graph gave
    saved = ingest.save_records(
        db, rules, [record], run_id=run_id, category=verdict.category, query="snowball"
    )
    log.info(
        "snowball: queued %s (%s, %.1f, %d links)",
        record.title,
        verdict.category,
        verdict.score,
        verdict.links,
    )
    return list(saved.new)
