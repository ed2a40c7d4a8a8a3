"""The citation graph snowballing reads: ``citations`` edges and ``snowball_state``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlite_utils import Database

from harvester.store._sql import CHUNK, chunks, dicts


def add_edges(db: Database, edges: Iterable[tuple[str, str]]) -> None:
    """Edges (citing S2 id, cited S2 id); an edge already known is kept once."""
    db.conn.executemany(
        "INSERT OR IGNORE INTO citations (citing_id, cited_id) VALUES (?, ?)", list(edges)
    )


def record_read(
    db: Database, paper_id: int, direction: str, citation_count: int | None, at: str
) -> None:
    """What snowballing read of a paper, and its citation count then."""
    db.execute(
        "INSERT OR REPLACE INTO snowball_state (paper_id, direction, citation_count, read_at)"
        " VALUES (?, ?, ?, ?)",
        [paper_id, direction, citation_count, at],
    )


def read_before(db: Database, paper_id: int, direction: str) -> tuple[int | None] | None:
    """(citation count then) of the last read in this direction, or None if never read."""
    row = db.execute(
        "SELECT citation_count FROM snowball_state WHERE paper_id = ? AND direction = ?",
        [paper_id, direction],
    ).fetchone()
    return (row[0],) if row else None


def snowball_sources(db: Database) -> list[dict[str, Any]]:
    """Accepted papers with an S2 id, seed papers first, then the most cited."""
    return list(
        dicts(
            db,
            "SELECT * FROM papers WHERE status = 'accepted' AND s2_id IS NOT NULL"
            " ORDER BY is_seed DESC, coalesce(citation_count, 0) DESC, id",
        )
    )


def papers_by_s2_id(db: Database, s2_ids: Sequence[str]) -> dict[str, int]:
    """The stored paper of each of these Semantic Scholar ids that we have."""
    out: dict[str, int] = {}
    wanted = sorted(set(s2_ids))
    for chunk in chunks(wanted):
        marks = ",".join("?" * len(chunk))
        for s2_id, paper_id in db.execute(
            f"SELECT s2_id, id FROM papers WHERE s2_id IN ({marks})", chunk
        ):
            out[s2_id] = paper_id
    return out


def queued_by_snowball(db: Database) -> list[dict[str, Any]]:
    """Candidates snowballing queued (in this run or before), for the next level."""
    return list(
        dicts(
            db,
            "SELECT * FROM papers WHERE s2_id IS NOT NULL AND status != 'rejected' AND id IN"
            " (SELECT paper_id FROM query_hits WHERE query = 'snowball') ORDER BY id",
        )
    )


def linked_categories(db: Database, s2_ids: Sequence[str]) -> dict[str, dict[str, int]]:
    """For each S2 id, accepted papers per category that it cites or is cited by.

    By Semantic Scholar id (what the graph holds), so papers not yet written can be asked
    about too.
    """
    links: dict[str, dict[str, int]] = {}
    wanted = sorted(set(s2_ids))
    if not wanted or db.execute("SELECT 1 FROM citations LIMIT 1").fetchone() is None:
        return links
    for chunk in chunks(wanted, CHUNK // 2):
        marks = ",".join("?" * len(chunk))
        rows = db.execute(
            "SELECT x.me, p.category, count(DISTINCT p.id) FROM ("
            " SELECT citing_id AS me, cited_id AS other FROM citations"
            f" WHERE citing_id IN ({marks})"
            f" UNION SELECT cited_id, citing_id FROM citations WHERE cited_id IN ({marks})"
            ") x JOIN papers p ON p.s2_id = x.other"
            " WHERE p.status = 'accepted' AND p.s2_id != x.me AND p.category IS NOT NULL"
            " GROUP BY x.me, p.category",
            [*chunk, *chunk],
        )
        for s2_id, category, n in rows:
            links.setdefault(s2_id, {})[category] = n
    return links


def citation_links(db: Database, paper: dict[str, Any]) -> list[dict[str, Any]]:
    """Accepted papers this one cites or is cited by, from the snowballing graph."""
    if not paper.get("s2_id"):
        return []
    rows = db.execute(
        "SELECT p.id, p.title, p.category, c.direction FROM papers p JOIN ("
        " SELECT cited_id AS other, 'cites' AS direction FROM citations WHERE citing_id = :id"
        " UNION SELECT citing_id, 'cited by' FROM citations WHERE cited_id = :id"
        ") c ON p.s2_id = c.other WHERE p.status = 'accepted' AND p.id != :pid"
        " ORDER BY c.direction, p.id",
        {"id": paper["s2_id"], "pid": paper["id"]},
    ).fetchall()
    return [{"id": i, "title": t, "category": c, "direction": d} for i, t, c, d in rows]


def all_edges(db: Database) -> list[tuple[str, str]]:
    """Every citation edge (citing S2 id, cited S2 id)."""
    return [(str(a), str(b)) for a, b in db.execute("SELECT citing_id, cited_id FROM citations")]


def neighbours(db: Database, s2_id: str) -> tuple[list[str], list[str]]:
    """The S2 ids a paper cites, and of those citing it."""
    cites = [
        str(r[0]) for r in db.execute("SELECT cited_id FROM citations WHERE citing_id = ?", [s2_id])
    ]
    cited_by = [
        str(r[0]) for r in db.execute("SELECT citing_id FROM citations WHERE cited_id = ?", [s2_id])
    ]
    return cites, cited_by


def references_due(db: Database, min_score: float) -> list[tuple[int, str, int | None]]:
    """(paper id, S2 id, citation count) of the papers whose references were never read (by
    snowballing or a harvest), with an S2 id, not rejected and scoring at least
    ``min_score``, in the order they were stored; tuples, not dicts: a first harvest holds
    tens of thousands of them.

    The ``snowball_state`` row of direction ``references`` is the watermark: a paper is asked
    once, so a run that stored nothing new has nothing to ask.
    """
    return [
        (int(paper_id), str(s2_id), count)
        for paper_id, s2_id, count in db.execute(
            "SELECT p.id, p.s2_id, p.citation_count FROM papers p"
            " WHERE p.s2_id IS NOT NULL AND p.status != 'rejected'"
            " AND coalesce(p.score, 0) >= ? AND NOT EXISTS (SELECT 1 FROM snowball_state s"
            " WHERE s.paper_id = p.id AND s.direction = 'references') ORDER BY p.id",
            [min_score],
        )
    ]


def record_reads(
    db: Database, papers: Iterable[tuple[int, int | None]], direction: str, at: str
) -> None:
    """``record_read`` for many (paper id, citation count then) pairs."""
    db.conn.executemany(
        "INSERT OR REPLACE INTO snowball_state (paper_id, direction, citation_count, read_at)"
        " VALUES (?, ?, ?, ?)",
        [(paper_id, direction, count, at) for paper_id, count in papers],
    )


def stored_s2_ids(db: Database) -> tuple[dict[str, int], set[str]]:
    """Every stored paper's id by its Semantic Scholar id, and the S2 ids of the accepted
    ones: read once, a harvest's references are checked against them by the thousand."""
    ids: dict[str, int] = {}
    accepted: set[str] = set()
    for s2_id, paper_id, status in db.execute(
        "SELECT s2_id, id, status FROM papers WHERE s2_id IS NOT NULL"
    ):
        ids[s2_id] = paper_id
        if status == "accepted":
            accepted.add(s2_id)
    return ids, accepted
