"""One harvest run, logged in ``runs``.

1. arXiv: the seed papers by id (one request), then every query of every category.
2. Semantic Scholar: seed papers given by title or DOI, then every category's search, for
   papers that are not on arXiv.
3. Semantic Scholar enrichment: every paper in batches of 500 (citations, venue, ids, TL;DR).

A query that fails past its retries is reported and the run goes on with the next one; what
other queries brought is kept. The run's status says whether anything failed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
from sqlite_utils import Database

from harvester import store
from harvester.config import Config
from harvester.errors import SourceError
from harvester.http import RequestLog, Service, make_client
from harvester.seeds import Seeds
from harvester.snowball import snowball
from harvester.sources import arxiv as arxiv_source
from harvester.sources import semantic_scholar as s2_source

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    """What a run did; ``errors`` has one line per failed query or lookup."""

    run_id: int
    papers_new: int = 0
    papers_updated: int = 0
    papers_seen: int = 0
    papers_enriched: int = 0
    requests: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        return "failed" if self.errors else "ok"

    def count(self, saved: store.SaveResult) -> None:
        self.papers_new += len(saved.new)
        self.papers_updated += len(saved.updated)
        self.papers_seen += len(saved.seen)

    def fail(self, message: str) -> None:
        self.errors.append(message)
        log.error("%s", message)


@dataclass
class _Run:
    """What every step of a run needs."""

    db: Database
    seeds: Seeds
    config: Config
    keys: list[str]
    result: RunResult
    arxiv: arxiv_source.ArxivSource
    s2: s2_source.SemanticScholarSource

    def save(self, records, **kwargs) -> store.SaveResult:  # type: ignore[no-untyped-def]
        saved = store.save_records(
            self.db,
            self.seeds,
            records,
            run_id=self.result.run_id,
            milestone_citations=self.config.milestone_citations,
            **kwargs,
        )
        self.result.count(saved)
        return saved


@dataclass
class Sources:
    """The run's two services over one HTTP client, and the requests they made."""

    arxiv: arxiv_source.ArxivSource
    s2: s2_source.SemanticScholarSource
    requests: RequestLog


@contextmanager
def open_sources(
    config: Config,
    *,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Sources]:
    """Both sources, sharing one HTTP client and one request log, closed on exit."""
    requests = RequestLog()
    with make_client(config, transport) as client:
        arxiv = arxiv_source.ArxivSource(
            Service(
                arxiv_source.SOURCE,
                client,
                delay=config.arxiv_delay,
                retries=config.retries,
                backoff_max=config.backoff_max,
                # arXiv answers 429 even below its documented rate: wait longer than 3 s.
                backoff_initial=max(4.0, config.arxiv_delay),
                requests=requests,
                sleep=sleep,
                describe_error=arxiv_source.describe_error,
            ),
            config.arxiv_url,
            config.arxiv_page_size,
        )
        s2 = s2_source.SemanticScholarSource(
            Service(
                s2_source.SOURCE,
                client,
                delay=config.s2_delay,
                retries=config.retries,
                backoff_max=config.backoff_max,
                backoff_initial=max(2.0, config.s2_delay),
                requests=requests,
                # Sent on every endpoint; never logged (headers are not).
                headers={"x-api-key": config.s2_api_key} if config.s2_api_key else None,
                sleep=sleep,
                describe_error=s2_source.describe_error,
            ),
            config.s2_url,
        )
        yield Sources(arxiv, s2, requests)


