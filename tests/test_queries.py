"""Combined queries: each category's queries sent as one request, with the hits the queries
sent one by one would have recorded."""

from __future__ import annotations

import dataclasses

import pytest

from harvester import store, watermarks
from harvester.harvest import run_harvest
from harvester.records import PaperRecord
from harvester.sources import arxiv as arxiv_source
from harvester.sources import queries
from harvester.sources import semantic_scholar as s2_source
from tests import field_corpus
from tests.conftest import snapshot
from tests.loopback import LoopbackServer, load_corpus, load_edges, load_s2_corpus, search


def paper(title: str = "", abstract: str = "", **kw) -> PaperRecord:
    return PaperRecord(source="arxiv", title=title, abstract=abstract, **kw)


def matches(query: str, record: PaperRecord, bulk: bool = False) -> bool:
    [read] = queries._combine(  # one part: no combining, only the parsed tree
        "c",
        [query, query],
        [query, query],
        queries.parse_bulk if bulk else queries.parse_arxiv,
        lambda g: " OR ".join(g),
        lambda q: True,
    )
    return read.found_by(record) == [query, query]


def test_phrases_match_words_in_order_whatever_their_case_and_plural():
    record = paper("Early-Exits for BERT", "We add exit heads to layers.", categories=["cs.CL"])
    assert matches('ti:"early exit"', record)
    assert matches('abs:"exit head" AND cat:cs.CL', record)
    assert not matches('abs:"heads exit"', record)
    assert not matches('ti:"early exit" ANDNOT abs:layers', record)
    assert matches("cat:cs.*", record) and not matches("cat:cs.LG", record)
    assert matches('("early exit" | overthinking) + -speech', record, bulk=True)
    assert not matches('"early exit" + -BERT', record, bulk=True)


def test_queries_this_module_cannot_read_are_sent_alone():
    # A date range and a wildcard have no exact local reading.
    odd = ["submittedDate:[202301010000 TO 202312312359]", "abs:exit*"]
    plain = ['ti:"early exit"', 'abs:"multi-exit"']
    reads = queries.arxiv_reads("early_exit", [plain[0], *odd, plain[1]], (), lambda q: True)
    assert [r.parts for r in reads] == [(plain[0],), (odd[0],), (odd[1],), (plain[1],)]


def test_a_category_too_long_for_one_request_is_split_into_as_few_as_fit():
    parts = [f'abs:"phrase number {i}"' for i in range(10)]
    reads = queries.arxiv_reads("c", parts, ("cs.LG",), lambda q: len(q) <= 150)
    assert [len(r.parts) for r in reads] == [5, 5]
    assert all(len(r.query) <= 150 for r in reads)
    assert reads[0].query == "(" + " OR ".join(parts[:5]) + ") AND (cat:cs.LG)"
    # Each part keeps the form it had alone: its hits and old watermark are recorded under it.
    assert reads[0].parts[0] == '(abs:"phrase number 0") AND (cat:cs.LG)'


def test_a_part_with_an_and_keeps_its_parentheses_inside_the_or():
    [read] = queries.arxiv_reads("c", ["ti:a OR ti:b", "abs:x AND abs:y"], (), lambda q: True)
    assert read.query == "ti:a OR ti:b OR (abs:x AND abs:y)"
    [bulk] = queries.s2_reads("c", ['"a" | b', "x + y"], lambda q: True)
    assert bulk.query == '"a" | b | (x + y)'


@pytest.mark.parametrize("corpus", ["labelled", "field"])
def test_each_returned_record_is_found_by_the_queries_that_would_have_found_it_alone(seeds, corpus):
    entries = load_corpus() if corpus == "labelled" else field_corpus.arxiv_entries()
    by_id = {e.arxiv_id: e for e in entries}
    from tests.loopback import render_feed

    records = [
        arxiv_source.to_record(r)
        for r in arxiv_source.parse_feed(
            render_feed(entries, len(entries), 0, len(entries))
        ).results
    ]
    checked = 0
    for category in seeds.categories.values():
        for read in queries.arxiv_reads(
            category.key, category.arxiv_queries, category.arxiv_categories, lambda q: True
        ):
            alone = {part: {e.arxiv_id for e in search(entries, part)} for part in read.parts}
            for record in records:
                wanted = [part for part in read.parts if record.arxiv_id in alone[part]]
                if wanted:  # the combined query returns it
                    assert read.found_by(record) == wanted, by_id[record.arxiv_id].title
                    checked += 1
    assert checked > 100


