"""One harvest run: locked, incremental, resumable, logged in ``runs``.

Two fetchers run at once, each at its own service's pace, and hand their pages to one
writer (``harvester.pipeline``):

- arXiv: the seed papers not yet stored, by id (one request), then each category's queries,
  OR-combined into as few requests as fit (``sources.queries``), newest submissions first,
  2,000 a page.
- Semantic Scholar: seed papers given by title or DOI not yet stored, then each category's
  bulk searches, combined the same way, newest publications first; then the refresh:
  citations, venue, ids and TL;DR from the batch endpoint, 500 papers a request, for papers
  not refreshed for ``refresh_days``. Batches start while arXiv pages still arrive. A paper
  a search has just described counts as refreshed, unless it has no TL;DR and was never in
  a batch (a new paper: its TL;DR comes in this run), or ``refresh_days`` is 0 or the run
  is ``full``: those ask the batch about every paper.

Then Semantic Scholar's recommendations, one request per category whose decisions changed
since its last answer (``harvester.recommend``), citation snowballing, and the references of
the papers stored whose references were never read, the edges between stored papers kept
(``harvester.references``).

Both services' searches go through one loop (``_read``): a query is read newest first, from
its resume point, down to its watermark minus ``overlap_days`` (``harvester.watermarks``),
the first request of an incremental read asking for a small page; records there that bring
nothing new are not written again. Each record's query hits are the seed queries it matches
(``Read.found_by``), as if the queries had been sent one by one. ``full`` ignores
watermarks, re-reads every query to its end and refreshes every paper.

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
from functools import partial
from typing import Any, Protocol

import httpx
from sqlite_utils import Database

from harvester import allocations, clock, ingest, recommend, store, watermarks
from harvester.breaker import CircuitBreaker
from harvester.config import Config
from harvester.errors import QueryError, SourceError
from harvester.http import Service
from harvester.lock import HarvestLock
from harvester.logs import ECHOED
from harvester.pipeline import Pending, Writer
from harvester.progress import NoProgress, Progress
from harvester.records import PaperRecord
from harvester.redact import scrub
from harvester.references import read_references
from harvester.rules import Rules
from harvester.seeds import Category, SeedPaper, Seeds
from harvester.snowball import snowball
from harvester.sources import Sources, open_sources
from harvester.sources import arxiv as arxiv_source
from harvester.sources import semantic_scholar as s2_source
from harvester.sources.pages import FIRST_PAGE, START, Cursor, Page, StopWhen
from harvester.sources.queries import Read

log = logging.getLogger(__name__)

# How a failed read says how far it got, in each service's terms.
_REACHED = {
    arxiv_source.SOURCE: "stopped at result {}",
    s2_source.SOURCE: "stopped after {} results",
}


class SearchSource(Protocol):
    """What ``_read`` needs of a service: both sources are one."""

    name: str
    describes: bool
    service: Service

    def reads(self, category: Category) -> list[Read]: ...

    def can_resume(self, cursor: Cursor) -> bool: ...

    def search_pages(
        self,
        query: str,
        *,
        max_results: int,
        cursor: Cursor = START,
        first_page: int | None = None,
        stop_when: StopWhen | None = None,
    ) -> Iterator[Page]: ...


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
    interrupted: bool = False

    @property
    def status(self) -> str:
        if self.interrupted:
            return "interrupted"
        return "failed" if self.errors else "ok"

    def count(self, saved: ingest.SaveResult) -> None:
        self.papers_new += len(saved.new)
        self.papers_updated += len(saved.updated)
        self.papers_seen += len(saved.seen)
        self.papers_unchanged += saved.unchanged

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
    rules: Rules
    config: Config
    keys: list[str]
    full: bool
    result: RunResult
    lock: HarvestLock
    breaker: CircuitBreaker
    progress: Progress
    sources: Sources
    # Papers refreshed since are not due (None: every paper is).
    refresh_before: str | None
    writer: Writer = field(default_factory=Writer)
    memo: ingest.Memo = field(default_factory=ingest.Memo)
    pending: Pending = field(default_factory=Pending)
    marks: dict[tuple[str, str, str], watermarks.Watermark] = field(default_factory=dict)
    searches_done: set[str] = field(default_factory=set)
    _progress_lock: threading.Lock = field(default_factory=threading.Lock)

    def hand_over(self, records: Sequence[PaperRecord], **kwargs: Any) -> None:
        """Hand a page to the writer (see ``write``); from a fetcher's thread."""
        self.writer.submit(partial(self.write, records, **kwargs))

    def write(
        self,
        records: Sequence[PaperRecord],
        *,
        category: str | None = None,
        query: str | None = None,
        found_by: Sequence[Sequence[str]] | None = None,
        targets: Sequence[int] | None = None,
        then: Callable[[], None] | None = None,
        described: bool = False,
    ) -> ingest.SaveResult:
        """Write one page in one transaction: its new records, ``then`` (the query's resume
        state), and the run's counters; on the writer's thread. The papers stored join the
        refresh queue; ``described`` says a search's answer has just described them.

        Outside ``full`` runs, records that would teach us nothing are left out: the pages
        near a watermark are read again on purpose and must not rewrite rows.
        """
        self.lock.check()
        described = described and self.refresh_before is not None and bool(self.config.refresh_days)
        refresh: list[dict[str, Any]] = []
        marked: list[int] = []
        with store.write_transaction(self.db):
            saved = ingest.save_records(
                self.db,
                self.rules,
                records,
                run_id=self.result.run_id,
                category=category,
                query=query,
                found_by=found_by,
                targets=targets,
                skip_known=not self.full,
                memo=self.memo,
            )
            if then is not None:
                then()
            if described:
                marked = store.mark_described(self.db, saved.seen)
            if targets is None:
                refresh = store.papers_to_refresh(self.db, self.refresh_before, saved.seen)
            self.save_progress()
        self.result.count(saved)
        self.pending.discard(marked)
        self.pending.add(refresh)
        return saved

    def save_progress(self) -> None:
        """The run's requests and errors so far, in the transaction of the page that made
        them: a run killed after it still shows what it cost."""
        store.update_run(
            self.db,
            self.result.run_id,
            requests=self.sources.requests.as_dict(),
            errors=self.result.errors,
        )

    def step(
        self, source: SearchSource, kind: str, action: Callable[[], None], *, counted: bool = True
    ) -> None:
        """Run one step of a source behind its circuit breaker, reporting a failure;
        ``counted`` steps advance the progress bar (refresh batches are not known ahead)."""
        try:
            if self.breaker.is_open(source.name):
                self.breaker.skip(source.name, kind)
                return
            source.service.retries = self.breaker.retries(source.name, self.config.retries)
            try:
                action()
            except (_StepFailed, SourceError) as exc:
                error = exc.error if isinstance(exc, _StepFailed) else exc
                self.result.fail(str(exc))
                # A rejected request is the query's fault, not the service's.
                if not isinstance(error, QueryError):
                    self.breaker.failed(source.name)
                    if self.breaker.is_open(source.name):
                        log.warning(
                            "%s: %d steps failed in a row: giving it up for this run",
                            source.name,
                            self.breaker.threshold,
                            extra={ECHOED: True},
                        )
            else:
                self.breaker.succeeded(source.name)
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


