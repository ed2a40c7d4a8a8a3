"""Citation snowballing: paging, the threshold, the per-paper cap, incremental re-reads."""

from __future__ import annotations

import pytest

from harvester import ingest, review, store
from harvester.http import RequestLog, Service, make_client
from harvester.rules import Rules
from harvester.snowball import judge, pack, snowball
from harvester.sources.semantic_scholar import (
    GRAPH_FIELDS,
    SemanticScholarSource,
    to_record,
)
from tests.loopback import s2_paper

SEED = "5" * 40


def paper(pid: str, title: str, abstract: str = "", year: int = 2021, cites: int = 10) -> dict:
    return s2_paper(pid, title, abstract, year=year, citationCount=cites)


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


def cited_often(db, paper_id: int, count: int = 2500) -> None:
    db.execute("UPDATE papers SET citation_count = ? WHERE id = ?", [count, paper_id])


def graph_batches(fake_s2) -> list[dict]:
    return [r for r in fake_s2.requests if r["params"].get("fields") == GRAPH_FIELDS]


def test_citations_past_what_a_batch_lists_are_read_in_pages_of_1000(
    db, seeds, s2, fake_s2, server, accepted_seed
):
    citing(fake_s2, 2500)
    cited_often(db, accepted_seed)
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
    cited_often(db, accepted_seed)
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


def test_the_graph_is_read_again_only_when_the_count_grew(
    db, seeds, s2, fake_s2, server, accepted_seed
):
    citing(fake_s2, 3)
    snowball(db, Rules(seeds), s2)
    assert len(graph_batches(fake_s2)) == 1
    before = len(fake_s2.requests)
    snowball(db, Rules(seeds), s2)
    assert len(fake_s2.requests) == before  # nothing changed: no request
    db.execute("UPDATE papers SET citation_count = 501 WHERE id = ?", [accepted_seed])
    snowball(db, Rules(seeds), s2)
    assert len(graph_batches(fake_s2)) == 2


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
    assert log.as_dict() == {"s2": 1}
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


def accept_many(db, seeds, fake_s2, n: int, cites: int = 10) -> list[str]:
    """``n`` accepted early-exit papers that S2 knows, besides the seed."""
    ids = []
    for i in range(n):
        pid = f"a{i:039x}"
        data = paper(pid, f"Early exit networks {i}", "Early exits.", 2019, cites=cites)
        fake_s2.corpus.append(data)
        [paper_id] = ingest.save_records(db, Rules(seeds), [to_record(data)]).seen
        review.accept(db, seeds, str(paper_id), category="early_exit", who="t")
        ids.append(pid)
    return ids


def test_the_graph_of_many_accepted_papers_is_one_batch_request(
    db, seeds, s2, fake_s2, server, accepted_seed
):
    accepted = accept_many(db, seeds, fake_s2, 40)
    [plain] = citing(fake_s2, 1, "A study of inference {i}")
    fake_s2.edges += [(plain, a) for a in accepted[:3]]
    found = snowball(db, Rules(seeds), s2, min_links=3)
    [graph] = graph_batches(fake_s2)
    assert len(graph["body"]["ids"]) == 41
    # Then the neighbours we do not have, described in one more batch.
    assert len(fake_s2.requests) == 2
    assert not requests_to(fake_s2, "/citations") and not requests_to(fake_s2, "/references")
    assert found.sources_read == 41 and found.edges == 4


def test_batches_are_packed_within_what_s2_lists_in_one_answer():
    papers = [{"id": i, "citation_count": 900} for i in range(25)]
    # 900 citations and a guess of 80 references each: ten fit under 9,999.
    assert [len(b) for b in pack(papers, cap=1000)] == [10, 10, 5]
    # Uncited papers: the references guessed fill an answer at 124 papers.
    uncited = [{"id": i, "citation_count": 0} for i in range(501)]
    assert [len(b) for b in pack(uncited, 1000)] == [124, 124, 124, 124, 5]


