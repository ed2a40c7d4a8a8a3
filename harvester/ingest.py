"""Saving what sources said: load → merge → derive → write, one transaction a page.

The one place the three meet: ``store`` reads the rows a page may describe and writes the
result, ``merge`` decides what each record changes, ``derive`` what follows from the merged
rows. Every page a source returns is written in one transaction together with its query hits
and what it changes, so a run killed at any point leaves whole pages or nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from harvester import clock, derive, merge, store
from harvester.records import PaperRecord, normalise_title
from harvester.rows import StoredPage
from harvester.rules import Rules
from harvester.seeds import SeedPaper
from harvester.store import papers as paper_rows

Hit = merge.Hit
# Papers re-derived per round of reads (each read is a query per 900 values).
_CHUNK = 900


class Memo:
    """What one writer derived each paper from, as ``derive.fingerprint`` digests.

    A harvest reads most papers two or three times (an arXiv page, a Semantic Scholar
    search, a refresh batch); a page that changes nothing derivation reads (a TL;DR, the
    same citation count) leaves the paper's derived fields and category scores as the
    writer last wrote them, so they are neither derived nor written again. Only for one
    command's writer with one rules object: a digest says nothing about what other rules
    would derive. Entries are added once their page is saved; a page that fails ends the
    run, and its writer's memo with it.
    """

    def __init__(self) -> None:
        self._digests: dict[int, int] = {}

    def same(self, paper_id: int, digest: int) -> bool:
        return self._digests.get(paper_id) == digest

    def update(self, digests: dict[int, int]) -> None:
        self._digests.update(digests)


@dataclass
class SaveResult:
    """What saving a page did, for the run's counters: papers created, changed, and the
    paper of each record stored (in order); ``unchanged`` records were left out as known."""

    new: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    seen: list[int] = field(default_factory=list)
    unchanged: int = 0


def _page_hits(
    records: Sequence[PaperRecord],
    category: str | None,
    query: str | None,
    found_by: Sequence[Sequence[str]] | None,
) -> list[list[Hit]]:
    if found_by is not None:
        if category is None or len(found_by) != len(records):
            raise ValueError("found_by needs a category and one entry per record")
        return [
            [(r.source, category, q) for q in queries]
            for r, queries in zip(records, found_by, strict=True)
        ]
    if category and query:
        return [[(r.source, category, query)] for r in records]
    return [[] for _ in records]


def save_records(
    db: Database,
    rules: Rules,
    records: Iterable[PaperRecord],
    *,
    run_id: int | None = None,
    category: str | None = None,
    query: str | None = None,
    found_by: Sequence[Sequence[str]] | None = None,
    targets: Sequence[int] | None = None,
    skip_known: bool = False,
    memo: Memo | None = None,
) -> SaveResult:
    """Merge one page of records, and the queries that found them, in one transaction (the
    caller's, when one is open).

    The records were found by ``query`` of ``category``, or each by its own queries of
    ``category`` (``found_by``, one list per record); without either they only enrich (no
    query hit is recorded). ``targets`` names the row each record describes when the caller
    already knows it. With ``skip_known``, records that would teach nothing (``merge.known``)
    are left out. With a ``memo``, papers whose derivation inputs the page leaves as the
    memo's writer last derived them are not derived again. With ``run_id`` the run's row
    counts the papers new and updated, in the same transaction: an interrupt can fall
    anywhere, even around the commit, and the row still counts exactly what the database
    holds.

    A page costs a fixed number of statements per 900 papers: rows are read for the whole
    page at once, each paper is merged and derived once, and everything is written in bulk,
    the full-text index included.
    """
    records = list(records)
    hits = _page_hits(records, category, query, found_by)
    texts = [merge.source_text(r) for r in records]
    result = SaveResult()
    now = clock.now_iso()
    with _transaction(db):
        keep = list(range(len(records)))
        if skip_known and records:
            keys = [(r.source, merge.source_id(r)) for r in records]
            said = paper_rows.load_page(db, sources=keys)
            # A record that brings no query hit (a refresh batch's) is known whatever hits
            # its paper has: only the others need them read.
            said.hits = paper_rows.query_hits(
                db,
                [
                    said.said[key][0]
                    for key, h in zip(keys, hits, strict=True)
                    if h and key in said.said
                ],
            )
            keep = [
                i
                for i in keep
                if not merge.known(
                    said, records[i], texts[i], hits[i], targets[i] if targets else None
                )
            ]
            result.unchanged = len(records) - len(keep)
        fresh = [records[i] for i in keep]
        aims = [targets[i] for i in keep] if targets else None
        # A record whose row the caller names is merged into that row alone: looking it up
        # by its ids and title as well would read rows the merge never looks at.
        stored = (
            paper_rows.load_page(db, ids=aims)
            if aims is not None
            else paper_rows.load_page(
                db,
                arxiv_ids=(r.arxiv_id for r in fresh),
                dois=(merge.doi_of(r) for r in fresh),
                s2_ids=(r.s2_id for r in fresh),
                title_keys=(normalise_title(r.title) or None for r in fresh),
            )
        )
        page = merge.merge_page(
            stored, fresh, [texts[i] for i in keep], [hits[i] for i in keep], now, aims
        )
        digests = _derive_and_write(db, rules, stored, page, now, run_id, memo)
        if run_id is not None:
            paper_rows.add_run_counts(db, run_id, new=len(page.new), updated=len(page.updated))
    if memo is not None:
        memo.update(digests)
    result.new, result.updated, result.seen = page.new, page.updated, page.seen
    return result


@contextmanager
def _transaction(db: Database) -> Iterator[None]:
    """The caller's transaction when one is open, else one of its own (``write_transaction``).

    Not a savepoint inside the caller's: while a savepoint is open SQLite keeps the original
    of every database page a statement changes, so that it can roll back to it, which costs a
    page's writes a quarter more. No caller carries on after a failed page: its exception
    leaves the caller's transaction, which rolls the whole back."""
    if db.conn.in_transaction:
        yield
    else:
        with store.write_transaction(db):
            yield


def _derive_and_write(
    db: Database,
    rules: Rules,
    stored: StoredPage,
    page: merge.MergedPage,
    now: str = "",
    run_id: int | None = None,
    memo: Memo | None = None,
) -> dict[int, int]:
    """Derive every paper the page touched, once (unless the ``memo`` says nothing it reads
    changed), and write the page in bulk; ``now`` stamps the citation counts it observed.
    Returns the digest of what each paper was derived from."""
    touched = page.touched
    s2_ids = [page.rows[i]["s2_id"] for i in touched if page.rows[i]["s2_id"]]
    links = store.graph.linked_categories(db, s2_ids)
    categories: list[tuple[int, str, float, str]] = []
    derived_ids: list[int] = []
    digests: dict[int, int] = {}
    for paper_id in touched:
        row = page.rows[paper_id]
        claims = page.claims.get(paper_id, {}).values()
        hits = page.paper_hits.get(paper_id, ())
        linked = links.get(row["s2_id"], {}) if row["s2_id"] else {}
        if memo is not None:
            inputs = derive.input_digest(row, claims, hits, linked)
            digest = derive.fingerprint(row, inputs)
            if memo.same(paper_id, digest):
                continue
        derived = derive.derive(rules, row, claims, hits, linked)
        derived_ids.append(paper_id)
        categories += derived.category_rows(paper_id)
        if derived.changes:
            row.update(derived.changes)
            if paper_id in stored.rows:
                page.changes.setdefault(paper_id, {}).update(derived.changes)
            if memo is not None:
                digest = derive.fingerprint(row, inputs)
        if memo is not None:
            digests[paper_id] = digest
    paper_rows.insert_papers(db, stored.columns, [page.rows[i] for i in page.new])
    paper_rows.update_papers(db, page.changes)
    paper_rows.replace_authors(db, page.authors)
    paper_rows.upsert_sources(db, page.sources)
    paper_rows.add_hits(db, page.hits, run_id)
    paper_rows.observe_citations(db, page.counts, now)
    paper_rows.replace_categories(db, derived_ids, categories)
    _index_text(db, stored, page)
    return digests


def _index_text(db: Database, stored: StoredPage, page: merge.MergedPage) -> None:
    """New papers enter the full-text index; a stored paper whose title or abstract the page
    changed leaves it with the text it was indexed with and enters with the new."""
    added = [(i, page.rows[i]["title"], page.rows[i]["abstract"]) for i in page.new]
    removed = []
    for paper_id, changes in page.changes.items():
        if "title" in changes or "abstract" in changes:
            before, after = stored.rows[paper_id], page.rows[paper_id]
            if (before["title"], before["abstract"]) != (after["title"], after["abstract"]):
                removed.append((paper_id, before["title"], before["abstract"]))
                added.append((paper_id, after["title"], after["abstract"]))
    paper_rows.index_text(db, added, removed)


def refresh_papers(db: Database, rules: Rules, paper_ids: Iterable[int]) -> None:
    """Re-derive what follows from the sources (venue, award, milestone, category and score,
    with the per-category scores and their reasons), for papers whose inputs changed outside
    a page: a new link, a seed's query hit, a milestone handed back to the rules. A few
    queries per 900 papers; fields a person set are left alone."""
    ids = list(dict.fromkeys(paper_ids))
    with store.write_transaction(db):
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            stored = paper_rows.load_page(db, ids=chunk)
            page = merge.MergedPage(
                rows={i: dict(r) for i, r in stored.rows.items()},
                seen=[i for i in chunk if i in stored.rows],
                claims=stored.claims,
                paper_hits=stored.hits,
            )
            _derive_and_write(db, rules, stored, page)


def refresh_paper(db: Database, rules: Rules, paper_id: int) -> None:
    """``refresh_papers`` for one paper."""
    refresh_papers(db, rules, [paper_id])


def find_paper(db: Database, record: PaperRecord) -> dict[str, Any] | None:
    """The stored row this record describes, if any (see ``merge.PageIndex.find``)."""
    return find_papers(db, [record])[0]


def find_papers(db: Database, records: Sequence[PaperRecord]) -> list[dict[str, Any] | None]:
    """The stored row each record describes, if any, in a few queries for all of them.

    Each record is looked up on its own, as ``find_paper`` would: ids are unique and every
    row sharing a record's title key is read, so the rows read for the others change no
    answer (records do not find each other: nothing is written)."""
    stored = paper_rows.load_page(
        db,
        arxiv_ids=[r.arxiv_id for r in records],
        dois=[merge.doi_of(r) for r in records],
        s2_ids=[r.s2_id for r in records],
        title_keys=[normalise_title(r.title) or None for r in records],
    )
    index = merge.PageIndex(stored.rows)
    return [index.find(r) for r in records]


def mark_seed(
    db: Database, paper_id: int, category: str, focus: str | None, notes: str | None
) -> None:
    """Seed papers are the curator's own (``merge.seed_marks``); a decision stands."""
    with store.write_transaction(db):
        paper = paper_rows.get_paper(db, paper_id)
        if paper is None:
            return
        changes = merge.seed_marks(paper, category, focus, notes)
        if changes:
            paper_rows.update_paper(db, paper_id, changes)


def find_seed(db: Database, seed: SeedPaper) -> int | None:
    """The stored paper of a seed, when the service that describes it already has: an
    incremental run needs no request for it."""
    return paper_rows.find_seed(
        db,
        arxiv_id=seed.arxiv_id,
        doi=seed.doi,
        title_key=normalise_title(seed.title or ""),
    )


def keep_seed(db: Database, rules: Rules, paper_id: int, seed: SeedPaper, *, run_id: int) -> None:
    """A seed already stored: its "seed" query hit and seed marks, as a lookup would give.

    Writes nothing when both are there already.
    """
    source = "arxiv" if seed.arxiv_id else "s2"
    with store.write_transaction(db):
        if not paper_rows.has_hit(db, paper_id, source, seed.category, "seed"):
            paper_rows.add_hits(db, [(paper_id, source, seed.category, "seed")], run_id)
            refresh_paper(db, rules, paper_id)
        mark_seed(db, paper_id, seed.category, seed.focus, seed.notes)