def run_harvest(
    db: Database,
    seeds: Seeds,
    config: Config,
    *,
    categories: list[str] | None = None,
    full: bool = False,
    sources: Sources | None = None,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
    progress: Progress | None = None,
) -> RunResult:
    """Harvest the given categories (all by default) into ``db``, holding its lock.

    Raises ``LockHeldError`` before any request when another harvest holds the lock. The
    services are ``sources`` when given, else opened here from ``config``; ``transport``
    and ``sleep`` exist for tests: the real client code runs, only the network and the
    waiting are swapped.
    """
    keys = categories or list(seeds.categories)
    for key in keys:
        seeds.category(key)  # unknown keys fail before any request
    rules = Rules.from_config(seeds, config)
    with HarvestLock.acquire(db, stale_after=config.stale_lock_after) as lock:
        run_id = store.start_run(db, {"categories": keys, "full": full})
        lock.attach(run_id)
        result = RunResult(run_id=run_id)
        breaker = CircuitBreaker(config.breaker_failures)
        bundle: Sources | None = sources
        try:
            with (
                store.fetched_pages(db),
                allocations.fewer_collections(),
                _services(config, sources, transport, sleep) as bundle,
            ):
                run = _Run(
                    db=db,
                    rules=rules,
                    config=config,
                    keys=keys,
                    full=full,
                    result=result,
                    lock=lock,
                    breaker=breaker,
                    progress=progress or NoProgress(),
                    sources=bundle,
                    refresh_before=None if full else clock.days_ago(config.refresh_days),
                )
                _harvest(run)
            # The citation-key bases of the papers the run added or changed, made once here
            # rather than by every report and export (imported here: it brings the reports).
            from harvester.export import keep_key_bases

            keep_key_bases(db)
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
            result.requests = bundle.requests.as_dict() if bundle is not None else {}
            store.abandon_transaction(db)
            store.finish_run(
                db, run_id, status=result.status, requests=result.requests, errors=result.errors
            )
    return result


