"""Merging records into one row per paper: identity keys and source precedence.

Pure functions over the rows a page may describe (``store.papers.load_page`` reads them) and
the page's records: no database, no network. A record is the paper of a stored row when they
share an arXiv id (bare), a DOI (not arXiv's own ``10.48550/``), a Semantic Scholar id, or
else a normalised title within a year. Precedence by field: a person's edit
(``manual_fields``) > Semantic Scholar (citations, ids, TL;DR) > arXiv (title, abstract,
authors, dates; the newest version wins); ``year`` is the earliest any source gives.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from harvester.records import PaperRecord, VenueClaim, normalise_title
from harvester.rows import SourceRow, StoredPage, manual_fields

# arXiv mints DOIs for preprints; they are not the publication's DOI.
ARXIV_DOI_PREFIX = "10.48550/"
_IDS = ("arxiv_id", "doi", "s2_id")

# (source, category, query): what found a paper.
Hit = tuple[str, str, str]


def doi_of(record: PaperRecord) -> str | None:
    """The record's DOI as stored (lower case), unless it is arXiv's own."""
    doi = (record.doi or "").strip().lower()
    return doi if doi and not doi.startswith(ARXIV_DOI_PREFIX) else None


def source_id(record: PaperRecord) -> str:
    """The key of the source's own record of the paper (``paper_sources.source_id``)."""
    return record.source_id or record.arxiv_id or record.s2_id or normalise_title(record.title)


_NOT_SAID = frozenset(("raw", "venue_claim"))


def source_data(record: PaperRecord) -> dict[str, Any]:
    """What the source said, as kept in ``paper_sources.data``: its payload when it has one,
    else the record's own fields."""
    if record.raw is not None:
        return record.raw
    # The dataclass's fields, read from its instance dict (a page reads thousands).
    return {k: v for k, v in vars(record).items() if k not in _NOT_SAID and v not in (None, [], "")}


# ``json.dumps`` with options builds an encoder per call, which costs as much as encoding a
# whole record: a harvest encodes one per record it stores (tens of thousands). One encoder
# gives the same text (``encode`` keeps no state between calls).
_SOURCE_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True)


def source_text(record: PaperRecord) -> str:
    """``source_data`` as the text stored (keys sorted, so equal answers are equal text)."""
    return _SOURCE_ENCODER.encode(source_data(record))


def said_nothing_new(record: PaperRecord, text: str, stored: str) -> bool:
    """Whether a source's stored record already says everything this one says.

    A field it gave then and omits now (Semantic Scholar's TL;DR, which only the batch
    endpoint gives) is not news. Equal text is the common case and costs no decoding; else
    only the stored text is decoded (the record's own data is at hand).
    """
    if text == stored:
        return True
    data = source_data(record)
    # A key the stored text does not name at all is a value it never gave: the usual news
    # (a refresh batch's TL;DR after a search's answer) is seen without decoding anything.
    # JSON writes a key as ``"key":`` (spaced or not) and escapes the quotes inside strings,
    # so a text without that needle has no such key at any depth.
    for key, value in data.items():
        if value is not None and _key_text(key) not in stored:
            return False
    said = json.loads(stored)
    return all(said.get(key) == value for key, value in data.items())


@lru_cache(maxsize=256)
def _key_text(key: str) -> str:
    return json.dumps(key, ensure_ascii=False) + ":"


