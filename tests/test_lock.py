"""One harvest per database: a second one exits 3 at once; stale locks are taken over."""

from __future__ import annotations

import logging
import os
import socket
import sqlite3
import threading

import pytest
from click.testing import CliRunner
from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from harvester import clock, store
from harvester.cli import cli
from harvester.errors import LockHeldError, LockLostError, StoreError
from harvester.harvest import run_harvest
from harvester.lock import HarvestLock, current_holder, pid_running
from harvester.store.migrations import MIGRATIONS
from tests.conftest import SEEDS, dead_pid, synthetic_entries


def plant_lock(db, *, pid: int, host: str, heartbeat: str) -> int:
    """A lock row and a 'running' run, as a harvest that never ended leaves them."""
    run_id = store.start_run(db, {})
    with db.atomic():
        db.execute(
            "INSERT INTO harvest_lock (id, run_id, pid, host, acquired, heartbeat)"
            " VALUES (1, ?, ?, ?, '2026-01-01T00:00:00Z', ?)",
            [run_id, pid, host, heartbeat],
        )
    return run_id


def test_second_harvest_exits_3_at_once_naming_the_holder(
    spawn, server, fake_arxiv, config, tmp_path
):
    fake_arxiv.corpus = synthetic_entries(5)
    # The first harvest waits inside its first request to each service.
    gate = server.trip_at(2, hold_every=True)
    first = spawn("harvest", "--category", "early_exit")
    assert gate.reached.wait(60), first.err_path.read_text()
    received = server.request_count

    second = CliRunner().invoke(
        cli,
        ["--db", str(config.db), "harvest"],
        env={
            "HARVESTER_ARXIV_URL": server.arxiv_url,
            "HARVESTER_S2_URL": server.s2_url,
            "HARVESTER_SEEDS": str(SEEDS),
        },
    )

    assert second.exit_code == 3
    [line] = second.output.strip().splitlines()
    assert line.startswith("error: another harvest holds the lock on this database: run 1,")
    assert f"pid {first.pid} on {socket.gethostname()}" in line
    assert server.request_count == received  # it asked nothing of anyone
    gate.release.set()
    assert first.wait(60) == 1, first.err_path.read_text()  # seed papers not in this corpus
    db = store.open_db(config.db)
    assert [r["status"] for r in store.last_runs(db)] == ["failed"]  # one run, the first
    assert current_holder(db) is None


def test_stale_lock_of_a_dead_process_is_taken_over_and_said_so(
    db, seeds, config, fake_arxiv, server, caplog
):
    fake_arxiv.corpus = synthetic_entries(3)
    pid = dead_pid()
    killed = plant_lock(db, pid=pid, host=socket.gethostname(), heartbeat=clock.now_iso())
    caplog.set_level(logging.WARNING, logger="harvester")

    result = run_harvest(db, seeds, config, categories=["early_exit"])

    assert result.run_id != killed and result.papers_new == 3
    [warning] = [r.getMessage() for r in caplog.records if "taking over" in r.getMessage()]
    assert f"run {killed}, pid {pid} on {socket.gethostname()}" in warning
    assert warning.endswith("that process is gone")
    statuses = {r["id"]: r["status"] for r in store.last_runs(db)}
    assert statuses[killed] == "interrupted"
    assert current_holder(db) is None


def test_lock_from_another_host_holds_while_its_heartbeat_is_fresh(db):
    plant_lock(db, pid=os.getpid(), host="elsewhere.example", heartbeat=clock.now_iso())
    with pytest.raises(LockHeldError, match=r"pid \d+ on elsewhere\.example"):
        HarvestLock.acquire(db, stale_after=600)


def test_lock_from_another_host_with_an_old_heartbeat_is_stale(db, caplog):
    plant_lock(db, pid=os.getpid(), host="elsewhere.example", heartbeat="2026-01-01T00:00:00Z")
    caplog.set_level(logging.WARNING, logger="harvester")
    with HarvestLock.acquire(db, stale_after=600) as held:
        assert current_holder(db).pid == os.getpid() and current_holder(db).host != "elsewhere"
        assert held.holder.host == socket.gethostname()
    assert "its heartbeat is" in caplog.text and current_holder(db) is None


def test_a_live_process_on_this_host_holds_the_lock(db):
    plant_lock(db, pid=os.getppid(), host=socket.gethostname(), heartbeat="2026-01-01T00:00:00Z")
    # Alive, but its heartbeat is old: a reused pid, or a process stopped for long.
    with HarvestLock.acquire(db, stale_after=600):
        pass
    plant_lock(db, pid=os.getppid(), host=socket.gethostname(), heartbeat=clock.now_iso())
    with pytest.raises(LockHeldError):
        HarvestLock.acquire(db, stale_after=600)


def test_a_lock_taken_over_stops_its_old_holder_from_writing(db, config):
    held = HarvestLock.acquire(db, stale_after=600)
    with db.atomic():
        db.execute("UPDATE harvest_lock SET pid = pid + 1, acquired = 'later'")
    other = Database(sqlite3.connect(config.db))
    assert held.beat(other) is False
    other.close()
    with pytest.raises(LockLostError):
        held.check()
    held.release()
    assert current_holder(db) is not None  # the new holder's row stays


def test_the_lock_is_released_after_a_failed_run(db, seeds, config, fake_arxiv, server):
    fake_arxiv.faults = ["503"] * 100
    result = run_harvest(db, seeds, config, categories=["compiler"])
    assert result.status == "failed"
    assert current_holder(db) is None


def test_pid_running():
    assert pid_running(os.getpid())
    assert not pid_running(dead_pid())


def test_two_harvests_opening_a_new_database_at_once_the_loser_finds_the_lock_held(
    tmp_path, monkeypatch
):
    """The second harvest looks at the schema while the first is still creating it: it must
    wait for it, not create it a second time (exit 2), and then find the lock held (exit 3)."""
    path = tmp_path / "new.db"
    creating, second_looked = threading.Event(), threading.Event()
    outcomes: dict[str, str] = {}
    held: list[HarvestLock] = []
    real_pending = Migrations.pending
    first_migration = MIGRATIONS._migrations[0]
    real_create = first_migration.fn

    def pending(self, db):
        found = real_pending(self, db)
        if threading.current_thread().name == "second":
            second_looked.set()
        return found

    def create(db):
        if threading.current_thread().name == "first" and not creating.is_set():
            creating.set()
            second.start()
            second_looked.wait(30)  # the second harvest has seen the schema missing
        real_create(db)

    def start_harvest() -> None:
        name = threading.current_thread().name
        try:
            db = store.open_db(path)
            held.append(HarvestLock.acquire(db, stale_after=600))
            outcomes[name] = "ok"
        except LockHeldError:
            outcomes[name] = "lock held"
        except StoreError as exc:
            outcomes[name] = f"error: {exc}"

    monkeypatch.setattr(Migrations, "pending", pending)
    monkeypatch.setattr(first_migration, "fn", create)
    first = threading.Thread(target=start_harvest, name="first")
    second = threading.Thread(target=start_harvest, name="second")
    first.start()
    first.join(60)
    second.join(60)
    for lock in held:
        lock.release()
    assert creating.is_set() and second_looked.is_set()
    assert sorted(outcomes.values()) == ["lock held", "ok"], outcomes
    db = store.open_db(path)
    assert [m.name for m in MIGRATIONS.applied(db)] == [m.name for m in MIGRATIONS._migrations]
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
