"""Citation snowballing: paging, the threshold, the per-paper cap, incremental re-reads."""

from __future__ import annotations

import pytest

from harvester import ingest, review, store
from harvester.config import Config
from harvester.http import RequestLog, Service, make_client
from harvester.rules import Rules
from harvester.snowball import snowball
from harvester.sources.semantic_scholar import SemanticScholarSource, describe_error, to_record

SEED = "5" * 40


def paper(pid: str, title: str, abstract: str = "", year: int = 2021, cites: int = 10) -> dict:
    return {
        "paperId": pid,
        "externalIds": {},
        "title": title,
        "abstract": abstract,
        "venue": "",
        "publicationVenue": None,
        "year": year,
        "publicationDate": None,
        "citationCount": cites,
        "influentialCitationCount": 0,
        "authors": [],
        "journal": None,
    }


@pytest.fixture
def s2(config: Config):
    with make_client(config) as client:
        service = Service(
            "s2",
            client,
            delay=0,
            retries=1,
            backoff_max=0,
            requests=RequestLog(),
            describe_error=describe_error,
        )
        yield SemanticScholarSource(service, config.s2_url)


@pytest.fixture
def accepted_seed(db, seeds, fake_s2):
    """An accepted early-exit paper that S2 knows."""
    seed = paper(
        SEED,
        "Early Exits Everywhere",
        "Early exit networks with intermediate classifiers.",
        2018,
        cites=500,
    )
    fake_s2.corpus.append(seed)
    saved = ingest.save_records(db, Rules(seeds), [to_record(seed)])
    review.accept(db, seeds, str(saved.seen[0]), category="early_exit", who="t")
    return saved.seen[0]


def citing(
    fake_s2, n: int, title: str = "Citing paper {i} on early exit inference", abstract: str = ""
) -> list[str]:
    ids = []
    for i in range(n):
        pid = f"{i:040x}"
        fake_s2.corpus.append(paper(pid, title.format(i=i), abstract))
        fake_s2.edges.append((pid, SEED))
        ids.append(pid)
    return ids


def requests_to(fake_s2, direction: str) -> list[dict]:
    return [r for r in fake_s2.requests if r["path"].endswith(direction)]


def test_citations_are_read_in_pages_of_1000(db, seeds, s2, fake_s2, server, accepted_seed):
    citing(fake_s2, 2500)
    found = snowball(db, Rules(seeds), s2, min_score=1000, cap_per_paper=10_000)
    pages = requests_to(fake_s2, "/citations")
    assert [(r["params"]["offset"], r["params"]["limit"]) for r in pages] == [
        ("0", "1000"),
        ("1000", "1000"),
        ("2000", "1000"),
    ]
    assert found.edges == 2500
    assert (
        db.execute("SELECT count(*) FROM citations WHERE cited_id = ?", [SEED]).fetchone()[0]
        == 2500
    )


def test_per_paper_cap_limits_what_is_read(db, seeds, s2, fake_s2, server, accepted_seed):
    citing(fake_s2, 2500)
    found = snowball(db, Rules(seeds), s2, min_score=1000, cap_per_paper=1200)
    assert [r["params"]["limit"] for r in requests_to(fake_s2, "/citations")] == ["1000", "200"]
    assert found.edges == 1200


def test_only_candidates_above_the_threshold_enter_the_queue_as_pending(
    db, seeds, s2, fake_s2, server, accepted_seed
):
    [good] = citing(
        fake_s2,
        1,
        "Early exiting for transformers {i}",
        "We add early exits and intermediate classifiers.",
    )
    fake_s2.corpus.append(
        paper(
            "f" * 40,
            "Deep Residual Learning for Image Recognition",
            "Residual learning with skip connections.",
        )
    )
    fake_s2.edges.append(
        (SEED, "f" * 40)
    )  # the seed cites ResNet: a link, but no words of the field
    found = snowball(db, Rules(seeds), s2, min_score=8.0)
    rows = {r["s2_id"]: r for r in db.query("SELECT * FROM papers")}
    assert good in rows and "f" * 40 not in rows
    assert rows[good]["status"] == "pending" and rows[good]["category"] == "early_exit"
    assert found.queued == [rows[good]["id"]]
    reasons = db.execute(
        "SELECT reasons FROM paper_categories WHERE paper_id = ? AND category = 'early_exit'",
        [rows[good]["id"]],
    ).fetchone()[0]
    assert "cites or cited by 1 accepted Early exit paper" in reasons


