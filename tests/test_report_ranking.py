"""The report right after a decision: the queue it publishes is in the order of that decision,
trained in a child process while the report writes what needs no ranking, and the same bytes
as a report whose ranking was trained from scratch; where the child cannot train, the report
trains for itself."""

from __future__ import annotations

import os
import shutil
import signal
import threading
from pathlib import Path
from typing import Any

import pytest

from harvester import report, review, screening, store
from harvester.report import write_reports
from harvester.rules import Rules
from harvester.seeds import Seeds
from tests.test_bad_input import read_only


def files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


@pytest.fixture
def children(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The ids of the child processes this process forks, in order."""
    forked: list[int] = []
    real_fork = os.fork

    def fork() -> int:
        pid = real_fork()
        if pid:
            forked.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", fork)
    return forked


class Trainings:
    """Counts the trainings this process makes (a child's are its own)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *, allowed: bool) -> None:
        self.count = 0
        self.allowed = allowed
        self.real = screening._train
        monkeypatch.setattr(screening, "_train", self.train)

    def train(self, *args: Any) -> Any:
        self.count += 1
        if not self.allowed:
            raise AssertionError("the report's own process trained the ranking")
        return self.real(*args)


def decided_then_published(db_path: Path, seeds: Seeds, out: Path) -> int:
    """Publish, reject the paper the queue lists first, forget (the next command is another
    process); return that paper's id."""
    db = store.open_db(db_path)
    write_reports(db, Rules(seeds), out)
    first = review.queue(db, seeds, explain=False)[0].id
    review.reject(db, str(first), who="test")
    db.close()
    screening.forget()
    return first


def from_scratch(db_path: Path, seeds: Seeds, out: Path) -> dict[str, bytes]:
    """The reports with the ranking trained again from nothing, in this process."""
    db = store.open_db(db_path)
    shutil.rmtree(screening.cache_folder(db))  # type: ignore[arg-type]
    screening.forget()
    write_reports(db, Rules(seeds), out)
    db.close()
    return files(out)


def test_the_report_after_a_decision_publishes_the_queue_in_that_decisions_order(
    queue_db: Path, seeds: Seeds, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    rejected = decided_then_published(queue_db, seeds, tmp_path / "before")
    before = files(tmp_path / "before")
    Trainings(monkeypatch, allowed=False)  # the child trains, this process only reads
    db = store.open_db(queue_db)
    write_reports(db, Rules(seeds), tmp_path / "after")
    key = screening.order_key(db, seeds)
    db.close()
    after = files(tmp_path / "after")
    assert f"`#{rejected}`".encode() in before["review-queue.md"]
    assert f"`#{rejected}`".encode() not in after["review-queue.md"]
    assert screening._load(queue_db.parent / "harvester.db-ranking", "order").key == key
    monkeypatch.undo()
    assert after == from_scratch(queue_db, seeds, tmp_path / "scratch")


def test_a_report_whose_features_are_not_kept_trains_in_its_own_process(
    queue_db: Path, seeds: Seeds, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    decided_then_published(queue_db, seeds, tmp_path / "before")
    folder = queue_db.parent / "harvester.db-ranking"
    # What a child could train from alone: without them, only a connection makes features.
    (folder / "table.pickle").unlink()
    (folder / "features.pickle").unlink()
    trainings = Trainings(monkeypatch, allowed=True)
    db = store.open_db(queue_db)
    write_reports(db, Rules(seeds), tmp_path / "after")
    db.close()
    assert trainings.count == 1
    monkeypatch.undo()
    assert files(tmp_path / "after") == from_scratch(queue_db, seeds, tmp_path / "scratch")


def test_a_report_that_fails_leaves_no_child_behind(
    queue_db: Path,
    seeds: Seeds,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    children: list[int],
):
    decided_then_published(queue_db, seeds, tmp_path / "before")
    children.clear()  # only the report below

    def broken(*args: Any) -> str:
        raise RuntimeError("the feed cannot be made")

    monkeypatch.setattr(report, "render_feed", broken)
    db = store.open_db(queue_db)
    with pytest.raises(RuntimeError, match="the feed cannot be made"):
        write_reports(db, Rules(seeds), tmp_path / "after")
    db.close()
    [child] = children
    with pytest.raises(ChildProcessError):  # ended and waited for: no such child any more
        os.waitpid(child, os.WNOHANG)


def test_a_report_beside_a_cache_folder_it_cannot_write_trains_in_its_own_process(
    queue_db: Path,
    seeds: Seeds,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    children: list[int],
):
    """A child could not keep its order for the parent: the parent would train it again."""
    decided_then_published(queue_db, seeds, tmp_path / "before")
    children.clear()  # only the report below
    trainings = Trainings(monkeypatch, allowed=True)
    with read_only(queue_db.parent / "harvester.db-ranking"):
        db = store.open_db(queue_db, access="read")
        write_reports(db, Rules(seeds), tmp_path / "after")
        db.close()
    assert (children, trainings.count) == ([], 1)
    monkeypatch.undo()
    assert files(tmp_path / "after") == from_scratch(queue_db, seeds, tmp_path / "scratch")


def test_a_process_with_other_threads_trains_for_itself(
    queue_db: Path, seeds: Seeds, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    decided_then_published(queue_db, seeds, tmp_path / "before")
    trainings = Trainings(monkeypatch, allowed=True)
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        db = store.open_db(queue_db)
        write_reports(db, Rules(seeds), tmp_path / "after")
        db.close()
    finally:
        release.set()
        other.join()
    assert trainings.count == 1


def test_a_child_that_never_finishes_is_ended_and_the_report_trains_for_itself(
    queue_db: Path,
    seeds: Seeds,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    children: list[int],
):
    """A report from cron must end: a child still training at ``AHEAD_LIMIT`` is killed."""
    decided_then_published(queue_db, seeds, tmp_path / "before")
    children.clear()  # only the report below

    def hung(*args: Any) -> None:
        while True:
            signal.pause()

    monkeypatch.setattr(screening, "_train_alone", hung)
    monkeypatch.setattr(screening, "AHEAD_LIMIT", 0.5)
    trainings = Trainings(monkeypatch, allowed=True)
    db = store.open_db(queue_db)
    write_reports(db, Rules(seeds), tmp_path / "after")
    db.close()
    [child] = children
    with pytest.raises(ChildProcessError):
        os.waitpid(child, os.WNOHANG)
    assert trainings.count == 1
    monkeypatch.undo()
    assert files(tmp_path / "after") == from_scratch(queue_db, seeds, tmp_path / "scratch")
