"""One harvest run: locked, incremental, resumable, logged in ``runs``.

Two fetchers run at once, each at its own service's pace, and hand their pages to one
writer (``harvester.pipeline``):

- arXiv: the seed papers not yet stored, by id (one request), then every query of every
  category, newest submissions first, 2,000 a page.
- Semantic Scholar: seed papers given by title or DOI not yet stored, then every category's
  bulk search, newest publications first; then the refresh: citations, venue, ids and TL;DR
  from the batch endpoint, 500 papers a request, for papers not refreshed for
  ``refresh_days``. Batches start while arXiv pages still arrive. A paper a search has just
  described counts as refreshed, unless it has no TL;DR and was never in a batch (a new
  paper: its TL;DR comes in this run), or ``refresh_days`` is 0 or the run is ``full``:
  those ask the batch about every paper.

Citation snowballing follows, once both are done.

Incremental: a query stops at the page that reaches its watermark minus ``overlap_days``
(``harvester.watermarks``); records there that bring nothing new are not written again.
``full`` ignores watermarks, re-reads every query to its end and refreshes every paper.

Resumable: every page is one transaction holding its papers, the query's resume state and
the run's counters; a run killed at any point leaves whole pages, and the next run resumes
unfinished queries where they stopped.

Failures: a step (query, lookup, batch) that fails past its retries is reported on one line
and the run goes on; a source failing ``breaker_failures`` steps in a row is given up for
the rest of the run (``harvester.breaker``). What other steps brought is kept.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import httpx
from sqlite_utils import Database

from harvester import store, watermarks
from harvester.breaker import CircuitBreaker
from harvester.config import Config
from harvester.errors import QueryError, SourceError
from harvester.http import RequestLog, Service, make_client
from harvester.lock import HarvestLock
from harvester.logs import ECHOED
from harvester.pipeline import Pending, Writer
from harvester.progress import NoProgress, Progress
from harvester.records import PaperRecord
from harvester.redact import scrub
from harvester.seeds import SeedPaper, Seeds
from harvester.snowball import snowball
from harvester.sources import arxiv as arxiv_source
from harvester.sources import semantic_scholar as s2_source

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    """What a run did; ``errors`` has one line per failed step (and per source given up).

    Counts are of records as sources returned them (a paper found by three queries counts
    three times): ``papers_seen`` were stored, ``papers_unchanged`` were read again but
    brought nothing new, ``papers_refreshed`` were asked of the refresh batches.
    """

    run_id: int
    papers_new: int = 0
    papers_updated: int = 0
    papers_seen: int = 0
    papers_unchanged: int = 0
    papers_enriched: int = 0
    papers_refreshed: int = 0
    requests: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    interrupted: bool = False

    @property
    def status(self) -> str:
        if self.interrupted:
            return "interrupted"
        return "failed" if self.errors else "ok"

    def count(self, saved: store.SaveResult) -> None:
        self.papers_new += len(saved.new)
        self.papers_updated += len(saved.updated)
        self.papers_seen += len(saved.seen)

    def fail(self, message: str) -> None:
        # Stored in ``runs.errors`` and printed: never with a secret in it, whatever raised.
        message = scrub(message)
        self.errors.append(message)
        # The CLI prints every error as a ``failed:`` line at the end; the console handler
        # leaves echoed records out (one line each in a cron mail), the log file keeps them.
        log.error("%s", message, extra={ECHOED: True})


class _StepFailed(Exception):
    """A step's source failed; ``context`` says which query and how far it got."""

    def __init__(self, error: SourceError, context: str) -> None:
        super().__init__(f"{error} {context}")
        self.error = error


