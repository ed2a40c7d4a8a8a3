"""The schema as versioned migrations: applied on open, never "delete the database".

Each migration runs in its own transaction (sqlite-utils ``Migrations``). Add a new function
for every change; never edit one that has shipped.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from harvester.errors import StoreError
from harvester.records import normalise_title

MIGRATIONS = Migrations("harvester")

_SCHEMA_1 = [
    """
    CREATE TABLE papers (
        id INTEGER PRIMARY KEY,
        title TEXT NOT NULL,
        title_key TEXT NOT NULL,
        abstract TEXT,
        authors TEXT NOT NULL DEFAULT '[]',
        year INTEGER,
        venue TEXT,
        venue_year INTEGER,
        arxiv_id TEXT UNIQUE,
        arxiv_version INTEGER,
        doi TEXT UNIQUE,
        s2_id TEXT UNIQUE,
        published TEXT,
        updated TEXT,
        primary_category TEXT,
        arxiv_categories TEXT,
        comment TEXT,
        journal_ref TEXT,
        citation_count INTEGER,
        influential_citation_count INTEGER,
        publication_date TEXT,
        tldr TEXT,
        s2_refreshed TEXT,
        category TEXT,
        score REAL NOT NULL DEFAULT 0,
        status TEXT NOT NULL DEFAULT 'pending'
            CHECK (status IN ('pending', 'accepted', 'rejected')),
        milestone INTEGER NOT NULL DEFAULT 0 CHECK (milestone IN (0, 1)),
        award TEXT,
        focus TEXT,
        notes TEXT,
        is_seed INTEGER NOT NULL DEFAULT 0,
        -- JSON list of the fields a person set; no harvest or enrichment overwrites them.
        manual_fields TEXT NOT NULL DEFAULT '[]',
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL
    )
    """,
    "CREATE INDEX papers_title_key ON papers (title_key)",
    "CREATE INDEX papers_status_score ON papers (status, score DESC)",
    "CREATE INDEX papers_category ON papers (category)",
    """
    CREATE TABLE authors (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE
    )
    """,
    """
    CREATE TABLE paper_authors (
        paper_id INTEGER NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        author_id INTEGER NOT NULL REFERENCES authors (id),
        PRIMARY KEY (paper_id, position)
    )
    """,
    "CREATE INDEX paper_authors_author ON paper_authors (author_id)",
    """
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        started TEXT NOT NULL,
        ended TEXT,
        status TEXT NOT NULL,
        pid INTEGER,
        host TEXT,
        options TEXT,
        requests TEXT,
        papers_new INTEGER,
        papers_updated INTEGER,
        errors TEXT,
        heartbeat TEXT
    )
    """,
    # Incremental harvests: per source and query, the newest submission or publication date
    # a completed read has seen, and how far an unfinished read got.
    """
    CREATE TABLE watermarks (
        source TEXT NOT NULL,
        category TEXT NOT NULL,
        query TEXT NOT NULL,
        newest TEXT,
        resume_offset INTEGER,
        resume_token TEXT,
        resume_newest TEXT,
        run_id INTEGER REFERENCES runs (id),
        updated_at TEXT NOT NULL,
        PRIMARY KEY (source, category, query)
    )
    """,
    # At most one harvest per database: the holder's run, process and last sign of life.
    """
    CREATE TABLE harvest_lock (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        run_id INTEGER,
        pid INTEGER NOT NULL,
        host TEXT NOT NULL,
        acquired TEXT NOT NULL,
        heartbeat TEXT NOT NULL
    )
    """,
    # Every human decision, field by field; ``action`` groups the rows of one command so
    # ``undo`` can revert it whole.
    """
    CREATE TABLE decisions (
        id INTEGER PRIMARY KEY,
        action INTEGER NOT NULL,
        paper_id INTEGER NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
        who TEXT NOT NULL,
        at TEXT NOT NULL,
        kind TEXT NOT NULL,
        field TEXT NOT NULL,
        old TEXT,
        new TEXT,
        reason TEXT,
        undone INTEGER NOT NULL DEFAULT 0
    )
    """,
    "CREATE INDEX decisions_action ON decisions (action)",
    # The citation graph snowballing reads, by Semantic Scholar id (either end may be a paper
    # the database does not hold).
    """
    CREATE TABLE citations (
        citing_id TEXT NOT NULL,
        cited_id TEXT NOT NULL,
        PRIMARY KEY (citing_id, cited_id)
    )
    """,
    "CREATE INDEX citations_cited ON citations (cited_id)",
    # What snowballing last read per paper and direction, so it reads again only on growth.
    """
    CREATE TABLE snowball_state (
        paper_id INTEGER NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
        direction TEXT NOT NULL CHECK (direction IN ('citations', 'references')),
        citation_count INTEGER,
        read_at TEXT NOT NULL,
        PRIMARY KEY (paper_id, direction)
    )
    """,
    "CREATE INDEX decisions_paper ON decisions (paper_id)",
    """
    CREATE TABLE query_hits (
        paper_id INTEGER NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
        source TEXT NOT NULL,
        category TEXT NOT NULL,
        query TEXT NOT NULL,
        first_run INTEGER REFERENCES runs (id),
        last_run INTEGER REFERENCES runs (id),
        PRIMARY KEY (paper_id, source, category, query)
    )
    """,
    """
    CREATE TABLE paper_categories (
        paper_id INTEGER NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
        category TEXT NOT NULL,
        score REAL NOT NULL,
        reasons TEXT NOT NULL,
        PRIMARY KEY (paper_id, category)
    )
    """,
    """
    CREATE TABLE paper_sources (
        paper_id INTEGER NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
        source TEXT NOT NULL,
        source_id TEXT NOT NULL,
        data TEXT NOT NULL,
        fetched_at TEXT NOT NULL,
        PRIMARY KEY (source, source_id)
    )
    """,
    "CREATE INDEX paper_sources_paper ON paper_sources (paper_id)",
    """
    CREATE TABLE citation_history (
        paper_id INTEGER NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
        observed_at TEXT NOT NULL,
        citation_count INTEGER NOT NULL,
        PRIMARY KEY (paper_id, observed_at)
    )
    """,
    # Full-text search over title and abstract (kept in step by triggers until 0002).
    """
    CREATE VIRTUAL TABLE papers_fts USING fts5 (
        title, abstract, content='papers', content_rowid='id', tokenize='porter unicode61'
    )
    """,
    """
    CREATE TRIGGER papers_ai AFTER INSERT ON papers BEGIN
        INSERT INTO papers_fts (rowid, title, abstract) VALUES (new.id, new.title, new.abstract);
    END
    """,
    """
    CREATE TRIGGER papers_ad AFTER DELETE ON papers BEGIN
        INSERT INTO papers_fts (papers_fts, rowid, title, abstract)
        VALUES ('delete', old.id, old.title, old.abstract);
    END
    """,
    """
    CREATE TRIGGER papers_au AFTER UPDATE OF title, abstract ON papers BEGIN
        INSERT INTO papers_fts (papers_fts, rowid, title, abstract)
        VALUES ('delete', old.id, old.title, old.abstract);
        INSERT INTO papers_fts (rowid, title, abstract) VALUES (new.id, new.title, new.abstract);
    END
    """,
]


@MIGRATIONS(name="0001_initial")
def initial(db: Database) -> None:
    for statement in _SCHEMA_1:
        db.execute(statement)


# Where each source said a paper appeared, in columns: ``derive`` and ``export`` read these
# instead of decoding the stored payloads. ``venue_names`` is a JSON list, NULL where the
# source claims nothing about a venue (arXiv: its comment and journal reference are the
# paper's own text, on ``papers``).
_SCHEMA_2 = [
    "ALTER TABLE paper_sources ADD COLUMN venue_names TEXT",
    "ALTER TABLE paper_sources ADD COLUMN venue_dblp TEXT",
    "ALTER TABLE paper_sources ADD COLUMN venue_year INTEGER",
    "ALTER TABLE paper_sources ADD COLUMN venue_kind TEXT",
    # The harvest writes the full-text index a page at a time, in bulk, in the page's own
    # transaction: a trigger per row cost four times as much.
    "DROP TRIGGER papers_ai",
    "DROP TRIGGER papers_ad",
    "DROP TRIGGER papers_au",
]


def _claim_0002(data: Any) -> tuple[str, str | None, int | None, str | None]:
    """The venue claim of a Semantic Scholar answer stored before 0002, in that release's
    reading of the payload (names, DBLP key, year, kind); frozen with this migration, as
    the converter may read later payloads differently."""
    if not isinstance(data, dict):
        return "[]", None, None, None
    names: list[Any] = []
    venue = data.get("publicationVenue")
    if isinstance(venue, dict):
        names += [venue.get("name") or "", *list(venue.get("alternate_names") or [])]
    names.append(data.get("venue") or "")
    journal = data.get("journal")
    if isinstance(journal, dict):
        names.append(journal.get("name") or "")
    kept = [n for n in names if isinstance(n, str) and n.strip()]
    ids = data.get("externalIds")
    dblp = ids.get("DBLP") if isinstance(ids, dict) else None
    dblp = dblp if isinstance(dblp, str) else None
    year = data.get("year") if isinstance(data.get("year"), int) else None
    kind = venue.get("type") if isinstance(venue, dict) else None
    if kind not in ("conference", "journal"):
        kind = None
        if dblp and dblp.startswith("conf/"):
            kind = "conference"
        elif dblp and dblp.startswith("journals/") and not dblp.startswith("journals/corr/"):
            kind = "journal"
    return json.dumps(kept, ensure_ascii=False), dblp, year, kind


@MIGRATIONS(name="0002_venue_claims_bulk_fts")
def venue_claims_bulk_fts(db: Database) -> None:
    for statement in _SCHEMA_2:
        db.execute(statement)
    rows = db.execute(
        "SELECT source, source_id, data FROM paper_sources WHERE source = 's2'"
    ).fetchall()
    db.conn.executemany(
        "UPDATE paper_sources SET venue_names = ?, venue_dblp = ?, venue_year = ?,"
        " venue_kind = ? WHERE source = ? AND source_id = ?",
        [(*_claim_0002(json.loads(data)), source, sid) for source, sid, data in rows],
    )


# The recommendations channel: what each category's last read asked (a digest of its
# positives and negatives, so a run asks again only when a decision changed them), and why a
# paper is in the queue when no keyword put it there (``query_hits.reason``: "recommended
# from 12 accepted Early exit papers", shown beside the query that found it).
_SCHEMA_3 = [
    """
    CREATE TABLE recommendation_reads (
        category TEXT PRIMARY KEY,
        digest TEXT NOT NULL,
        positives INTEGER NOT NULL,
        negatives INTEGER NOT NULL,
        recommended INTEGER NOT NULL,
        run_id INTEGER REFERENCES runs (id),
        read_at TEXT NOT NULL
    )
    """,
    "ALTER TABLE query_hits ADD COLUMN reason TEXT",
]


@MIGRATIONS(name="0003_recommendations")
def recommendations(db: Database) -> None:
    for statement in _SCHEMA_3:
        db.execute(statement)


# What every read of the review queue asks of every paper, answered from indexes instead of
# a scan of the papers table (its abstracts make a scan cost 0.1 s at 20,000 papers, paid per
# request): the newest sighting and refresh (``papers.ranking_state``, the cached ranking's
# key) and the few columns the queue sorts and filters by (``papers.ranking_rows``), in a
# covering index that also serves what ``papers_status_score`` did.
_SCHEMA_4 = [
    "CREATE INDEX papers_last_seen ON papers (last_seen)",
    "CREATE INDEX papers_s2_refreshed ON papers (s2_refreshed)",
    "CREATE INDEX papers_queue ON papers"
    " (status, score DESC, category, manual_fields, citation_count)",
    "DROP INDEX papers_status_score",
]


@MIGRATIONS(name="0004_queue_read_indexes")
def queue_read_indexes(db: Database) -> None:
    for statement in _SCHEMA_4:
        db.execute(statement)


# Each query hit named its query by its whole text (up to some 600 characters for an arXiv
# query with its subject classes), in the row and again in the primary key's index: a
# harvest of 20,000 papers wrote some 36,000 of them. The texts now live once in
# ``queries`` and a hit names its query by id, in a table without rowid (its primary key is
# the row, so each hit is written once). ``query_hits`` stays what it always was for anyone
# reading the database, a view with the same columns.
_SCHEMA_5 = [
    "CREATE TABLE queries (id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE)",
    "INSERT INTO queries (text) SELECT DISTINCT query FROM query_hits ORDER BY query",
    """
    CREATE TABLE hits (
        paper_id INTEGER NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
        source TEXT NOT NULL,
        category TEXT NOT NULL,
        query_id INTEGER NOT NULL REFERENCES queries (id),
        first_run INTEGER REFERENCES runs (id),
        last_run INTEGER REFERENCES runs (id),
        reason TEXT,
        PRIMARY KEY (paper_id, source, category, query_id)
    ) WITHOUT ROWID
    """,
    "INSERT INTO hits (paper_id, source, category, query_id, first_run, last_run, reason)"
    " SELECT h.paper_id, h.source, h.category, q.id, h.first_run, h.last_run, h.reason"
    " FROM query_hits h JOIN queries q ON q.text = h.query",
    "DROP TABLE query_hits",
    """
    CREATE VIEW query_hits AS
    SELECT h.paper_id, h.source, h.category, q.text AS query, h.first_run, h.last_run, h.reason
    FROM hits h JOIN queries q ON q.id = h.query_id
    """,
]


@MIGRATIONS(name="0005_query_ids")
def query_ids(db: Database) -> None:
    for statement in _SCHEMA_5:
        db.execute(statement)


# Citation keys are made over every paper (``export.citation_keys``), and the base of each
# (``huang2018multi``) was derived from its first author, year and title on every report and
# export: a third of a second at 20,000 papers. The bases are kept here, one row per paper,
# with the version of the rule that made them (``rule``): a writer stores the bases of the
# papers that have none, a reader derives only those. The triggers drop a paper's base when
# what it is made of changes, whoever writes the row (a harvest, a merge, the sqlite3 shell),
# and when the paper goes or a row is put in its place.
_SCHEMA_6 = [
    """
    CREATE TABLE citation_key_bases (
        paper_id INTEGER PRIMARY KEY,
        base TEXT NOT NULL,
        rule INTEGER NOT NULL
    )
    """,
    """
    CREATE TRIGGER papers_key_base_au AFTER UPDATE OF title, authors, year, venue_year
    ON papers
    WHEN old.title IS NOT new.title OR old.authors IS NOT new.authors
        OR old.year IS NOT new.year OR old.venue_year IS NOT new.venue_year
    BEGIN
        DELETE FROM citation_key_bases WHERE paper_id = old.id;
    END
    """,
    """
    CREATE TRIGGER papers_key_base_ad AFTER DELETE ON papers BEGIN
        DELETE FROM citation_key_bases WHERE paper_id = old.id;
    END
    """,
    """
    CREATE TRIGGER papers_key_base_ai AFTER INSERT ON papers BEGIN
        DELETE FROM citation_key_bases WHERE paper_id = new.id;
    END
    """,
]


@MIGRATIONS(name="0006_citation_key_bases")
def citation_key_bases(db: Database) -> None:
    # Empty: the first writer after it stores the bases (``export.keep_key_bases``), and
    # until then a reader derives them, as before.
    for statement in _SCHEMA_6:
        db.execute(statement)


@MIGRATIONS(name="0007_typeset_title_keys")
def typeset_title_keys(db: Database) -> None:
    # Title keys made before typeset punctuation (U+2010, ’, —) parted words: such a title
    # keyed "earlyexit" where its ASCII spelling keys "early exit", and the same paper from
    # two sources stayed two rows. Only titles outside ASCII can change.
    changed = [
        (key, paper_id)
        for paper_id, title, old in db.execute("SELECT id, title, title_key FROM papers")
        if not title.isascii() and (key := normalise_title(title)) != old
    ]
    db.conn.executemany("UPDATE papers SET title_key = ? WHERE id = ?", changed)


def check_schema(db: Database) -> None:
    """Refuse a database written by a newer harvester rather than damage it."""
    # Every migration this harvester knows is pending on an empty database.
    known = {m.name for m in MIGRATIONS.pending(Database(memory=True))}
    unknown = [m.name for m in MIGRATIONS.applied(db) if m.name not in known]
    if unknown:
        raise StoreError(
            f"this database was written by a newer harvester (schema {unknown[-1]}); "
            "upgrade harvester to use it"
        )


def schema_state(db: Database) -> str:
    """``new`` (no tables yet), ``current`` or ``outdated`` (migrations pending); only reads.

    Refuses, before anything is written, a database some other program made (its tables
    would get ours beside them, and WAL mode) and one from a newer harvester.
    """
    tables = sorted(
        name
        for (name,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    )
    try:
        applied = MIGRATIONS.applied(db)
    except sqlite3.DatabaseError:  # a migrations table of some other shape
        applied = []
    if not applied:
        others = [t for t in tables if t != Migrations.migrations_table]
        if not others:
            return "new"
        shown = ", ".join(others[:5]) + (", …" if len(others) > 5 else "")
        raise StoreError(
            f"not a harvester database (it has tables {shown}); give another --db or HARVESTER_DB"
        )
    check_schema(db)
    return "outdated" if MIGRATIONS.pending(db) else "current"


def migrate(db: Database) -> None:
    """Apply the pending migrations, all in one transaction that holds the write lock.

    Two harvests starting together on a new database both see the schema missing; whoever
    gets the lock creates it, the other waits (the busy timeout), looks again inside its own
    transaction, finds nothing to do, and goes on to find the harvest lock held.
    """
    if not MIGRATIONS.pending(db):
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        check_schema(db)
        MIGRATIONS.apply(db)
    except BaseException:
        db.conn.rollback()
        raise
    db.execute("COMMIT")
