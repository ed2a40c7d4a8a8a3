"""What the recommendations channel reads and keeps: decided papers by category, the last
request answered per category (``recommendation_reads``), and the reason on its hits."""

from __future__ import annotations

from collections.abc import Sequence

from sqlite_utils import Database

from harvester.store._sql import chunks, in_list


def decided_by_category(db: Database) -> dict[str, tuple[list[str], list[str]]]:
    """(accepted, rejected) Semantic Scholar ids per category: seed papers first, then the
    most cited, then by id. Papers S2 does not know cannot be sent."""
    out: dict[str, tuple[list[str], list[str]]] = {}
    for category, status, s2_id in db.execute(
        "SELECT category, status, s2_id FROM papers"
        " WHERE status IN ('accepted', 'rejected') AND s2_id IS NOT NULL"
        " AND category IS NOT NULL"
        " ORDER BY is_seed DESC, coalesce(citation_count, 0) DESC, id"
    ):
        accepted, rejected = out.setdefault(category, ([], []))
        (accepted if status == "accepted" else rejected).append(s2_id)
    return out


def last_digests(db: Database) -> dict[str, str]:
    """The digest of the last request answered, per category."""
    return dict(db.execute("SELECT category, digest FROM recommendation_reads").fetchall())


def record_read(
    db: Database,
    category: str,
    digest: str,
    *,
    positives: int,
    negatives: int,
    recommended: int,
    run_id: int | None,
    at: str,
) -> None:
    """A category's request was answered: the next run asks again only for another one."""
    db.execute(
        "INSERT OR REPLACE INTO recommendation_reads (category, digest, positives, negatives,"
        " recommended, run_id, read_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [category, digest, positives, negatives, recommended, run_id, at],
    )


def set_reason(
    db: Database, paper_ids: Sequence[int], category: str, query: str, reason: str
) -> None:
    """Why these papers' hits of ``query`` in ``category`` exist, in words."""
    for chunk in chunks(sorted(set(paper_ids))):
        db.execute(
            "UPDATE query_hits SET reason = ? WHERE category = ? AND query = ? AND "
            + in_list("paper_id", chunk),
            [reason, category, query, *chunk],
        )