def test_nothing_is_auto_accepted(db, seeds, s2, fake_s2, server, accepted_seed):
    citing(fake_s2, 30, "Early exit {i} with intermediate classifiers and multi-exit networks")
    snowball(db, Rules(seeds), s2, min_score=0)
    statuses = {
        r["status"] for r in db.query("SELECT status FROM papers WHERE id != ?", [accepted_seed])
    }
    assert statuses == {"pending"}


def test_citations_are_read_again_only_when_the_count_grew(
    db, seeds, s2, fake_s2, server, accepted_seed
):
    citing(fake_s2, 3)
    snowball(db, Rules(seeds), s2)
    assert (
        len(requests_to(fake_s2, "/citations")) == 1
        and len(requests_to(fake_s2, "/references")) == 1
    )
    snowball(db, Rules(seeds), s2)
    assert len(fake_s2.requests) == 2  # nothing changed: no request
    db.execute("UPDATE papers SET citation_count = 501 WHERE id = ?", [accepted_seed])
    snowball(db, Rules(seeds), s2)
    # The count grew: citations are read again, references (which never change) are not.
    assert (
        len(requests_to(fake_s2, "/citations")) == 2
        and len(requests_to(fake_s2, "/references")) == 1
    )


def test_depth_two_reads_the_neighbours_of_queued_candidates(
    db, seeds, s2, fake_s2, server, accepted_seed
):
    [first] = citing(
        fake_s2,
        1,
        "Early exiting for transformers {i}",
        "Early exits and intermediate classifiers.",
    )
    fake_s2.corpus.append(
        paper(
            "e" * 40,
            "Multi-exit networks for speech",
            "Early exit with internal classifiers.",
            2022,
        )
    )
    fake_s2.edges.append(("e" * 40, first))
    snowball(db, Rules(seeds), s2, depth=1, min_score=4)
    assert db.table("papers").count_where("s2_id = ?", ["e" * 40]) == 0
    snowball(db, Rules(seeds), s2, depth=2, min_score=4)
    assert db.table("papers").count_where("s2_id = ?", ["e" * 40]) == 1


def test_snowball_requests_carry_the_key_and_are_counted(
    db, seeds, fake_s2, server, accepted_seed, config
):
    with make_client(config) as client:
        log = RequestLog()
        service = Service(
            "s2",
            client,
            delay=0,
            retries=1,
            backoff_max=0,
            requests=log,
            headers={"x-api-key": "k"},
        )
        snowball(db, Rules(seeds), SemanticScholarSource(service, config.s2_url))
    assert log.as_dict() == {"s2": 2}
    assert {r["api_key"] for r in fake_s2.requests} == {"k"}


def test_citation_links_name_the_accepted_papers_on_each_side(
    db, seeds, s2, fake_s2, server, accepted_seed
):
    [good] = citing(
        fake_s2,
        1,
        "Early exiting for transformers {i}",
        "We add early exits and intermediate classifiers.",
    )
    snowball(db, Rules(seeds), s2, min_score=8.0)
    candidate = next(db.query("SELECT * FROM papers WHERE s2_id = ?", [good]))
    assert store.citation_links(db, candidate) == [
        {
            "id": accepted_seed,
            "title": "Early Exits Everywhere",
            "category": "early_exit",
            "direction": "cites",
        }
    ]
    seed_row = db.table("papers").get(accepted_seed)
    assert store.citation_links(db, seed_row) == []  # the candidate is pending, not accepted