def test_a_combined_read_tells_apart_parts_over_every_field_and_operator():
    parts = [
        'ti:"early exit"',
        'abs:"exit heads"',
        'au:"Ada Lovelace"',
        'co:"ICLR 2024"',
        'jr:"Neural Computation"',
        'all:"skip layers"',
        "id:2101.00001",
        "cat:stat.*",
        "abs:gating ANDNOT ti:survey",
        'ti:"s"',  # a word that is all plural s: its phrase is two spaces
    ]
    [read] = queries.arxiv_reads("c", parts, (), lambda q: True)
    records = [
        paper("Early-Exits for BERT", "Exit heads on layers.", authors=["Ada Lovelace"]),
        paper(
            "A survey of gating",
            "Gating skips layers.",
            arxiv_id="2101.00001",
            categories=["stat.ML"],
            comment="Accepted at ICLR 2024",
        ),
        paper("Gating networks", None, journal_ref="Neural Computation 12 (2000)"),
        paper("Nothing here", "", primary_category="cs.LG"),
        paper("Dynamic", "Learned gating, for speed.", authors=["Skip Layers"]),
        paper("Ss: a name", "Early exit heads"),
    ]
    assert [read.found_by(r) for r in records] == [
        parts[0:3],
        [parts[3], parts[5], parts[6], parts[7]],
        [parts[4]],
        [parts[0]],  # none matches here: the first, the service found it by one of them
        [parts[5], parts[8]],
        [parts[1], parts[9]],
    ]


@pytest.mark.parametrize("corpus", ["labelled", "field"])
def test_each_s2_paper_is_found_by_the_bulk_queries_that_would_have_found_it_alone(seeds, corpus):
    from tests.loopback import _bulk_matches, _BulkParser

    papers = load_s2_corpus() if corpus == "labelled" else field_corpus.s2_papers()
    checked = 0
    for category in seeds.categories.values():
        for read in queries.s2_reads(category.key, category.s2_queries, lambda q: True):
            trees = {part: _BulkParser(part).parse() for part in read.parts}
            for data in papers:
                wanted = [part for part in read.parts if _bulk_matches(trees[part], data)]
                if wanted:  # the combined query returns it
                    assert read.found_by(s2_source.to_record(data)) == wanted, data["title"]
                    checked += 1
    assert checked > 100


def one_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """The harvester as it was: every seed query its own request."""
    monkeypatch.setattr(arxiv_source.ArxivSource, "fits", lambda self, q: False)
    monkeypatch.setattr(s2_source.SemanticScholarSource, "fits", lambda self, q: False)


@pytest.mark.parametrize("corpus", ["labelled", "field"])
def test_combined_queries_store_what_the_queries_one_by_one_store(
    seeds, config, tmp_path, monkeypatch, corpus
):
    """Same papers, categories, scores and reasons, query hits, sources and citations, on
    the labelled corpus and on the field corpus, in fewer requests."""
    if corpus == "labelled":
        arxiv, s2, edges = load_corpus(), load_s2_corpus(), load_edges()
    else:
        arxiv, s2, edges = (
            field_corpus.arxiv_entries(),
            field_corpus.s2_papers(),
            field_corpus.edges(),
        )
    from tests.loopback import FakeArxiv, FakeS2

    def harvest(name: str) -> tuple[dict, dict[str, int]]:
        with LoopbackServer(FakeArxiv(list(arxiv)), FakeS2(list(s2), edges=list(edges))) as srv:
            cfg = dataclasses.replace(config, arxiv_url=srv.arxiv_url, s2_url=srv.s2_url)
            db = store.open_db(tmp_path / f"{name}.db")
            result = run_harvest(db, seeds, cfg)
            assert result.status == "ok", result.errors
            return snapshot(db), result.requests

    combined, fewer = harvest("combined")
    with monkeypatch.context() as patch:
        one_by_one(patch)
        alone, more = harvest("alone")
    assert combined == alone
    assert fewer["arxiv"] < more["arxiv"] and fewer["s2"] < more["s2"]


def test_old_per_query_watermarks_seed_the_combined_query_with_the_oldest(db, seeds, config):
    category = seeds.categories["early_exit"]
    parts = category.arxiv_search_queries()
    run = store.start_run(db, {})
    with store.write_transaction(db):
        for i, part in enumerate(parts):
            wm = watermarks.Watermark("arxiv", "early_exit", part)
            watermarks.complete(db, wm, newest=f"2024-06-{10 + i:02d}", run_id=run)
    combined = "the combined query"
    wm = watermarks.load_read(db, "arxiv", "early_exit", combined, parts)
    assert (wm.query, wm.newest, wm.unfinished) == (combined, "2024-06-10", False)
    # One part never read to its end: the combined query reads to its end too.
    with store.write_transaction(db):
        watermarks.progress(
            db,
            watermarks.Watermark("arxiv", "early_exit", parts[1]),
            offset=10,
            token=None,
            newest="2024-06-20",
            run_id=run,
        )
    assert watermarks.load_read(db, "arxiv", "early_exit", combined, parts).newest is None
    # Its first complete read replaces the parts' rows.
    with store.write_transaction(db):
        watermarks.complete(db, wm, newest="2024-07-01", run_id=run, replaces=parts)
    assert [w["query"] for w in watermarks.all_watermarks(db)] == [combined]