@contextmanager
def _services(
    config: Config,
    sources: Sources | None,
    transport: httpx.BaseTransport | None,
    sleep: Callable[[float], None],
) -> Iterator[Sources]:
    """The sources given, or both opened for this run (and closed after it)."""
    if sources is not None:
        yield sources
        return
    with open_sources(config, transport=transport, sleep=sleep) as opened:
        yield opened


def _harvest(run: _Run) -> None:
    arxiv, s2 = run.sources.arxiv, run.sources.s2
    categories = [run.rules.seeds.categories[key] for key in run.keys]
    arxiv_reads = [read for c in categories for read in arxiv.reads(c)]
    s2_reads = [read for c in categories for read in s2.reads(c)]
    missing = _seeds_to_fetch(run)
    arxiv_seeds = [s for s in missing if s.arxiv_id]
    s2_seeds = [s for s in missing if not s.arxiv_id]
    # Only the writer's thread touches the database: what the fetchers need is read now.
    for source, reads in ((arxiv, arxiv_reads), (s2, s2_reads)):
        for read in reads:
            run.marks[(source.name, read.category, read.query)] = watermarks.load_read(
                run.db, source.name, read.category, read.query, read.parts
            )
    run.pending.add(store.papers_to_refresh(run.db, run.refresh_before))

    def searches(source: SearchSource, reads: list[Read]) -> None:
        for read in reads:
            run.step(source, "query", partial(_read, run, source, read))
        run.writer.submit(partial(run.search_done, source.name))

    def fetch_arxiv() -> None:
        if arxiv_seeds:
            run.step(arxiv, "seed lookup", partial(_arxiv_seed_papers, run, arxiv_seeds))
        searches(arxiv, arxiv_reads)

    def fetch_s2() -> None:
        for seed in s2_seeds:
            run.step(s2, "seed lookup", partial(_s2_seed_paper, run, seed))
        searches(s2, s2_reads)
        done = 0
        while chunk := run.pending.take(s2_source.BATCH_SIZE):
            run.step(s2, "refresh batch", partial(_refresh, run, chunk, done), counted=False)
            done += len(chunk)

    steps = len(arxiv_reads) + bool(arxiv_seeds) + len(s2_reads) + len(s2_seeds)
    run.progress.phase("arXiv + S2", steps)
    # A fetcher waiting for papers to refresh must not wait for ever once the run stops.
    run.writer.run({"arXiv": fetch_arxiv, "Semantic Scholar": fetch_s2}, on_stop=run.pending.close)

    decided = store.recommendations.decided_by_category(run.db)
    matches = store.recommendations.best_matches(
        run.db, run.config.recommend_matches, run.config.recommend_match_score
    )
    papers: dict[str, recommend.Decided] = {}
    for key in run.keys:
        accepted, rejected = decided.get(key, ([], []))
        papers[key] = recommend.Decided(
            tuple(accepted), tuple(rejected), tuple(matches.get(key, []))
        )
    asks = recommend.due(
        run.rules.seeds,
        run.keys,
        papers,
        store.recommendations.last_digests(run.db),
        run.config.recommend_limit,
    )
    if asks:
        run.progress.phase("recommendations", len(asks))
        queued: list[int] = []
        for ask in asks:
            run.step(s2, "recommendations", partial(_recommendations, run, ask, queued))
        if queued:
            run.step(s2, "refresh batch", partial(_describe, run, queued), counted=False)

    if run.config.snowball_depth:
        run.progress.phase("snowball", 1)
        run.step(s2, "snowball", partial(_snowball, run))

    if run.config.references:
        run.progress.phase("references", 1)
        run.step(s2, "references", partial(_references, run))


