"""The arXiv source over real HTTP against the loopback server: paging, retries, resuming."""

from __future__ import annotations

import pytest

from harvester.config import Config
from harvester.errors import QueryError, SourceError
from harvester.http import RequestLog, Service, make_client
from harvester.sources.arxiv import ArxivSource, describe_error
from tests.conftest import synthetic_entries
from tests.loopback import FakeArxiv

QUERY = 'abs:"early exit"'


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def source(config: Config, sleeps: list[float]):
    with make_client(config) as client:
        service = Service(
            "arxiv",
            client,
            delay=0,
            retries=config.retries,
            backoff_max=config.backoff_max,
            requests=RequestLog(),
            sleep=sleeps.append,
            describe_error=describe_error,
        )
        yield ArxivSource(service, config.arxiv_url, page_size=100)


def ids(pages) -> list[str]:
    return [r.arxiv_id for page in pages for r in page.records]


def test_pages_newest_first_until_total_results(source, fake_arxiv: FakeArxiv, server):
    fake_arxiv.corpus = synthetic_entries(250)
    pages = list(source.search_pages(QUERY, max_results=10_000))
    assert [(p.start, len(p.records)) for p in pages] == [(0, 100), (100, 100), (200, 50)]
    assert len(set(ids(pages))) == 250
    sent = list(server.search_requests())
    assert [r["start"] for r in sent] == ["0", "100", "200"]
    assert {r["sortBy"] for r in sent} == {"submittedDate"}
    assert {r["sortOrder"] for r in sent} == {"descending"}
    dates = [p.published for page in pages for p in page.records]
    assert dates == sorted(dates, reverse=True)


def test_per_query_cap_limits_results_and_requests(source, fake_arxiv, server):
    fake_arxiv.corpus = synthetic_entries(250)
    pages = list(source.search_pages(QUERY, max_results=120))
    assert len(ids(pages)) == 120
    assert [r["max_results"] for r in server.search_requests()] == ["100", "20"]


def test_no_results_is_one_request_and_no_pages(source, fake_arxiv, server):
    fake_arxiv.corpus = synthetic_entries(3)
    pages = list(source.search_pages('abs:"nothing like this"', max_results=100))
    assert ids(pages) == []
    assert len(server.arxiv.requests) == 1


@pytest.mark.parametrize(
    "fault", ["429", "429:7", "500", "502", "503", "504", "truncate", "short", "reset", "200-html"]
)
def test_transient_fault_is_retried_and_loses_nothing(source, fake_arxiv, server, fault):
    fake_arxiv.corpus = synthetic_entries(150)
    fake_arxiv.faults = [fault]
    pages = list(source.search_pages(QUERY, max_results=10_000))
    assert len(set(ids(pages))) == 150
    assert source.service.requests.counts["arxiv"] == 3  # two pages + one retry


def test_empty_page_in_the_middle_is_retried_not_taken_as_the_end(source, fake_arxiv, server):
    fake_arxiv.corpus = synthetic_entries(250)
    fake_arxiv.faults = [None, "empty"]  # the second page comes back empty once
    pages = list(source.search_pages(QUERY, max_results=10_000))
    assert len(set(ids(pages))) == 250
    starts = [r["start"] for r in server.search_requests()]
    assert starts == ["0", "100", "100", "200"]


def test_empty_first_page_with_results_pending_is_retried(source, fake_arxiv, server):
    fake_arxiv.corpus = synthetic_entries(20)
    fake_arxiv.faults = ["empty"]
    pages = list(source.search_pages(QUERY, max_results=10_000))
    assert len(ids(pages)) == 20


def test_retry_after_is_honoured_and_backoff_grows(config, fake_arxiv, server, sleeps):
    fake_arxiv.corpus = synthetic_entries(5)
    fake_arxiv.faults = ["429:7", "503", "503"]
    with make_client(config) as client:
        service = Service("arxiv", client, delay=0, retries=5, backoff_max=60, sleep=sleeps.append)
        pages = list(ArxivSource(service, config.arxiv_url).search_pages(QUERY, max_results=10))
    assert len(ids(pages)) == 5
    assert sleeps[0] == 7
    # Exponential with jitter: each wait at least the doubled base.
    assert sleeps[1] >= 4 and 8 <= sleeps[2] <= 60


def test_fault_past_the_retries_is_reported_after_the_pages_it_got(source, fake_arxiv, server):
    fake_arxiv.corpus = synthetic_entries(250)
    fake_arxiv.faults = [None] + ["503"] * 4  # page 2 fails on every attempt
    got = []
    with pytest.raises(SourceError, match=r"gave up after 4 attempts: HTTP 503"):
        for page in source.search_pages(QUERY, max_results=10_000):
            got.append(page)
    assert [p.cursor.offset for p in got] == [100]
    # Resume from the offset reached: only what is missing is fetched.
    rest = list(source.search_pages(QUERY, max_results=10_000, cursor=got[-1].cursor))
    assert len(set(ids(got) + ids(rest))) == 250
    assert [r["start"] for r in server.search_requests()][-2:] == ["100", "200"]


def test_a_failure_carries_its_status_and_attempts(source, fake_arxiv, server):
    fake_arxiv.corpus = synthetic_entries(5)
    fake_arxiv.faults = ["503"] * 4
    with pytest.raises(SourceError) as failed:
        list(source.search_pages(QUERY, max_results=10))
    assert (failed.value.status, failed.value.attempts, failed.value.source) == (503, 4, "arxiv")
    with pytest.raises(QueryError) as rejected:
        source.fetch_ids(["abc"])
    assert (rejected.value.status, rejected.value.attempts) == (400, 1)


def test_seed_ids_are_fetched_in_one_request(source, fake_arxiv, server):
    fake_arxiv.corpus = synthetic_entries(10)
    records = source.fetch_ids(["2301.00001", "2301.00004", "2301.09999"])
    assert sorted(r.arxiv_id for r in records) == ["2301.00001", "2301.00004"]
    [request] = server.arxiv.requests
    assert request["id_list"] == "2301.00001,2301.00004,2301.09999"


def test_malformed_id_fails_at_once_with_arxivs_message(source, fake_arxiv, server):
    with pytest.raises(QueryError, match="incorrect id format for abc"):
        source.fetch_ids(["abc"])
    assert len(server.arxiv.requests) == 1  # a 400 is not retried


def test_requests_name_the_tool_and_a_contact(source, fake_arxiv, server, config):
    fake_arxiv.corpus = synthetic_entries(1)
    list(source.search_pages(QUERY, max_results=10))
    ua = server.arxiv.requests[0]["_ua"]
    assert ua.startswith("harvester/") and f"mailto:{config.contact}" in ua


def test_old_layout_server_is_read_the_same(source, fake_arxiv, server):
    fake_arxiv.corpus = synthetic_entries(30)
    fake_arxiv.layout = "old"
    assert len(ids(source.search_pages(QUERY, max_results=100))) == 30
