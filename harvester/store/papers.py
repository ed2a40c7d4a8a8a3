"""Papers and what hangs off them: identity lookups, authors, the sources' own records and
venue claims, query hits, category scores, citation history, the full-text index.

Table I/O only: what to write is decided by ``merge`` and ``derive`` (``harvester.ingest``
puts them together); these functions read rows for a page in a few queries and write a
page's rows in bulk.

The bulk writes say ``OR FAIL``, which lets SQLite skip the statement journal: without it,
every row of an ``executemany`` whose statement has a trigger (the citation-key-base triggers
on ``papers``) or several indexes to keep is a sub-transaction of its own that copies every
database page it changes before changing it (27 µs of a paper's insert, more than half of
it). A failing row statement then keeps what it wrote before the failure instead of undoing
it; these statements write one row each (and a trigger's delete), checked before it is
written, and run inside a write transaction that rolls back whole on any error (foreign
keys SQLite checks as before).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from operator import itemgetter
from typing import Any

from sqlite_utils import Database

from harvester import clock
from harvester.records import VenueClaim
from harvester.rows import SourceRow, StoredPage
from harvester.store._sql import chunks, dicts, in_list, rows_where

STATUSES = ("pending", "accepted", "rejected")


def load_page(
    db: Database,
    *,
    ids: Iterable[int] = (),
    arxiv_ids: Iterable[str | None] = (),
    dois: Iterable[str | None] = (),
    s2_ids: Iterable[str | None] = (),
    title_keys: Iterable[str | None] = (),
    sources: Iterable[tuple[str, str]] = (),
) -> StoredPage:
    """The rows any of these identify, their hits and claims, and the records' source rows:
    a few queries per 900 values, whatever the page's size."""
    page = StoredPage(columns=paper_columns(db), next_id=next_paper_id(db))
    # Ids first, rows once: most papers of a page match by several keys at once.
    found = {int(i) for i in ids if i is not None}
    for column, values in (
        ("arxiv_id", arxiv_ids),
        ("doi", dois),
        ("s2_id", s2_ids),
        ("title_key", title_keys),
    ):
        wanted = sorted({v for v in values if v is not None})
        for chunk in chunks(wanted):
            sql = "SELECT id FROM papers WHERE " + in_list(column, chunk)
            found.update(paper_id for (paper_id,) in db.execute(sql, chunk))
    page.rows = {row["id"]: row for row in rows_where(db, "papers", "id", found)}
    stored = sorted(page.rows)
    page.hits = query_hits(db, stored)
    page.claims = venue_claims(db, stored)
    keys = sorted(set(sources))
    for source in sorted({s for s, _ in keys}):
        wanted = [source_id for s, source_id in keys if s == source]
        for chunk in chunks(wanted):
            for source_id, paper_id, data in db.execute(
                "SELECT source_id, paper_id, data FROM paper_sources WHERE source = ? AND "
                + in_list("source_id", chunk),
                [source, *chunk],
            ):
                page.said[(source, source_id)] = (paper_id, data)
    return page


def paper_columns(db: Database) -> list[str]:
    return [d[0] for d in db.execute("SELECT * FROM papers LIMIT 0").description]


def next_paper_id(db: Database) -> int:
    """The id the next new paper gets (one writer at a time: inside its transaction)."""
    return int(db.execute("SELECT coalesce(max(id), 0) + 1 FROM papers").fetchone()[0])


def query_hits(db: Database, paper_ids: Sequence[int]) -> dict[int, set[tuple[str, str, str]]]:
    hits: dict[int, set[tuple[str, str, str]]] = {}
    for chunk in chunks(sorted(set(paper_ids))):
        for paper_id, source, category, query in db.execute(
            "SELECT paper_id, source, category, query FROM query_hits WHERE "
            + in_list("paper_id", chunk),
            chunk,
        ):
            hits.setdefault(paper_id, set()).add((source, category, query))
    return hits