def _recommendations(run: _Run, ask: recommend.Ask, queued: list[int]) -> None:
    """Papers like a category's accepted ones and unlike its rejected ones, queued as
    pending with the reason (their ids added to ``queued``); papers already stored are left
    as they are."""
    try:
        records = run.sources.s2.recommend(ask.positives, ask.negatives, limit=ask.limit)
    except SourceError as exc:
        context = f"[{ask.category}] recommendations from {len(ask.positives)} {ask.basis}"
        raise _StepFailed(exc, context) from exc
    known = ingest.find_papers(run.db, records)
    fresh = [r for r, row in zip(records, known, strict=True) if row is None]
    run.lock.check()
    with store.write_transaction(run.db):
        saved = ingest.save_records(
            run.db,
            run.rules,
            fresh,
            run_id=run.result.run_id,
            category=ask.category,
            query=recommend.QUERY,
        )
        store.recommendations.set_reason(
            run.db, saved.new, ask.category, recommend.QUERY, ask.reason
        )
        store.recommendations.record_read(
            run.db,
            ask.category,
            ask.digest,
            positives=len(ask.positives),
            negatives=len(ask.negatives),
            recommended=len(records),
            run_id=run.result.run_id,
            at=clock.now_iso(),
        )
        run.save_progress()
    run.result.count(saved)
    queued += saved.new
    log.info(
        "s2 %s: %d recommended, %d queued (%s)",
        ask.category,
        len(records),
        len(saved.new),
        ask.reason,
    )


