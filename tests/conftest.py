"""Shared fixtures: the repo's real seeds, a temp database, a loopback arXiv, a test config."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlite_utils import Database

from harvester import store
from harvester.config import Config
from harvester.seeds import Seeds, load_seeds
from tests.loopback import Entry, FakeArxiv, FakeS2, LoopbackServer, load_corpus

ROOT = Path(__file__).resolve().parent.parent


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


@pytest.fixture(autouse=True)
def no_real_services(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever a test forgets to set, nothing reaches the real APIs: port 9 on loopback."""
    monkeypatch.setenv("HARVESTER_ARXIV_URL", "http://127.0.0.1:9/api/query")
    monkeypatch.setenv("HARVESTER_S2_URL", "http://127.0.0.1:9/graph/v1")
    monkeypatch.delenv("S2_API_KEY", raising=False)


@pytest.fixture(scope="session")
def seeds() -> Seeds:
    return load_seeds(ROOT / "seeds")


@pytest.fixture(scope="session")
def corpus() -> list[Entry]:
    return load_corpus()


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


@pytest.fixture(scope="session")
def corpus_db(tmp_path_factory: pytest.TempPathFactory, seeds: Seeds) -> Path:
    """The labelled corpora harvested once per session (4 seed papers, 92 pending); the web
    tests work on copies."""
    from tests.web_helpers import harvest_corpus

    path = tmp_path_factory.mktemp("corpus") / "harvester.db"
    harvest_corpus(path, seeds)
    return path
