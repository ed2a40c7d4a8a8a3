"""The ``watermarks`` table: per source, category and query, how far reads have got."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from harvester import clock
from harvester.store._sql import dicts

# (newest, resume_offset, resume_token, resume_newest)
State = tuple[str | None, int | None, str | None, str | None]


def read(db: Database, source: str, category: str, query: str) -> State | None:
    row = db.execute(
        "SELECT newest, resume_offset, resume_token, resume_newest FROM watermarks"
        " WHERE source = ? AND category = ? AND query = ?",
        [source, category, query],
    ).fetchone()
    return (row[0], row[1], row[2], row[3]) if row else None


def write(db: Database, source: str, category: str, query: str, state: State, run_id: int) -> None:
    db.execute(
        "INSERT INTO watermarks (source, category, query, newest, resume_offset, resume_token,"
        " resume_newest, run_id, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (source, category, query) DO UPDATE SET newest = excluded.newest,"
        " resume_offset = excluded.resume_offset, resume_token = excluded.resume_token,"
        " resume_newest = excluded.resume_newest, run_id = excluded.run_id,"
        " updated_at = excluded.updated_at",
        [source, category, query, *state, run_id, clock.now_iso()],
    )


def delete(db: Database, source: str, category: str, query: str) -> None:
    db.execute(
        "DELETE FROM watermarks WHERE source = ? AND category = ? AND query = ?",
        [source, category, query],
    )


def all_rows(db: Database) -> list[dict[str, Any]]:
    return list(dicts(db, "SELECT * FROM watermarks ORDER BY source, category, query"))