class PageIndex:
    """The rows a page's records may describe, kept current as the page is merged: a record
    later in the page finds the row an earlier one created or changed."""

    def __init__(self, rows: dict[int, dict[str, Any]]) -> None:
        self.rows: dict[int, dict[str, Any]] = {}
        self._by_id: dict[str, dict[str, int]] = {column: {} for column in _IDS}
        self._by_title: dict[str, set[int]] = {}
        for row in rows.values():
            self.add(row)

    def add(self, row: dict[str, Any]) -> None:
        paper_id = row["id"]
        self.rows[paper_id] = row
        for column, ids in self._by_id.items():
            value = row[column]
            if value:
                ids[value] = paper_id
        # No set made for a title already held: a page adds thousands of rows.
        same = self._by_title.get(row["title_key"])
        if same is None:
            self._by_title[row["title_key"]] = {paper_id}
        else:
            same.add(paper_id)

    def update(self, paper_id: int, changes: dict[str, Any]) -> None:
        row = self.rows[paper_id]
        for column in _IDS:
            if column in changes and row[column]:
                self._by_id[column].pop(row[column], None)
        if "title_key" in changes:
            self._by_title.get(row["title_key"], set()).discard(paper_id)
        row.update(changes)
        self.add(row)

    def find(self, record: PaperRecord, title_key: str | None = None) -> dict[str, Any] | None:
        """The row this record describes: by arXiv id, DOI, S2 id, then title and year."""
        for column, value in (
            ("arxiv_id", record.arxiv_id),
            ("doi", doi_of(record)),
            ("s2_id", record.s2_id),
        ):
            if value and value in self._by_id[column]:
                return self.rows[self._by_id[column][value]]
        key = normalise_title(record.title) if title_key is None else title_key
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
            "arxiv_categories": _categories_text(tuple(record.categories)),
            "comment": record.comment,
            "journal_ref": record.journal_ref,
        }
    return {
        "citation_count": record.citation_count,
        "influential_citation_count": record.influential_citation_count,
        "tldr": record.tldr,
        "publication_date": record.publication_date,
    }


# A harvest's records name a few hundred combinations of arXiv categories.
@lru_cache(maxsize=4096)
def _categories_text(categories: tuple[str, ...]) -> str:
    return json.dumps(list(categories))


# ``json.dumps(..., ensure_ascii=False)`` without building an encoder per call.
_authors_text = json.JSONEncoder(ensure_ascii=False).encode


def merge(existing: dict[str, Any], record: PaperRecord) -> dict[str, Any]:
    """The changes a record makes to a stored row: manual > Semantic Scholar > arXiv."""
    manual = manual_fields(existing)
    values = _source_values(record)
    changes: dict[str, Any] = {}
    if record.source == "arxiv":
        if (record.arxiv_version or 0) >= (existing["arxiv_version"] or 0):
            changes.update(values)
            changes["authors"] = _authors_text(record.authors)
    else:
        changes.update({k: v for k, v in values.items() if v is not None})
        # Text from Semantic Scholar only fills what arXiv has not given.
        if existing["arxiv_version"] is None:
            changes["title"] = record.title
            if record.authors:
                changes["authors"] = _authors_text(record.authors)
        if not existing["abstract"] and record.abstract:
            changes["abstract"] = record.abstract
        if record.s2_id and not existing["s2_id"]:
            changes["s2_id"] = record.s2_id
    if record.arxiv_id and not existing["arxiv_id"]:
        changes["arxiv_id"] = record.arxiv_id
    doi = doi_of(record)
    if doi and not existing["doi"]:
        changes["doi"] = doi
    # ``year`` is when the paper first appeared: any source can only move it earlier.
    if record.year and (existing["year"] is None or record.year < existing["year"]):
        changes["year"] = record.year
    if "title" in changes:
        changes["title_key"] = normalise_title(changes["title"])
    return {k: v for k, v in changes.items() if k not in manual and existing.get(k) != v}


def new_row(record: PaperRecord, blank: dict[str, Any], now: str) -> dict[str, Any]:
    """A paper's first row, from the first record that finds it."""
    row = blank.copy()
    row.update(_source_values(record))
    row.update(
        title=record.title,
        title_key=normalise_title(record.title),
        abstract=record.abstract,
        authors=_authors_text(record.authors),
        arxiv_id=record.arxiv_id,
        doi=doi_of(record),
        s2_id=record.s2_id,
        year=record.year,
        first_seen=now,
        last_seen=now,
    )
    return row


def seed_marks(
    paper: dict[str, Any], category: str, focus: str | None, notes: str | None
) -> dict[str, Any]:
    """Seed papers are the curator's own: accepted, in their seed category, with their focus.

    A decision already recorded (a rejection, a category set by hand) stands.
    """
    manual = manual_fields(paper)
    changes: dict[str, Any] = {"is_seed": 1}
    if paper["status"] == "pending":
        changes["status"] = "accepted"
    if "category" not in manual:
        changes["category"] = category
    if focus and not paper["focus"]:
        changes["focus"] = focus
    if notes and not paper["notes"]:
        changes["notes"] = notes
    return {k: v for k, v in changes.items() if paper[k] != v}