def _snowball(run: _Run) -> None:
    """Neighbours of accepted papers in the citation graph, queued when promising."""
    found = snowball(
        run.db,
        run.rules,
        run.sources.s2,
        depth=run.config.snowball_depth,
        min_score=run.config.snowball_min_score,
        min_links=run.config.snowball_min_links,
        cap_per_paper=run.config.snowball_cap,
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


def _references(run: _Run) -> None:
    """The references of the papers never read, the edges between stored papers kept: the
    category rule's citation vote has neighbours from the first harvest on."""

    def on_write() -> None:
        run.lock.check()
        run.save_progress()

    read = read_references(
        run.db,
        run.rules,
        run.sources.s2,
        min_score=run.config.references_min_score,
        stop=lambda: run.breaker.is_open(s2_source.SOURCE),
        on_failure=lambda exc: (
            None if isinstance(exc, QueryError) else run.breaker.failed(s2_source.SOURCE)
        ),
        on_write=on_write,
    )
    for error in read.errors:
        run.result.fail(error)


def _describe(run: _Run, paper_ids: list[int]) -> None:
    """The recommended papers just queued, from the batch endpoint: a recommendations answer
    has no TL;DR, which the queue and the "Focused On" column want in this run."""
    rows = list(store.papers_by_id(run.db, paper_ids).values())
    for start in range(0, len(rows), s2_source.BATCH_SIZE):
        chunk = rows[start : start + s2_source.BATCH_SIZE]
        _batch(run, chunk, run.write, f"(describing {len(chunk)} recommended papers)")


def _seeds_to_fetch(run: _Run) -> list[SeedPaper]:
    """Seed papers of the run's categories that need a request; those stored are marked now."""
    wanted = [s for s in run.rules.seeds.papers if s.category in run.keys]
    if run.full:
        return wanted
    missing = []
    for seed in wanted:
        paper_id = ingest.find_seed(run.db, seed)
        if paper_id is None:
            missing.append(seed)
        else:
            ingest.keep_seed(run.db, run.rules, paper_id, seed, run_id=run.result.run_id)
    return missing


def _arxiv_seed_papers(run: _Run, wanted: list[SeedPaper]) -> None:
    by_id = {s.arxiv_id: s for s in wanted if s.arxiv_id}
    try:
        records = run.sources.arxiv.fetch_ids(sorted(by_id))
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
            record = run.sources.s2.match_title(seed.title)
        else:
            [record] = run.sources.s2.batch([f"DOI:{seed.doi}"])
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
        paper_id = saved.seen[0] if saved.seen else ingest.find_seed(run.db, seed)
        if paper_id is not None:
            ingest.mark_seed(run.db, paper_id, seed.category, seed.focus, seed.notes)


def _read(run: _Run, source: SearchSource, read: Read) -> None:
    """Read one query newest first, from where it stopped, down to its watermark minus the
    overlap (or to the end), handing each page to the writer with its resume point.

    A page without any date is the undated tail (Semantic Scholar lists undated papers
    last): an incremental read ends there; ``--full`` reads it.
    """
    key, query = read.category, read.query
    wm = run.marks[(source.name, key, query)]
    cutoff = None if run.full else wm.cutoff(run.config.overlap_days)
    cursor = Cursor(wm.resume_offset or 0, wm.resume_token)
    resume = wm.unfinished and not run.full and source.can_resume(cursor)
    cursor = cursor if resume else START
    newest = wm.resume_newest if resume else None
    if resume:
        log.info("%s %s: resuming after %d results: %s", source.name, key, cursor.offset, query)

    def reached(page: Page) -> bool:
        return cutoff is not None and (not page.dates or min(page.dates) < cutoff)

    def pages(start: Cursor) -> Iterator[Page]:
        # A read from the top that will stop at its watermark asks for a small page first.
        first = FIRST_PAGE if cutoff is not None and start == START else None
        return source.search_pages(
            query,
            max_results=run.config.max_per_query,
            cursor=start,
            first_page=first,
            stop_when=reached,
        )

    try:
        try:
            reader = pages(cursor)
            page = next(reader, None)
        except QueryError as exc:
            if cursor.token is None:
                raise
            # Continuation tokens may expire: read the query again from the top.
            log.warning(
                "%s %s: cannot resume (%s): reading it again from the top", source.name, key, exc
            )
            cursor, newest = START, None
            reader = pages(cursor)
            page = next(reader, None)
        while page is not None:
            newest = watermarks.newer(newest, max(page.dates, default=None))
            run.hand_over(
                page.records,
                category=key,
                found_by=[read.found_by(r) for r in page.records],
                then=_bookmark(run, wm, read, done=page.last, cursor=page.cursor, newest=newest),
                described=source.describes,
            )
            cursor = page.cursor
            log.info("%s %s: %d/%d for %s", source.name, key, cursor.offset, page.total, query)
            if page.last:
                return
            page = next(reader, None)
    except SourceError as exc:
        where = _REACHED[source.name].format(cursor.offset)
        raise _StepFailed(exc, f"[{key}] query {query!r} {where}") from exc
    # No page at all: nothing (more) to read.
    run.hand_over([], then=_bookmark(run, wm, read, done=True, cursor=cursor, newest=newest))


def _bookmark(
    run: _Run,
    wm: watermarks.Watermark,
    read: Read,
    *,
    done: bool,
    cursor: Cursor,
    newest: str | None,
) -> Callable[[], None]:
    """The watermark write that goes into a page's transaction."""

    def write() -> None:
        if done:
            watermarks.complete(
                run.db, wm, newest=newest, run_id=run.result.run_id, replaces=read.parts
            )
        else:
            watermarks.progress(
                run.db,
                wm,
                offset=cursor.offset,
                token=cursor.token,
                newest=newest,
                run_id=run.result.run_id,
            )

    return write


def _refresh(run: _Run, chunk: list[dict[str, Any]], done: int) -> None:
    """Citations, venue and ids for up to 500 papers in one request."""
    what = f"(refreshing papers {done + 1}–{done + len(chunk)})"
    _batch(run, chunk, run.hand_over, what)
    log.info("s2: refreshed %d papers, %d waiting", done + len(chunk), len(run.pending))


def _batch(
    run: _Run,
    chunk: list[dict[str, Any]],
    deliver: Callable[..., object],
    what: str,
) -> None:
    """Ask the batch endpoint about up to 500 stored papers and ``deliver`` what it knows
    (``run.write`` on the writer's thread, ``run.hand_over`` from a fetcher's); every paper
    asked about counts as refreshed, known or not, until `refresh_days` have passed."""
    try:
        records = run.sources.s2.batch([s2_source.batch_id(row) for row in chunk])
    except SourceError as exc:
        raise _StepFailed(exc, what) from exc
    known = [(row["id"], r) for row, r in zip(chunk, records, strict=True) if r is not None]
    deliver(
        [r for _, r in known],
        targets=[paper_id for paper_id, _ in known],
        then=partial(store.mark_refreshed, run.db, [row["id"] for row in chunk]),
    )
    run.result.papers_enriched += len(known)
    run.result.papers_refreshed += len(chunk)
