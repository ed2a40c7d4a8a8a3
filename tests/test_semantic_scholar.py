"""The Semantic Scholar source on real recorded answers, replayed by the loopback server."""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path

import pytest

from harvester.config import Config
from harvester.errors import QueryError, SourceError
from harvester.http import RequestLog, Service, make_client
from harvester.records import PaperRecord, VenueClaim
from harvester.sources.semantic_scholar import (
    SemanticScholarSource,
    batch_id,
    describe_error,
    to_record,
)
from tests.loopback import FakeS2

RECORDED = Path(__file__).parent / "fixtures" / "s2"
KEY = "test-key-not-a-secret"


def recorded(name: str) -> bytes:
    return (RECORDED / name).read_bytes()


def replay(fake_s2: FakeS2, *answers: tuple[int, str]) -> None:
    fake_s2.canned = [(status, recorded(name)) for status, name in answers]


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def s2(config: Config, sleeps: list[float]):
    with make_client(config) as client:
        service = Service(
            "s2",
            client,
            delay=0,
            retries=3,
            backoff_max=30,
            requests=RequestLog(),
            headers={"x-api-key": KEY},
            sleep=sleeps.append,
            describe_error=describe_error,
        )
        yield SemanticScholarSource(service, config.s2_url)


def test_batch_keeps_unknown_ids_as_none_in_place(s2, fake_s2, server):
    replay(fake_s2, (200, "ss_043_graph_paper_batch_200.json"))
    ids = [
        "CorpusId:211530585",
        "CorpusId:470667",
        "DOI:10.2139/ssrn.2250500",
        "0f40b1f08821e22e859c6050916cec3667778613",
    ]
    records = s2.batch(ids)
    assert records[0] is None and all(records[1:])
    paper = records[1]
    assert paper.s2_id == "c31c87c591a25c64fbaa82e8ac6a81831b6ac7ce"
    assert paper.title == "How Much Should We Trust Differences-in-Differences Estimates?"
    assert paper.doi == "10.2139/ssrn.288970"
    assert paper.citation_count == 10670 and paper.influential_citation_count == 578
    assert paper.year == 2001 and paper.publication_date == "2001-10-01"
    assert paper.authors == ["Marianne Bertrand", "E. Duflo", "S. Mullainathan"]
    assert "Experimental & Empirical Studies eJournal" in paper.venue_claim.names
    [request] = fake_s2.requests
    assert request["method"] == "POST" and request["body"] == {"ids": ids}
    assert "tldr" in request["params"]["fields"].split(",")


def test_batch_costs_one_request_per_500_ids(s2, fake_s2, server):
    ids = [f"ARXIV:2301.{i:05d}" for i in range(1200)]
    records = s2.batch(ids)
    assert records == [None] * 1200
    assert [len(r["body"]["ids"]) for r in fake_s2.requests] == [500, 500, 200]


def test_bulk_search_follows_the_token_to_the_last_page(s2, fake_s2, server):
    replay(
        fake_s2,
        (200, "ss_054_graph_paper_search_bulk_200.json"),
        (200, "ss_059_graph_paper_search_bulk_200.json"),
    )
    pages = list(s2.search_pages("kubernetes", max_results=10_000))
    # The second recording asked for citationCount only: objects without a title are skipped.
    assert [(len(p.records), p.skipped) for p in pages] == [(1000, 0), (0, 27)]
    assert pages[0].cursor.token and pages[1].cursor.token is None
    first, second = fake_s2.requests
    assert "token" not in first["params"]
    assert (
        second["params"]["token"]
        == json.loads(recorded("ss_054_graph_paper_search_bulk_200.json"))["token"]
    )
    assert second["params"]["query"] == "kubernetes"


def test_bulk_search_stops_at_the_per_query_cap(s2, fake_s2, server):
    replay(fake_s2, (200, "ss_054_graph_paper_search_bulk_200.json"))
    pages = list(s2.search_pages("kubernetes", max_results=300))
    assert sum(len(p.records) for p in pages) == 300
    assert len(fake_s2.requests) == 1


def test_search_page_objects_parse_into_records():
    for name in ("ss_093_graph_paper_search_200.json", "ss_053_graph_paper_search_200.json"):
        data = json.loads(recorded(name))["data"]
        records = [to_record(item) for item in data]
        assert len(records) == 100 and all(r.s2_id and r.title for r in records)
    full = to_record(json.loads(recorded("ss_093_graph_paper_search_200.json"))["data"][0])
    assert full.arxiv_id == "2503.23674" and "arXiv.org" in full.venue_claim.names
    assert full.venue_claim.dblp == "journals/corr/abs-2503-23674"


