"""A harvest killed at any point (SIGKILL, SIGTERM) leaves a consistent database, and the next
run ends with the same database as a run never interrupted.

The harvest runs in a subprocess; the loopback server tells the test when it receives a
given request (and, when asked, holds its answer), and the test kills the process there.
The two services are asked at once, so request numbers below count each service's own
requests, following one clean run of the corpus with arXiv pages of 10 and Semantic Scholar
pages of 20. arXiv: 1 seed lookup, 2–16 the categories' queries, one OR-combined query each
(11 is the third page of the layer-skipping one). Semantic Scholar: 1 the Cavs title match,
2–10 bulk searches, one combined search per category (4 is the second page of the early-exit
one), 11 the refresh batch, 12–19 snowball reads. While one service's
request is held, the other's next request waits too; a kill lands wherever the other
service's fetcher and the writer were.
"""

from __future__ import annotations

import dataclasses
import itertools
import signal
import sqlite3
from pathlib import Path

import pytest

from harvester import store
from harvester.config import Config
from harvester.harvest import run_harvest
from harvester.seeds import load_seeds
from tests.conftest import SEEDS, snapshot
from tests.loopback import (
    FakeArxiv,
    FakeS2,
    LoopbackServer,
    load_corpus,
    load_edges,
    load_s2_corpus,
)

S2_PAGE = 20


def kill_config(config: Config) -> Config:
    return dataclasses.replace(config, arxiv_page_size=10)


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> dict:
    """The snapshot of one uninterrupted harvest with the same settings."""
    arxiv = FakeArxiv(corpus=load_corpus())
    s2 = FakeS2(corpus=load_s2_corpus(), bulk_page=S2_PAGE, edges=load_edges())
    path = tmp_path_factory.mktemp("clean") / "clean.db"
    with LoopbackServer(arxiv, s2) as server:
        config = Config(
            db=path,
            arxiv_url=server.arxiv_url,
            s2_url=server.s2_url,
            arxiv_delay=0,
            s2_delay=0,
            backoff_max=0,
            retries=3,
            timeout=5,
            arxiv_page_size=10,
        )
        db = store.open_db(path)
        result = run_harvest(db, load_seeds(SEEDS), config)
        assert result.status == "ok", result.errors
        # The numbering below: 16 arXiv requests; S2's 11 (searches, refresh batch), then 6
        # recommendations (3 categories from their seed papers, 3 from their best keyword
        # matches) and a batch for the TL;DRs of the papers they brought, then the snowball's
        # batch of the seed papers' graph, and the references batch of the papers stored.
        assert result.requests == {"arxiv": 16, "s2": 14, "s2_recommendations": 6}
        return snapshot(db)


@pytest.fixture
def corpus_server(server, fake_arxiv, fake_s2, corpus) -> LoopbackServer:
    fake_arxiv.corpus = corpus
    fake_s2.corpus = load_s2_corpus()
    fake_s2.bulk_page = S2_PAGE
    fake_s2.edges = load_edges()
    return server


