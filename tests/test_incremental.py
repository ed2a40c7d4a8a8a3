"""Incremental harvests: watermarks, the overlap, resuming a query, refresh batches, --full,
and the circuit breaker, against the loopback services."""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from datetime import date, timedelta

import httpx
import pytest

from harvester import store, watermarks
from harvester.config import Config
from harvester.harvest import run_harvest
from harvester.sources import open_sources
from tests.conftest import dump, snapshot
from tests.loopback import Entry, FakeArxiv, load_s2_corpus

EXIT_QUERY = 'ti:"early exit"'


@pytest.fixture
def no_seeds(seeds):
    """The real seeds without seed papers: synthetic corpora do not hold them."""
    return dataclasses.replace(seeds, papers=())


@pytest.fixture
def small_pages(config):
    return dataclasses.replace(config, arxiv_page_size=10)


def dated(n: int, newest: str, prefix: str) -> list[Entry]:
    """``n`` early-exit papers submitted one a day, going back from ``newest``."""
    day = date.fromisoformat(newest)
    return [
        Entry(
            arxiv_id=f"{prefix}.{i:05d}",
            title=f"Paper {prefix}-{i} on early exit",
            abstract=f"We study early exit number {i}.",
            authors=[f"Author {prefix}-{i}"],
            published=f"{day - timedelta(days=i)}T00:00:00Z",
            updated=f"{day - timedelta(days=i)}T00:00:00Z",
            primary_category="cs.LG",
            categories=["cs.LG"],
        )
        for i in range(n)
    ]


def s2_dated(n: int, newest: str) -> list[dict]:
    """``n`` Semantic Scholar papers (not on arXiv) published one a day back from ``newest``."""
    day = date.fromisoformat(newest)
    return [
        {
            "paperId": f"s2paper{i:04d}",
            "externalIds": {"CorpusId": 9000 + i},
            "title": f"Venue-only study {i} of early exit",
            "abstract": f"An early exit network, number {i}.",
            "venue": "",
            "year": (day - timedelta(days=i)).year,
            "publicationDate": str(day - timedelta(days=i)),
            "citationCount": i,
            "influentialCitationCount": 0,
            "authors": [{"authorId": None, "name": f"Writer {i}"}],
        }
        for i in range(n)
    ]


def read_queries(config: Config, seeds, source: str, category: str | None = None) -> list[str]:
    """The queries a harvest sends to ``source`` (``arxiv``, ``s2``): each category's seed
    queries OR-combined into as few as fit (one each for the tests' seeds)."""
    keys = [category] if category else list(seeds.categories)
    with open_sources(config) as sources:
        service = getattr(sources, source)
        return [read.query for key in keys for read in service.reads(seeds.categories[key])]


def exit_query_starts(fake_arxiv: FakeArxiv, since: int = 0) -> list[int]:
    """The ``start`` of every request of the early_exit category's first query."""
    return [
        int(r["start"])
        for r in fake_arxiv.requests[since:]
        if r.get("search_query", "").startswith(f"({EXIT_QUERY}")
    ]


def test_second_harvest_of_unchanged_sources_costs_a_request_per_category_and_changes_no_row(
    db, seeds, config, fake_arxiv, fake_s2, corpus, server
):
    fake_arxiv.corpus = corpus
    fake_s2.corpus = load_s2_corpus()
    run_harvest(db, seeds, config)
    before = dump(db)
    arxiv_before, s2_before = len(fake_arxiv.requests), len(fake_s2.requests)

    second = run_harvest(db, seeds, config)

    assert second.status == "ok", second.errors
    arxiv_requests = fake_arxiv.requests[arxiv_before:]
    s2_requests = fake_s2.requests[s2_before:]
    # One query per category and service: its seed queries OR-combined.
    arxiv_queries = read_queries(config, seeds, "arxiv")
    s2_queries = read_queries(config, seeds, "s2")
    assert len(arxiv_queries) == len(s2_queries) == len(seeds.categories)
    per_query = Counter(r.get("search_query") or "id_list" for r in arxiv_requests)
    assert set(per_query) == set(arxiv_queries)  # no seed lookup: the seeds are stored
    assert max(per_query.values()) == 1
    # A small first page (100): the watermark is reached within it.
    assert {r["max_results"] for r in arxiv_requests} == {"100"}
    per_s2_query = Counter(r["params"].get("query") for r in s2_requests)
    assert {r["path"].rsplit("/", 1)[1] for r in s2_requests} == {"bulk"}  # no match, no batch
    assert set(per_s2_query) == set(s2_queries) and max(per_s2_query.values()) == 1
    assert second.requests == {"arxiv": len(arxiv_requests), "s2": len(s2_requests)}
    assert second.papers_new == second.papers_updated == 0 and second.papers_unchanged > 0
    assert dump(db) == before