@dataclass
class _Run:
    """What every step of a run needs."""

    db: Database
    seeds: Seeds
    config: Config
    keys: list[str]
    full: bool
    result: RunResult
    requests: RequestLog
    lock: HarvestLock
    breaker: CircuitBreaker
    progress: Progress
    arxiv: arxiv_source.ArxivSource
    s2: s2_source.SemanticScholarSource
    refresh_before: str | None
    writer: Writer = field(default_factory=Writer)
    pending: Pending = field(default_factory=Pending)
    marks: dict[tuple[str, str, str], watermarks.Watermark] = field(default_factory=dict)
    searches_done: set[str] = field(default_factory=set)
    _progress_lock: threading.Lock = field(default_factory=threading.Lock)

    def store(self, records: Sequence[PaperRecord], **kwargs: Any) -> None:
        """Hand a page to the writer (see ``write``); from a fetcher's thread."""
        self.writer.submit(partial(self.write, records, **kwargs))

    def write(
        self,
        records: Sequence[PaperRecord],
        *,
        category: str | None = None,
        query: str | None = None,
        targets: Sequence[int] | None = None,
        then: Callable[[], None] | None = None,
        described: bool = False,
    ) -> store.SaveResult:
        """Write one page in one transaction: its new records, ``then`` (the query's resume
        state), and the run's counters; on the writer's thread. The papers stored join the
        refresh queue; ``described`` says a search's answer has just described them.

        Outside ``full`` runs, records that would teach us nothing are left out: the pages
        near a watermark are read again on purpose and must not rewrite rows.
        """
        self.lock.check()
        pairs = list(zip(records, targets or [None] * len(records), strict=True))
        if not self.full:
            known = store.known_records(
                self.db, records, category=category, query=query, targets=targets
            )
            pairs = [pair for pair, skip in zip(pairs, known, strict=True) if not skip]
        fresh = [r for r, _ in pairs]
        described = described and self.refresh_before is not None and bool(self.config.refresh_days)
        refresh: list[dict[str, Any]] = []
        marked: list[int] = []
        with store.write_transaction(self.db):
            saved = store.save_records(
                self.db,
                self.seeds,
                fresh,
                run_id=self.result.run_id,
                category=category,
                query=query,
                targets=[t for _, t in pairs if t is not None] if targets else None,
                milestone_citations=self.config.milestone_citations,
            )
            if then is not None:
                then()
            if described:
                marked = store.mark_described(self.db, saved.seen)
            if targets is None:
                refresh = store.papers_to_refresh(self.db, self.refresh_before, saved.seen)
            store.update_run(
                self.db,
                self.result.run_id,
                requests=self.requests.as_dict(),
                errors=self.result.errors,
            )
        self.result.count(saved)
        self.result.papers_unchanged += len(records) - len(fresh)
        self.pending.discard(marked)
        self.pending.add(refresh)
        return saved

    def step(
        self, source: str, kind: str, action: Callable[[], None], *, counted: bool = True
    ) -> None:
        """Run one step of a source behind its circuit breaker, reporting a failure;
        ``counted`` steps advance the progress bar (refresh batches are not known ahead)."""
        try:
            if self.breaker.is_open(source):
                self.breaker.skip(source, kind)
                return
            service = self.arxiv.service if source == arxiv_source.SOURCE else self.s2.service
            service.retries = self.breaker.retries(source, self.config.retries)
            try:
                action()
            except (_StepFailed, SourceError) as exc:
                error = exc.error if isinstance(exc, _StepFailed) else exc
                self.result.fail(str(exc))
                # A rejected request is the query's fault, not the service's.
                if not isinstance(error, QueryError):
                    self.breaker.failed(source)
                    if self.breaker.is_open(source):
                        log.warning(
                            "%s: %d steps failed in a row: giving it up for this run",
                            source,
                            self.breaker.threshold,
                            extra={ECHOED: True},
                        )
            else:
                self.breaker.succeeded(source)
        finally:
            if counted:
                with self._progress_lock:
                    self.progress.advance()

    def search_done(self, source: str) -> None:
        """A fetcher's searches are all written. Refresh batches start once Semantic Scholar's
        are (what they described is known then, whatever the timing of the two services);
        once both are, the refresh queue is whole."""
        self.searches_done.add(source)
        if source == s2_source.SOURCE:
            self.pending.open()
        if self.searches_done >= {arxiv_source.SOURCE, s2_source.SOURCE}:
            self.pending.finish()


