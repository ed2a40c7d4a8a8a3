"""Semantic Scholar's Recommendations API, the source side: one POST with the positives and
negatives, through the same service as every S2 request (pace, retries, the key), counted
apart in the request log, its errors told apart; and the loopback server's endpoint."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from harvester.config import Config, load_config, recommendations_url
from harvester.errors import ConfigError, QueryError, SourceError
from harvester.records import PaperRecord, normalise_title
from harvester.sources import open_sources
from harvester.sources.semantic_scholar import RECOMMEND_ENDPOINT, SEARCH_FIELDS
from tests import field_corpus as fc
from tests.loopback import FakeS2, LoopbackServer

KEY = "test-key-not-a-secret"
MSDNET = "ARXIV:1703.09844"

# An answer in the shape the service gives (``recommendedPapers``, best first, with the
# fields asked for): two real papers, their bibliographic facts, no abstracts.
ANSWER = {
    "recommendedPapers": [
        {
            "paperId": "7d3b1c2f0e5a4b6c8d9e0f1a2b3c4d5e6f7a8b9c",
            "externalIds": {"ArXiv": "1709.01686", "DBLP": "journals/corr/abs-1709-01686"},
            "title": "BranchyNet: Fast Inference via Early Exiting from Deep Neural Networks",
            "abstract": None,
            "venue": "International Conference on Pattern Recognition",
            "publicationVenue": None,
            "year": 2016,
            "publicationDate": "2016-12-01",
            "citationCount": 1100,
            "influentialCitationCount": 120,
            "authors": [{"authorId": "2064056", "name": "Surat Teerapittayanon"}],
            "journal": {"name": "2016 23rd International Conference on Pattern Recognition"},
        },
        {
            "paperId": "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567",
            "externalIds": {"ArXiv": "1810.07052"},
            "title": "Shallow-Deep Networks: Understanding and Mitigating Network Overthinking",
            "abstract": None,
            "venue": "International Conference on Machine Learning",
            "publicationVenue": None,
            "year": 2018,
            "publicationDate": "2018-10-16",
            "citationCount": 350,
            "influentialCitationCount": 40,
            "authors": [{"authorId": "1", "name": "Yigitcan Kaya"}],
            "journal": None,
        },
        {"paperId": None, "title": "an entry S2 could not resolve"},
    ]
}


@pytest.fixture
def keyed(config: Config) -> Config:
    return Config(**{**config.__dict__, "s2_api_key": KEY})


def answer(fake_s2: FakeS2, status: int, body: object) -> None:
    fake_s2.canned.append((status, json.dumps(body).encode()))


def test_recommendations_post_the_ids_with_the_key_to_the_recommendations_api(
    keyed, fake_s2, server, caplog
):
    caplog.set_level(logging.DEBUG)
    answer(fake_s2, 200, ANSWER)
    with open_sources(keyed) as sources:
        sources.s2.recommend([MSDNET, "a" * 40], ["b" * 40], limit=20)
        counted = sources.requests.as_dict()
    [request] = fake_s2.requests
    assert request == {
        "method": "POST",
        "path": "/recommendations/v1/papers/",
        "params": {"fields": SEARCH_FIELDS, "limit": "20"},
        "body": {"positivePaperIds": [MSDNET, "a" * 40], "negativePaperIds": ["b" * 40]},
        "api_key": KEY,
        "ua": keyed.user_agent,
    }
    assert counted == {RECOMMEND_ENDPOINT: 1}
    assert KEY not in caplog.text


def test_a_recorded_shaped_answer_becomes_records_best_first(config, fake_s2, server):
    answer(fake_s2, 200, ANSWER)
    with open_sources(config) as sources:
        records = sources.s2.recommend([MSDNET])
    assert [(r.title, r.arxiv_id, r.s2_id, r.year, r.citation_count) for r in records] == [
        (
            "BranchyNet: Fast Inference via Early Exiting from Deep Neural Networks",
            "1709.01686",
            "7d3b1c2f0e5a4b6c8d9e0f1a2b3c4d5e6f7a8b9c",
            2016,
            1100,
        ),
        (
            "Shallow-Deep Networks: Understanding and Mitigating Network Overthinking",
            "1810.07052",
            "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567",
            2018,
            350,
        ),
    ]
    first = records[0]
    assert isinstance(first, PaperRecord) and first.source == "s2"
    assert first.authors == ["Surat Teerapittayanon"]
    assert first.venue_claim is not None
    assert first.venue_claim.dblp == "journals/corr/abs-1709-01686"
    assert first.venue_claim.names == (
        "International Conference on Pattern Recognition",
        "2016 23rd International Conference on Pattern Recognition",
    )


def test_the_papers_asked_about_are_left_out_of_the_answer(config, fake_s2, server):
    answer(fake_s2, 200, ANSWER)
    with open_sources(config) as sources:
        records = sources.s2.recommend(
            ["arxiv:1709.01686"], ["0A1B2C3D4E5F60718293A4B5C6D7E8F901234567"]
        )
    assert records == []


def test_unknown_papers_are_no_recommendations_not_a_failure(config, fake_s2, server):
    with open_sources(config) as sources:
        assert sources.s2.recommend(["ARXIV:2611.99999"]) == []
    assert [r["path"] for r in fake_s2.requests] == ["/recommendations/v1/papers/"]  # no retry


def test_a_bad_request_is_a_query_error_with_the_services_message(config, fake_s2, server):
    answer(fake_s2, 400, {"error": "Unacceptable paper id: nonsense"})
    with open_sources(config) as sources, pytest.raises(QueryError) as failure:
        sources.s2.recommend(["nonsense"])
    assert str(failure.value) == "s2: HTTP 400: Unacceptable paper id: nonsense"
    assert len(fake_s2.requests) == 1


@pytest.mark.parametrize("fault", ["429", "503", "504-json", "200-html", "truncate", "reset"])
def test_transient_failures_are_retried_in_the_one_layer(config, fake_s2, server, fault):
    fake_s2.corpus = fc.s2_papers()
    fake_s2.edges = fc.edges()
    fake_s2.faults = [fault]
    positive = fc.paper_id("kangaroo-2024")
    with open_sources(config) as sources:
        records = sources.s2.recommend([positive], limit=5)
        counted = sources.requests.as_dict()
    assert len(records) == 5
    assert counted == {RECOMMEND_ENDPOINT: 2}


def test_failure_past_the_retries_is_an_error_never_no_recommendations(config, fake_s2, server):
    fake_s2.faults = ["503"] * (config.retries + 1)
    with open_sources(config) as sources, pytest.raises(SourceError, match="gave up after 4"):
        sources.s2.recommend([MSDNET])


def test_nothing_is_asked_without_positives_and_the_limit_is_the_services(config, fake_s2, server):
    with open_sources(config) as sources:
        assert sources.s2.recommend([], ["b" * 40]) == []
        for limit in (0, 501):
            with pytest.raises(ValueError, match="limit must be 1 to 500"):
                sources.s2.recommend([MSDNET], limit=limit)
    assert fake_s2.requests == []


# --- where the endpoint is -----------------------------------------------------------------


@pytest.mark.parametrize(
    "s2_url, expected",
    [
        (
            "https://api.semanticscholar.org/graph/v1",
            "https://api.semanticscholar.org/recommendations/v1",
        ),
        (
            "https://api.semanticscholar.org/graph/v1/",
            "https://api.semanticscholar.org/recommendations/v1",
        ),
        ("http://127.0.0.1:8080/graph/v1", "http://127.0.0.1:8080/recommendations/v1"),
        ("https://proxy.example/s2/graph/v1", "https://proxy.example/s2/recommendations/v1"),
        ("https://mirror.example/api", "https://mirror.example/recommendations/v1"),
    ],
)
def test_the_recommendations_api_lives_beside_the_graph_api(s2_url, expected):
    assert recommendations_url(s2_url) == expected
    assert Config(s2_url=s2_url).s2_recommendations_url == expected


def test_the_endpoint_comes_from_the_file_then_the_environment(tmp_path, monkeypatch):
    (tmp_path / "elsewhere").mkdir()
    path = tmp_path / "harvester.toml"
    path.write_text('s2_recs_url = "https://file.example/recommendations/v1"\n')
    assert load_config(path, environ={}).s2_recommendations_url == (
        "https://file.example/recommendations/v1"
    )
    env = {"HARVESTER_S2_RECS_URL": "https://env.example/recommendations/v1"}
    assert load_config(path, environ=env).s2_recommendations_url == (
        "https://env.example/recommendations/v1"
    )
    moved = {"HARVESTER_S2_URL": "https://proxy.example/graph/v1"}
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert load_config(None, environ=moved).s2_recs_url is None
    assert load_config(None, environ=moved).s2_recommendations_url == (
        "https://proxy.example/recommendations/v1"
    )


def test_an_endpoint_that_is_not_a_url_is_refused_naming_the_variable(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"^HARVESTER_S2_RECS_URL: s2_recs_url = 'ftp://x' must"):
        load_config(None, environ={"HARVESTER_S2_RECS_URL": "ftp://x"})


def test_a_harvest_points_its_source_at_the_configured_endpoint(config, fake_s2, server):
    moved = Config(**{**config.__dict__, "s2_recs_url": f"{server.base}/recommendations/v1"})
    with open_sources(moved) as sources:
        assert sources.s2.recommendations_url == f"{server.base}/recommendations/v1"
        sources.s2.recommend([MSDNET])
    assert fake_s2.requests[0]["path"] == "/recommendations/v1/papers/"


# --- the loopback server's endpoint ----------------------------------------------------------


@pytest.fixture(scope="module")
def field_server() -> LoopbackServer:
    with LoopbackServer(s2=FakeS2(fc.s2_papers(), edges=fc.edges())) as running:
        yield running


def recommend_from(server: LoopbackServer, tmp: Path, positives, negatives=(), limit=20):
    config = Config(db=tmp / "x.db", s2_url=server.s2_url, s2_delay=0, backoff_max=0)
    with open_sources(config) as sources:
        return sources.s2.recommend(positives, negatives, limit=limit)


def dev_keys(label: str) -> list[str]:
    return [
        p.key
        for p in fc.relevant_papers()
        if p.label == label and p.split == "dev" and p.s2 is not None
    ]


def test_the_fake_recommends_papers_like_the_positives(field_server, tmp_path):
    positives = [fc.paper_id(k) for k in dev_keys("early_exit")[:6]]
    records = recommend_from(field_server, tmp_path, positives)
    labels = fc.labels()
    found = [labels.get(normalise_title(r.title)) for r in records]
    assert len(records) == 20
    assert found.count("early_exit") >= 12
    assert not {r.s2_id for r in records} & set(positives)
    assert records == recommend_from(field_server, tmp_path, positives)  # deterministic


def test_negatives_push_their_kind_out_of_the_answer(field_server, tmp_path):
    positives = [fc.paper_id(k) for k in dev_keys("early_exit")[:6]]
    labels = fc.labels()

    def lookalikes(records: list[PaperRecord]) -> list[str]:
        return [
            str(r.s2_id) for r in records if labels.get(normalise_title(r.title)) == "lookalike"
        ]

    plain = lookalikes(recommend_from(field_server, tmp_path, positives, limit=100))
    assert len(plain) >= 3
    pushed = lookalikes(recommend_from(field_server, tmp_path, positives, plain[:3], limit=100))
    assert len(pushed) < len(plain) - 3
    assert not set(pushed) & set(plain[:3])


def test_the_fake_answers_unknown_papers_and_bad_limits_as_the_service_does(field_server):
    s2 = field_server.s2
    assert s2.answer("POST", "/recommendations/v1/papers/", {"limit": "10"}, b"{}") == (
        400,
        {"error": "positivePaperIds must be a non-empty list of paper ids"},
    )
    body = json.dumps({"positivePaperIds": ["ARXIV:2611.99999"]}).encode()
    assert s2.answer("POST", "/recommendations/v1/papers/", {"limit": "10"}, body) == (
        404,
        {"error": "Paper(s) not found: ARXIV:2611.99999"},
    )
    body = json.dumps({"positivePaperIds": [MSDNET]}).encode()
    assert s2.answer("POST", "/recommendations/v1/papers/", {"limit": "501"}, body)[0] == 400
