"""The SQLite store: schema migrations, merging records into one row per paper, run log.

Savers here never touch the network (fetchers never touch the database). Every page a source
returns is written in one transaction together with its query hits and the categories it
changes, so a run killed at any point leaves whole pages or nothing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import socket
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from sqlite_utils import Database

from harvester.classify import CategoryScore, best_category, score_paper
from harvester.errors import StoreError
from harvester.migrations import migrate, schema_state
from harvester.records import PaperRecord, normalise_title
from harvester.seeds import SeedPaper, Seeds
from harvester.sources.semantic_scholar import s2_venue_names, s2_year
from harvester.venues import VenueEvidence

STATUSES = ("pending", "accepted", "rejected")


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# How a command opens the database: ``create`` it if missing (harvest, review add, tests),
# ``write`` one that exists, or ``read`` one that exists without writing a byte.
Access = Literal["create", "write", "read"]

# SQLite's primary result codes for "cannot write here" and "cannot open a file".
_SQLITE_READONLY = 8
_SQLITE_CANTOPEN = 14


def open_db(path: Path | str, *, access: Access = "create") -> Database:
    """Open the database and, unless ``access`` is ``read``, bring its schema up to date.

    Nothing is written before the file is known to be a harvester database (or empty): a
    foreign SQLite file, a database from a newer harvester and, for ``read``, one whose
    schema is out of date are refused untouched. ``read`` opens the file read-only, so the
    reading commands work on a read-only file, folder or filesystem. ``":memory:"`` gives a
    throwaway database for tests.
    """
    memory = str(path) == ":memory:"
    conn: sqlite3.Connection | None = None
    try:
        if not memory and access != "create" and not Path(path).exists():
            raise StoreError(
                f"{path}: no database there (check --db or HARVESTER_DB;"
                " 'harvester harvest' creates one)"
            )
        if not memory and access == "create":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = _read_only(path) if access == "read" and not memory else _connect(str(path))
        db = Database(conn)
        db.execute("PRAGMA foreign_keys = ON")
        state = schema_state(db)
        if access == "read":
            if state == "outdated":
                raise StoreError(
                    f"{path}: its schema is older than this harvester's; run a command that"
                    " writes (such as 'harvester harvest') once to bring it up to date"
                )
        else:
            if not memory:
                db.execute("PRAGMA journal_mode = WAL")
            migrate(db)
        # SQLite's default page cache is 2 MB; a harvest merging into tens of thousands of
        # papers (and their full-text index) would read the same pages from disk again and
        # again. 64 MB at most, taken only as the database grows.
        db.execute("PRAGMA cache_size = -65536")
    except (StoreError, sqlite3.DatabaseError, OSError) as exc:
        if conn is not None:
            conn.close()
        raise _open_error(path, exc) from None
    return db


def _open_error(path: Path | str, exc: Exception) -> StoreError:
    if isinstance(exc, StoreError):
        message = str(exc)
        return StoreError(message if message.startswith(f"{path}: ") else f"{path}: {message}")
    if isinstance(exc, sqlite3.DatabaseError):
        return StoreError(f"{path}: cannot use this database ({exc})")
    assert isinstance(exc, OSError)
    return StoreError(f"{path}: cannot create the database ({exc.strerror})")


def _connect(target: str, *, uri: bool = False) -> sqlite3.Connection:
    return sqlite3.connect(target, timeout=30, check_same_thread=False, uri=uri)


def _read_only(path: Path | str) -> sqlite3.Connection:
    """A connection that cannot write, even where the folder or filesystem is read-only.

    In WAL mode a reader needs the ``-shm`` file beside the database; where it cannot be
    created (a read-only folder or filesystem, which no harvest can write either), the file
    is opened as immutable: read without locks.
    """
    target = "file:" + quote(str(Path(path).resolve())) + "?mode=ro"
    conn = _connect(target, uri=True)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError as exc:
        if exc.sqlite_errorcode & 0xFF not in (_SQLITE_READONLY, _SQLITE_CANTOPEN):
            raise
        conn.close()
        conn = _connect(target + "&immutable=1", uri=True)
    return conn


def close_db(db: Database) -> None:
    """Close the database, folding the write-ahead log into the file where nobody else reads.

    A scheduled job may copy or commit the ``.db`` file right after the command ends: the
    last connection to close checkpoints the log and removes it, so the file alone holds
    everything. A passive checkpoint first never waits for another process (a ``status``
    while a harvest runs must not hold the harvest up). A read-only connection can do
    neither: it leaves an empty log and the ``-shm`` file, which the next writer removes.
    """
    with contextlib.suppress(sqlite3.DatabaseError):
        db.execute("PRAGMA wal_checkpoint(PASSIVE)")
    db.conn.close()


@contextlib.contextmanager
def write_transaction(db: Database) -> Iterator[Database]:
    """One transaction that holds SQLite's write lock from its first statement; every
    writer uses it.

    In WAL mode a deferred ``BEGIN`` (``Database.atomic``, Python's implicit one) that
    reads first and writes later fails at its first write with "database is locked" as soon
    as another connection has committed in between, at once, whatever the busy timeout: one
    review decision during a harvest's page would end the harvest. ``BEGIN IMMEDIATE`` takes
    the write lock before the first read, so writers (a harvest's pages, its heartbeat,
    reviewers, imports) wait for each other under the busy timeout instead. Inside an open
    transaction it is a savepoint, so a failure undoes only its own part.
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    try:
        # Inside the ``try``: Ctrl-C or SIGTERM arriving while BEGIN runs is raised just
        # after it returns, and must roll back what it opened.
        db.conn.execute("BEGIN IMMEDIATE")
        yield db
        db.conn.execute("COMMIT")
    except BaseException:
        if db.conn.in_transaction:
            db.conn.rollback()
        raise


def abandon_transaction(db: Database) -> None:
    """Roll back whatever transaction an interrupt left open on this connection.

    Ctrl-C and SIGTERM raise ``KeyboardInterrupt`` between any two bytecodes, also at the
    start of a context manager's exit, before its ``COMMIT`` runs. The transaction then
    stays open, and what a run writes next (its row closed as ``interrupted``, the lock
    released) would nest in it as savepoints and vanish when the connection closes. An
    interrupted page is discarded either way.
    """
    if db.conn.in_transaction:
        db.conn.rollback()


# --- runs -------------------------------------------------------------------------------


def start_run(db: Database, options: dict[str, Any]) -> int:
    with write_transaction(db):
        cursor = db.execute(
            "INSERT INTO runs (started, status, pid, host, options) VALUES (?, 'running', ?, ?, ?)",
            [now_iso(), os.getpid(), socket.gethostname(), json.dumps(options, sort_keys=True)],
        )
    return int(cursor.lastrowid or 0)


def update_run(
    db: Database, run_id: int, *, requests: dict[str, int], errors: Sequence[str]
) -> None:
    """The run's requests and errors so far; called inside each page's transaction, so a run
    killed later still shows how far it got (``save_records`` counts the papers)."""
    db.execute(
        "UPDATE runs SET requests = ?, errors = ?, heartbeat = ? WHERE id = ?",
        [json.dumps(requests, sort_keys=True), json.dumps(list(errors)), now_iso(), run_id],
    )


def finish_run(
    db: Database, run_id: int, *, status: str, requests: dict[str, int], errors: Sequence[str]
) -> None:
    """Close the run's row. Its paper counts are already there, committed with the papers."""
    with write_transaction(db):
        db.execute(
            "UPDATE runs SET ended = ?, status = ?, requests = ?, errors = ? WHERE id = ?",
            [
                now_iso(),
                status,
                json.dumps(requests, sort_keys=True),
                json.dumps(list(errors)),
                run_id,
            ],
        )


# --- papers -----------------------------------------------------------------------------

# arXiv mints DOIs for preprints; they are not the publication's DOI.
_ARXIV_DOI_PREFIX = "10.48550/"


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


def _doi(record: PaperRecord) -> str | None:
    doi = (record.doi or "").strip().lower()
    return doi if doi and not doi.startswith(_ARXIV_DOI_PREFIX) else None


# SQLite's limit on host parameters is 32,766 in the builds Python ships; stay well under.
_CHUNK = 900


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _dicts(db: Database, sql: str, params: Sequence[Any]) -> Iterator[dict[str, Any]]:
    """Rows as dicts, built by ``zip`` (a harvest reads tens of thousands of them)."""
    cursor = db.execute(sql, params)
    keys = [d[0] for d in cursor.description]
    return (dict(zip(keys, row, strict=True)) for row in cursor)


def _rows_where(db: Database, column: str, values: Iterable[Any]) -> Iterator[dict[str, Any]]:
    """Rows of ``papers`` whose ``column`` is one of ``values``, a query per 900 values."""
    wanted = sorted({v for v in values if v is not None})
    for chunk in _chunks(wanted):
        marks = ",".join("?" * len(chunk))
        yield from _dicts(db, f"SELECT * FROM papers WHERE {column} IN ({marks})", list(chunk))


class _PageIndex:
    """The stored rows a page's records may describe, read in a few queries, kept current as
    the page is merged.

    Merging record by record costs up to four lookups each; at tens of thousands of papers a
    run those lookups are most of the local work. A record later in the page still finds the
    row an earlier one created or changed, as it would one record at a time.
    """

    _IDS = ("arxiv_id", "doi", "s2_id")

    def __init__(self) -> None:
        self.rows: dict[int, dict[str, Any]] = {}
        self._by_id: dict[str, dict[str, int]] = {column: {} for column in self._IDS}
        self._by_title: dict[str, set[int]] = {}

    @classmethod
    def load(
        cls, db: Database, records: Sequence[PaperRecord], targets: Sequence[int] | None = None
    ) -> _PageIndex:
        index = cls()
        keys = (
            ("id", targets or ()),
            ("arxiv_id", (r.arxiv_id for r in records)),
            ("doi", (_doi(r) for r in records)),
            ("s2_id", (r.s2_id for r in records)),
            ("title_key", (normalise_title(r.title) or None for r in records)),
        )
        for column, values in keys:
            for row in _rows_where(db, column, values):
                if row["id"] not in index.rows:
                    index.add(row)
        return index

    def add(self, row: dict[str, Any]) -> None:
        self.rows[row["id"]] = row
        for column in self._IDS:
            if row[column]:
                self._by_id[column][row[column]] = row["id"]
        self._by_title.setdefault(row["title_key"], set()).add(row["id"])

    def update(self, paper_id: int, changes: dict[str, Any]) -> None:
        row = self.rows[paper_id]
        for column in self._IDS:
            if column in changes and row[column]:
                self._by_id[column].pop(row[column], None)
        if "title_key" in changes:
            self._by_title.get(row["title_key"], set()).discard(paper_id)
        row.update(changes)
        self.add(row)

    def find(self, record: PaperRecord) -> dict[str, Any] | None:
        """The row this record describes: by arXiv id, DOI, S2 id, then title and year."""
        for column, value in (
            ("arxiv_id", record.arxiv_id),
            ("doi", _doi(record)),
            ("s2_id", record.s2_id),
        ):
            if value and value in self._by_id[column]:
                return self.rows[self._by_id[column][value]]
        key = normalise_title(record.title)
        if not key:
            return None
        for paper_id in sorted(self._by_title.get(key, ())):
            row = self.rows[paper_id]
            # A preprint and its published version may be a year or so apart; further is
            # another paper that happens to share a title.
            if (
                record.year is not None
                and row["year"] is not None
                and abs(row["year"] - record.year) > 1
            ):
                continue
            # Two different ids of the same kind are two papers, whatever their titles.
            if record.arxiv_id and row["arxiv_id"] and row["arxiv_id"] != record.arxiv_id:
                continue
            if (
                record.s2_id
                and row["s2_id"]
                and row["s2_id"] != record.s2_id
                and row["arxiv_id"] is None
            ):
                continue
            return row
        return None


def find_paper(db: Database, record: PaperRecord) -> dict[str, Any] | None:
    """The stored row this record describes, if any (see ``_PageIndex.find``)."""
    return _PageIndex.load(db, [record]).find(record)


def _save_authors(db: Database, authors: dict[int, list[str]]) -> None:
    """Replace the author lists of these papers, a few statements for the whole page."""
    if not authors:
        return
    for chunk in _chunks(list(authors)):
        marks = ",".join("?" * len(chunk))
        db.execute(f"DELETE FROM paper_authors WHERE paper_id IN ({marks})", list(chunk))
    names = list(dict.fromkeys(n for names in authors.values() for n in names))
    db.conn.executemany("INSERT OR IGNORE INTO authors (name) VALUES (?)", [(n,) for n in names])
    ids: dict[str, int] = {}
    for chunk in _chunks(names):
        marks = ",".join("?" * len(chunk))
        ids.update(
            (name, author_id)
            for author_id, name in db.execute(
                f"SELECT id, name FROM authors WHERE name IN ({marks})", list(chunk)
            )
        )
    db.conn.executemany(
        "INSERT INTO paper_authors (paper_id, position, author_id) VALUES (?, ?, ?)",
        [
            (paper_id, position, ids[name])
            for paper_id, names in authors.items()
            for position, name in enumerate(names)
        ],
    )


def _source_values(record: PaperRecord) -> dict[str, Any]:
    """The columns this record may set, by the precedence of its source."""
    if record.source == "arxiv":
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
    return {
        "citation_count": record.citation_count,
        "influential_citation_count": record.influential_citation_count,
        "tldr": record.tldr,
        "publication_date": record.publication_date,
    }


def _merge(existing: dict[str, Any], record: PaperRecord) -> dict[str, Any]:
    """The changes a record makes to a stored row: manual > Semantic Scholar > arXiv."""
    manual = set(json.loads(existing["manual_fields"]))
    values = _source_values(record)
    changes: dict[str, Any] = {}
    if record.source == "arxiv":
        if (record.arxiv_version or 0) >= (existing["arxiv_version"] or 0):
            changes.update(values)
            changes["authors"] = json.dumps(record.authors, ensure_ascii=False)
    else:
        changes.update({k: v for k, v in values.items() if v is not None})
        # Text from Semantic Scholar only fills what arXiv has not given.
        if existing["arxiv_version"] is None:
            changes["title"] = record.title
            if record.authors:
                changes["authors"] = json.dumps(record.authors, ensure_ascii=False)
        if not existing["abstract"] and record.abstract:
            changes["abstract"] = record.abstract
        if record.s2_id and not existing["s2_id"]:
            changes["s2_id"] = record.s2_id
    if record.arxiv_id and not existing["arxiv_id"]:
        changes["arxiv_id"] = record.arxiv_id
    doi = _doi(record)
    if doi and not existing["doi"]:
        changes["doi"] = doi
    # ``year`` is when the paper first appeared: any source can only move it earlier.
    if record.year and (existing["year"] is None or record.year < existing["year"]):
        changes["year"] = record.year
    if "title" in changes:
        changes["title_key"] = normalise_title(changes["title"])
    return {k: v for k, v in changes.items() if k not in manual and existing.get(k) != v}


def _new_row(record: PaperRecord, now: str) -> dict[str, Any]:
    row = _source_values(record) | {
        "title": record.title,
        "title_key": normalise_title(record.title),
        "abstract": record.abstract,
        "authors": json.dumps(record.authors, ensure_ascii=False),
        "arxiv_id": record.arxiv_id,
        "doi": _doi(record),
        "s2_id": record.s2_id,
        "year": record.year,
        "status": "pending",
        "milestone": 0,
        "first_seen": now,
        "last_seen": now,
    }
    return row


def _source_id(record: PaperRecord) -> str:
    return record.source_id or record.arxiv_id or record.s2_id or normalise_title(record.title)


_RECORD_FIELDS = tuple(f.name for f in dataclasses.fields(PaperRecord) if f.name != "raw")


def _source_data(record: PaperRecord) -> dict[str, Any]:
    """What the source said, as kept in ``paper_sources.data``."""
    if record.raw is not None:
        return record.raw
    values = ((name, getattr(record, name)) for name in _RECORD_FIELDS)
    return {k: v for k, v in values if v not in (None, [], "")}


def _in(column: str, chunk: Sequence[Any]) -> str:
    return f"{column} IN ({','.join('?' * len(chunk))})"


def known_records(
    db: Database,
    records: Sequence[PaperRecord],
    *,
    category: str | None = None,
    query: str | None = None,
    targets: Sequence[int | None] | None = None,
) -> list[bool]:
    """For each record, whether storing it would teach us nothing: the source said all of it
    before (a field it gave then and omits now, like S2's TL;DR outside the batch endpoint,
    does not count as news) and, with ``category`` and ``query``, that query already found
    the paper. ``targets`` names the row each record must describe.

    Incremental runs re-read the pages near a watermark; known records there are not
    written again, so a re-harvest of unchanged sources changes no row. A few queries a page.
    """
    stored: dict[tuple[str, str], tuple[int, str]] = {}
    keys = sorted({(r.source, _source_id(r)) for r in records})
    for source in sorted({source for source, _ in keys}):
        ids = [source_id for s, source_id in keys if s == source]
        for chunk in _chunks(ids):
            for source_id, paper_id, data in db.execute(
                "SELECT source_id, paper_id, data FROM paper_sources WHERE source = ? AND "
                + _in("source_id", chunk),
                [source, *chunk],
            ):
                stored[(source, source_id)] = (paper_id, data)
    same: dict[int, int] = {}  # record's position -> its paper
    for i, record in enumerate(records):
        found = stored.get((record.source, _source_id(record)))
        target = targets[i] if targets else None
        if found is None or (target is not None and found[0] != target):
            continue
        said = json.loads(found[1])
        fresh = json.loads(json.dumps(_source_data(record), ensure_ascii=False))
        if all(said.get(key) == value for key, value in fresh.items()):
            same[i] = found[0]
    if not (category and query):
        return [i in same for i in range(len(records))]
    hit: set[tuple[int, str]] = set()
    for source in sorted({records[i].source for i in same}):
        ids = sorted({paper_id for i, paper_id in same.items() if records[i].source == source})
        for chunk in _chunks(ids):
            rows = db.execute(
                "SELECT paper_id FROM query_hits WHERE source = ? AND category = ? AND query = ?"
                " AND " + _in("paper_id", chunk),
                [source, category, query, *chunk],
            )
            hit.update((paper_id, source) for (paper_id,) in rows)
    return [i in same and (same[i], records[i].source) in hit for i in range(len(records))]


def _paper_columns(db: Database) -> list[str]:
    return [d[0] for d in db.execute("SELECT * FROM papers LIMIT 0").description]


def _venue_evidence(paper: dict[str, Any], s2_data: list[dict[str, Any]]) -> VenueEvidence:
    """What says where a paper appeared: S2's answers (newest first), arXiv's comment."""
    names: list[str] = []
    dblp = None
    year = None
    for data in s2_data:
        names += s2_venue_names(data)
        dblp = dblp or (data.get("externalIds") or {}).get("DBLP")
        year = year or s2_year(data)
    texts = tuple(t for t in (paper["comment"], paper["journal_ref"]) if t)
    return VenueEvidence(names=tuple(names), dblp=dblp, year=year, texts=texts, doi=paper["doi"])


def _derived(
    seeds: Seeds,
    paper: dict[str, Any],
    evidence: VenueEvidence,
    scores: dict[str, CategoryScore],
    milestone_citations: int,
) -> dict[str, Any]:
    """Venue, award, milestone, category and score as the sources and rules give them."""
    manual = set(json.loads(paper["manual_fields"]))
    changes: dict[str, Any] = {}
    first_year = int(paper["published"][:4]) if paper["published"] else paper["year"]
    venue, venue_year = seeds.venues.place(
        evidence, preprint_year=first_year if paper["arxiv_id"] else None, year=paper["year"]
    )
    changes.update({"venue": venue, "venue_year": venue_year})

    award = seeds.awards.match(paper["title"], venue, venue_year)
    changes["award"] = award.label if award else None
    cited = (paper["citation_count"] or 0) > milestone_citations
    changes["milestone"] = int(cited or award is not None)

    best = best_category(scores, list(seeds.categories), seeds)
    if "category" in manual or paper["is_seed"]:
        own = scores.get(paper["category"])
        changes["score"] = own.score if own else (best.score if best else 0.0)
    else:
        changes["category"] = best.category if best else None
        changes["score"] = best.score if best else 0.0
    return {k: v for k, v in changes.items() if k not in manual and paper[k] != v}


@dataclass
class _Inputs:
    """What papers' derived fields follow from besides their rows: the queries that found
    them (source, category, query), Semantic Scholar's answers about them by source id,
    newest first, and links to accepted papers per category."""

    hits: dict[int, set[tuple[str, str, str]]] = field(default_factory=dict)
    s2: dict[int, dict[str, dict[str, Any]]] = field(default_factory=dict)
    links: dict[int, dict[str, int]] = field(default_factory=dict)


def _load_inputs(db: Database, paper_ids: Sequence[int]) -> _Inputs:
    """The stored hits and Semantic Scholar answers of these papers (links come apart)."""
    inputs = _Inputs()
    for chunk in _chunks(sorted(set(paper_ids))):
        for paper_id, source, category, query in db.execute(
            "SELECT paper_id, source, category, query FROM query_hits WHERE "
            + _in("paper_id", chunk),
            list(chunk),
        ):
            inputs.hits.setdefault(paper_id, set()).add((source, category, query))
        for paper_id, source_id, data in db.execute(
            "SELECT paper_id, source_id, data FROM paper_sources WHERE source = 's2' AND "
            + _in("paper_id", chunk)
            + " ORDER BY fetched_at DESC",
            list(chunk),
        ):
            inputs.s2.setdefault(paper_id, {})[source_id] = json.loads(data)
    return inputs


def _derive(
    seeds: Seeds,
    papers: Mapping[int, dict[str, Any]],
    paper_ids: Iterable[int],
    inputs: _Inputs,
    milestone_citations: int,
) -> tuple[dict[int, dict[str, Any]], list[tuple[int, str, float, str]]]:
    """Each paper's derived fields that change, and its per-category scores with reasons."""
    changes: dict[int, dict[str, Any]] = {}
    categories: list[tuple[int, str, float, str]] = []
    for paper_id in paper_ids:
        paper = papers[paper_id]
        hits: dict[str, int] = {}
        for _, category, _ in inputs.hits.get(paper_id, ()):
            hits[category] = hits.get(category, 0) + 1
        links = inputs.links.get(paper_id, {})
        scores = score_paper(seeds, paper["title"], paper["abstract"], hits, links)
        categories += [
            (paper_id, r.category, r.score, json.dumps(r.reasons, ensure_ascii=False))
            for r in scores.values()
        ]
        evidence = _venue_evidence(paper, list(inputs.s2.get(paper_id, {}).values()))
        derived = _derived(seeds, paper, evidence, scores, milestone_citations)
        if derived:
            changes[paper_id] = derived
    return changes, categories


def _write_changes(db: Database, changes: Mapping[int, dict[str, Any]]) -> None:
    """One UPDATE per paper, sent in batches of papers that change the same columns."""
    groups: dict[tuple[str, ...], list[list[Any]]] = {}
    for paper_id, values in changes.items():
        if values:
            groups.setdefault(tuple(values), []).append([*values.values(), paper_id])
    for columns, params in groups.items():
        assignments = ", ".join(f"{column} = ?" for column in columns)
        db.conn.executemany(f"UPDATE papers SET {assignments} WHERE id = ?", params)


def _write_categories(
    db: Database, paper_ids: Sequence[int], categories: list[tuple[int, str, float, str]]
) -> None:
    for chunk in _chunks(sorted(set(paper_ids))):
        db.execute("DELETE FROM paper_categories WHERE " + _in("paper_id", chunk), list(chunk))
    db.conn.executemany(
        "INSERT INTO paper_categories (paper_id, category, score, reasons) VALUES (?, ?, ?, ?)",
        categories,
    )


def refresh_papers(
    db: Database, seeds: Seeds, paper_ids: Iterable[int], *, milestone_citations: int = 100
) -> None:
    """Re-derive what follows from the sources: venue, award, milestone, category and score,
    with the per-category scores and their reasons. A few queries per 900 papers.

    Fields a person set (``manual_fields``) are left alone.
    """
    ids = list(dict.fromkeys(paper_ids))
    with write_transaction(db):
        for chunk in _chunks(ids):
            papers = {row["id"]: row for row in _rows_where(db, "id", chunk)}
            inputs = _load_inputs(db, chunk)
            inputs.links = _linked_categories(db, list(papers.values()))
            changes, categories = _derive(seeds, papers, chunk, inputs, milestone_citations)
            _write_changes(db, changes)
            _write_categories(db, chunk, categories)


def refresh_paper(
    db: Database, seeds: Seeds, paper_id: int, *, milestone_citations: int = 100
) -> None:
    """``refresh_papers`` for one paper."""
    refresh_papers(db, seeds, [paper_id], milestone_citations=milestone_citations)


def _linked_categories(db: Database, papers: list[dict[str, Any]]) -> dict[int, dict[str, int]]:
    """For each paper, accepted papers per category that it cites or is cited by.

    Looked up by Semantic Scholar id (what the citation graph holds), so papers not yet
    written can be asked about too.
    """
    links: dict[int, dict[str, int]] = {p["id"]: {} for p in papers}
    by_s2 = {p["s2_id"]: p["id"] for p in papers if p["s2_id"]}
    if not by_s2 or db.execute("SELECT 1 FROM citations LIMIT 1").fetchone() is None:
        return links
    for chunk in _chunks(sorted(by_s2), _CHUNK // 2):
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
            links[by_s2[s2_id]][category] = n
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


def _observe_citations(db: Database, counts: list[tuple[int, int]], now: str) -> None:
    """A ``citation_history`` row when a paper's count is first seen or changes."""
    if not counts:
        return
    last: dict[int, int] = {}
    ids = sorted({paper_id for paper_id, _ in counts})
    for chunk in _chunks(ids):
        # SQLite takes the bare column from the row holding max(observed_at).
        for paper_id, count, _ in db.execute(
            "SELECT paper_id, citation_count, max(observed_at) FROM citation_history WHERE "
            + _in("paper_id", chunk)
            + " GROUP BY paper_id",
            list(chunk),
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


_HIT_SQL = (
    "INSERT INTO query_hits (paper_id, source, category, query, first_run, last_run)"
    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (paper_id, source, category, query)"
    " DO UPDATE SET last_run = excluded.last_run"
)


def save_records(
    db: Database,
    seeds: Seeds,
    records: Iterable[PaperRecord],
    *,
    run_id: int | None = None,
    category: str | None = None,
    query: str | None = None,
    targets: Sequence[int] | None = None,
    milestone_citations: int = 100,
) -> SaveResult:
    """Merge one page of records, and the query that found them, in one transaction.

    Without ``category`` and ``query`` the records only enrich (no query hit is recorded);
    ``targets`` names the row each record describes when the caller already knows it. With
    ``run_id`` the run's row counts the papers new and updated, in the same transaction: an
    interrupt can fall anywhere, even around the commit, and the row still counts exactly
    what the database holds.

    A page costs a fixed number of statements plus one insert or update per record: rows
    are looked up for the whole page at once, and authors, sources, hits, citation counts
    and the derived fields are written in bulk.
    """
    now = now_iso()
    records = list(records)
    result = SaveResult()
    with write_transaction(db):
        index = _PageIndex.load(db, records, targets)
        stored = set(index.rows)
        inputs = _load_inputs(db, sorted(stored))
        owner = {sid: pid for pid, answers in inputs.s2.items() for sid in answers}
        blank = dict.fromkeys(_paper_columns(db)) | {
            "score": 0.0,
            "is_seed": 0,
            "manual_fields": "[]",
        }
        # Papers are written once each, after the page is merged: rows new to the page get
        # their ids now (one writer, inside the transaction).
        next_id = int(db.execute("SELECT coalesce(max(id), 0) + 1 FROM papers").fetchone()[0])
        new: list[int] = []
        merged: dict[int, dict[str, Any]] = {}
        authors: dict[int, list[str]] = {}
        sources: list[tuple[Any, ...]] = []
        hits: list[tuple[Any, ...]] = []
        counts: list[tuple[int, int]] = []
        for i, record in enumerate(records):
            existing = index.rows.get(targets[i]) if targets else index.find(record)
            if existing is None:
                paper_id, next_id = next_id, next_id + 1
                index.add(blank | _new_row(record, now) | {"id": paper_id})
                new.append(paper_id)
                authors[paper_id] = record.authors
                result.new.append(paper_id)
            else:
                paper_id = int(existing["id"])
                changes = _merge(existing, record)
                index.update(paper_id, changes | {"last_seen": now})
                if paper_id in stored:
                    merged.setdefault(paper_id, {}).update(changes | {"last_seen": now})
                if "authors" in changes:
                    authors[paper_id] = json.loads(changes["authors"])
                if changes:
                    result.updated.append(paper_id)
            result.seen.append(paper_id)
            data = _source_data(record)
            source_id = _source_id(record)
            text = json.dumps(data, ensure_ascii=False, sort_keys=True)
            sources.append((paper_id, record.source, source_id, text, now))
            if category and query:
                hits.append((paper_id, record.source, category, query, run_id, run_id))
                inputs.hits.setdefault(paper_id, set()).add((record.source, category, query))
            if record.source == "s2":
                previous = owner.get(source_id)
                if previous is not None and previous != paper_id:
                    inputs.s2.get(previous, {}).pop(source_id, None)
                owner[source_id] = paper_id
                answers = inputs.s2.get(paper_id, {})
                answers.pop(source_id, None)
                inputs.s2[paper_id] = {source_id: data} | answers  # the newest first
                if record.citation_count is not None:
                    # ``s2_refreshed`` is set by the refresh batches (``mark_refreshed``) and
                    # by the harvest for papers a search described (``mark_described``).
                    counts.append((paper_id, record.citation_count))
        touched = list(dict.fromkeys(result.seen))
        inputs.links = _linked_categories(db, [index.rows[i] for i in touched])
        derived, categories = _derive(seeds, index.rows, touched, inputs, milestone_citations)
        if new:
            rows = [index.rows[i] | derived.pop(i, {}) for i in new]
            columns = list(blank)
            marks = ", ".join("?" * len(columns))
            db.conn.executemany(
                f"INSERT INTO papers ({', '.join(columns)}) VALUES ({marks})",
                [[row[c] for c in columns] for row in rows],
            )
        for paper_id, values in derived.items():
            merged.setdefault(paper_id, {}).update(values)
        _write_changes(db, merged)
        _save_authors(db, authors)
        db.conn.executemany(
            "INSERT INTO paper_sources (paper_id, source, source_id, data, fetched_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (source, source_id) DO UPDATE SET"
            " paper_id = excluded.paper_id, data = excluded.data,"
            " fetched_at = excluded.fetched_at",
            sources,
        )
        db.conn.executemany(_HIT_SQL, hits)
        _observe_citations(db, counts, now)
        _write_categories(db, touched, categories)
        if run_id is not None:
            db.execute(
                "UPDATE runs SET papers_new = coalesce(papers_new, 0) + ?,"
                " papers_updated = coalesce(papers_updated, 0) + ? WHERE id = ?",
                [len(result.new), len(result.updated), run_id],
            )
    return result


def mark_seed(
    db: Database, paper_id: int, category: str, focus: str | None, notes: str | None
) -> None:
    """Seed papers are the curator's own: accepted, in their seed category, with their focus.

    A decision already recorded (a rejection, a category set by hand) stands.
    """
    with write_transaction(db):
        paper = db.table("papers").get(paper_id)
        manual = set(json.loads(paper["manual_fields"]))
        changes: dict[str, Any] = {"is_seed": 1}
        if paper["status"] == "pending":
            changes["status"] = "accepted"
        if "category" not in manual:
            changes["category"] = category
        if focus and not paper["focus"]:
            changes["focus"] = focus
        if notes and not paper["notes"]:
            changes["notes"] = notes
        changes = {k: v for k, v in changes.items() if paper[k] != v}
        if changes:
            db.table("papers").update(paper_id, changes)


def find_seed(db: Database, seed: SeedPaper) -> int | None:
    """The stored paper of a seed, when the service that describes it already has.

    An incremental run needs no request for it: an arXiv seed needs an arXiv record, a seed
    given by DOI or title a Semantic Scholar one.
    """
    if seed.arxiv_id:
        sql, value = "arxiv_id = ? AND arxiv_version IS NOT NULL", seed.arxiv_id
    elif seed.doi:
        sql, value = "doi = ? AND s2_id IS NOT NULL", seed.doi.lower()
    else:
        sql, value = "title_key = ? AND s2_id IS NOT NULL", normalise_title(seed.title or "")
    row = db.execute(f"SELECT id FROM papers WHERE {sql} ORDER BY id LIMIT 1", [value]).fetchone()
    return int(row[0]) if row else None


def keep_seed(
    db: Database,
    seeds: Seeds,
    paper_id: int,
    seed: SeedPaper,
    *,
    run_id: int,
    milestone_citations: int = 100,
) -> None:
    """A seed already stored: its "seed" query hit and seed marks, as a lookup would give.

    Writes nothing when both are there already.
    """
    source = "arxiv" if seed.arxiv_id else "s2"
    with write_transaction(db):
        hit = db.execute(
            "SELECT 1 FROM query_hits WHERE paper_id = ? AND source = ? AND category = ?"
            " AND query = 'seed'",
            [paper_id, source, seed.category],
        ).fetchone()
        if hit is None:
            db.execute(_HIT_SQL, [paper_id, source, seed.category, "seed", run_id, run_id])
            refresh_paper(db, seeds, paper_id, milestone_citations=milestone_citations)
        mark_seed(db, paper_id, seed.category, seed.focus, seed.notes)


def mark_refreshed(db: Database, paper_ids: Iterable[int]) -> None:
    """Papers Semantic Scholar was asked about, known to it or not, are not asked again soon."""
    now = now_iso()
    with write_transaction(db):
        db.conn.executemany(
            "UPDATE papers SET s2_refreshed = ? WHERE id = ?", [(now, i) for i in paper_ids]
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
        return list(_dicts(db, _TO_REFRESH + order, [before, before]))
    rows: list[dict[str, Any]] = []
    for chunk in _chunks(sorted(set(ids))):
        sql = _TO_REFRESH + " AND " + _in("id", chunk) + order
        rows += _dicts(db, sql, [before, before, *chunk])
    return rows


def mark_described(db: Database, paper_ids: Sequence[int]) -> list[int]:
    """Papers a search has just described count as refreshed now; returns those that do.

    A search answer carries the same citations, venue and ids as a refresh batch; asking
    again in the same run would spend a request per 500 papers on what is already known.
    Only the TL;DR is missing from it: a paper that has none and was never refreshed by a
    batch (a new one, mostly) does not count, so the run's batches bring its TL;DR now
    rather than after ``refresh_days``.
    """
    now = now_iso()
    described: list[int] = []
    with write_transaction(db):
        for chunk in _chunks(sorted(set(paper_ids))):
            described += [
                paper_id
                for (paper_id,) in db.execute(
                    "SELECT id FROM papers WHERE "
                    + _in("id", chunk)
                    + " AND (tldr IS NOT NULL OR s2_refreshed IS NOT NULL)",
                    list(chunk),
                )
            ]
        for chunk in _chunks(described):
            db.execute(
                "UPDATE papers SET s2_refreshed = ? WHERE "
                + _in("id", chunk)
                + " AND (s2_refreshed IS NULL OR s2_refreshed < ?)",
                [now, *chunk, now],
            )
    return described


# --- reading ----------------------------------------------------------------------------


def _seconds_between(start: str | None, end: str | None) -> int | None:
    try:
        a = datetime.strptime(start or "", "%Y-%m-%dT%H:%M:%SZ")
        b = datetime.strptime(end or "", "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return None
    return int((b - a).total_seconds())


def last_runs(db: Database, limit: int = 5) -> list[dict[str, Any]]:
    """The latest runs, newest first, with JSON columns decoded and ``duration`` in seconds
    (up to the last heartbeat for a run still going or killed)."""
    rows = list(db.query("SELECT * FROM runs ORDER BY id DESC LIMIT ?", [limit]))
    for row in rows:
        row["requests"] = json.loads(row["requests"] or "{}")
        row["errors"] = json.loads(row["errors"] or "[]")
        row["options"] = json.loads(row["options"] or "{}")
        row["duration"] = _seconds_between(row["started"], row["ended"] or row["heartbeat"])
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


def queue_size(db: Database) -> int:
    """Papers waiting for a person's decision."""
    return int(db.execute("SELECT count(*) FROM papers WHERE status = 'pending'").fetchone()[0])


def counts_by_category(db: Database) -> dict[str, dict[str, int]]:
    """Papers per category and status; uncategorised papers count under ``""``."""
    out: dict[str, dict[str, int]] = {}
    for row in db.query(
        "SELECT coalesce(category, '') AS category, status, count(*) AS n FROM papers"
        " GROUP BY 1, 2 ORDER BY 1, 2"
    ):
        out.setdefault(row["category"], {s: 0 for s in STATUSES})[row["status"]] = row["n"]
    return out


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
    return list(_dicts(db, sql + " ORDER BY id", params))


def latest_s2_answers(db: Database, paper_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Each paper's newest Semantic Scholar answer, as it came."""
    answers: dict[int, dict[str, Any]] = {}
    for chunk in _chunks(sorted(set(paper_ids))):
        for paper_id, data in db.execute(
            "SELECT paper_id, data FROM paper_sources WHERE source = 's2' AND "
            + _in("paper_id", chunk)
            + " ORDER BY fetched_at DESC, source_id",
            list(chunk),
        ):
            answers.setdefault(paper_id, json.loads(data))
    return answers


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


def finished_runs(db: Database) -> list[dict[str, Any]]:
    """Harvests that ended (whatever their status), newest first: ``id``, ``started``,
    ``ended``."""
    return list(
        _dicts(
            db,
            "SELECT id, started, ended FROM runs WHERE ended IS NOT NULL"
            " ORDER BY ended DESC, id DESC",
            [],
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


def papers_by_id(db: Database, paper_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Rows of these papers, by id, a query per 900."""
    return {row["id"]: row for row in _rows_where(db, "id", paper_ids)}
