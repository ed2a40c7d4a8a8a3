"""The ``runs`` table: one row per harvest, its counters written as it goes."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Sequence
from typing import Any

from sqlite_utils import Database

from harvester import clock
from harvester.store._sql import dicts
from harvester.store.database import write_transaction


def start_run(db: Database, options: dict[str, Any]) -> int:
    with write_transaction(db):
        cursor = db.execute(
            "INSERT INTO runs (started, status, pid, host, options) VALUES (?, 'running', ?, ?, ?)",
            [
                clock.now_iso(),
                os.getpid(),
                socket.gethostname(),
                json.dumps(options, sort_keys=True),
            ],
        )
    return int(cursor.lastrowid or 0)


def update_run(
    db: Database, run_id: int, *, requests: dict[str, int], errors: Sequence[str]
) -> None:
    """The run's requests and errors so far; called inside each page's transaction, so a run
    killed later still shows how far it got (the page's save counts the papers)."""
    db.execute(
        "UPDATE runs SET requests = ?, errors = ?, heartbeat = ? WHERE id = ?",
        [json.dumps(requests, sort_keys=True), json.dumps(list(errors)), clock.now_iso(), run_id],
    )


def finish_run(
    db: Database, run_id: int, *, status: str, requests: dict[str, int], errors: Sequence[str]
) -> None:
    """Close the run's row. Its paper counts are already there, committed with the papers."""
    with write_transaction(db):
        db.execute(
            "UPDATE runs SET ended = ?, status = ?, requests = ?, errors = ? WHERE id = ?",
            [
                clock.now_iso(),
                status,
                json.dumps(requests, sort_keys=True),
                json.dumps(list(errors)),
                run_id,
            ],
        )


def heartbeat(db: Database, run_id: int, now: str) -> None:
    db.execute("UPDATE runs SET heartbeat = ? WHERE id = ?", [now, run_id])


def close_running(db: Database) -> int:
    """Runs still marked ``running`` become ``interrupted`` (the lock holder knows none is);
    how many there were."""
    return int(
        db.execute(
            "UPDATE runs SET status = 'interrupted', ended = coalesce(heartbeat, started)"
            " WHERE status = 'running'"
        ).rowcount
    )


def last_runs(db: Database, limit: int = 5) -> list[dict[str, Any]]:
    """The latest runs, newest first, with JSON columns decoded and ``duration`` in seconds
    (up to the last heartbeat for a run still going or killed)."""
    rows = list(dicts(db, "SELECT * FROM runs ORDER BY id DESC LIMIT ?", [limit]))
    for row in rows:
        row["requests"] = json.loads(row["requests"] or "{}")
        row["errors"] = json.loads(row["errors"] or "[]")
        row["options"] = json.loads(row["options"] or "{}")
        row["duration"] = clock.seconds_between(row["started"], row["ended"] or row["heartbeat"])
    return rows


def has_completed_harvest(db: Database) -> bool:
    """Whether any harvest went through all its steps and left papers behind.

    That is a run that ended ``ok``, or ``failed`` (some steps failed, the others ran) having
    stored papers. A run that failed before storing anything (services down), was
    interrupted or is still going does not count: reports from it would publish a list
    without the papers the next run brings, the seed's own included.
    """
    row = db.execute(
        "SELECT 1 FROM runs WHERE status = 'ok' OR (status = 'failed'"
        " AND coalesce(papers_new, 0) + coalesce(papers_updated, 0) > 0) LIMIT 1"
    ).fetchone()
    return row is not None


def finished_runs(db: Database) -> list[dict[str, Any]]:
    """Harvests that ended (whatever their status), newest first: ``id``, ``started``,
    ``ended``."""
    return list(
        dicts(
            db,
            "SELECT id, started, ended FROM runs WHERE ended IS NOT NULL"
            " ORDER BY ended DESC, id DESC",
        )
    )


def last_ended(db: Database) -> str | None:
    """When the last run ended (the only time a report may show)."""
    row = db.execute("SELECT max(ended) FROM runs WHERE ended IS NOT NULL").fetchone()
    return row[0] if row and row[0] else None