def test_due_refresh_costs_one_request_per_500_papers_and_changes_only_refresh_times(
    db, seeds, config, fake_arxiv, fake_s2, corpus, server
):
    fake_arxiv.corpus = corpus
    fake_s2.corpus = load_s2_corpus()
    every_paper = dataclasses.replace(config, refresh_days=0)
    run_harvest(db, seeds, every_paper)
    n_papers = db.execute("SELECT count(*) FROM papers").fetchone()[0]
    before = dump(db)
    s2_before = len(fake_s2.requests)

    # refresh_days = 0: every paper is due, those the searches describe again included.
    second = run_harvest(db, seeds, every_paper)

    batches = [r for r in fake_s2.requests[s2_before:] if r["path"].endswith("/paper/batch")]
    assert len(batches) == math.ceil(n_papers / 500)
    assert sum(len(b["body"]["ids"]) for b in batches) == n_papers == second.papers_refreshed
    s2_queries = sum(len(c.s2_queries) for c in seeds.categories.values())
    assert second.requests["s2"] <= 2 * s2_queries + math.ceil(n_papers / 500)
    after = dump(db)
    refreshed = [c[1] for c in db.execute("PRAGMA table_info(papers)")].index("s2_refreshed")

    def without_refresh_time(rows):
        return [row[:refreshed] + row[refreshed + 1 :] for row in rows]

    assert without_refresh_time(after.pop("papers")) == without_refresh_time(before.pop("papers"))
    assert after == before


def test_watermark_stops_the_read_at_the_overlap_and_catches_late_arrivals(
    db, no_seeds, small_pages, fake_arxiv, server
):
    fake_arxiv.corpus = dated(50, "2024-06-30", "2406")
    run_harvest(db, no_seeds, small_pages, categories=["early_exit"])
    assert exit_query_starts(fake_arxiv) == [0, 10, 20, 30, 40]
    wm = [w for w in watermarks.all_watermarks(db) if w["query"].startswith(f"({EXIT_QUERY}")]
    assert [(w["newest"], w["resume_offset"]) for w in wm] == [("2024-06-30", None)]

    new = dated(3, "2024-07-10", "2407")
    # Indexed late: submitted inside the overlap (7 days below the watermark) but not there
    # at the first run.
    late = dataclasses.replace(dated(1, "2024-06-27", "2405")[0], title="A late early exit paper")
    fake_arxiv.corpus = [*fake_arxiv.corpus, *new, late]
    since = len(fake_arxiv.requests)
    second = run_harvest(db, no_seeds, small_pages, categories=["early_exit"])

    assert second.status == "ok", second.errors
    # Page one reaches 06-25, above the cutoff 06-23; page two passes it: two requests.
    assert exit_query_starts(fake_arxiv, since) == [0, 10]
    stored = {row["arxiv_id"] for row in db.query("SELECT arxiv_id FROM papers")}
    assert {e.arxiv_id for e in [*new, late]} <= stored and len(stored) == 54
    assert second.papers_new == 4
    [query] = read_queries(small_pages, no_seeds, "arxiv", "early_exit")
    wm = watermarks.load(db, "arxiv", "early_exit", query)
    assert wm.newest == "2024-07-10" and not wm.unfinished


def test_query_failing_mid_read_keeps_its_watermark_and_the_next_run_reads_the_missed_pages(
    db, no_seeds, small_pages, fake_arxiv, server, tmp_path
):
    fake_arxiv.corpus = dated(30, "2024-06-30", "2406")
    run_harvest(db, no_seeds, small_pages, categories=["early_exit"])
    [query] = read_queries(small_pages, no_seeds, "arxiv", "early_exit")

    fake_arxiv.corpus = [*fake_arxiv.corpus, *dated(25, "2024-07-25", "2407")]
    # The first page of the new read is served; the second fails on every attempt.
    fake_arxiv.faults = [None] + ["503"] * (small_pages.retries + 1)
    failed = run_harvest(db, no_seeds, small_pages, categories=["early_exit"])
    assert failed.status == "failed"
    [error] = failed.errors
    assert "[early_exit]" in error and "stopped at result 10" in error
    wm = watermarks.load(db, "arxiv", "early_exit", query)
    # The old watermark stands: the next run must not stop at the top.
    assert (wm.newest, wm.resume_offset, wm.resume_newest) == ("2024-06-30", 10, "2024-07-25")
    assert failed.papers_new == 10

    since = len(fake_arxiv.requests)
    caught_up = run_harvest(db, no_seeds, small_pages, categories=["early_exit"])
    assert caught_up.status == "ok", caught_up.errors
    # Resumed at 10; the page from 30 passes the cutoff (06-23).
    assert exit_query_starts(fake_arxiv, since) == [10, 20, 30]
    assert caught_up.papers_new == 15
    wm = watermarks.load(db, "arxiv", "early_exit", query)
    assert (wm.newest, wm.resume_offset) == ("2024-07-25", None)

    clean = store.open_db(tmp_path / "clean.db")
    run_harvest(clean, no_seeds, small_pages, categories=["early_exit"])
    assert snapshot(db)["papers"].keys() == snapshot(clean)["papers"].keys()


