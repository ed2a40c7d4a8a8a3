"""Large pages read in the page parser's worker process: the same records, the text the
writer stores for each and their seed queries, as the fetching thread makes them; anything
else (a small page, a page that fails or logs, a worker that died) is read in the thread."""

from __future__ import annotations

import json
import os
import pickle
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from harvester import merge
from harvester.records import PaperRecord
from harvester.sources import arxiv as arxiv_source
from harvester.sources import semantic_scholar as s2_source
from harvester.sources.parsing import PageParser
from harvester.sources.queries import Read, parse_arxiv, parse_bulk

FIXTURES = Path(__file__).parent / "fixtures"
ARXIV_PAGE = FIXTURES / "arxiv" / "orij_029_q_deep_dream_start0_m10_200.xml"
S2_BULK = FIXTURES / "s2" / "ss_054_graph_paper_search_bulk_200.json"
S2_BATCH = FIXTURES / "s2" / "ss_043_graph_paper_batch_200.json"

ARXIV_PARTS = ('abs:"deep dream"', 'ti:"neural"', 'abs:"network"')
ARXIV_READ = Read(
    "survey", " OR ".join(ARXIV_PARTS), ARXIV_PARTS, tuple(parse_arxiv(p) for p in ARXIV_PARTS)
)
BULK_PARTS = ('"neural network"', '"dynamic"', '"exit"')
BULK_READ = Read(
    "survey", " | ".join(BULK_PARTS), BULK_PARTS, tuple(parse_bulk(p) for p in BULK_PARTS)
)


@pytest.fixture(scope="module")
def parser() -> Iterator[PageParser]:
    """One worker for the module, taking every page however small."""
    parser = PageParser(min_bytes=0)
    assert parser.wait_ready()
    yield parser
    parser.close()


def with_texts(records: list[PaperRecord]) -> list[PaperRecord]:
    for record in records:
        record.source_text = merge.source_text(record)
    return records


def test_an_arxiv_page_read_in_the_worker_is_the_page_read_here_with_texts_and_hits(parser):
    content = ARXIV_PAGE.read_bytes()
    total, records = arxiv_source.read_page(content)
    hits = [ARXIV_READ.found_by(r) for r in records]
    read = partial(arxiv_source._read_in_worker, url="", found_by=ARXIV_READ.found_by)

    got = parser.offload(read, content)

    assert got == (total, with_texts(records), hits)
    assert len(records) == 10 and {tuple(h) for h in hits} != {ARXIV_PARTS[:1]}


def test_a_bulk_search_page_read_in_the_worker_is_the_page_read_here(parser):
    content = S2_BULK.read_bytes()
    body = json.loads(content)
    here = s2_source._searched(body, 1000, BULK_READ.found_by)

    got = parser.offload(
        partial(s2_source._read_search, limit=1000, found_by=BULK_READ.found_by), content
    )

    assert got == s2_source._Searched(
        with_texts(here.records), here.skipped, here.items, here.token, here.total, here.found_by
    )
    assert here.records and all(r.raw is not None for r in here.records)


def test_a_batch_answer_read_in_the_worker_is_the_answer_read_here(parser):
    content = S2_BATCH.read_bytes()
    body = json.loads(content)
    here = [s2_source.to_record(item) if item is not None else None for item in body]

    got = parser.offload(partial(s2_source._read_batch, size=len(body)), content)

    assert got == [with_texts([r])[0] if r is not None else None for r in here]


def test_pages_the_worker_cannot_read_quietly_are_left_to_the_fetching_thread(parser):
    whole = ARXIV_PAGE.read_bytes()
    read = partial(arxiv_source._read_in_worker, url="", found_by=None)
    # Cut off: the thread raises the retryable error it always raised.
    assert parser.offload(read, whole[: len(whole) // 2]) is None
    # An entry without an id: arxiv.py logs that it skips it, which the thread must log.
    no_id = whole.replace(b"<id>http://arxiv.org/abs/", b"<idx>", 1)
    assert parser.offload(read, no_id) is None
    # Not the expected shape, or a malformed paper object: the thread says which.
    assert parser.offload(partial(s2_source._read_batch, size=3), S2_BATCH.read_bytes()) is None
    assert parser.offload(partial(s2_source._read_batch, size=1), b'[{"paperId": "x"}]') is None
    assert (
        parser.offload(partial(s2_source._read_search, limit=10, found_by=None), b"<html>") is None
    )


def test_small_pages_never_start_the_worker():
    parser = PageParser()
    try:
        assert (
            parser.offload(partial(arxiv_source.read_page, url=""), ARXIV_PAGE.read_bytes()) is None
        )
        assert not parser.started
    finally:
        parser.close()


def test_a_disabled_parser_never_starts_the_worker():
    parser = PageParser(enabled=False, min_bytes=0)
    assert parser.offload(partial(arxiv_source.read_page, url=""), ARXIV_PAGE.read_bytes()) is None
    assert not parser.wait_ready()
    assert not parser.started


def _exit_worker(content: bytes) -> None:
    os._exit(3)


def test_a_worker_that_dies_is_one_message_and_later_pages_are_read_here():
    parser = PageParser(min_bytes=0)
    try:
        assert parser.wait_ready()
        assert parser.offload(_exit_worker, b"page") is None
        assert parser.crashed is not None
        assert parser.crashed.startswith("page parser: the worker process stopped (")
        assert parser.crashed.endswith("later pages were parsed in the harvest's own process")
        read = partial(arxiv_source.read_page, url="")
        assert parser.offload(read, ARXIV_PAGE.read_bytes()) is None
        assert not parser.wait_ready()
    finally:
        parser.close()


def test_a_read_sent_to_the_worker_leaves_its_compiled_matcher_behind():
    record = arxiv_source.read_page(ARXIV_PAGE.read_bytes())[1][0]
    before = ARXIV_READ.found_by(record)  # compiles the matcher

    again = pickle.loads(pickle.dumps(ARXIV_READ))
    assert again == ARXIV_READ and "_matcher" not in vars(again)
    assert again.found_by(record) == before