def test_recorded_paper_objects_read_into_the_records_they_always_gave():
    """``records.json``: what the package's ``Paper`` model made of these answers."""
    wanted = json.loads(recorded("records.json"))
    for name, records in wanted.items():
        body = json.loads(recorded(name))
        items = body if isinstance(body, list) else body["data"]
        got = []
        for item in items:
            fields = dataclasses.asdict(to_record(item)) if item is not None else None
            if fields is not None:
                assert fields.pop("raw") == item
                del fields["abstract"]
            got.append(json.loads(json.dumps(fields)))
        assert got == records, name


def test_a_batch_paper_with_every_field_reads_into_this_whole_record():
    data = {
        "paperId": "p1",
        "externalIds": {"ArXiv": "1703.09844v5", "DOI": "10.1/x", "DBLP": "conf/iclr/Huang18"},
        "title": "  Multi-Scale Dense\nNetworks ",
        "abstract": "We add  early\texits.",
        "venue": "ICLR",
        "publicationVenue": {
            "name": "International Conference on Learning Representations",
            "type": "conference",
            "alternate_names": ["ICLR"],
        },
        "year": 2018,
        "publicationDate": "2017-03-29",
        "citationCount": 860,
        "influentialCitationCount": 90,
        "authors": [{"authorId": "1", "name": "Gao Huang"}, {"authorId": "2", "name": None}],
        "journal": {"name": "ArXiv", "volume": "abs/1703.09844"},
        "tldr": {"model": "tldr@v2.0.0", "text": "Exits at several depths."},
    }
    assert to_record(data) == PaperRecord(
        source="s2",
        title="Multi-Scale Dense Networks",
        abstract="We add early exits.",
        authors=["Gao Huang"],
        arxiv_id="1703.09844",
        doi="10.1/x",
        s2_id="p1",
        year=2018,
        citation_count=860,
        influential_citation_count=90,
        venue_claim=VenueClaim(
            names=("International Conference on Learning Representations", "ICLR", "ICLR", "ArXiv"),
            dblp="conf/iclr/Huang18",
            year=2018,
            kind="conference",
        ),
        publication_date="2017-03-29",
        tldr="Exits at several depths.",
        source_id="p1",
        raw=data,
    )
    assert to_record({**data, "tldr": None, "publicationDate": None, "authors": None}) == (
        dataclasses.replace(
            to_record(data),
            tldr=None,
            publication_date=None,
            authors=[],
            raw={**data, "tldr": None, "publicationDate": None, "authors": None},
        )
    )


def test_empty_search_answer_is_no_results(s2, fake_s2, server):
    replay(fake_s2, (200, "ss_003_graph_paper_search_200.json"))
    pages = list(s2.search_pages("n0 r3sult s3arch t3rm", max_results=100))
    assert [p.records for p in pages] == [[]]


def test_title_match_hit(s2, fake_s2, server):
    replay(fake_s2, (200, "pqa_094_graph_paper_search_match_200.json"))
    paper = s2.match_title("Attention is all you need")
    assert paper.s2_id == "204e3073870fae3d05bcbc2f6a8e263d9b72e776"
    assert (
        paper.arxiv_id == "1706.03762"
        and paper.venue_claim.dblp == "journals/corr/VaswaniSPUJGKP17"
    )


@pytest.mark.parametrize(
    "status, name",
    [
        (404, "pqa_096_graph_paper_search_match_404.json"),
        (200, "pqa_126_graph_paper_search_match_200.json"),
    ],
)
def test_title_match_miss_either_way_is_none(s2, fake_s2, server, status, name):
    replay(fake_s2, (status, name))
    assert s2.match_title("abs12032jsdafn") is None
    assert len(fake_s2.requests) == 1


def test_title_match_of_another_title_is_not_taken(s2, fake_s2, server):
    replay(fake_s2, (200, "ssh_189_graph_paper_search_match_200.json"))
    assert s2.match_title("Mining association rules between") is None


