"""The SQLite store: schema migrations, merging records into one row per paper, run log.

Savers here never touch the network (fetchers never touch the database). Every page a source
returns is written in one transaction together with its query hits and the categories it
changes, so a run killed at any point leaves whole pages or nothing.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from harvester.classify import best_category, score_paper
from harvester.errors import StoreError
from harvester.migrations import MIGRATIONS, check_schema
from harvester.records import PaperRecord, normalise_title
from harvester.seeds import Seeds

STATUSES = ("pending", "accepted", "rejected")


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def open_db(path: Path | str) -> Database:
    """Open (creating if needed) the database and bring its schema up to date.

    ``":memory:"`` gives a throwaway database for tests.
    """
    memory = str(path) == ":memory:"
    try:
        if not memory:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), timeout=30, check_same_thread=False)
        db = Database(conn)
        db.execute("PRAGMA foreign_keys = ON")
        if not memory:
            db.execute("PRAGMA journal_mode = WAL")
        check_schema(db)
        MIGRATIONS.apply(db)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: cannot use this database ({exc})") from None
    except OSError as exc:
        raise StoreError(f"{path}: cannot create the database ({exc.strerror})") from None
    return db


# --- runs -------------------------------------------------------------------------------


def start_run(db: Database, options: dict[str, Any]) -> int:
    with db.atomic():
        cursor = db.execute(
            "INSERT INTO runs (started, status, pid, host, options) VALUES (?, 'running', ?, ?, ?)",
            [now_iso(), os.getpid(), socket.gethostname(), json.dumps(options, sort_keys=True)],
        )
    return int(cursor.lastrowid or 0)


def finish_run(
    db: Database,
    run_id: int,
    *,
    status: str,
    requests: dict[str, int],
    papers_new: int,
    papers_updated: int,
    errors: Sequence[str],
) -> None:
    with db.atomic():
        db.execute(
            "UPDATE runs SET ended = ?, status = ?, requests = ?, papers_new = ?,"
            " papers_updated = ?, errors = ? WHERE id = ?",
            [
                now_iso(),
                status,
                json.dumps(requests, sort_keys=True),
                papers_new,
                papers_updated,
                json.dumps(list(errors)),
                run_id,
            ],
        )


# --- papers -----------------------------------------------------------------------------


@dataclass
class SaveResult:
    """What saving a batch did, for the run's counters."""

    new: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    seen: list[int] = field(default_factory=list)

    def extend(self, other: SaveResult) -> None:
        self.new += other.new
        self.updated += other.updated
        self.seen += other.seen


def _find_paper(db: Database, record: PaperRecord) -> dict[str, Any] | None:
    """The row this record describes: by arXiv id, DOI, S2 id, then title and year."""
    for column, value in (
        ("arxiv_id", record.arxiv_id),
        ("doi", record.doi.lower() if record.doi else None),
        ("s2_id", record.s2_id),
    ):
        if value:
            rows = list(db.query(f"SELECT * FROM papers WHERE {column} = ?", [value]))
            if rows:
                return rows[0]
    key = normalise_title(record.title)
    if not key:
        return None
    for row in db.query("SELECT * FROM papers WHERE title_key = ? ORDER BY id", [key]):
        # A preprint and its published version may be a year or so apart; further is
        # another paper that happens to share a title.
        if record.year is None or row["year"] is None or abs(row["year"] - record.year) <= 1:
            # Two different arXiv ids are two papers, whatever their titles.
            if record.arxiv_id and row["arxiv_id"] and row["arxiv_id"] != record.arxiv_id:
                continue
            return row
    return None


def _arxiv_values(record: PaperRecord) -> dict[str, Any]:
    return {
        "title": record.title,
        "abstract": record.abstract,
        "arxiv_version": record.arxiv_version,
        "published": record.published,
        "updated": record.updated,
        "primary_category": record.primary_category,
        "arxiv_categories": json.dumps(record.categories),
        "comment": record.comment,
        "journal_ref": record.journal_ref,
    }


def _save_authors(db: Database, paper_id: int, names: list[str]) -> None:
    db.execute("DELETE FROM paper_authors WHERE paper_id = ?", [paper_id])
    for position, name in enumerate(names):
        db.execute("INSERT OR IGNORE INTO authors (name) VALUES (?)", [name])
        db.execute(
            "INSERT INTO paper_authors (paper_id, position, author_id)"
            " SELECT ?, ?, id FROM authors WHERE name = ?",
            [paper_id, position, name],
        )


