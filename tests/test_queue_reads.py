"""The review queue answers at once: a decision's training never holds a read of the page up,
a ranking older than the decisions always says so, and no read scans the papers table.

Trainings are held at a gate (an event the test opens) instead of raced against: what the
page answers while one runs is then the same on every machine.
"""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
import pytest

from harvester import ranking, review, screening, store
from harvester.seeds import Seeds
from tests.web_helpers import live_app

# Generous bounds on waits for the other thread, never a measure of speed.
WAIT = 60.0
# A read must not wait for the training the test holds: on the code before, it did, and
# this is how long the test gives it before calling that a failure.
READ_TIMEOUT = 20.0
REAL_TRAIN = ranking.Ranker.train


class Gate:
    """Trainings pass freely until ``close``; then each waits until ``open``."""

    def __init__(self) -> None:
        self.closed = False
        self.entered = threading.Event()
        self.opened = threading.Event()
        self.trainings = 0

    def close(self) -> None:
        self.closed = True

    def open(self) -> None:
        self.opened.set()

    def train(self, *args: Any, **kwargs: Any) -> ranking.Ranker:
        self.trainings += 1
        if self.closed:
            self.entered.set()
            assert self.opened.wait(WAIT), "the test never opened the gate"
        return REAL_TRAIN(*args, **kwargs)


@pytest.fixture
def queue_db(queue_db: Path) -> Iterator[Path]:
    """The copy, and no training left running behind a test."""
    yield queue_db
    assert screening.wait_for_training(WAIT)


@pytest.fixture
def gate() -> Iterator[Gate]:
    held = Gate()
    with mock.patch.object(ranking.Ranker, "train", side_effect=held.train):
        try:
            yield held
        finally:
            held.open()


def reviewer(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=READ_TIMEOUT)
    csrf = client.get("/api/session").json()["csrf"]
    client.post("/reviewer", data={"name": "ana", "csrf": csrf})
    client.headers["X-CSRF-Token"] = csrf
    return client


def ids(answer: dict[str, Any]) -> list[int]:
    return [item["id"] for item in answer["items"]]


def test_the_page_after_a_decision_answers_while_the_ranking_trains(queue_db, seeds, gate):
    with live_app(queue_db, seeds) as base:
        client = reviewer(base)
        before = client.get("/api/queue?limit=1000").json()
        assert before["stale"] is False
        decided, following = before["items"][0]["id"], before["items"][1]["id"]
        gate.close()
        answer = client.post(
            "/api/decide", json={"paper_id": decided, "version": 0, "action": "reject"}
        )
        assert answer.status_code == 200, answer.text
        assert gate.entered.wait(WAIT)  # the decision's training runs, held at the gate

        during = client.get("/api/queue?limit=1000").json()
        paper = client.get(f"/api/paper/{following}").json()
        page = client.get(f"/?paper={following}").text
        # The decision shows at once: the paper left the queue, the rest keep their order.
        assert during["stale"] is True
        assert ids(during) == [i for i in ids(before) if i != decided]
        assert during["total"] == before["total"] - 1
        assert paper["ranking_stale"] is True
        assert 'id="ranking-stale"' in page
        assert f'data-paper-id="{decided}"' not in page

        gate.open()
        assert screening.wait_for_training(WAIT)
        after = client.get("/api/queue?limit=1000").json()
        paper = client.get(f"/api/paper/{following}").json()
        page = client.get(f"/?paper={following}").text
        assert after["stale"] is False
        assert decided not in ids(after)
        assert paper["ranking_stale"] is False
        assert 'id="ranking-stale"' not in page
    assert gate.trainings == 2


def test_an_order_older_than_the_decisions_is_always_marked_stale(queue_db, seeds: Seeds, gate):
    db = store.open_db(queue_db)
    first, stale = screening.order_now(db, seeds)  # nothing to show yet: trained here
    assert (stale, first.key) == (False, screening.order_key(db, seeds))
    pending = review.queue(db, seeds, explain=False)
    gate.close()
    review.reject(db, str(pending[0].id), who="test")

    held, stale = screening.order_now(db, seeds)
    assert gate.entered.wait(WAIT)
    assert (held, stale) == (first, True)
    assert held.key != screening.order_key(db, seeds)
    page = review.queue_page(db, seeds, limit=5, explain=False, wait=False)
    assert page.stale is True
    assert pending[0].id not in [i.id for i in page.items]

    # A restart while it trains: the first read loads the kept order, marked, and waits
    # for nothing.
    screening.forget()
    restarted, stale = screening.order_now(db, seeds)
    assert (restarted.key, stale) == (first.key, True)

    gate.open()
    assert screening.wait_for_training(WAIT)
    current, stale = screening.order_now(db, seeds)
    assert (current.key, stale) == (screening.order_key(db, seeds), False)
    assert review.queue_page(db, seeds, limit=5, explain=False, wait=False).stale is False
    db.close()


def test_the_cli_waits_for_the_ranking_of_the_latest_decision(queue_db, seeds: Seeds, gate):
    db = store.open_db(queue_db)
    screening.order(db, seeds)
    pending = review.queue(db, seeds, explain=False)
    review.reject(db, str(pending[0].id), who="test")
    page = review.queue_page(db, seeds, limit=5)
    assert page.stale is False
    assert page.ranking is not None
    assert page.ranking.key == screening.order_key(db, seeds)
    assert gate.trainings == 2
    db.close()


def test_the_queue_reads_no_full_scan_of_the_papers_table(queue_db, seeds: Seeds):
    db = store.open_db(queue_db)
    screening.order(db, seeds)
    statements: list[str] = []
    db.conn.set_trace_callback(statements.append)
    review.queue_page(db, seeds, limit=20, explain=False, wait=False)
    review.category_counts(db, seeds)
    db.conn.set_trace_callback(None)
    scans = {}
    for sql in statements:
        if not sql.lstrip().upper().startswith("SELECT"):
            continue
        plan = [row[3] for row in db.execute("EXPLAIN QUERY PLAN " + sql).fetchall()]
        if any(re.fullmatch(r"SCAN papers", step) for step in plan):
            scans[sql] = plan
    db.close()
    assert scans == {}


def test_a_rejection_keeps_the_category_model_and_an_acceptance_retrains_it(queue_db, seeds: Seeds):
    db = store.open_db(queue_db)
    pending = [i.id for i in review.queue(db, seeds, explain=False)]
    for paper_id in pending[:5]:
        review.accept(db, seeds, str(paper_id), category="early_exit", who="test")
    with mock.patch.object(
        ranking.CategoryModel, "train", side_effect=ranking.CategoryModel.train
    ) as train:
        screening.order(db, seeds)
        review.reject(db, str(pending[5]), who="test")
        screening.forget()  # another process: the kept model is read from the folder
        after_rejection = screening.order(db, seeds)
        assert train.call_count == 1
        review.accept(db, seeds, str(pending[6]), category="early_exit", who="test")
        after_acceptance = screening.order(db, seeds)
        assert train.call_count == 2
    kept = screening.model(db, seeds)[1].categories
    assert kept.learned == ("early_exit",)
    # What was kept is what a training from nothing gives.
    shutil.rmtree(screening.cache_folder(db))
    screening.forget()
    review.undo(db, who="test")
    assert screening.order(db, seeds).suggested == after_rejection.suggested
    assert after_acceptance.key != after_rejection.key
    db.close()
