"""Shared fixtures: the tests' own seeds, a temp database, a loopback arXiv, a test config."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlite_utils import Database

from harvester import redact, screening, store
from harvester.config import Config
from harvester.http import RequestLog, Service, make_client
from harvester.rules import Rules
from harvester.seeds import Seeds, load_seeds
from harvester.sources.semantic_scholar import SemanticScholarSource, describe_error
from tests.loopback import Entry, FakeArxiv, FakeS2, LoopbackServer, load_corpus
from tests.seeds_folder import frozen_seeds

ROOT = Path(__file__).resolve().parent.parent


def _test_seeds() -> Path:
    """The seeds the tests run with: ``tests/seeds`` (categories, queries, keywords, seed
    papers, frozen so that curators can improve the shipped ``seeds/`` without breaking
    tests of behaviour) with the shipped venue table and award list, which only grow.

    The shipped seeds are checked on their own by ``tests/test_seeds.py`` and measured by
    the benches on the labelled corpus.
    """
    return frozen_seeds("harvester-test-seeds-")


SEEDS = _test_seeds()


def synthetic_entries(n: int, words: str = "early exit") -> list[Entry]:
    """``n`` distinct papers that all match a query for ``words``, newest first by id."""
    return [
        Entry(
            arxiv_id=f"2301.{i:05d}",
            title=f"Paper {i} on {words}",
            abstract=f"We study {words} number {i}.",
            authors=[f"Author {i}", "Shared Author"],
            published=f"2023-01-{1 + i % 28:02d}T00:00:00Z",
            updated=f"2023-02-{1 + i % 28:02d}T00:00:00Z",
            primary_category="cs.LG",
            categories=["cs.LG"],
        )
        for i in range(n)
    ]


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    out = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout)


@pytest.fixture(autouse=True)
def no_real_services(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Whatever a test forgets to set, nothing reaches the real APIs: port 9 on loopback.

    Keys a test's configurations registered as secrets are forgotten after it, so one test's
    key (``"k"``) is not scrubbed from the next test's messages.
    """
    monkeypatch.setenv("HARVESTER_ARXIV_URL", "http://127.0.0.1:9/api/query")
    monkeypatch.setenv("HARVESTER_S2_URL", "http://127.0.0.1:9/graph/v1")
    monkeypatch.delenv("HARVESTER_S2_RECS_URL", raising=False)  # beside the S2 URL above
    monkeypatch.delenv("S2_API_KEY", raising=False)
    yield
    redact.forget()


@pytest.fixture(scope="session")
def seeds() -> Seeds:
    return load_seeds(SEEDS)


@pytest.fixture(scope="session")
def rules(seeds: Seeds) -> Rules:
    """The tests' seeds with the default thresholds (milestones above 100 citations)."""
    return Rules(seeds)


@pytest.fixture(scope="session")
def corpus() -> list[Entry]:
    return load_corpus()


@pytest.fixture
def queue_db(tmp_path: Path, corpus_db: Path) -> Iterator[Path]:
    """A copy of the harvested corpus's database (4 seed papers accepted, 92 pending), with
    no ranking held in memory from another test, before or after."""
    path = tmp_path / "db" / "harvester.db"
    path.parent.mkdir()
    shutil.copy(corpus_db, path)
    screening.forget()
    yield path
    screening.forget()


@pytest.fixture
def db(tmp_path: Path) -> Database:
    return store.open_db(tmp_path / "harvester.db")


@pytest.fixture
def fake_arxiv() -> FakeArxiv:
    return FakeArxiv()


@pytest.fixture
def fake_s2() -> FakeS2:
    return FakeS2()


@pytest.fixture
def server(fake_arxiv: FakeArxiv, fake_s2: FakeS2) -> Iterator[LoopbackServer]:
    with LoopbackServer(fake_arxiv, fake_s2) as running:
        yield running


@pytest.fixture
def config(server: LoopbackServer, tmp_path: Path) -> Config:
    """No delays and no backoff: tests never sleep; three retries as in production shape."""
    return Config(
        db=tmp_path / "harvester.db",
        arxiv_url=server.arxiv_url,
        s2_url=server.s2_url,
        arxiv_delay=0,
        s2_delay=0,
        backoff_max=0,
        retries=3,
        timeout=5,
        arxiv_page_size=100,
    )


@pytest.fixture
def s2(config: Config) -> Iterator[SemanticScholarSource]:
    """The S2 source on the loopback server, one try a request (the graph steps' tests)."""
    with make_client(config) as client:
        service = Service(
            "s2",
            client,
            delay=0,
            retries=1,
            backoff_max=0,
            requests=RequestLog(),
            describe_error=describe_error,
        )
        yield SemanticScholarSource(service, config.s2_url)


