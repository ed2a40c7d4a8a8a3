"""One category per paper, wherever it is shown; and the ranking trained once per decision.

``status`` counts, ``review list --category`` filters, ``review show`` and the page show and
``accept`` files under the same category (``screening.shown_category``). The trained ranking
is kept beside the database, keyed by the last decision: a read with nothing new to learn
never trains.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from unittest import mock

import httpx
import pytest
from click.testing import CliRunner

from harvester import ranking, review, screening, store
from harvester.cli import cli
from harvester.seeds import Seeds
from tests.conftest import SEEDS
from tests.web_helpers import live_app

SURVEY_TITLE = "Dynamic Neural Networks: A Survey"


def run(path: Path, *args: str) -> str:
    result = CliRunner().invoke(
        cli, ["--db", str(path), *args], env={"HARVESTER_SEEDS": str(SEEDS)}
    )
    assert result.exit_code == 0, result.output
    return result.output


def pending_by_category_from_status(path: Path) -> dict[str, int]:
    counts = json.loads(run(path, "status", "--json"))["categories"]
    return {key: by["pending"] for key, by in counts.items() if by["pending"]}


def pending_by_category_from_list(path: Path) -> dict[str, int]:
    items = json.loads(run(path, "review", "list", "--json"))
    return dict(Counter(item["category"] or "" for item in items))


def reviewer(base: str) -> httpx.Client:
    """A browser session with a reviewer's name and the CSRF token on every request."""
    client = httpx.Client(base_url=base, timeout=60)
    csrf = client.get("/api/session").json()["csrf"]
    client.post("/reviewer", data={"name": "ana", "csrf": csrf})
    client.headers["X-CSRF-Token"] = csrf
    return client


def paper_id(path: Path, title: str) -> int:
    db = store.open_db(path)
    try:
        return review.find(db, title)["id"]
    finally:
        db.close()


def test_status_counts_the_categories_review_list_shows(queue_db):
    from_list = pending_by_category_from_list(queue_db)
    assert pending_by_category_from_status(queue_db) == from_list
    assert sum(from_list.values()) == 97
    for key, n in from_list.items():
        if key:
            filtered = json.loads(run(queue_db, "review", "list", "--json", "--category", key))
            assert len(filtered) == n, key
            assert {item["category"] for item in filtered} == {key}


@pytest.mark.parametrize(
    ("title", "category"),
    [
        (SURVEY_TITLE, "survey"),
        # A survey of early exits is a Survey, not an early-exit paper like the two seeds.
        (
            "Split Computing and Early Exiting for Deep Learning Applications: Survey and"
            " Research Challenges",
            "survey",
        ),
        # Its words are those of Cavs (the one System seed paper); its keywords say Compiler.
        ("Nimble: Efficiently Compiling Dynamic Neural Networks for Model Inference", "compiler"),
    ],
)
def test_a_paper_is_shown_and_filed_by_its_keywords_not_by_a_lone_seed_paper(
    queue_db, title, category
):
    pid = paper_id(queue_db, title)
    [item] = [i for i in json.loads(run(queue_db, "review", "list", "--json")) if i["id"] == pid]
    assert item["category"] == category
    assert f"category        {category}" in run(queue_db, "review", "show", str(pid))
    assert f"[{category}]" in run(queue_db, "review", "accept", str(pid))
    db = store.open_db(queue_db)
    assert db.table("papers").get(pid)["category"] == category


