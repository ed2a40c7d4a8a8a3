"""What DESIGN.md promises under "Nothing lost", shown with faults on every kind of answer."""

from __future__ import annotations

import dataclasses
import random
import sqlite3

import pytest

from harvester import ingest, store
from harvester.harvest import run_harvest
from tests.conftest import snapshot
from tests.loopback import (
    FakeArxiv,
    FakeS2,
    LoopbackServer,
    load_corpus,
    load_edges,
    load_s2_corpus,
)

ARXIV_FAULTS = [
    "429",
    "429:2",
    "500",
    "502",
    "503",
    "504",
    "truncate",
    "short",
    "reset",
    "200-html",
    "empty",
]
S2_FAULTS = [
    "429",
    "500",
    "502",
    "503",
    "504",
    "500-json",
    "504-json",
    "truncate",
    "short",
    "reset",
    "200-html",
]


def schedule(kinds: list[str], n: int, rate: float, seed: int) -> list[str | None]:
    """A fault for about ``rate`` of ``n`` answers, never more than two in a row, so every
    request succeeds within its retries: the run must then equal a clean one."""
    rng = random.Random(seed)
    out: list[str | None] = []
    for _ in range(n):
        streak = len(out) >= 2 and out[-1] is not None and out[-2] is not None
        out.append(rng.choice(kinds) if not streak and rng.random() < rate else None)
    return out


@pytest.fixture
def full_corpus(fake_arxiv, fake_s2, corpus):
    fake_arxiv.corpus = list(corpus)
    fake_s2.corpus = load_s2_corpus()
    fake_s2.edges = load_edges()
    return fake_arxiv, fake_s2


# Single-kind tests harvest two categories (faults land on the first answers anyway); the
# mixed-fault tests harvest everything.
FEW = ["early_exit", "compiler"]
_CLEAN: dict[tuple[str | int, ...], dict] = {}


def clean_run(seeds, config, tmp_path, categories: list[str] | None = None) -> dict:
    """The snapshot of an uninterrupted, fault-free harvest, computed once per category set
    and refresh period."""
    key = (*(categories or ()), config.refresh_days)
    if key not in _CLEAN:
        with LoopbackServer(
            FakeArxiv(load_corpus()), FakeS2(load_s2_corpus(), edges=load_edges())
        ) as srv:
            cfg = dataclasses.replace(config, arxiv_url=srv.arxiv_url, s2_url=srv.s2_url)
            db = store.open_db(tmp_path / f"clean-{len(_CLEAN)}.db")
            assert run_harvest(db, seeds, cfg, categories=categories).status == "ok"
            _CLEAN[key] = snapshot(db)
    return _CLEAN[key]


@pytest.fixture
def clean(seeds, config, tmp_path):
    return clean_run(seeds, config, tmp_path)


@pytest.fixture
def clean_few(seeds, config, tmp_path):
    return clean_run(seeds, config, tmp_path, FEW)


@pytest.mark.parametrize("kind", ARXIV_FAULTS)
def test_each_arxiv_fault_ends_in_the_clean_database(
    kind, seeds, config, full_corpus, server, tmp_path, clean_few
):
    full_corpus[0].faults = [kind, None] * 12
    db = store.open_db(tmp_path / "faulty.db")
    assert run_harvest(db, seeds, config, categories=FEW).status == "ok"
    assert snapshot(db) == clean_few


@pytest.mark.parametrize("kind", S2_FAULTS)
def test_each_semantic_scholar_fault_ends_in_the_clean_database(
    kind, seeds, config, full_corpus, server, tmp_path, clean_few
):
    full_corpus[1].faults = [kind, None] * 12
    db = store.open_db(tmp_path / "faulty.db")
    assert run_harvest(db, seeds, config, categories=FEW).status == "ok"
    assert snapshot(db) == clean_few


@pytest.mark.parametrize("seed", [1, 2])
def test_a_third_of_all_answers_faulty_ends_in_the_clean_database(
    seed, seeds, config, full_corpus, server, tmp_path, clean
):
    fake_arxiv, fake_s2 = full_corpus
    planned = schedule(ARXIV_FAULTS, 200, 1 / 3, seed)
    fake_arxiv.faults = list(planned)
    fake_s2.faults = schedule(S2_FAULTS, 200, 1 / 3, seed + 100)
    db = store.open_db(tmp_path / "faulty.db")
    result = run_harvest(db, seeds, config)
    assert result.status == "ok", result.errors
    assert snapshot(db) == clean
    faulted = sum(f is not None for f in planned[: len(fake_arxiv.requests)])
    assert faulted >= len(fake_arxiv.requests) // 5  # the mix really was heavy


def test_answers_slower_than_the_timeout_are_retried(
    seeds, config, full_corpus, server, tmp_path, clean
):
    full_corpus[0].faults = ["slow"]
    full_corpus[1].faults = ["slow"]
    db = store.open_db(tmp_path / "slow.db")
    result = run_harvest(db, seeds, dataclasses.replace(config, timeout=0.3))
    assert result.status == "ok", result.errors
    assert snapshot(db) == clean


def test_a_paper_shifting_onto_the_next_page_is_stored_once(
    seeds, config, full_corpus, server, tmp_path
):
    fake_arxiv = full_corpus[0]
    small = dataclasses.replace(config, arxiv_page_size=5)
    # Seed lookup, page 1 of the first query, then a new paper arrives before page 2.
    fake_arxiv.faults = [None, None, "insert"]
    db = store.open_db(tmp_path / "shift.db")
    assert run_harvest(db, seeds, small, categories=["survey"]).status == "ok"
    ids = [
        r["arxiv_id"] for r in db.query("SELECT arxiv_id FROM papers WHERE arxiv_id IS NOT NULL")
    ]
    assert len(ids) == len(set(ids))


def test_batch_answering_nulls_once_is_caught_up_by_the_next_refresh(
    seeds, config, full_corpus, server, tmp_path
):
    # The refresh batch after the searches: the Cavs title match and one bulk search per
    # category (each category's queries sent as one) come first.
    full_corpus[1].faults = [None] * 7 + ["nulls"]
    db = store.open_db(tmp_path / "nulls.db")
    every_run = dataclasses.replace(config, refresh_days=0)
    clean = clean_run(seeds, every_run, tmp_path)
    assert run_harvest(db, seeds, every_run).status == "ok"
    assert snapshot(db) != clean  # a batch knew nothing: those papers wait for the next one
    assert run_harvest(db, seeds, every_run).status == "ok"
    assert snapshot(db)["papers"] == clean["papers"]


def test_a_write_error_mid_harvest_loses_nothing_already_stored(
    seeds, config, full_corpus, server, tmp_path, monkeypatch
):
    db = store.open_db(tmp_path / "full.db")
    real = ingest.save_records
    calls = []

    def disk_full(db, rules, records, **kwargs):
        records = list(records)
        # Pages with papers only: the two services' empty pages come in any order.
        if records:
            calls.append(1)
        if len(calls) == 5:
            raise sqlite3.OperationalError("database or disk is full")
        return real(db, rules, records, **kwargs)

    monkeypatch.setattr(ingest, "save_records", disk_full)
    with pytest.raises(sqlite3.OperationalError):
        run_harvest(db, seeds, config)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    stored = db.table("papers").count
    assert stored > 0
    assert store.last_runs(db)[0]["status"] == "failed"
    monkeypatch.setattr(ingest, "save_records", real)
    assert run_harvest(db, seeds, config).status == "ok"
    assert db.table("papers").count >= stored