def known(
    stored: StoredPage,
    record: PaperRecord,
    text: str,
    hits: Sequence[Hit],
    target: int | None = None,
) -> bool:
    """Whether storing this record would teach us nothing: its source said all of it before
    (about ``target``, when the caller names the row) and every query that found it now
    had found that paper already.

    Incremental runs re-read the pages near a watermark on purpose; such records are not
    written again, so a re-harvest of unchanged sources changes no row.
    """
    found = stored.said.get((record.source, source_id(record)))
    if found is None or (target is not None and found[0] != target):
        return False
    if not said_nothing_new(record, text, found[1]):
        return False
    before = stored.hits.get(found[0], set())
    return all(hit in before for hit in hits)


@dataclass
class MergedPage:
    """A page merged into rows, with everything its transaction writes.

    ``rows`` holds every row the page touched, as it stands after the page; ``new`` the
    papers it creates (ids in order), ``changes`` what it changes in stored rows; ``seen``
    each stored record's paper, in order.
    """

    rows: dict[int, dict[str, Any]]
    new: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    seen: list[int] = field(default_factory=list)
    changes: dict[int, dict[str, Any]] = field(default_factory=dict)
    authors: dict[int, list[str]] = field(default_factory=dict)
    sources: list[SourceRow] = field(default_factory=list)
    hits: list[tuple[int, str, str, str]] = field(default_factory=list)
    counts: list[tuple[int, int]] = field(default_factory=list)
    claims: dict[int, dict[str, VenueClaim]] = field(default_factory=dict)
    paper_hits: dict[int, set[Hit]] = field(default_factory=dict)

    @property
    def touched(self) -> list[int]:
        """Every paper the page described, once each, in the order first met."""
        return list(dict.fromkeys(self.seen))


def merge_page(
    stored: StoredPage,
    records: Sequence[PaperRecord],
    texts: Sequence[str],
    hits: Sequence[Sequence[Hit]],
    now: str,
    targets: Sequence[int] | None = None,
) -> MergedPage:
    """Merge a page of records (each with its ``source_text`` and the hits that found it)
    into the stored rows; ``targets`` names each record's row when the caller knows it."""
    index = PageIndex({i: dict(row) for i, row in stored.rows.items()})
    page = MergedPage(rows=index.rows)
    page.claims = {i: dict(c) for i, c in stored.claims.items()}
    page.paper_hits = {i: set(h) for i, h in stored.hits.items()}
    owner = {sid: pid for pid, claims in page.claims.items() for sid in claims}
    blank = stored.blank()
    next_id = stored.next_id
    paper_hits = page.paper_hits
    for i, record in enumerate(records):
        existing = index.rows.get(targets[i]) if targets else index.find(record)
        if existing is None:
            paper_id, next_id = next_id, next_id + 1
            row = new_row(record, blank, now)
            row["id"] = paper_id
            index.add(row)
            page.new.append(paper_id)
            page.authors[paper_id] = record.authors
        else:
            paper_id = int(existing["id"])
            changes = merge(existing, record)
            seen = changes | {"last_seen": now}
            if paper_id in stored.rows:
                page.changes.setdefault(paper_id, {}).update(seen)
            index.update(paper_id, seen)
            if "authors" in changes:
                # The record's own list: ``merge`` wrote it as the text just compared.
                page.authors[paper_id] = record.authors
            if changes:
                page.updated.append(paper_id)
        page.seen.append(paper_id)
        sid = source_id(record)
        page.sources.append(
            SourceRow(paper_id, record.source, sid, texts[i], now, record.venue_claim)
        )
        if hits[i]:
            found = paper_hits.get(paper_id)
            if found is None:
                found = paper_hits[paper_id] = set()
            for source, category, query in hits[i]:
                page.hits.append((paper_id, source, category, query))
                found.add((source, category, query))
        if record.venue_claim is not None:
            previous = owner.get(sid)
            if previous is not None and previous != paper_id:
                page.claims.get(previous, {}).pop(sid, None)
            owner[sid] = paper_id
            claims = page.claims.get(paper_id, {})
            claims.pop(sid, None)
            page.claims[paper_id] = {sid: record.venue_claim} | claims  # the newest first
        if record.source == "s2" and record.citation_count is not None:
            page.counts.append((paper_id, record.citation_count))
    return page
