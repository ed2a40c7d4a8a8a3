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
            "UPDATE hits SET reason = ? WHERE category = ?"
            " AND query_id = (SELECT id FROM queries WHERE text = ?) AND "
            + in_list("paper_id", chunk),
            [reason, category, query, *chunk],
        )


# The channels that are not keyword queries: what they found is not a keyword match.
_CHANNELS = ("seed", "snowball", "recommendations")


def best_matches(db: Database, count: int, floor: float) -> dict[str, list[str]]:
    """Per category, the Semantic Scholar ids of its ``count`` best keyword matches: pending
    papers filed under it (the keyword rule's section, or the one a person set) that a
    keyword query found, whose score for it is at least ``floor``; highest score first, then
    the most cited, then by id. Papers only a channel brought (snowball, recommendations)
    are left out, so that an answer never feeds the next request: a run that finds nothing
    new asks with the same papers."""
    out: dict[str, list[str]] = {}
    if count <= 0:
        return out
    channels = ", ".join("?" for _ in _CHANNELS)
    for category, s2_id in db.execute(
        "SELECT category, s2_id FROM ("
        " SELECT p.category, p.s2_id, ROW_NUMBER() OVER (PARTITION BY p.category"
        "  ORDER BY c.score DESC, coalesce(p.citation_count, 0) DESC, p.id) AS rank"
        " FROM papers p JOIN paper_categories c"
        "  ON c.paper_id = p.id AND c.category = p.category"
        " WHERE p.status = 'pending' AND p.s2_id IS NOT NULL AND c.score >= ?"
        "  AND EXISTS (SELECT 1 FROM query_hits h WHERE h.paper_id = p.id"
        f"   AND h.query NOT IN ({channels}))"
        ") WHERE rank <= ? ORDER BY category, rank",
        [floor, *_CHANNELS, count],
    ):
        out.setdefault(category, []).append(s2_id)
    return out