def test_list_show_page_and_accept_agree_on_every_pending_paper(queue_db, seeds: Seeds):
    listed = {i["id"]: i["category"] for i in json.loads(run(queue_db, "review", "list", "--json"))}
    some = sorted(listed)[:: max(1, len(listed) // 6)]
    with live_app(queue_db, seeds) as base:
        client = reviewer(base)
        api = {i["id"]: i["category"] for i in client.get("/api/queue?limit=1000").json()["items"]}
        for paper_id in some:
            paper = client.get(f"/api/paper/{paper_id}").json()
            assert paper["proposed_category"] == paper["category"] == listed[paper_id]
            page = client.get(f"/?paper={paper_id}").text
            assert re.search(rf'data-proposed="{listed[paper_id]}"', page), (
                f"page of #{paper_id} does not propose {listed[paper_id]}"
            )
    assert api == listed
    for paper_id in some:
        show = run(queue_db, "review", "show", str(paper_id))
        assert f"category        {listed[paper_id]}" in show
    db = store.open_db(queue_db)
    for paper_id in some:
        review.accept(db, seeds, str(paper_id), who="test")
        assert db.table("papers").get(paper_id)["category"] == listed[paper_id]
    db.close()


def test_a_seed_paper_alone_makes_no_learned_category(queue_db, seeds: Seeds):
    db = store.open_db(queue_db)
    trained = screening.model(db, seeds)[1]
    db.close()
    # Four seed papers, at most two per category: the keyword rule decides every category.
    assert trained.categories.learned == ()
    assert trained.categories.model is None


def test_five_accepted_papers_make_a_learned_category(queue_db, seeds: Seeds):
    db = store.open_db(queue_db)
    pending = [i.id for i in review.queue(db, seeds, explain=False)]
    for paper_id in pending[:5]:
        review.accept(db, seeds, str(paper_id), category="early_exit", who="test")
    review.accept(db, seeds, str(pending[5]), category="survey", who="test")
    trained = screening.model(db, seeds)[1]
    db.close()
    assert trained.categories.learned == ("early_exit",)


def count_trainings() -> mock._patch:
    return mock.patch.object(ranking.Ranker, "train", side_effect=ranking.Ranker.train)


def test_a_decision_retrains_once_and_later_reads_do_not(queue_db, seeds: Seeds):
    run(queue_db, "review", "list", "--limit", "3")  # trained and kept beside the database
    assert (queue_db.parent / "harvester.db-ranking" / "order.pickle").exists()
    with count_trainings() as train:
        screening.forget()  # a new process: nothing in memory
        run(queue_db, "review", "list", "--limit", "3")
        run(queue_db, "status")
        assert train.call_count == 0
        first = json.loads(run(queue_db, "review", "list", "--json"))[0]
        run(queue_db, "review", "reject", str(first["id"]))
        run(queue_db, "review", "list", "--limit", "3")
        assert train.call_count == 1
        screening.forget()
        run(queue_db, "review", "list", "--limit", "3")
        run(queue_db, "status")
        assert train.call_count == 1


def test_the_review_app_trains_once_per_decision(queue_db, seeds: Seeds):
    with count_trainings() as train, live_app(queue_db, seeds) as base:
        client = reviewer(base)
        top = client.get("/api/queue?limit=2").json()["items"]
        client.get(f"/api/paper/{top[0]['id']}")
        client.get("/")
        assert train.call_count == 1
        decided = client.post(
            "/api/decide",
            json={"paper_id": top[0]["id"], "version": 0, "action": "reject"},
        )
        assert decided.status_code == 200, decided.text
        client.get("/api/queue?limit=2")
        client.get(f"/api/paper/{top[1]['id']}")
        client.get("/")
        # The decision's training runs beside the reads (they show the order before it).
        assert screening.wait_for_training(60)
        client.get("/api/queue?limit=2")
        client.get("/")
        assert train.call_count == 2


def test_api_queue_answers_a_page_and_the_total(queue_db, seeds: Seeds):
    with live_app(queue_db, seeds) as base:
        everything = httpx.get(f"{base}/api/queue?limit=1000").json()
        page = httpx.get(f"{base}/api/queue?limit=5&offset=10").json()
        default = httpx.get(f"{base}/api/queue").json()
    assert everything["total"] == page["total"] == default["total"] == 97
    assert [i["id"] for i in page["items"]] == [i["id"] for i in everything["items"][10:15]]
    assert (page["offset"], page["limit"]) == (10, 5)
    assert len(default["items"]) == 50


def test_review_list_uncertain_puts_the_closest_calls_first(queue_db):
    items = json.loads(run(queue_db, "review", "list", "--json", "--uncertain"))
    distances = [abs(i["rank"] - 0.5) for i in items]
    assert distances == sorted(distances)
    likely = json.loads(run(queue_db, "review", "list", "--json"))
    assert [i["rank"] for i in likely] == sorted((i["rank"] for i in likely), reverse=True)
    assert {i["id"] for i in items} == {i["id"] for i in likely}