# --- comparing databases ----------------------------------------------------------------------

PAPER_TABLES = (
    "papers",
    "paper_sources",
    "paper_categories",
    "query_hits",
    "authors",
    "paper_authors",
    "citation_history",
)


def dump(db: Database, tables: tuple[str, ...] = PAPER_TABLES) -> dict[str, list[tuple]]:
    """Every row of the paper tables, every column: equal dumps mean no row changed."""
    return {
        table: sorted((tuple(row) for row in db.execute(f"SELECT * FROM {table}")), key=repr)
        for table in tables
    }


def snapshot(db: Database) -> dict[str, object]:
    """What a harvest knows, by natural keys rather than row ids and timestamps: papers (with
    venue, citations, category, status), their categories, hits, sources, authors, citation
    history and the citation graph. Two databases with equal snapshots hold the same harvest."""
    rows = list(db.query("SELECT * FROM papers"))
    key = {row["id"]: row["arxiv_id"] or row["title_key"] for row in rows}
    assert len(set(key.values())) == len(key), "duplicate papers"
    skip = {"id", "first_seen", "last_seen", "s2_refreshed"}
    return {
        "papers": {key[r["id"]]: {k: v for k, v in r.items() if k not in skip} for r in rows},
        "categories": sorted(
            (key[r["paper_id"]], r["category"], r["score"], r["reasons"])
            for r in db.query("SELECT * FROM paper_categories")
        ),
        "hits": sorted(
            (key[r["paper_id"]], r["source"], r["category"], r["query"])
            for r in db.query("SELECT * FROM query_hits")
        ),
        "sources": sorted(
            (r["source"], r["source_id"], key[r["paper_id"]], r["data"])
            for r in db.query("SELECT * FROM paper_sources")
        ),
        "authors": sorted(
            (key[r["paper_id"]], r["position"], r["name"])
            for r in db.query(
                "SELECT paper_id, position, name FROM paper_authors"
                " JOIN authors ON authors.id = author_id"
            )
        ),
        "citations": sorted(
            (key[r["paper_id"]], r["citation_count"])
            for r in db.query("SELECT * FROM citation_history")
        ),
        "edges": sorted(store.graph.all_edges(db)),
    }


# --- harvests in a subprocess -----------------------------------------------------------------


@pytest.fixture
def spawn(server: LoopbackServer, tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen]]:
    """Start ``python -m harvester [ARGS]`` in its own process against the loopback server.

    The process gets the settings of the ``config`` fixture (no delays, no backoff, three
    retries) but pages of 10, so queries span several pages. Its output goes to files
    (``proc.out_path``, ``proc.err_path``); whatever is still running at the end is killed.
    """
    procs: list[subprocess.Popen] = []
    home = tmp_path / "proc"
    home.mkdir()
    (home / "harvester.toml").write_text(
        "backoff_max = 0\nretries = 3\narxiv_page_size = 10\ntimeout = 5\n", encoding="utf-8"
    )
    env = os.environ | {
        "HARVESTER_ARXIV_URL": server.arxiv_url,
        "HARVESTER_S2_URL": server.s2_url,
        "HARVESTER_ARXIV_DELAY": "0",
        "HARVESTER_S2_DELAY": "0",
        "HARVESTER_SEEDS": str(SEEDS),
        "HARVESTER_DB": str(tmp_path / "harvester.db"),
    }

    def start(*args: str, **environ: str) -> subprocess.Popen:
        """``environ`` adds to (or overrides) the process's environment."""
        n = len(procs)
        out, err = home / f"out{n}.txt", home / f"err{n}.txt"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            proc = subprocess.Popen(
                [sys.executable, "-m", "harvester", *args],
                cwd=home,
                env=env | environ,
                stdout=stdout,
                stderr=stderr,
            )
        proc.out_path, proc.err_path = out, err  # type: ignore[attr-defined]
        procs.append(proc)
        return proc

    yield start
    server.gate.release.set()
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)


@pytest.fixture(scope="session")
def corpus_db(tmp_path_factory: pytest.TempPathFactory, seeds: Seeds) -> Path:
    """The labelled corpora harvested once per session (4 seed papers, 92 pending); the web
    tests work on copies."""
    from tests.web_helpers import harvest_corpus

    path = tmp_path_factory.mktemp("corpus") / "harvester.db"
    harvest_corpus(path, seeds)
    return path