def consistent(path: Path) -> None:
    """Whole and sound; once closed, the file alone holds what the killed run committed
    (the GitHub workflow commits only the ``.db`` file)."""
    db = store.open_db(path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    store.close_db(db)
    assert not Path(f"{path}-wal").exists()


@pytest.mark.parametrize(
    ("api", "at", "hold"),
    [
        ("arxiv", 11, True),  # waiting for page 3 of an arXiv query: resumes at offset 20
        ("arxiv", 5, False),  # just after an arXiv page arrived: parsing, storing, next request
        ("s2", 4, True),  # waiting for page 2 of a Semantic Scholar search: resumes from its token
        ("s2", 6, False),  # anywhere in the Semantic Scholar searches
        ("s2", 11, True),  # waiting for the refresh batch
        ("s2", 13, True),  # waiting for a recommendations answer: the next run asks again
        ("s2", 19, True),  # waiting for the snowball's graph batch: the next run reads it
        ("s2", 20, True),  # waiting for the references batch: the next run asks again
    ],
)
def test_harvest_killed_then_rerun_ends_as_an_uninterrupted_one(
    api, at, hold, spawn, corpus_server, seeds, config, tmp_path, clean
):
    gate = corpus_server.trip_at(at, hold=hold, api=api)
    proc = spawn("harvest")
    assert gate.reached.wait(60), proc.err_path.read_text()
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(30) == -signal.SIGKILL
    gate.release.set()

    consistent(config.db)
    db = store.open_db(config.db)
    [killed] = store.last_runs(db)
    assert killed["status"] == "running"  # as the killed process left it

    rerun = run_harvest(db, seeds, kill_config(config))

    assert rerun.status == "ok", rerun.errors
    assert store.last_runs(db)[1]["status"] == "interrupted"
    assert db.execute("SELECT count(*) FROM harvest_lock").fetchone()[0] == 0
    assert snapshot(db) == clean


def test_sigterm_closes_the_run_as_interrupted_and_releases_the_lock(spawn, corpus_server, config):
    gate = corpus_server.trip_at(11, api="arxiv")
    proc = spawn("harvest")
    assert gate.reached.wait(60), proc.err_path.read_text()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 130
    assert proc.err_path.read_text().strip().endswith("interrupted")
    db = store.open_db(config.db)
    [run] = store.last_runs(db)
    assert run["status"] == "interrupted" and run["ended"]
    assert db.execute("SELECT count(*) FROM harvest_lock").fetchone()[0] == 0
    # What it had stored by then is counted in its row.
    assert run["papers_new"] == db.execute("SELECT count(*) FROM papers").fetchone()[0] > 0


class InterruptedAt:
    """A connection whose ``n``-th ``BEGIN`` (or ``COMMIT``) is interrupted: Ctrl-C or SIGTERM
    arriving while the statement runs is raised the moment it returns (a window that the
    interpreter lock widens to milliseconds while the fetcher threads parse, and a commit's
    write to disk widens further)."""

    def __init__(self, conn: sqlite3.Connection, statement: str, n: int) -> None:
        self._conn = conn
        self._statement = statement
        self._left = n

    def __getattr__(self, name: str) -> object:
        return getattr(self._conn, name)

    def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
        cursor = self._conn.execute(sql, *args)
        if sql.startswith(self._statement):
            self._left -= 1
            if self._left == 0:
                raise KeyboardInterrupt
        return cursor


def closed_run(path: Path) -> tuple[dict, int, int]:
    """The last run, the lock rows and the papers, as another connection sees them."""
    db = store.open_db(path)
    try:
        [run] = store.last_runs(db)
        locks = db.execute("SELECT count(*) FROM harvest_lock").fetchone()[0]
        return run, locks, db.execute("SELECT count(*) FROM papers").fetchone()[0]
    finally:
        store.close_db(db)


@pytest.fixture
def labelled(fake_arxiv, fake_s2, corpus) -> None:
    fake_arxiv.corpus = corpus
    fake_s2.corpus = load_s2_corpus()


@pytest.mark.parametrize("statement", ["BEGIN", "COMMIT"])
def test_an_interrupt_as_a_page_begins_or_commits_still_closes_the_run_with_what_it_stored(
    statement, labelled, db, seeds, config
):
    # The lock, the run row and its name on the lock come first: the eighth is a page.
    db.conn = InterruptedAt(db.conn, statement, 8)  # type: ignore[assignment]
    with pytest.raises(KeyboardInterrupt):
        run_harvest(db, seeds, config)
    store.close_db(db)

    run, locks, papers = closed_run(config.db)
    assert run["status"] == "interrupted" and run["ended"]
    assert locks == 0
    assert run["papers_new"] == papers > 0


def test_a_page_interrupted_inside_its_transaction_is_not_counted(
    labelled, db, seeds, config, monkeypatch
):
    calls = itertools.count(1)
    update_run = store.update_run

    def interrupted_on_the_fourth_page(*args: object, **kwargs: object) -> None:
        if next(calls) == 4:
            raise KeyboardInterrupt  # after the page's papers, before its commit
        update_run(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "update_run", interrupted_on_the_fourth_page)
    with pytest.raises(KeyboardInterrupt):
        run_harvest(db, seeds, config)
    store.close_db(db)

    run, locks, papers = closed_run(config.db)
    assert run["status"] == "interrupted" and locks == 0
    assert run["papers_new"] == papers > 0
