"""The citation graph among the papers the harvests found, from their references.

The category rule's citation vote (``ranking.suggest_categories``) counts a paper's stored
neighbours, and snowballing only reads the graph of accepted papers: after a first harvest
it would hold the seed papers' edges alone. So once a run's papers are stored, each paper
whose references were never read is asked for them, ids only, through the batch endpoint
(``references.paperId``): up to 500 papers a request, as many as keep the answer within the
9,999 entries S2 lists at most (``REFERENCES_GUESS`` each at first, then as many as the
answers so far listed a paper, with a margin: ``batch_size``; a batch S2 refuses as too big
is split in two). References alone suffice: an edge between two stored papers is in the citing
paper's list, and a first harvest asks every paper it stored.

Only the edges whose cited paper the database holds are kept. An edge to a paper it does not
hold counts for no vote, and there are many: some 40 references a paper, most outside the
field, would be 800,000 rows at 20,000 papers that every ranking reads. What is lost is an
edge from a paper stored earlier to one found later (the earlier one was asked before the
later one was there): citations point back in time and later runs bring new papers, whose
own references are kept; snowballing still reads the accepted papers' graph whole.

A paper is asked once (its ``snowball_state`` row of direction ``references``, which
snowballing writes as well, is the watermark): references never change, and a run that
stored no new paper asks nothing. A paper Semantic Scholar does not know counts as read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

from sqlite_utils import Database

from harvester import clock, ingest, store
from harvester.errors import QueryError, SourceError
from harvester.pipeline import Writer
from harvester.rules import Rules
from harvester.sources.semantic_scholar import (
    BATCH_SIZE,
    GRAPH_MAX,
    REFERENCE_FIELDS,
    REFERENCES_GUESS,
    Links,
    SemanticScholarSource,
)

log = logging.getLogger(__name__)

DIRECTION = "references"
# A paper whose references are due: (paper id, S2 id, citation count).
Due = tuple[int, str, int | None]
# Edges, or papers read, held before they are written (see ``read_references``).
FLUSH_EDGES = 20_000
FLUSH_PAPERS = 5_000
# Batches are sized by the references the answers so far listed a paper, times this.
MARGIN = 1.25


@dataclass
class ReferencesResult:
    papers_read: int = 0
    edges: int = 0
    errors: list[str] = field(default_factory=list)


def batch_size(listed: int, asked: int) -> int:
    """Papers the next batch asks about, so that its answer stays within ``GRAPH_MAX``
    entries: ``REFERENCES_GUESS`` a paper until answers came, then what the answers so far
    listed a paper (``listed`` references for ``asked`` papers), with a margin
    (``MARGIN``); at most 500. A batch's sum varies less the more papers it holds, and one
    S2 refuses is split in two."""
    per = REFERENCES_GUESS if asked == 0 else MARGIN * listed / asked
    return max(1, min(BATCH_SIZE, int(GRAPH_MAX / max(per, 1.0))))


def read_references(
    db: Database,
    rules: Rules,
    s2: SemanticScholarSource,
    *,
    min_score: float,
    stop: Callable[[], bool] = lambda: False,
    on_failure: Callable[[SourceError], None] | None = None,
    on_write: Callable[[], None] = lambda: None,
) -> ReferencesResult:
    """Read the references of the stored papers not read before and keep the edges between
    stored papers.

    The requests go out from a thread of their own while this one (the connection's) sorts
    the answers, so waiting on the service overlaps the local work. Edges and watermarks
    are written together, in one transaction per ``FLUSH_EDGES`` edges or ``FLUSH_PAPERS``
    papers read and at the end: a transaction per batch rewrote most of the citation
    index's pages each time (random keys), several seconds at 20,000 papers. A run stopped
    in between asks the papers of its unwritten batches again.

    ``min_score`` leaves out papers whose score is below it. ``stop`` lets the caller give
    up (its circuit breaker) between requests, ``on_failure`` hears of each batch that
    failed past its retries (its papers are asked again next run), and ``on_write`` runs in
    each transaction (the run's lock check and counters). A paper not accepted that a new
    edge links to an accepted one is derived again: links count in its category.
    """
    result = ReferencesResult()
    due = store.graph.references_due(db, min_score)
    if not due:
        return result
    stored, accepted = store.graph.stored_s2_ids(db)
    held = _Held()
    writer = Writer()

    def fetch() -> None:
        split: list[list[Due]] = []  # halves of a batch S2 refused, asked first
        start = listed = asked = 0
        while split or start < len(due):
            if stop():
                return
            if split:
                batch = split.pop(0)
            else:
                batch = due[start : start + batch_size(listed, asked)]
                start += len(batch)
            try:
                answers = s2.links([s2_id for _, s2_id, _ in batch], REFERENCE_FIELDS)
            except QueryError as exc:
                if len(batch) > 1:
                    # Too big an answer for S2 (more references than guessed): halve it.
                    half = len(batch) // 2
                    split[:0] = [batch[:half], batch[half:]]
                    continue
                _failed(result, on_failure, exc, batch)
                continue
            except SourceError as exc:
                _failed(result, on_failure, exc, batch)
                continue
            listed += sum(len(links.cited) for links in answers if links is not None)
            asked += len(batch)
            writer.submit(partial(keep, batch, answers))

    def keep(batch: list[Due], answers: list[Links | None]) -> None:
        for (_, me, _), links in zip(batch, answers, strict=True):
            if links is not None:
                held.edges += [
                    (me, c) for c in dict.fromkeys(links.cited) if c in stored and c != me
                ]
        held.papers += [(paper_id, count) for paper_id, _, count in batch]
        if len(held.edges) >= FLUSH_EDGES or len(held.papers) >= FLUSH_PAPERS:
            write()

    def write() -> None:
        touched = _touching_accepted(held.edges, stored, accepted)
        with store.write_transaction(db):
            on_write()
            store.graph.add_edges(db, held.edges)
            store.graph.record_reads(db, held.papers, DIRECTION, clock.now_iso())
            if touched:
                ingest.refresh_papers(db, rules, touched)
        result.papers_read += len(held.papers)
        result.edges += len(held.edges)
        held.edges, held.papers = [], []

    writer.run({"references": fetch})
    if held.papers:
        write()
    log.info("references: %d papers read, %d edges kept", result.papers_read, result.edges)
    return result


@dataclass
class _Held:
    """Edges and papers read, not yet written."""

    edges: list[tuple[str, str]] = field(default_factory=list)
    papers: list[tuple[int, int | None]] = field(default_factory=list)


def _touching_accepted(
    edges: Sequence[tuple[str, str]], stored: dict[str, int], accepted: set[str]
) -> list[int]:
    """Papers not accepted at one end of an edge whose other end is accepted."""
    out: set[int] = set()
    for a, b in edges:
        if (a in accepted) != (b in accepted):
            out.add(stored[b if a in accepted else a])
    return sorted(out)


def _failed(
    result: ReferencesResult,
    on_failure: Callable[[SourceError], None] | None,
    exc: SourceError,
    batch: Sequence[Due],
) -> None:
    result.errors.append(f"{exc} (references of {len(batch)} papers from #{batch[0][0]})")
    if on_failure is not None:
        on_failure(exc)