def _services(
    config: Config,
    client: httpx.Client,
    requests: RequestLog,
    sleep: Callable[[float], None],
) -> tuple[arxiv_source.ArxivSource, s2_source.SemanticScholarSource]:
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
        recommendations_url=config.s2_recommendations_url,
    )
    return arxiv, s2


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
        arxiv, s2 = _services(config, client, requests, sleep)
        yield Sources(arxiv, s2, requests)


def run_harvest(
    db: Database,
    seeds: Seeds,
    config: Config,
    *,
    categories: list[str] | None = None,
    full: bool = False,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
    progress: Progress | None = None,
) -> RunResult:
    """Harvest the given categories (all by default) into ``db``, holding its lock.

    Raises ``LockHeldError`` before any request when another harvest holds the lock.
    ``transport`` and ``sleep`` exist for tests: the real client code runs, only the
    network and the waiting are swapped.
    """
    keys = categories or list(seeds.categories)
    for key in keys:
        seeds.category(key)  # unknown keys fail before any request
    with HarvestLock.acquire(db, stale_after=config.stale_lock_after) as lock:
        run_id = store.start_run(db, {"categories": keys, "full": full})
        lock.attach(run_id)
        result = RunResult(run_id=run_id)
        requests = RequestLog()
        started = datetime.now(UTC)
        refresh_before = None
        if not full:
            refresh_before = (started - timedelta(days=config.refresh_days)).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            )
        breaker = CircuitBreaker(config.breaker_failures)
        try:
            with make_client(config, transport) as client:
                arxiv, s2 = _services(config, client, requests, sleep)
                run = _Run(
                    db,
                    seeds,
                    config,
                    keys,
                    full,
                    result,
                    requests,
                    lock,
                    breaker,
                    progress or NoProgress(),
                    arxiv,
                    s2,
                    refresh_before,
                )
                _harvest(run)
        except Exception as exc:
            # A bug or a database failure: the run row still says what happened.
            result.errors.append(scrub(f"stopped by {type(exc).__name__}: {exc}"))
            raise
        except BaseException:
            result.interrupted = True  # Ctrl-C, SIGTERM
            raise
        finally:
            if progress is not None:
                progress.close()
            # The services ran side by side: list each one's failures together, in order.
            result.errors.sort(key=lambda line: line.split(":", 1)[0])
            for line in breaker.report():
                result.fail(line)
            result.requests = requests.as_dict()
            store.abandon_transaction(db)
            store.finish_run(
                db,
                run_id,
                status=result.status,
                requests=result.requests,
                errors=result.errors,
            )
    return result


def _harvest(run: _Run) -> None:
    arxiv_queries = [
        (key, query)
        for key in run.keys
        for query in run.seeds.categories[key].arxiv_search_queries()
    ]
    s2_queries = [
        (key, query) for key in run.keys for query in run.seeds.categories[key].s2_queries
    ]
    missing = _seeds_to_fetch(run)
    arxiv_seeds = [s for s in missing if s.arxiv_id]
    s2_seeds = [s for s in missing if not s.arxiv_id]
    # Only the writer's thread touches the database: what the fetchers need is read now.
    for source, queries in ((arxiv_source.SOURCE, arxiv_queries), (s2_source.SOURCE, s2_queries)):
        for key, query in queries:
            run.marks[(source, key, query)] = watermarks.load(run.db, source, key, query)
    run.pending.add(store.papers_to_refresh(run.db, run.refresh_before))

    def fetch_arxiv() -> None:
        if arxiv_seeds:
            run.step("arxiv", "seed lookup", partial(_arxiv_seed_papers, run, arxiv_seeds))
        for key, query in arxiv_queries:
            run.step("arxiv", "query", partial(_arxiv_query, run, key, query))
        run.writer.submit(partial(run.search_done, arxiv_source.SOURCE))

    def fetch_s2() -> None:
        for seed in s2_seeds:
            run.step("s2", "seed lookup", partial(_s2_seed_paper, run, seed))
        for key, query in s2_queries:
            run.step("s2", "query", partial(_s2_query, run, key, query))
        run.writer.submit(partial(run.search_done, s2_source.SOURCE))
        done = 0
        while chunk := run.pending.take(s2_source.BATCH_SIZE):
            run.step("s2", "refresh batch", partial(_refresh, run, chunk, done), counted=False)
            done += len(chunk)

    steps = len(arxiv_queries) + bool(arxiv_seeds) + len(s2_queries) + len(s2_seeds)
    run.progress.phase("arXiv + S2", steps)
    # A fetcher waiting for papers to refresh must not wait for ever once the run stops.
    run.writer.run({"arXiv": fetch_arxiv, "Semantic Scholar": fetch_s2}, on_stop=run.pending.close)

    if run.config.snowball_depth:
        run.progress.phase("snowball", 1)
        run.step("s2", "snowball", partial(_snowball, run))


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
        stop=lambda: run.breaker.is_open(s2_source.SOURCE),
        on_failure=lambda exc: (
            None if isinstance(exc, QueryError) else run.breaker.failed(s2_source.SOURCE)
        ),
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