def _upsert_arxiv(db: Database, record: PaperRecord, now: str) -> tuple[int, bool, bool]:
    """Insert or merge one arXiv record. Returns (paper id, is new, changed)."""
    existing = _find_paper(db, record)
    values = _arxiv_values(record)
    authors = json.dumps(record.authors, ensure_ascii=False)
    if existing is None:
        row = values | {
            "title_key": normalise_title(record.title),
            "authors": authors,
            "arxiv_id": record.arxiv_id,
            "doi": record.doi.lower() if record.doi else None,
            "year": record.year,
            # Unpublished until a venue says otherwise (Semantic Scholar, next step).
            "venue": "arXiv",
            "venue_year": record.year,
            "status": "pending",
            "milestone": 0,
            "first_seen": now,
            "last_seen": now,
        }
        paper_id = int(db.table("papers").insert(row).last_pk)
        _save_authors(db, paper_id, record.authors)
        return paper_id, True, True

    paper_id = int(existing["id"])
    changes: dict[str, Any] = {}
    stored_version = existing["arxiv_version"] or 0
    if (record.arxiv_version or 0) >= stored_version:
        changes.update({k: v for k, v in values.items() if existing[k] != v})
        if existing["authors"] != authors:
            changes["authors"] = authors
    if "title" in changes:
        changes["title_key"] = normalise_title(record.title)
    if existing["arxiv_id"] is None and record.arxiv_id:
        changes["arxiv_id"] = record.arxiv_id
    if record.doi and existing["doi"] is None:
        changes["doi"] = record.doi.lower()
    # ``year`` is when the paper first appeared: a preprint can only move it earlier.
    if record.year and (existing["year"] is None or record.year < existing["year"]):
        changes["year"] = record.year
    if existing["venue"] is None:
        changes.update({"venue": "arXiv", "venue_year": record.year})
    db.table("papers").update(paper_id, changes | {"last_seen": now})
    if "authors" in changes:
        _save_authors(db, paper_id, record.authors)
    return paper_id, False, bool(changes)


def _record_hit(
    db: Database, paper_id: int, source: str, category: str, query: str, run_id: int
) -> None:
    db.execute(
        "INSERT INTO query_hits (paper_id, source, category, query, first_run, last_run)"
        " VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (paper_id, source, category, query)"
        " DO UPDATE SET last_run = excluded.last_run",
        [paper_id, source, category, query, run_id, run_id],
    )


def classify_paper(db: Database, seeds: Seeds, paper_id: int) -> None:
    """Recompute a paper's per-category scores and, unless a person fixed it, its category."""
    paper = db.table("papers").get(paper_id)
    hits = {
        row["category"]: row["n"]
        for row in db.query(
            "SELECT category, count(*) AS n FROM query_hits WHERE paper_id = ? GROUP BY category",
            [paper_id],
        )
    }
    scores = score_paper(seeds, paper["title"], paper["abstract"], hits)
    db.execute("DELETE FROM paper_categories WHERE paper_id = ?", [paper_id])
    for result in scores.values():
        db.execute(
            "INSERT INTO paper_categories (paper_id, category, score, reasons) VALUES (?, ?, ?, ?)",
            [
                paper_id,
                result.category,
                result.score,
                json.dumps(result.reasons, ensure_ascii=False),
            ],
        )
    best = best_category(scores, list(seeds.categories))
    changes: dict[str, Any] = {"score": best.score if best else 0.0}
    if not paper["category_locked"]:
        changes["category"] = best.category if best else None
    if paper["category_locked"] and paper["category"] in scores:
        changes["score"] = scores[paper["category"]].score
    db.table("papers").update(paper_id, changes)


def save_records(
    db: Database,
    seeds: Seeds,
    records: Iterable[PaperRecord],
    *,
    run_id: int,
    category: str,
    query: str,
    source: str = "arxiv",
) -> SaveResult:
    """Merge one page of records and the query that found them, in one transaction."""
    now = now_iso()
    result = SaveResult()
    with db.atomic():
        for record in records:
            paper_id, is_new, changed = _upsert_arxiv(db, record, now)
            _record_hit(db, paper_id, source, category, query, run_id)
            classify_paper(db, seeds, paper_id)
            result.seen.append(paper_id)
            if is_new:
                result.new.append(paper_id)
            elif changed:
                result.updated.append(paper_id)
    return result


def mark_seed(
    db: Database, paper_id: int, category: str, focus: str | None, notes: str | None
) -> None:
    """Seed papers are the curator's own: accepted, in their seed category, with their focus.

    A decision already recorded (a rejection, a different category set by hand) stands.
    """
    paper = db.table("papers").get(paper_id)
    changes: dict[str, Any] = {"is_seed": 1}
    if paper["status"] == "pending":
        changes["status"] = "accepted"
    if not paper["category_locked"]:
        changes.update({"category": category, "category_locked": 1})
    if focus and not paper["focus"]:
        changes["focus"] = focus
    if notes and not paper["notes"]:
        changes["notes"] = notes
    db.table("papers").update(paper_id, changes)


# --- reading ----------------------------------------------------------------------------


def last_runs(db: Database, limit: int = 5) -> list[dict[str, Any]]:
    rows = list(db.query("SELECT * FROM runs ORDER BY id DESC LIMIT ?", [limit]))
    for row in rows:
        row["requests"] = json.loads(row["requests"] or "{}")
        row["errors"] = json.loads(row["errors"] or "[]")
        row["options"] = json.loads(row["options"] or "{}")
    return rows


def counts_by_category(db: Database) -> dict[str, dict[str, int]]:
    """Papers per category and status; uncategorised papers count under ``""``."""
    out: dict[str, dict[str, int]] = {}
    for row in db.query(
        "SELECT coalesce(category, '') AS category, status, count(*) AS n FROM papers"
        " GROUP BY 1, 2 ORDER BY 1, 2"
    ):
        out.setdefault(row["category"], {s: 0 for s in STATUSES})[row["status"]] = row["n"]
    return out
