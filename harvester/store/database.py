"""Opening the database, and the one way to write to it (``write_transaction``).

Nothing is written before the file is known to be a harvester database; reading commands open
it read-only. Every transaction that writes takes SQLite's write lock first.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Literal
from urllib.parse import quote

from sqlite_utils import Database

from harvester.errors import StoreError
from harvester.store.migrations import migrate, schema_state

# How a command opens the database: ``create`` it if missing (harvest, review add, tests),
# ``write`` one that exists, or ``read`` one that exists without writing a byte.
Access = Literal["create", "write", "read"]

# SQLite's primary result codes for "cannot write here" and "cannot open a file".
_SQLITE_READONLY = 8
_SQLITE_CANTOPEN = 14


def open_db(path: Path | str, *, access: Access = "create") -> Database:
    """Open the database and, unless ``access`` is ``read``, bring its schema up to date.

    Nothing is written before the file is known to be a harvester database (or empty): a
    foreign SQLite file, a database from a newer harvester and, for ``read``, one whose
    schema is out of date are refused untouched. ``read`` opens the file read-only, so the
    reading commands work on a read-only file, folder or filesystem. ``":memory:"`` gives a
    throwaway database for tests.
    """
    memory = str(path) == ":memory:"
    conn: sqlite3.Connection | None = None
    try:
        if not memory and access != "create" and not Path(path).exists():
            raise StoreError(
                f"{path}: no database there (check --db or HARVESTER_DB;"
                " 'harvester harvest' creates one)"
            )
        if not memory and access == "create":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = _read_only(path) if access == "read" and not memory else _connect(str(path))
        db = Database(conn)
        db.execute("PRAGMA foreign_keys = ON")
        state = schema_state(db)
        if access == "read":
            if state == "outdated":
                raise StoreError(
                    f"{path}: its schema is older than this harvester's; run a command that"
                    " writes (such as 'harvester harvest') once to bring it up to date"
                )
        else:
            if not memory:
                db.execute("PRAGMA journal_mode = WAL")
            migrate(db)
        # SQLite's default page cache is 2 MB; a harvest merging into tens of thousands of
        # papers (and their full-text index) would read the same pages from disk again and
        # again. 48 MB at most, taken only as the database grows: at 50,000 papers 64 MB put
        # a harvest at the 300 MB budget (289-301 MB in three runs), 48 MB gives 261-279 MB
        # for up to a tenth more CPU time there (none measurable at 20,000), 32 MB a fifth.
        db.execute("PRAGMA cache_size = -49152")
    except (StoreError, sqlite3.DatabaseError, OSError) as exc:
        if conn is not None:
            conn.close()
        raise _open_error(path, exc) from None
    return db


def _open_error(path: Path | str, exc: Exception) -> StoreError:
    if isinstance(exc, StoreError):
        message = str(exc)
        return StoreError(message if message.startswith(f"{path}: ") else f"{path}: {message}")
    if isinstance(exc, sqlite3.DatabaseError):
        return StoreError(f"{path}: cannot use this database ({exc})")
    assert isinstance(exc, OSError)
    return StoreError(f"{path}: cannot create the database ({exc.strerror})")


def _connect(target: str, *, uri: bool = False) -> sqlite3.Connection:
    return sqlite3.connect(target, timeout=30, check_same_thread=False, uri=uri)


def _read_only(path: Path | str) -> sqlite3.Connection:
    """A connection that cannot write, even where the folder or filesystem is read-only.

    In WAL mode a reader needs the ``-shm`` file beside the database; where it cannot be
    created (a read-only folder or filesystem, which no harvest can write either), the file
    is opened as immutable: read without locks.
    """
    target = "file:" + quote(str(Path(path).resolve())) + "?mode=ro"
    conn = _connect(target, uri=True)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError as exc:
        if exc.sqlite_errorcode & 0xFF not in (_SQLITE_READONLY, _SQLITE_CANTOPEN):
            raise
        conn.close()
        conn = _connect(target + "&immutable=1", uri=True)
    return conn


def connect(path: str) -> Database:
    """Another connection to a database already open and up to date (a harvest's heartbeat
    writes on its own, beside the pages)."""
    return Database(_connect(path))


def close_db(db: Database) -> None:
    """Close the database, folding the write-ahead log into the file where nobody else reads.

    A scheduled job may copy or commit the ``.db`` file right after the command ends: the
    last connection to close checkpoints the log and removes it, so the file alone holds
    everything. A passive checkpoint first never waits for another process (a ``status``
    while a harvest runs must not hold the harvest up). A read-only connection can do
    neither: it leaves an empty log and the ``-shm`` file, which the next writer removes.
    """
    with contextlib.suppress(sqlite3.DatabaseError):
        db.execute("PRAGMA wal_checkpoint(PASSIVE)")
    db.conn.close()


@contextlib.contextmanager
def write_transaction(db: Database) -> Iterator[Database]:
    """One transaction that holds SQLite's write lock from its first statement; every
    writer uses it.

    In WAL mode a deferred ``BEGIN`` (``Database.atomic``, Python's implicit one) that
    reads first and writes later fails at its first write with "database is locked" as soon
    as another connection has committed in between, at once, whatever the busy timeout: one
    review decision during a harvest's page would end the harvest. ``BEGIN IMMEDIATE`` takes
    the write lock before the first read, so writers (a harvest's pages, its heartbeat,
    reviewers, imports) wait for each other under the busy timeout instead. Inside an open
    transaction it is a savepoint, so a failure undoes only its own part.
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    try:
        # Inside the ``try``: Ctrl-C or SIGTERM arriving while BEGIN runs is raised just
        # after it returns, and must roll back what it opened.
        db.conn.execute("BEGIN IMMEDIATE")
        yield db
        db.conn.execute("COMMIT")
    except BaseException:
        if db.conn.in_transaction:
            db.conn.rollback()
        raise


@contextlib.contextmanager
def fetched_pages(db: Database) -> Iterator[Database]:
    """This connection's commits stop waiting for the disk while a harvest writes pages.

    In WAL mode, ``synchronous = NORMAL`` still leaves the database whole after any crash,
    and a killed process (``kill -9`` included) loses nothing committed; only a power cut or
    an operating-system crash may roll back the last pages, with the resume points committed
    beside them, so the next run fetches them again. Waiting for the disk at every page cost
    a harvest of 20,000 papers seven seconds. Other connections (decisions) keep SQLite's
    full durability.
    """
    before = db.execute("PRAGMA synchronous").fetchone()[0]
    db.execute("PRAGMA synchronous = NORMAL")
    try:
        yield db
    finally:
        with contextlib.suppress(sqlite3.Error):
            db.execute(f"PRAGMA synchronous = {int(before)}")


def abandon_transaction(db: Database) -> None:
    """Roll back whatever transaction an interrupt left open on this connection.

    Ctrl-C and SIGTERM raise ``KeyboardInterrupt`` between any two bytecodes, also at the
    start of a context manager's exit, before its ``COMMIT`` runs. The transaction then
    stays open, and what a run writes next (its row closed as ``interrupted``, the lock
    released) would nest in it as savepoints and vanish when the connection closes. An
    interrupted page is discarded either way.
    """
    if db.conn.in_transaction:
        db.conn.rollback()