def test_semantic_scholar_query_resumes_from_its_continuation_token(
    db, no_seeds, config, fake_s2, server
):
    fake_s2.corpus = s2_dated(25, "2024-06-30")
    fake_s2.bulk_page = 10
    [query] = read_queries(config, no_seeds, "s2", "early_exit")
    # early_exit's S2 query (its two, sent as one): page one served, page two fails on every
    # attempt.
    fake_s2.faults = [None] + ["503"] * (config.retries + 1)
    failed = run_harvest(db, no_seeds, config, categories=["early_exit"])
    assert failed.status == "failed" and "stopped after 10 results" in failed.errors[0]
    wm = watermarks.load(db, "s2", "early_exit", query)
    assert (wm.newest, wm.resume_offset, wm.resume_token) == (None, 10, "10")

    since = len(fake_s2.requests)
    second = run_harvest(db, no_seeds, config, categories=["early_exit"])
    assert second.status == "ok", second.errors
    bulk = [r for r in fake_s2.requests[since:] if r["params"].get("query") == query]
    assert [r["params"].get("token") for r in bulk] == ["10", "20"]
    titles = {r["title"] for r in db.query("SELECT title FROM papers")}
    assert titles == {p["title"] for p in fake_s2.corpus}
    wm = watermarks.load(db, "s2", "early_exit", query)
    assert (wm.newest, wm.resume_offset) == ("2024-06-30", None)


def test_an_expired_continuation_token_reads_the_query_again_from_the_top(
    db, no_seeds, config, fake_s2, server
):
    fake_s2.corpus = s2_dated(5, "2024-06-30")
    [query] = read_queries(config, no_seeds, "s2", "early_exit")
    with db.atomic():
        watermarks.progress(
            db,
            watermarks.Watermark("s2", "early_exit", query),
            offset=1000,
            token="expired-token",
            newest="2024-06-30",
            run_id=store.start_run(db, {}),
        )
    result = run_harvest(db, no_seeds, config, categories=["early_exit"])
    assert result.status == "ok", result.errors
    assert db.execute("SELECT count(*) FROM papers").fetchone()[0] == 5


def test_full_ignores_watermarks_and_rereads_everything(
    db, no_seeds, small_pages, fake_arxiv, server
):
    fake_arxiv.corpus = dated(30, "2024-06-30", "2406")
    first = run_harvest(db, no_seeds, small_pages, categories=["early_exit"])
    since = len(fake_arxiv.requests)
    full = run_harvest(db, no_seeds, small_pages, categories=["early_exit"], full=True)
    assert exit_query_starts(fake_arxiv, since) == [0, 10, 20]
    assert full.requests == first.requests
    assert full.papers_seen == first.papers_seen and full.papers_unchanged == 0
    [run] = store.last_runs(db, 1)
    assert run["options"]["full"] is True


def test_a_failing_service_is_given_up_after_three_failed_steps(
    db, seeds, config, fake_arxiv, fake_s2, corpus, server
):
    fake_arxiv.corpus = corpus
    fake_s2.corpus = load_s2_corpus()
    fake_arxiv.faults = ["503"] * 1000  # arXiv is down for the whole run
    result = run_harvest(db, seeds, config)
    # Seed lookup: 1 + 3 retries; then two probes of 1 + 1 retry; then the breaker opens.
    assert result.requests["arxiv"] == 4 + 2 + 2
    arxiv_queries = len(read_queries(config, seeds, "arxiv"))
    assert result.errors[-1] == (
        f"arxiv: given up after 3 failures in a row; skipped {arxiv_queries - 2} queries "
        "(the next run does them)"
    )
    assert len([e for e in result.errors if e.startswith("arxiv: gave up after")]) == 3
    # Semantic Scholar was fine: its papers are kept.
    assert db.execute("SELECT count(*) FROM papers").fetchone()[0] > 50
    assert not [e for e in result.errors if e.startswith("s2")]
    # Nothing arXiv missed is marked as read.
    assert not [w for w in watermarks.all_watermarks(db) if w["source"] == "arxiv"]


def test_one_success_closes_the_breaker(db, seeds, config, fake_arxiv, corpus, server):
    fake_arxiv.corpus = corpus
    # The seed lookup fails past its retries, then arXiv recovers.
    fake_arxiv.faults = ["503"] * (config.retries + 1)
    result = run_harvest(db, seeds, config, categories=["early_exit"])
    assert [e.split(":")[0] for e in result.errors] == ["arxiv"]
    queries = len(read_queries(config, seeds, "arxiv", "early_exit"))
    assert result.requests["arxiv"] == config.retries + 1 + queries


def test_with_both_services_down_a_run_waits_minutes_not_hours(db, seeds, tmp_path):
    """Production settings (delays, 4 retries, backoff up to 60 s), every connection refused;
    the waits are counted, not slept."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    waits: list[float] = []
    result = run_harvest(
        db,
        seeds,
        Config(db=tmp_path / "unused.db"),
        transport=httpx.MockTransport(refuse),
        sleep=waits.append,
    )
    assert result.status == "failed"
    # Per source: the first step's full retry sequence (backoff from 4 s for arXiv, 2 s for
    # S2, doubling), two probes with one retry, then the rest skipped, whatever the number of
    # queries. Without the breaker it was a full sequence per query: over half an hour.
    assert result.requests == {"arxiv": 5 + 2 + 2, "s2": 5 + 2 + 2}
    assert sum(waits) < 3 * 60