def test_a_batch_s2_refuses_as_too_big_is_split_in_two(
    db, seeds, s2, fake_s2, server, accepted_seed
):
    accepted = accept_many(db, seeds, fake_s2, 11)
    # Our counts say 10 citations each; S2 lists 1,000 for each: 11,000 in one answer.
    for j, a in enumerate(accepted):
        for i in range(1000):
            pid = f"c{j:02x}{i:037x}"
            fake_s2.corpus.append(paper(pid, f"Citing paper {j} {i}"))
            fake_s2.edges.append((pid, a))
    found = snowball(db, Rules(seeds), s2, min_score=1000, min_links=0)
    sizes = [len(r["body"]["ids"]) for r in graph_batches(fake_s2)]
    assert sizes == [12, 6, 6]
    assert found.errors == [] and found.edges == 11_000


def test_a_plainly_worded_paper_linked_to_several_accepted_papers_is_queued(
    db, seeds, s2, fake_s2, server, accepted_seed
):
    accepted = accept_many(db, seeds, fake_s2, 3)
    three, two = citing(fake_s2, 2, "A study of inference {i}", "We measure latency.")
    fake_s2.edges += [(three, a) for a in accepted] + [(two, a) for a in accepted[:1]]
    found = snowball(db, Rules(seeds), s2, min_links=3)
    rows = {r["s2_id"]: r for r in db.query("SELECT * FROM papers")}
    # With the seed: four and two accepted early-exit papers.
    assert three in rows and two not in rows
    assert (rows[three]["status"], rows[three]["category"]) == ("pending", "early_exit")
    assert found.queued == [rows[three]["id"]]


def test_a_paper_linked_to_two_accepted_papers_and_using_a_phrase_of_theirs_is_queued(
    db, seeds, s2, fake_s2, server, accepted_seed
):
    accepted = accept_many(db, seeds, fake_s2, 1)
    worded, plain = citing(fake_s2, 2, "A study of inference {i}")
    fake_s2.corpus[-2]["abstract"] = "Each input stops at a confidence threshold."
    fake_s2.edges += [(worded, accepted[0]), (plain, accepted[0])]
    # Both cite the seed and one accepted early-exit paper: two links, a score of 4 at most.
    found = snowball(db, Rules(seeds), s2, min_links=3)
    rows = {r["s2_id"]: r for r in db.query("SELECT * FROM papers")}
    assert worded in rows and plain not in rows
    assert (rows[worded]["status"], rows[worded]["category"]) == ("pending", "early_exit")
    assert found.queued == [rows[worded]["id"]]


def test_a_lookalike_linked_to_several_accepted_papers_is_not_queued(
    db, seeds, s2, fake_s2, server, accepted_seed
):
    accepted = accept_many(db, seeds, fake_s2, 3)
    [lookalike] = citing(
        fake_s2, 1, "Early stopping of training {i}", "Early stopping when validation loss rises."
    )
    fake_s2.edges += [(lookalike, a) for a in accepted]
    snowball(db, Rules(seeds), s2, min_links=3)
    assert db.table("papers").count_where("s2_id = ?", [lookalike]) == 0


def test_judge_weighs_links_and_words(seeds):
    rules = Rules(seeds)
    plain = judge(rules, "A study", "We measure.", {"early_exit": 3}, min_score=8, min_links=3)
    assert (plain.category, plain.queued, plain.links) == ("early_exit", True, 3)
    assert not judge(rules, "A study", None, {"early_exit": 2}, min_score=8, min_links=3).queued
    # A phrase of the category stands for one link: two links and a phrase queue a paper,
    # one link and a phrase do not, nor two links and words that speak against it.
    phrase = judge(
        rules, "A study", "A confidence threshold.", {"early_exit": 2}, min_score=8, min_links=3
    )
    assert (phrase.category, phrase.queued, phrase.links) == ("early_exit", True, 2)
    one = judge(
        rules, "A study", "A confidence threshold.", {"early_exit": 1}, min_score=8, min_links=3
    )
    assert not one.queued
    against = judge(
        rules,
        "A study",
        "A confidence threshold for early stopping.",
        {"early_exit": 2},
        min_score=8,
        min_links=3,
    )
    assert not against.queued
    worded = judge(
        rules, "Early exit networks", "Early exits.", {"early_exit": 1}, min_score=8, min_links=3
    )
    assert worded.queued and worded.score >= 8