def _seeds_to_fetch(run: _Run) -> list[SeedPaper]:
    """Seed papers of the run's categories that need a request; those stored are marked now."""
    wanted = [s for s in run.seeds.papers if s.category in run.keys]
    if run.full:
        return wanted
    missing = []
    for seed in wanted:
        paper_id = store.find_seed(run.db, seed)
        if paper_id is None:
            missing.append(seed)
        else:
            store.keep_seed(
                run.db,
                run.seeds,
                paper_id,
                seed,
                run_id=run.result.run_id,
                milestone_citations=run.config.milestone_citations,
            )
    return missing


def _arxiv_seed_papers(run: _Run, wanted: list[SeedPaper]) -> None:
    by_id = {s.arxiv_id: s for s in wanted if s.arxiv_id}
    try:
        records = run.arxiv.fetch_ids(sorted(by_id))
    except SourceError as exc:
        raise _StepFailed(exc, "(seed papers)") from exc
    for record in records:
        run.writer.submit(partial(_write_seed, run, record, by_id[record.arxiv_id or ""]))
    for arxiv_id in sorted(set(by_id) - {r.arxiv_id for r in records}):
        run.result.fail(f"arxiv: seed paper {arxiv_id} not found")


def _s2_seed_paper(run: _Run, seed: SeedPaper) -> None:
    """A seed paper without an arXiv version, by exact title or DOI."""
    what = seed.title or seed.doi or ""
    try:
        if seed.title:
            record = run.s2.match_title(seed.title)
        else:
            [record] = run.s2.batch([f"DOI:{seed.doi}"])
    except SourceError as exc:
        raise _StepFailed(exc, f"(seed paper {what!r})") from exc
    if record is None:
        run.result.fail(f"s2: seed paper {what!r} not found")
        return
    run.writer.submit(partial(_write_seed, run, record, seed))


def _write_seed(run: _Run, record: PaperRecord, seed: SeedPaper) -> None:
    """Store a seed paper and mark it as the curator's; on the writer's thread."""
    with store.write_transaction(run.db):
        saved = run.write([record], category=seed.category, query="seed")
        # A known seed is skipped by write(); mark_seed still needs its id.
        paper_id = saved.seen[0] if saved.seen else store.find_seed(run.db, seed)
        if paper_id is not None:
            store.mark_seed(run.db, paper_id, seed.category, seed.focus, seed.notes)


def _page_dates(records: Sequence[PaperRecord], attribute: str) -> list[str]:
    return [d for r in records if (d := getattr(r, attribute))]


def _arxiv_query(run: _Run, key: str, query: str) -> None:
    """Read one query newest first, down to its watermark minus the overlap (or the end)."""
    wm = run.marks[(arxiv_source.SOURCE, key, query)]
    stop_at = None if run.full else wm.cutoff(run.config.overlap_days)
    resume = wm.unfinished and not run.full
    start = (wm.resume_offset or 0) if resume else 0
    newest = wm.resume_newest if resume else None
    if resume:
        log.info("arxiv %s: resuming at result %d: %s", key, start, query)
    try:
        for page in run.arxiv.search_pages(
            query, max_results=run.config.max_per_query, start=start
        ):
            dates = _page_dates(page.records, "published")
            newest = watermarks.newer(newest, max(dates, default=None))
            done = page.last or (stop_at is not None and bool(dates) and min(dates) < stop_at)
            run.store(
                page.records,
                category=key,
                query=query,
                then=_bookmark(run, wm, done=done, offset=page.end, token=None, newest=newest),
            )
            start = page.end
            log.info("arxiv %s: %d/%d for %s", key, page.end, page.total, query)
            if done:
                return
    except SourceError as exc:
        raise _StepFailed(exc, f"[{key}] query {query!r} stopped at result {start}") from exc
    # No page at all: nothing (more) to read.
    run.store([], then=_bookmark(run, wm, done=True, offset=start, token=None, newest=newest))