def venue_claims(db: Database, paper_ids: Sequence[int]) -> dict[int, dict[str, VenueClaim]]:
    """Each paper's venue claims by source id, newest first."""
    claims: dict[int, dict[str, VenueClaim]] = {}
    for chunk in chunks(sorted(set(paper_ids))):
        for paper_id, source_id, names, dblp, year, kind in db.execute(
            "SELECT paper_id, source_id, venue_names, venue_dblp, venue_year, venue_kind"
            " FROM paper_sources WHERE venue_names IS NOT NULL AND "
            + in_list("paper_id", chunk)
            + " ORDER BY fetched_at DESC, source_id",
            chunk,
        ):
            claims.setdefault(paper_id, {})[source_id] = VenueClaim(_names(names), dblp, year, kind)
    return claims


def latest_claims(db: Database, paper_ids: Sequence[int]) -> dict[int, VenueClaim]:
    """Each paper's newest venue claim (what exports fall back on for venues the table
    lacks)."""
    return {
        paper_id: next(iter(claims.values()))
        for paper_id, claims in venue_claims(db, paper_ids).items()
        if claims
    }


def insert_papers(db: Database, columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> None:
    values = list(map(itemgetter(*columns), rows))
    if values:
        marks = ", ".join("?" * len(columns))
        sql = f"INSERT OR FAIL INTO papers ({', '.join(columns)}) VALUES ({marks})"
        db.conn.executemany(sql, values)


def update_papers(db: Database, changes: Mapping[int, Mapping[str, Any]]) -> None:
    """One UPDATE per paper, sent in batches of papers that change the same columns."""
    groups: dict[tuple[str, ...], list[list[Any]]] = {}
    for paper_id, values in changes.items():
        if values:
            groups.setdefault(tuple(values), []).append([*values.values(), paper_id])
    for columns, params in groups.items():
        assignments = ", ".join(f"{column} = ?" for column in columns)
        db.conn.executemany(f"UPDATE OR FAIL papers SET {assignments} WHERE id = ?", params)


def update_paper(db: Database, paper_id: int, changes: Mapping[str, Any]) -> None:
    update_papers(db, {paper_id: changes})


def replace_authors(db: Database, authors: Mapping[int, Sequence[str]]) -> None:
    """Replace the author lists of these papers, a few statements for the whole page."""
    if not authors:
        return
    for chunk in chunks(list(authors)):
        db.execute("DELETE FROM paper_authors WHERE " + in_list("paper_id", chunk), chunk)
    names = list(dict.fromkeys(n for names in authors.values() for n in names))
    db.conn.executemany("INSERT OR IGNORE INTO authors (name) VALUES (?)", [(n,) for n in names])
    ids: dict[str, int] = {}
    for chunk in chunks(names):
        ids.update(
            (name, author_id)
            for author_id, name in db.execute(
                "SELECT id, name FROM authors WHERE " + in_list("name", chunk), chunk
            )
        )
    db.conn.executemany(
        "INSERT OR FAIL INTO paper_authors (paper_id, position, author_id) VALUES (?, ?, ?)",
        [
            (paper_id, position, ids[name])
            for paper_id, names in authors.items()
            for position, name in enumerate(names)
        ],
    )


def upsert_sources(db: Database, rows: Sequence[SourceRow]) -> None:
    db.conn.executemany(
        "INSERT OR FAIL INTO paper_sources (paper_id, source, source_id, data, fetched_at,"
        " venue_names, venue_dblp, venue_year, venue_kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (source, source_id) DO UPDATE SET paper_id = excluded.paper_id,"
        " data = excluded.data, fetched_at = excluded.fetched_at,"
        " venue_names = excluded.venue_names, venue_dblp = excluded.venue_dblp,"
        " venue_year = excluded.venue_year, venue_kind = excluded.venue_kind",
        [
            (
                r.paper_id,
                r.source,
                r.source_id,
                r.data,
                r.fetched_at,
                None if r.claim is None else _names_text(r.claim.names),
                r.claim.dblp if r.claim else None,
                r.claim.year if r.claim else None,
                r.claim.kind if r.claim else None,
            )
            for r in rows
        ],
    )


# A corpus names a few hundred venues, each many times: their JSON is written and read once.
@lru_cache(maxsize=4096)
def _names_text(names: tuple[str, ...]) -> str:
    return json.dumps(list(names), ensure_ascii=False)


@lru_cache(maxsize=4096)
def _names(text: str) -> tuple[str, ...]:
    return tuple(json.loads(text))


_HIT_SQL = (
    "INSERT OR FAIL INTO hits (paper_id, source, category, query_id, first_run, last_run)"
    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (paper_id, source, category, query_id)"
    " DO UPDATE SET last_run = excluded.last_run"
)


def add_hits(db: Database, hits: Iterable[tuple[int, str, str, str]], run_id: int | None) -> None:
    """Query hits (paper, source, category, query): first and last run kept."""
    hits = list(hits)
    ids = query_ids(db, {query for *_, query in hits})
    db.conn.executemany(
        _HIT_SQL,
        [
            (paper_id, source, category, ids[query], run_id, run_id)
            for paper_id, source, category, query in hits
        ],
    )


def query_ids(db: Database, texts: Iterable[str]) -> dict[str, int]:
    """The id of each query text in ``queries``, given one if it has none yet (a page names a
    few dozen queries at most, each in thousands of hits)."""
    wanted = sorted(set(texts))
    db.conn.executemany("INSERT OR IGNORE INTO queries (text) VALUES (?)", [(t,) for t in wanted])
    ids: dict[str, int] = {}
    for chunk in chunks(wanted):
        ids.update(
            db.execute("SELECT text, id FROM queries WHERE " + in_list("text", chunk), chunk)
        )
    return ids


def has_hit(db: Database, paper_id: int, source: str, category: str, query: str) -> bool:
    return (
        db.execute(
            "SELECT 1 FROM query_hits WHERE paper_id = ? AND source = ? AND category = ?"
            " AND query = ?",
            [paper_id, source, category, query],
        ).fetchone()
        is not None
    )


def replace_categories(
    db: Database, paper_ids: Sequence[int], rows: Sequence[tuple[int, str, float, str]]
) -> None:
    """The per-category scores (paper, category, score, reasons JSON) of these papers."""
    for chunk in chunks(sorted(set(paper_ids))):
        db.execute("DELETE FROM paper_categories WHERE " + in_list("paper_id", chunk), chunk)
    db.conn.executemany(
        "INSERT OR FAIL INTO paper_categories (paper_id, category, score, reasons)"
        " VALUES (?, ?, ?, ?)",
        rows,
    )


def observe_citations(db: Database, counts: Sequence[tuple[int, int]], now: str) -> None:
    """A ``citation_history`` row when a paper's count is first seen or changes."""
    if not counts:
        return
    last: dict[int, int] = {}
    for chunk in chunks(sorted({paper_id for paper_id, _ in counts})):
        # SQLite takes the bare column from the row holding max(observed_at).
        for paper_id, count, _ in db.execute(
            "SELECT paper_id, citation_count, max(observed_at) FROM citation_history WHERE "
            + in_list("paper_id", chunk)
            + " GROUP BY paper_id",
            chunk,
        ):
            last[paper_id] = count
    rows = []
    for paper_id, count in counts:
        if last.get(paper_id) != count:
            rows.append((paper_id, now, count))
            last[paper_id] = count
    db.conn.executemany(
        "INSERT OR REPLACE INTO citation_history (paper_id, observed_at, citation_count)"
        " VALUES (?, ?, ?)",
        rows,
    )


def index_text(
    db: Database,
    added: Sequence[tuple[int, str, str | None]],
    removed: Sequence[tuple[int, str, str | None]] = (),
) -> None:
    """Keep the full-text index in step, a page at a time: ``removed`` are the (id, title,
    abstract) an index entry was made from (an external-content index needs them to delete
    it), ``added`` what it holds now."""
    if removed:
        db.conn.executemany(
            "INSERT INTO papers_fts (papers_fts, rowid, title, abstract)"
            " VALUES ('delete', ?, ?, ?)",
            removed,
        )
    if added:
        db.conn.executemany(
            "INSERT INTO papers_fts (rowid, title, abstract) VALUES (?, ?, ?)", added
        )


def add_run_counts(db: Database, run_id: int, *, new: int, updated: int) -> None:
    """The papers a page stored, counted in its own transaction."""
    db.execute(
        "UPDATE runs SET papers_new = coalesce(papers_new, 0) + ?,"
        " papers_updated = coalesce(papers_updated, 0) + ? WHERE id = ?",
        [new, updated, run_id],
    )


# --- refresh --------------------------------------------------------------------------------


def mark_refreshed(db: Database, paper_ids: Iterable[int], now: str | None = None) -> None:
    """Papers Semantic Scholar was asked about, known to it or not, are not asked again soon."""
    stamp = now or clock.now_iso()
    db.conn.executemany(
        "UPDATE OR FAIL papers SET s2_refreshed = ? WHERE id = ?", [(stamp, i) for i in paper_ids]
    )


_TO_REFRESH = (
    "SELECT id, arxiv_id, doi, s2_id FROM papers"
    " WHERE (s2_id IS NOT NULL OR arxiv_id IS NOT NULL OR doi IS NOT NULL)"
    " AND (? IS NULL OR s2_refreshed IS NULL OR s2_refreshed <= ?)"
)


def papers_to_refresh(
    db: Database, before: str | None = None, ids: Sequence[int] | None = None
) -> list[dict[str, Any]]:
    """Papers with an id Semantic Scholar's batch endpoint accepts, never refreshed or last
    refreshed at or before ``before`` (every one when None), oldest refresh first; only
    those among ``ids`` when given."""
    order = " ORDER BY s2_refreshed IS NOT NULL, s2_refreshed, id"
    if ids is None:
        return list(dicts(db, _TO_REFRESH + order, [before, before]))
    rows: list[dict[str, Any]] = []
    for chunk in chunks(sorted(set(ids))):
        sql = _TO_REFRESH + " AND " + in_list("id", chunk) + order
        rows += dicts(db, sql, [before, before, *chunk])
    return rows


def mark_described(db: Database, paper_ids: Sequence[int], now: str | None = None) -> list[int]:
    """Papers a search has just described count as refreshed now; returns those that do.

    A search answer carries the same citations, venue and ids as a refresh batch; asking
    again in the same run would spend a request per 500 papers on what is already known.
    Only the TL;DR is missing from it: a paper that has none and was never refreshed by a
    batch (a new one, mostly) does not count, so the run's batches bring its TL;DR now
    rather than after ``refresh_days``.
    """
    stamp = now or clock.now_iso()
    described: list[int] = []
    for chunk in chunks(sorted(set(paper_ids))):
        described += [
            paper_id
            for (paper_id,) in db.execute(
                "SELECT id FROM papers WHERE "
                + in_list("id", chunk)
                + " AND (tldr IS NOT NULL OR s2_refreshed IS NOT NULL)",
                chunk,
            )
        ]
    for chunk in chunks(described):
        db.execute(
            "UPDATE papers SET s2_refreshed = ? WHERE "
            + in_list("id", chunk)
            + " AND (s2_refreshed IS NULL OR s2_refreshed < ?)",
            [stamp, *chunk, stamp],
        )
    return described


def find_seed(
    db: Database, *, arxiv_id: str | None, doi: str | None, title_key: str | None
) -> int | None:
    """The stored paper of a seed, when the service that describes it already has.

    An arXiv seed needs an arXiv record, a seed given by DOI or title a Semantic Scholar one.
    """
    if arxiv_id:
        sql, value = "arxiv_id = ? AND arxiv_version IS NOT NULL", arxiv_id
    elif doi:
        sql, value = "doi = ? AND s2_id IS NOT NULL", doi.lower()
    else:
        sql, value = "title_key = ? AND s2_id IS NOT NULL", title_key or ""
    row = db.execute(f"SELECT id FROM papers WHERE {sql} ORDER BY id LIMIT 1", [value]).fetchone()
    return int(row[0]) if row else None


# --- reading --------------------------------------------------------------------------------


def get_paper(db: Database, paper_id: int) -> dict[str, Any] | None:
    return next(dicts(db, "SELECT * FROM papers WHERE id = ?", [paper_id]), None)


def papers_where(db: Database, column: str, value: Any) -> list[dict[str, Any]]:
    """Papers whose ``column`` (an id column or ``title_key``) equals ``value``, by id."""
    if column not in ("id", "arxiv_id", "doi", "s2_id", "title_key"):
        raise ValueError(column)
    return list(dicts(db, f"SELECT * FROM papers WHERE {column} = ? ORDER BY id", [value]))


def papers_by_id(db: Database, paper_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Rows of these papers, by id, a query per 900."""
    return {row["id"]: row for row in rows_where(db, "papers", "id", paper_ids)}


def papers_with(
    db: Database, status: str = "accepted", category: str | None = None
) -> list[dict[str, Any]]:
    """Papers of a status (or ``all``) and, when given, a category, in id order."""
    where, params = [], []
    if status != "all":
        where.append("status = ?")
        params.append(status)
    if category is not None:
        where.append("category = ?")
        params.append(category)
    sql = "SELECT * FROM papers" + (f" WHERE {' AND '.join(where)}" if where else "")
    return list(dicts(db, sql + " ORDER BY id", params))


def accepted_papers(db: Database) -> list[dict[str, Any]]:
    """Accepted papers, newest venue year first, then most cited, then title: a total order."""
    return list(
        dicts(
            db,
            "SELECT * FROM papers WHERE status = 'accepted'"
            " ORDER BY coalesce(venue_year, year, 0) DESC, coalesce(citation_count, 0) DESC,"
            " title_key, id",
        )
    )


def search(db: Database, match: str) -> list[int]:
    """Ids of the papers the full-text index matches (an FTS5 expression), best first."""
    return [
        int(row[0])
        for row in db.execute(
            "SELECT rowid FROM papers_fts WHERE papers_fts MATCH ? ORDER BY rank", [match]
        )
    ]


def explanations(
    db: Database, paper_ids: Sequence[int]
) -> tuple[dict[tuple[int, str], list[str]], dict[int, list[str]]]:
    """For these papers: the reasons of each category score, by (paper, category), and the
    queries that found each, as ``source query: text`` in a stable order."""
    reasons: dict[tuple[int, str], list[str]] = {}
    queries: dict[int, list[str]] = {}
    for chunk in chunks(list(paper_ids)):
        for paper_id, category, text in db.execute(
            "SELECT paper_id, category, reasons FROM paper_categories WHERE "
            + in_list("paper_id", chunk),
            chunk,
        ):
            reasons[(paper_id, category)] = json.loads(text)
        for paper_id, source, query, reason in db.execute(
            "SELECT DISTINCT paper_id, source, query, reason FROM query_hits WHERE "
            + in_list("paper_id", chunk)
            + " ORDER BY paper_id, source, query",
            chunk,
        ):
            # A channel that is not a query (recommendations) says in words why it found it.
            line = reason or f"{source} query: {query}"
            queries.setdefault(paper_id, []).append(line)
    return reasons, queries


def category_scores(db: Database) -> dict[int, dict[str, float]]:
    """Every paper's keyword score per category."""
    scores: dict[int, dict[str, float]] = {}
    for paper_id, category, score in db.execute(
        "SELECT paper_id, category, score FROM paper_categories"
    ):
        scores.setdefault(paper_id, {})[category] = score
    return scores


def decided_papers(db: Database) -> list[dict[str, Any]]:
    """Accepted and rejected papers, with what a ranker learns from."""
    return list(
        dicts(
            db,
            "SELECT id, title, abstract, tldr, score, category, status FROM papers"
            " WHERE status IN ('accepted', 'rejected')",
        )
    )


def texts(db: Database) -> list[dict[str, Any]]:
    """Every paper's title, abstract and TL;DR."""
    return list(dicts(db, "SELECT title, abstract, tldr FROM papers"))


def labels(db: Database) -> list[dict[str, Any]]:
    """Every paper's title key and what its shown category is made of (what an evaluation
    compares)."""
    return list(dicts(db, "SELECT id, title_key, category, status, manual_fields FROM papers"))


def queue_size(db: Database) -> int:
    """Papers waiting for a person's decision."""
    return int(db.execute("SELECT count(*) FROM papers WHERE status = 'pending'").fetchone()[0])


def counts_by_category(db: Database) -> dict[str, dict[str, int]]:
    """Papers per category and status; uncategorised papers count under ``""``."""
    out: dict[str, dict[str, int]] = {}
    for category, status, n in db.execute(
        "SELECT coalesce(category, '') AS category, status, count(*) AS n FROM papers"
        " GROUP BY 1, 2 ORDER BY 1, 2"
    ):
        out.setdefault(category, {s: 0 for s in STATUSES})[status] = n
    return out


def citation_key_inputs(db: Database) -> list[tuple[int, str | None, int | None, str]]:
    """Every paper's id, first author, year (the venue's, else the first) and title, in id
    order: what citation keys are made of, for all papers, so a key never depends on a
    filter."""
    return list(
        db.execute(
            "SELECT id, json_extract(authors, '$[0]'), coalesce(venue_year, year), title"
            " FROM papers ORDER BY id"
        )
    )


def first_seen_between(db: Database, start: str, end: str, status: str = "pending") -> list[int]:
    """Papers of a status first stored between two times (a run's new candidates)."""
    return [
        int(paper_id)
        for (paper_id,) in db.execute(
            "SELECT id FROM papers WHERE status = ? AND first_seen >= ? AND first_seen <= ?"
            " ORDER BY id",
            [status, start, end],
        )
    ]


def citation_rises(
    db: Database, paper_ids: Sequence[int], limit: int = 5
) -> list[tuple[int, int, int]]:
    """(paper id, previous count, latest count) for the largest rises between the last two
    observations of each paper's citations, from ``citation_history``."""
    rises = []
    for paper_id in paper_ids:
        rows = db.execute(
            "SELECT citation_count FROM citation_history WHERE paper_id = ?"
            " ORDER BY observed_at DESC LIMIT 2",
            [paper_id],
        ).fetchall()
        if len(rows) == 2 and rows[0][0] > rows[1][0]:
            rises.append((paper_id, rows[1][0], rows[0][0]))
    rises.sort(key=lambda r: (-(r[2] - r[1]), r[0]))
    return rises[:limit]


# --- what the ranking reads (harvester.screening) ------------------------------------------------

# The columns a paper's ranking features are made of (``ranking.paper_features``).
FEATURE_COLUMNS = (
    "id",
    "title",
    "abstract",
    "tldr",
    "venue",
    "s2_id",
    "primary_category",
    "arxiv_categories",
)
# What a queue row shows, without the abstract: the queue reads every pending paper.
QUEUE_COLUMNS = (
    "id",
    "title",
    "status",
    "category",
    "manual_fields",
    "score",
    "venue",
    "venue_year",
    "citation_count",
    "arxiv_id",
    "doi",
    "s2_id",
)


def ranking_state(db: Database) -> tuple[Any, ...]:
    """A cheap summary that changes whenever a paper's text, hits or links may have: the
    number of papers, hits and citation edges, the newest sighting and refresh. Equal
    summaries let a cached ranking stand without reading a single abstract."""
    # One query per aggregate: each max() then reads the end of its index, where one
    # SELECT of all four scans the table.
    papers = tuple(
        db.execute(sql).fetchone()[0]
        for sql in (
            "SELECT count(*) FROM papers",
            "SELECT coalesce(max(id), 0) FROM papers",
            "SELECT coalesce(max(last_seen), '') FROM papers",
            "SELECT coalesce(max(s2_refreshed), '') FROM papers",
        )
    )
    hits = db.execute("SELECT count(*) FROM hits").fetchone()[0]
    edges = db.execute("SELECT count(*) FROM citations").fetchone()[0]
    return (*papers, hits, edges)


def feature_rows(db: Database) -> list[dict[str, Any]]:
    """Every paper's columns the ranking's features are made of, in id order."""
    return list(dicts(db, f"SELECT {', '.join(FEATURE_COLUMNS)} FROM papers ORDER BY id"))


def all_hits(db: Database) -> dict[int, list[dict[str, Any]]]:
    """Every paper's query hits (category and source), by paper id."""
    out: dict[int, list[dict[str, Any]]] = {}
    for paper_id, source, category in db.execute(
        "SELECT paper_id, source, category FROM hits ORDER BY paper_id, source, category"
    ):
        out.setdefault(paper_id, []).append({"source": source, "category": category})
    return out


def decided(db: Database) -> list[tuple[int, str, str | None, bool]]:
    """(id, status, category, is seed) of every accepted or rejected paper, in id order."""
    return [
        (int(pid), str(status), category, bool(seed))
        for pid, status, category, seed in db.execute(
            "SELECT id, status, category, is_seed FROM papers"
            " WHERE status IN ('accepted', 'rejected') ORDER BY id"
        )
    ]


def ranking_rows(
    db: Database, status: str = "pending"
) -> list[tuple[int, str, str | None, str, float, int | None]]:
    """(id, status, category, manual fields, score, citations) of the papers of a status (or
    ``all``): what the queue sorts and filters every paper by."""
    sql = "SELECT id, status, category, manual_fields, score, citation_count FROM papers"
    if status == "all":
        return list(db.execute(sql))
    return list(db.execute(sql + " WHERE status = ?", [status]))


# A row of ``QUEUE_COLUMNS``, as a tuple in that order: the checklist reads 20,000 of them.
QueueRow = tuple[
    int, str, str, str | None, str, float, str | None, int | None, int | None, str | None,
    str | None, str | None,
]  # fmt: skip


def queue_rows_of(db: Database, paper_ids: Sequence[int]) -> dict[int, QueueRow]:
    """``QUEUE_COLUMNS`` of these papers, by id."""
    out: dict[int, QueueRow] = {}
    for chunk in chunks(list(paper_ids)):
        sql = f"SELECT {', '.join(QUEUE_COLUMNS)} FROM papers WHERE " + in_list("id", chunk)
        out |= {row[0]: row for row in db.execute(sql, chunk)}
    return out


def queue_rows(db: Database, status: str) -> dict[int, QueueRow]:
    """``QUEUE_COLUMNS`` of every paper of a status (or ``all``), by id, in one read: for a
    page that lists them all (the checklist)."""
    sql = f"SELECT {', '.join(QUEUE_COLUMNS)} FROM papers"
    rows = db.execute(sql) if status == "all" else db.execute(sql + " WHERE status = ?", [status])
    return {row[0]: row for row in rows}


def category_rows(db: Database) -> list[tuple[int, str, str | None, str]]:
    """(id, status, category, manual fields) of every paper: what ``status`` counts."""
    return list(db.execute("SELECT id, status, category, manual_fields FROM papers"))
