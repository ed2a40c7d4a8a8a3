"""Merging and derivation are pure: whole outputs on recorded answers, no database."""

from __future__ import annotations

import json

import pytest

from harvester import derive, merge
from harvester.records import PaperRecord
from harvester.rows import StoredPage
from harvester.sources.semantic_scholar import to_record
from tests.conftest import ROOT

NOW = "2026-01-01T00:00:00Z"
DERIVED = ("venue", "venue_year", "award", "milestone", "category", "score")
# The columns of ``papers`` (what ``store.papers.paper_columns`` reads from the schema).
COLUMNS = [
    *("id", "title", "title_key", "abstract", "authors", "year", "venue", "venue_year"),
    *("arxiv_id", "arxiv_version", "doi", "s2_id", "published", "updated"),
    *("primary_category", "arxiv_categories", "comment", "journal_ref", "citation_count"),
    *("influential_citation_count", "publication_date", "tldr", "s2_refreshed", "category"),
    *("score", "status", "milestone", "award", "focus", "notes", "is_seed", "manual_fields"),
    *("first_seen", "last_seen"),
]


def answer(name: str, index: int = 0) -> dict:
    body = json.loads((ROOT / "tests" / "fixtures" / "s2" / name).read_text(encoding="utf-8"))
    return (body if isinstance(body, list) else body["data"])[index]


def merged(*records: PaperRecord, hits=None) -> merge.MergedPage:
    return merge.merge_page(
        StoredPage(columns=COLUMNS),
        records,
        [merge.source_text(r) for r in records],
        hits or [[] for _ in records],
        NOW,
    )


def derived_fields(rules, page: merge.MergedPage, paper_id: int) -> dict:
    row = page.rows[paper_id]
    result = derive.derive(
        rules, row, page.claims.get(paper_id, {}).values(), page.paper_hits.get(paper_id, ())
    )
    return {k: (row | result.changes)[k] for k in DERIVED}


@pytest.mark.parametrize(
    "name, index, fields",
    [
        (
            "pqa_094_graph_paper_search_match_200.json",
            0,
            dict(
                venue="NeurIPS", venue_year=2017, award=None, milestone=1, category=None, score=0.0
            ),
        ),
        (
            "ssh_189_graph_paper_search_match_200.json",
            0,
            dict(
                venue="SIGMOD", venue_year=1993, award=None, milestone=1, category=None, score=0.0
            ),
        ),
        (
            "ss_043_graph_paper_batch_200.json",
            1,
            dict(
                venue="Experimental…",
                venue_year=2001,
                award=None,
                milestone=1,
                category="survey",
                score=6.0,
            ),
        ),
        (
            "ss_043_graph_paper_batch_200.json",
            3,
            dict(
                venue="Unknown", venue_year=2023, award=None, milestone=0, category=None, score=0.0
            ),
        ),
    ],
)
def test_recorded_answers_are_placed_by_the_rules(rules, name, index, fields):
    page = merged(to_record(answer(name, index)))
    assert derived_fields(rules, page, 1) == fields


def test_an_arxiv_preprint_and_its_semantic_scholar_answer_are_one_paper(rules):
    """arXiv gives the text and dates, Semantic Scholar the citations, ids and venue: the
    published venue's year (NeurIPS 2017, from the DBLP key) beside the preprint's."""
    s2 = to_record(answer("pqa_094_graph_paper_search_match_200.json"))
    arxiv = PaperRecord(
        source="arxiv",
        title="Attention Is All You Need",
        abstract="The dominant sequence transduction models are based on recurrent networks.",
        authors=["Ashish Vaswani", "Noam Shazeer"],
        arxiv_id="1706.03762",
        arxiv_version=7,
        published="2017-06-12",
        updated="2023-08-02",
        year=2017,
        primary_category="cs.CL",
        categories=["cs.CL", "cs.LG"],
    )
    page = merged(arxiv, s2, hits=[[("arxiv", "survey", "q")], [("s2", "system", "b")]])
    assert (page.new, page.seen) == ([1], [1, 1])
    row = page.rows[1]
    assert {k: row[k] for k in ("title", "arxiv_id", "arxiv_version", "s2_id", "year")} == {
        "title": "Attention Is All You Need",
        "arxiv_id": "1706.03762",
        "arxiv_version": 7,
        "s2_id": s2.s2_id,
        "year": 2017,
    }
    assert row["citation_count"] == s2.citation_count
    assert json.loads(row["authors"]) == ["Ashish Vaswani", "Noam Shazeer"]
    assert page.paper_hits[1] == {("arxiv", "survey", "q"), ("s2", "system", "b")}
    assert [(s.source, s.source_id) for s in page.sources] == [
        ("arxiv", "1706.03762"),
        ("s2", s2.s2_id),
    ]
    assert derived_fields(rules, page, 1)["venue"] == "NeurIPS"


def test_a_person_s_fields_outrank_every_source():
    stored = dict.fromkeys(COLUMNS) | {
        "id": 1,
        "title": "Mine",
        "title_key": "mine",
        "manual_fields": json.dumps(["title", "category"]),
        "arxiv_version": 1,
    }
    record = PaperRecord(source="arxiv", title="Theirs", arxiv_id="1", arxiv_version=2)
    assert "title" not in merge.merge(stored, record)


class _Reading(dict):
    """A paper row that notes which columns are read."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.read: set[str] = set()

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        self.read.add(key)
        return super().get(key, default)


def test_the_fingerprint_covers_every_column_derive_reads(rules):
    """A writer derives a paper again only when its fingerprint changes: a column derive
    reads that the fingerprint leaves out (the arXiv primary class, which breaks category
    near-ties) would leave a stale category behind."""
    arxiv = PaperRecord(
        source="arxiv",
        title="Dynamic early exit serving on accelerators",
        abstract="An early exit accelerator for serving dynamic neural networks on devices.",
        authors=["A. Author"],
        arxiv_id="2501.00001",
        published="2025-01-02",
        year=2025,
        primary_category="cs.AR",
        categories=["cs.AR", "cs.LG"],
    )
    page = merged(arxiv, hits=[[("arxiv", "early_exit", "q")]])
    row = _Reading(page.rows[1])
    derive.derive(rules, row, page.claims.get(1, {}).values(), page.paper_hits.get(1, ()))
    assert row.read - {*derive.INPUTS, *derive.DERIVED} == set()
