"""The ``harvest_lock`` row: at most one, the harvest that holds this database."""

from __future__ import annotations

from sqlite_utils import Database

# (run_id, pid, host, acquired, heartbeat)
Row = tuple[int | None, int, str, str, str]


def holder(db: Database) -> Row | None:
    row = db.execute(
        "SELECT run_id, pid, host, acquired, heartbeat FROM harvest_lock WHERE id = 1"
    ).fetchone()
    return (row[0], row[1], row[2], row[3], row[4]) if row else None


def take(db: Database, pid: int, host: str, acquired: str, heartbeat: str) -> None:
    db.execute(
        "INSERT OR REPLACE INTO harvest_lock (id, run_id, pid, host, acquired, heartbeat)"
        " VALUES (1, NULL, ?, ?, ?, ?)",
        [pid, host, acquired, heartbeat],
    )


def name_run(db: Database, run_id: int, pid: int, acquired: str) -> None:
    db.execute(
        "UPDATE harvest_lock SET run_id = ? WHERE id = 1 AND pid = ? AND acquired = ?",
        [run_id, pid, acquired],
    )


def beat(db: Database, pid: int, acquired: str, now: str) -> bool:
    """Record a sign of life; False if the row is no longer this holder's."""
    return bool(
        db.execute(
            "UPDATE harvest_lock SET heartbeat = ? WHERE id = 1 AND pid = ? AND acquired = ?",
            [now, pid, acquired],
        ).rowcount
    )


def release(db: Database, pid: int, acquired: str) -> None:
    db.execute(
        "DELETE FROM harvest_lock WHERE id = 1 AND pid = ? AND acquired = ?", [pid, acquired]
    )


def database_file(db: Database) -> str:
    """The database file, or "" for an in-memory database (which no other process can see)."""
    for row in db.execute("PRAGMA database_list").fetchall():
        if row[1] == "main":
            return str(row[2] or "")
    return ""