def _s2_query(run: _Run, key: str, query: str) -> None:
    """Read one bulk search newest first, down to its watermark minus the overlap (or the end).

    Papers without a publication date come last in S2's order, so an incremental read stops
    before them; ``--full`` reads them.
    """
    wm = run.marks[(s2_source.SOURCE, key, query)]
    stop_at = None if run.full else wm.cutoff(run.config.overlap_days)
    resume = wm.unfinished and wm.resume_token is not None and not run.full
    token = wm.resume_token if resume else None
    seen = (wm.resume_offset or 0) if resume else 0
    newest = wm.resume_newest if resume else None
    if resume:
        log.info("s2 %s: resuming after %d results: %s", key, seen, query)
    try:
        try:
            pages = run.s2.search_pages(
                query, max_results=run.config.max_per_query, token=token, seen=seen
            )
            first = next(pages, None)
        except QueryError as exc:
            if not resume:
                raise
            # Continuation tokens may expire: read the query again from the top.
            log.warning("s2 %s: cannot resume (%s): reading it again from the top", key, exc)
            token, seen, newest = None, 0, None
            pages = run.s2.search_pages(query, max_results=run.config.max_per_query)
            first = next(pages, None)
        page = first
        while page is not None:
            dates = _page_dates(page.records, "publication_date")
            newest = watermarks.newer(newest, max(dates, default=None))
            # A page without any date is the undated tail: an incremental read ends there.
            reached = stop_at is not None and (not dates or min(dates) < stop_at)
            done = page.last or reached
            run.store(
                page.records,
                category=key,
                query=query,
                then=_bookmark(
                    run, wm, done=done, offset=page.seen, token=page.token, newest=newest
                ),
                described=True,
            )
            seen = page.seen
            log.info("s2 %s: %d/%d for %s", key, page.seen, page.total, query)
            if done:
                return
            page = next(pages, None)
    except SourceError as exc:
        raise _StepFailed(exc, f"[{key}] query {query!r} stopped after {seen} results") from exc
    run.store([], then=_bookmark(run, wm, done=True, offset=seen, token=None, newest=newest))


def _bookmark(
    run: _Run,
    wm: watermarks.Watermark,
    *,
    done: bool,
    offset: int,
    token: str | None,
    newest: str | None,
) -> Callable[[], None]:
    """The watermark write that goes into a page's transaction."""

    def write() -> None:
        if done:
            watermarks.complete(run.db, wm, newest=newest, run_id=run.result.run_id)
        else:
            watermarks.progress(
                run.db, wm, offset=offset, token=token, newest=newest, run_id=run.result.run_id
            )

    return write


def _refresh(run: _Run, chunk: list[dict[str, Any]], done: int) -> None:
    """Citations, venue and ids for up to 500 papers in one request."""
    try:
        records = run.s2.batch([s2_source.batch_id(row) for row in chunk])
    except SourceError as exc:
        raise _StepFailed(exc, f"(refreshing papers {done + 1}–{done + len(chunk)})") from exc
    known = [(row["id"], r) for row, r in zip(chunk, records, strict=True) if r is not None]
    run.store(
        [r for _, r in known],
        targets=[paper_id for paper_id, _ in known],
        then=partial(store.mark_refreshed, run.db, [row["id"] for row in chunk]),
    )
    run.result.papers_enriched += len(known)
    run.result.papers_refreshed += len(chunk)
    log.info("s2: refreshed %d papers, %d waiting", done + len(chunk), len(run.pending))
