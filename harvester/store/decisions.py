"""The ``decisions`` table: every human decision, field by field, never overwritten."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from harvester.store._sql import dicts


@dataclass(frozen=True)
class Decision:
    """One field a person changed (or an undo put back), with who, when and why."""

    action: int
    paper_id: int
    who: str
    at: str
    kind: str
    field: str
    old: str | None
    new: str | None
    reason: str | None = None


def record(db: Database, decisions: Sequence[Decision]) -> None:
    """Write decision rows: the one place the table is written to (besides ``mark_undone``)."""
    db.conn.executemany(
        "INSERT INTO decisions (action, paper_id, who, at, kind, field, old, new, reason)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (d.action, d.paper_id, d.who, d.at, d.kind, d.field, d.old, d.new, d.reason)
            for d in decisions
        ],
    )


def next_action(db: Database) -> int:
    return int(db.execute("SELECT coalesce(max(action), 0) + 1 FROM decisions").fetchone()[0])


def paper_version(db: Database, paper_id: int) -> int:
    row = db.execute("SELECT max(id) FROM decisions WHERE paper_id = ?", [paper_id]).fetchone()
    return int(row[0] or 0)


def last_decision(db: Database) -> int:
    row = db.execute("SELECT max(id) FROM decisions").fetchone()
    return int(row[0] or 0)


def who_kind_at(db: Database, decision_id: int) -> tuple[str, str, str] | None:
    """Who made a decision row, of what kind, when."""
    row = db.execute("SELECT who, kind, at FROM decisions WHERE id = ?", [decision_id]).fetchone()
    return (row[0], row[1], row[2]) if row else None


def versions(db: Database) -> dict[int, int]:
    """Every decided paper's version (its last decision's id), in one query."""
    return {
        int(pid): int(last)
        for pid, last in db.execute("SELECT paper_id, max(id) FROM decisions GROUP BY paper_id")
    }


def last_undoable(db: Database, by: str | None = None) -> int | None:
    """The last action not undone and not itself an undo (by one reviewer, when given)."""
    sql = "SELECT max(action) FROM decisions WHERE undone = 0 AND kind != 'undo'"
    row = db.execute(
        sql + (" AND who = ?" if by is not None else ""), [by] if by is not None else []
    ).fetchone()
    return None if row[0] is None else int(row[0])


def action_rows(db: Database, action: int) -> list[dict[str, Any]]:
    return list(dicts(db, "SELECT * FROM decisions WHERE action = ? ORDER BY id", [action]))


def later_decision(db: Database, action: int) -> tuple[str, str, int] | None:
    """The newest decision (who, kind, paper) after ``action`` on one of its papers, still in
    force: what undoing ``action`` would overwrite."""
    row = db.execute(
        "SELECT who, kind, paper_id FROM decisions WHERE action > ? AND undone = 0"
        " AND kind != 'undo' AND paper_id IN (SELECT paper_id FROM decisions WHERE action = ?)"
        " ORDER BY id DESC LIMIT 1",
        [action, action],
    ).fetchone()
    return (row[0], row[1], int(row[2])) if row else None


def mark_undone(db: Database, action: int) -> None:
    db.execute("UPDATE decisions SET undone = 1 WHERE action = ?", [action])


def actions_on(db: Database, day: str) -> int:
    """Decisions (commands, not fields) made on a day (``YYYY-MM-DD``)."""
    return int(
        db.execute(
            "SELECT count(DISTINCT action) FROM decisions WHERE substr(at, 1, 10) = ?", [day]
        ).fetchone()[0]
    )


def history(db: Database, paper_id: int, limit: int) -> list[dict[str, Any]]:
    """A paper's last actions, newest first: who did what when, one entry per action."""
    rows = db.execute(
        "SELECT action, kind, who, at, max(undone), group_concat(field, ', ') FROM decisions"
        " WHERE paper_id = ? AND field != 'manual_fields' GROUP BY action"
        " ORDER BY action DESC LIMIT ?",
        [paper_id, limit],
    ).fetchall()
    return [
        {"action": a, "kind": k, "who": w, "at": at, "undone": bool(u), "fields": f or ""}
        for a, k, w, at, u, f in rows
    ]


def accepted_times(db: Database) -> dict[int, str]:
    """When each accepted paper was accepted: its last accepting decision still in force,
    else (seed papers, accepted by the harvest itself) when it was first stored."""
    times = {
        paper_id: at
        for paper_id, at in db.execute(
            "SELECT d.paper_id, max(d.at) FROM decisions d JOIN papers p ON p.id = d.paper_id"
            " WHERE p.status = 'accepted' AND d.field = 'status' AND d.new = 'accepted'"
            " AND d.undone = 0 AND d.kind != 'undo' GROUP BY d.paper_id"
        )
    }
    for paper_id, first_seen in db.execute(
        "SELECT id, first_seen FROM papers WHERE status = 'accepted'"
    ):
        times.setdefault(paper_id, first_seen)
    return times
