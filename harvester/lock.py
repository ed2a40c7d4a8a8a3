"""One harvest per database: the ``harvest_lock`` row, its heartbeat, and stale-lock takeover.

Why a row in the database rather than a lock file beside it: the lock travels with the
database (copied, restored from a cache, checked out from a data branch), it is taken in the
same SQLite transaction that checks it, so two harvests starting together cannot both win,
and it can name its holder (run, pid, host) for the second harvest's one-line refusal and
for ``harvester status``.

A row outlives a process killed with SIGKILL, so a lock is *stale*, and taken over with a
warning, when its holder is provably gone: on this host its pid no longer runs, on any host
its heartbeat is older than ``stale_lock_after``. A thread beats the heartbeat on its own
connection while the harvest waits on the network or backs off; if it finds the row taken
over (a process stopped longer than the stale limit, then resumed), the harvest stops
writing (``LockLostError``) rather than run beside the new holder.
"""

from __future__ import annotations

import logging
import os
import socket
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType

from sqlite_utils import Database

from harvester import clock, store
from harvester.errors import LockHeldError, LockLostError
from harvester.store import lock as rows

log = logging.getLogger(__name__)


def pid_running(pid: int) -> bool:
    """Whether a process with this pid runs on this host (a zombie does not count)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: it exists
    except OSError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return True  # no /proc (macOS): trust kill(0)
    # "pid (comm) S ...": the state follows the last ')'; Z is a zombie, X is dead.
    state = stat.rsplit(")", 1)[-1].split()[:1]
    return state not in (["Z"], ["X"])


@dataclass(frozen=True)
class Holder:
    """Who holds a lock: their run, process, host, and when they last showed signs of life."""

    run_id: int | None
    pid: int
    host: str
    acquired: str
    heartbeat: str

    def describe(self) -> str:
        run = f"run {self.run_id}, " if self.run_id is not None else ""
        return (
            f"{run}pid {self.pid} on {self.host}, since {self.acquired}, "
            f"last heartbeat {self.heartbeat}"
        )

    def gone(self, stale_after: float, *, now: datetime | None = None) -> str | None:
        """Why this holder is dead, or None while it may be alive."""
        if self.host == socket.gethostname() and not pid_running(self.pid):
            return "that process is gone"
        age = clock.age(self.heartbeat, at=now)
        if age > stale_after:
            return f"its heartbeat is {age:.0f} s old (limit {stale_after:.0f} s)"
        return None


def current_holder(db: Database) -> Holder | None:
    """The lock's holder as recorded, alive or not (for ``status``)."""
    row = rows.holder(db)
    return Holder(*row) if row else None


class HarvestLock:
    """The held lock of one harvest; a context manager that releases it.

    >>> with HarvestLock.acquire(db, stale_after=600) as lock:
    ...     lock.attach(run_id)
    """

    def __init__(self, db: Database, holder: Holder, stale_after: float) -> None:
        self.db = db
        self.holder = holder
        self.run_id: int | None = None
        self._stop = threading.Event()
        self._lost = threading.Event()
        self._interval = max(1.0, min(60.0, stale_after / 5))
        self._path = rows.database_file(db)
        self._thread: threading.Thread | None = None

    @classmethod
    def acquire(cls, db: Database, *, stale_after: float) -> HarvestLock:
        """Take the lock, or raise ``LockHeldError`` at once naming who holds it.

        A stale lock is taken over with a warning, and runs still marked ``running`` are
        closed as ``interrupted``: holding the lock, we know no harvest is running them.
        """
        stamp = clock.now_iso()
        me = Holder(None, os.getpid(), socket.gethostname(), stamp, stamp)
        # The write lock is taken before reading, so the check and the insert are one step:
        # of two harvests starting together, exactly one sees the table empty.
        with store.write_transaction(db):
            previous = current_holder(db)
            if previous is not None:
                why = previous.gone(stale_after)
                if why is None:
                    raise LockHeldError(
                        f"another harvest holds the lock on this database: {previous.describe()}"
                    )
                log.warning("taking over a stale harvest lock (%s): %s", previous.describe(), why)
            rows.take(db, me.pid, me.host, me.acquired, me.heartbeat)
            interrupted = store.runs.close_running(db)
        if interrupted:
            log.warning(
                "%d earlier run(s) were killed before they ended: now 'interrupted'", interrupted
            )
        lock = cls(db, me, stale_after)
        lock._start_heartbeat()
        return lock

    def attach(self, run_id: int) -> None:
        """Name the run holding the lock, for the messages of those who find it held."""
        self.run_id = run_id
        with store.write_transaction(self.db):
            rows.name_run(self.db, run_id, self.holder.pid, self.holder.acquired)

    def check(self) -> None:
        """Raise ``LockLostError`` if another harvest took the lock over; call before writes."""
        if self._lost.is_set():
            raise LockLostError(
                "this harvest's lock was taken over by another harvest (its heartbeat had "
                "stopped for longer than stale_lock_after); stopped without writing more"
            )

    def beat(self, db: Database) -> bool:
        """Record a sign of life on the heartbeat's own connection; False if no longer ours."""
        now = clock.now_iso()
        with store.write_transaction(db):
            owned = rows.beat(db, self.holder.pid, self.holder.acquired, now)
            if owned and self.run_id is not None:
                store.runs.heartbeat(db, self.run_id, now)
        if not owned:
            self._lost.set()
        return bool(owned)

    def _start_heartbeat(self) -> None:
        if not self._path:
            return  # an in-memory database: no other process can take it

        def loop() -> None:
            db = store.connect(self._path)
            try:
                while not self._stop.wait(self._interval):
                    try:
                        if not self.beat(db):
                            return
                    except sqlite3.Error as exc:  # busy for 30 s: try again next beat
                        log.debug("heartbeat skipped: %s", exc)
            finally:
                db.close()

        self._thread = threading.Thread(target=loop, name="harvest-heartbeat", daemon=True)
        self._thread.start()

    def release(self) -> None:
        """Stop the heartbeat and delete the row, if it is still ours."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with store.write_transaction(self.db):
            rows.release(self.db, self.holder.pid, self.holder.acquired)

    def __enter__(self) -> HarvestLock:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
