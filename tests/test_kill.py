"""A harvest killed at any point (SIGKILL, SIGTERM) leaves a consistent database, and the next
run ends with the same database as a run never interrupted.

The harvest runs in a subprocess; the loopback server tells the test when it receives a
given request (and, when asked, holds its answer), and the test kills the process there.
The two services are asked at once, so request numbers below count each service's own
requests, following one clean run of the corpus with arXiv pages of 10 and Semantic Scholar
pages of 20. arXiv: 1 seed lookup, 2–27 queries (11 is the third page of the exit/inference
query). Semantic Scholar: 1 the Cavs title match, 2–11 bulk searches (4 is the second page of
the first early-exit search), 12 the refresh batch, 13–20 snowball reads. While one service's
request is held, the other's next request waits too; a kill lands wherever the other
service's fetcher and the writer were.
"""

from __future__ import annotations

import dataclasses
import signal
from pathlib import Path

import pytest

from harvester import store
from harvester.config import Config
from harvester.harvest import run_harvest
from harvester.seeds import load_seeds
from tests.conftest import ROOT, snapshot
from tests.loopback import FakeArxiv, FakeS2, LoopbackServer, load_corpus, load_s2_corpus

S2_PAGE = 20


def kill_config(config: Config) -> Config:
    return dataclasses.replace(config, arxiv_page_size=10)


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> dict:
    """The snapshot of one uninterrupted harvest with the same settings."""
    arxiv = FakeArxiv(corpus=load_corpus())
    s2 = FakeS2(corpus=load_s2_corpus(), bulk_page=S2_PAGE)
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
        result = run_harvest(db, load_seeds(ROOT / "seeds"), config)
        assert result.status == "ok", result.errors
        # The numbering below: 27 arXiv requests; S2's 12 (searches, refresh batch), then 8
        # snowball reads (citations and references of the four accepted seed papers).
        assert result.requests == {"arxiv": 27, "s2": 20}
        return snapshot(db)


@pytest.fixture
def corpus_server(server, fake_arxiv, fake_s2, corpus) -> LoopbackServer:
    fake_arxiv.corpus = corpus
    fake_s2.corpus = load_s2_corpus()
    fake_s2.bulk_page = S2_PAGE
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
        ("s2", 12, True),  # waiting for the refresh batch
        ("s2", 16, True),  # waiting for a snowball read: the next run reads what is left
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