def test_real_429_without_retry_after_backs_off_and_retries(s2, fake_s2, server, sleeps):
    replay(
        fake_s2,
        (429, "ss_092_graph_paper_search_429.json"),
        (429, "ss_092_graph_paper_search_429.json"),
        (200, "pqa_094_graph_paper_search_match_200.json"),
    )
    assert s2.match_title("Attention is All you Need") is not None
    assert len(fake_s2.requests) == 3
    # Exponential with jitter, no Retry-After to honour: about 2 s, then about 4 s.
    assert 2 <= sleeps[0] <= 4 and 4 <= sleeps[1] <= 6


def test_504_with_json_message_is_retried(s2, fake_s2, server):
    replay(
        fake_s2,
        (504, "ssh_311_graph_paper_CorpusID_49313245_citations_504.json"),
        (200, "pqa_094_graph_paper_search_match_200.json"),
    )
    assert s2.match_title("Attention is All you Need") is not None


def test_403_is_reported_at_once_and_names_the_key(s2, fake_s2, server):
    replay(fake_s2, (403, "ss_002_graph_paper_batch_403.json"))
    with pytest.raises(
        SourceError, match=r"HTTP 403: access refused \(Forbidden\); check the API key"
    ):
        s2.batch(["CorpusId:470667"])
    assert len(fake_s2.requests) == 1


def test_400_is_a_query_error_with_the_services_message(s2, fake_s2, server):
    replay(fake_s2, (400, "ssh_227_graph_paper_search_400.json"))
    with pytest.raises(
        QueryError, match="Requested data for this limit and/or offset is not available"
    ):
        list(s2.search_pages("edit distance", max_results=10))


@pytest.mark.parametrize(
    "fault", ["502", "503", "500-json", "504-json", "truncate", "short", "reset", "200-html", "429"]
)
def test_transient_faults_are_retried_then_answered(s2, fake_s2, server, fault):
    fake_s2.corpus = [
        {"paperId": "a" * 40, "title": "Early exit", "externalIds": {"ArXiv": "2301.00001"}}
    ]
    fake_s2.faults = [fault]
    [record] = s2.batch(["ARXIV:2301.00001"])
    assert record.s2_id == "a" * 40
    assert len(fake_s2.requests) == 2


def test_failure_past_the_retries_is_an_error_never_no_results(s2, fake_s2, server):
    fake_s2.faults = ["502"] * 4
    with pytest.raises(SourceError, match="gave up after 4 attempts: HTTP 502"):
        list(s2.search_pages('"early exit"', max_results=10))


def test_wrong_length_batch_answer_is_retried(s2, fake_s2, server):
    fake_s2.canned = [(200, b"[null]"), (200, b"[null, null]")]
    assert s2.batch(["ARXIV:1", "ARXIV:2"]) == [None, None]


def test_api_key_is_sent_on_every_endpoint_and_never_logged(s2, fake_s2, server, caplog):
    caplog.set_level(logging.DEBUG)
    s2.batch(["ARXIV:2301.00001"])
    list(s2.search_pages('"early exit"', max_results=10))
    s2.match_title("Cavs")
    assert [r["api_key"] for r in fake_s2.requests] == [KEY, KEY, KEY]
    assert KEY not in caplog.text


def test_query_text_is_url_escaped(s2, fake_s2, server):
    list(s2.search_pages('"early exit" & anytime?', max_results=10))
    assert fake_s2.requests[0]["params"]["query"] == '"early exit" & anytime?'


def test_batch_ids_prefer_s2_then_arxiv_then_doi():
    assert batch_id({"s2_id": "abc", "arxiv_id": "1703.09844", "doi": "10.1/x"}) == "abc"
    assert batch_id({"s2_id": None, "arxiv_id": "1703.09844", "doi": None}) == "ARXIV:1703.09844"
    assert batch_id({"s2_id": None, "arxiv_id": None, "doi": "10.1/x"}) == "DOI:10.1/x"


@pytest.mark.parametrize(
    "bad",
    [
        {},
        {"paperId": None, "title": "x"},
        {"paperId": "a", "title": ""},
        {"paperId": "a", "title": "t", "citationCount": "many"},
        {"paperId": "a", "title": "t", "publicationDate": "May 2020"},
        {"paperId": "a", "title": "t", "authors": 5},
        {"paperId": "a", "title": "t", "publicationDate": "2020-02-30"},
        {"paperId": "a", "title": "t", "authors": [None]},
        {"paperId": "a", "title": "t", "tldr": 5},
        {"paperId": "a", "title": "t", "journal": 5},
        ["paperId", "title"],
    ],
)
def test_malformed_paper_object_is_our_error(bad):
    with pytest.raises(SourceError, match="malformed paper object"):
        to_record(bad)