def run_harvest(
    db: Database,
    seeds: Seeds,
    config: Config,
    *,
    categories: list[str] | None = None,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> RunResult:
    """Harvest the given categories (all by default) into ``db``.

    ``transport`` and ``sleep`` exist for tests: the real client code runs, only the
    network and the waiting are swapped.
    """
    keys = categories or list(seeds.categories)
    for key in keys:
        seeds.category(key)  # unknown keys fail before any request
    run_id = store.start_run(db, {"categories": keys})
    result = RunResult(run_id=run_id)
    sources: Sources | None = None
    try:
        with open_sources(config, transport=transport, sleep=sleep) as sources:
            run = _Run(db, seeds, config, keys, result, sources.arxiv, sources.s2)
            _arxiv_seed_papers(run)
            for key in keys:
                for query in seeds.categories[key].arxiv_search_queries():
                    _arxiv_query(run, key, query)
            _s2_seed_papers(run)
            for key in keys:
                for query in seeds.categories[key].s2_queries:
                    _s2_query(run, key, query)
            _enrich(run)
            if config.snowball_depth:
                _snowball(run)
    finally:
        result.requests = sources.requests.as_dict() if sources else {}
        store.finish_run(
            db,
            run_id,
            status=result.status,
            requests=result.requests,
            papers_new=result.papers_new,
            papers_updated=result.papers_updated,
            errors=result.errors,
        )
    return result


def _arxiv_seed_papers(run: _Run) -> None:
    by_id = {p.arxiv_id: p for p in run.seeds.papers if p.arxiv_id and p.category in run.keys}
    if not by_id:
        return
    try:
        records = run.arxiv.fetch_ids(sorted(by_id))
    except SourceError as exc:
        run.result.fail(f"{exc} (seed papers)")
        return
    for record in records:
        seed = by_id[record.arxiv_id or ""]
        with run.db.atomic():
            saved = run.save([record], category=seed.category, query="seed")
            store.mark_seed(run.db, saved.seen[0], seed.category, seed.focus, seed.notes)
    for arxiv_id in sorted(set(by_id) - {r.arxiv_id for r in records}):
        run.result.fail(f"arxiv: seed paper {arxiv_id} not found")


def _arxiv_query(run: _Run, key: str, query: str) -> None:
    start = 0
    try:
        for page in run.arxiv.search_pages(query, max_results=run.config.max_per_query):
            run.save(page.records, category=key, query=query)
            start = page.end
            log.info("arxiv %s: %d/%d for %s", key, page.end, page.total, query)
    except SourceError as exc:
        run.result.fail(f"{exc} [{key}] query {query!r} stopped at result {start}")


def _s2_seed_papers(run: _Run) -> None:
    """Seed papers without an arXiv version, by exact title or DOI."""
    for seed in run.seeds.papers:
        if seed.arxiv_id or seed.category not in run.keys:
            continue
        what = seed.title or seed.doi or ""
        try:
            if seed.title:
                record = run.s2.match_title(seed.title)
            else:
                [record] = run.s2.batch([f"DOI:{seed.doi}"])
        except SourceError as exc:
            run.result.fail(f"{exc} (seed paper {what!r})")
            continue
        if record is None:
            run.result.fail(f"s2: seed paper {what!r} not found")
            continue
        with run.db.atomic():
            saved = run.save([record], category=seed.category, query="seed")
            store.mark_seed(run.db, saved.seen[0], seed.category, seed.focus, seed.notes)


def _s2_query(run: _Run, key: str, query: str) -> None:
    seen = 0
    try:
        for page in run.s2.search_pages(query, max_results=run.config.max_per_query):
            run.save(page.records, category=key, query=query)
            seen += len(page.records)
            log.info("s2 %s: %d/%d for %s", key, seen, page.total, query)
    except SourceError as exc:
        run.result.fail(f"{exc} [{key}] query {query!r} stopped after {seen} results")


def _snowball(run: _Run) -> None:
    """Neighbours of accepted papers in the citation graph, queued when promising."""
    found = snowball(
        run.db,
        run.seeds,
        run.s2,
        depth=run.config.snowball_depth,
        min_score=run.config.snowball_min_score,
        cap_per_paper=run.config.snowball_cap,
        milestone_citations=run.config.milestone_citations,
        run_id=run.result.run_id,
    )
    run.result.papers_new += len(found.queued)
    for error in found.errors:
        run.result.fail(error)
    log.info(
        "snowball: %d papers read, %d candidates, %d queued",
        found.sources_read,
        found.candidates,
        len(found.queued),
    )


def _enrich(run: _Run) -> None:
    """Citations, venue and ids for every paper: one request per 500 papers."""
    rows = store.papers_to_enrich(run.db)
    for i in range(0, len(rows), s2_source.BATCH_SIZE):
        chunk = rows[i : i + s2_source.BATCH_SIZE]
        try:
            records = run.s2.batch([s2_source.batch_id(row) for row in chunk])
        except SourceError as exc:
            run.result.fail(f"{exc} (enriching papers {i + 1}–{i + len(chunk)} of {len(rows)})")
            continue
        known = [(row["id"], r) for row, r in zip(chunk, records, strict=True) if r is not None]
        with run.db.atomic():
            run.save([r for _, r in known], targets=[paper_id for paper_id, _ in known])
            store.mark_refreshed(run.db, [row["id"] for row in chunk])
        run.result.papers_enriched += len(known)
        log.info("s2: enriched %d of %d papers", i + len(chunk), len(rows))
