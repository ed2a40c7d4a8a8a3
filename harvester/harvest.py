"""One harvest run: seed papers, then every query of every category, logged in ``runs``.

A query that fails past its retries is reported and the run goes on with the next one; what
other queries brought is kept. The run's exit status says whether anything failed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from sqlite_utils import Database

from harvester import store
from harvester.config import Config
from harvester.errors import SourceError
from harvester.http import RequestLog, Service, make_client
from harvester.seeds import Seeds
from harvester.sources import arxiv as arxiv_source

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    """What a run did; ``errors`` has one line per failed query or lookup."""

    run_id: int
    papers_new: int = 0
    papers_updated: int = 0
    papers_seen: int = 0
    requests: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        return "failed" if self.errors else "ok"


def _count(result: RunResult, saved: store.SaveResult) -> None:
    result.papers_new += len(saved.new)
    result.papers_updated += len(saved.updated)
    result.papers_seen += len(saved.seen)


def run_harvest(
    db: Database,
    seeds: Seeds,
    config: Config,
    *,
    categories: list[str] | None = None,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> RunResult:
    """Harvest the given categories (all by default) from arXiv into ``db``.

    ``transport`` and ``sleep`` exist for tests: the real client code runs, only the
    network and the waiting are swapped.
    """
    keys = categories or list(seeds.categories)
    for key in keys:
        seeds.category(key)  # unknown keys fail before any request
    run_id = store.start_run(db, {"categories": keys})
    result = RunResult(run_id=run_id)
    requests = RequestLog()
    try:
        with make_client(config, transport) as client:
            service = Service(
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
            )
            arxiv = arxiv_source.ArxivSource(service, config.arxiv_url, config.arxiv_page_size)
            _harvest_seed_papers(db, seeds, arxiv, keys, result)
            for key in keys:
                for query in seeds.categories[key].arxiv_search_queries():
                    _harvest_query(db, seeds, arxiv, key, query, config.max_per_query, result)
    finally:
        result.requests = requests.as_dict()
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


def _harvest_seed_papers(
    db: Database,
    seeds: Seeds,
    arxiv: arxiv_source.ArxivSource,
    keys: list[str],
    result: RunResult,
) -> None:
    wanted = [p for p in seeds.papers if p.category in keys]
    by_id = {p.arxiv_id: p for p in wanted if p.arxiv_id}
    for paper in wanted:
        if not paper.arxiv_id:
            # Cavs and other papers without an arXiv version come from Semantic Scholar.
            result.skipped.append(f"seed paper {paper.title or paper.doi!r} has no arXiv id")
    if not by_id:
        return
    try:
        records = arxiv.fetch_ids(sorted(by_id))
    except SourceError as exc:
        result.errors.append(f"{exc} (seed papers)")
        log.error("%s (seed papers)", exc)
        return
    for record in records:
        seed = by_id[record.arxiv_id or ""]
        with db.atomic():
            saved = store.save_records(
                db, seeds, [record], run_id=result.run_id, category=seed.category, query="seed"
            )
            store.mark_seed(db, saved.seen[0], seed.category, seed.focus, seed.notes)
        _count(result, saved)
    missing = sorted(set(by_id) - {r.arxiv_id for r in records})
    for arxiv_id in missing:
        result.errors.append(f"arxiv: seed paper {arxiv_id} not found")


def _harvest_query(
    db: Database,
    seeds: Seeds,
    arxiv: arxiv_source.ArxivSource,
    key: str,
    query: str,
    cap: int,
    result: RunResult,
) -> None:
    start = 0
    try:
        for page in arxiv.search_pages(query, max_results=cap):
            saved = store.save_records(
                db, seeds, page.records, run_id=result.run_id, category=key, query=query
            )
            _count(result, saved)
            start = page.end
            log.info("%s: %d/%d for %s", key, page.end, page.total, query)
    except SourceError as exc:
        message = f"{exc} [{key}] query {query!r} stopped at result {start}"
        result.errors.append(message)
        log.error("%s", message)
