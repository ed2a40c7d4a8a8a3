"""Versions of a paper's decisions: what lets two reviewers work at once without overwriting."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from harvester import review, store
from harvester.rules import Rules
from tests import sample_db

PENDING = "2302.00003"  # the sample database's one pending paper


@pytest.fixture
def path(tmp_path: Path, seeds) -> Path:
    target = tmp_path / "sample.db"
    sample_db.build_file(target, seeds).close()
    return target


def test_version_is_the_last_decision_row_and_every_decision_moves_it(path, seeds):
    db = store.open_db(path)
    paper = review.find(db, PENDING)
    assert review.paper_version(db, paper["id"]) == 0
    review.set_fields(db, Rules(seeds), PENDING, focus="speech", who="ada", expected_version=0)
    after_set = review.paper_version(db, paper["id"])
    assert after_set == db.execute("SELECT max(id) FROM decisions").fetchone()[0]
    review.undo(db, who="ada")
    assert review.paper_version(db, paper["id"]) > after_set


def test_a_stale_version_changes_nothing(path, seeds):
    db = store.open_db(path)
    paper_id = review.find(db, PENDING)["id"]
    review.reject(db, PENDING, who="bob", expected_version=0)
    before = list(db.query("SELECT * FROM decisions"))
    with pytest.raises(review.StaleDecision, match=r"bob: reject at .*nothing was changed"):
        review.accept(db, seeds, PENDING, category="early_exit", who="ada", expected_version=0)
    with pytest.raises(review.StaleDecision):
        review.set_fields(db, Rules(seeds), PENDING, note="x", who="ada", expected_version=0)
    assert list(db.query("SELECT * FROM decisions")) == before
    assert db.table("papers").get(paper_id)["status"] == "rejected"


def test_two_reviewers_deciding_at_once_one_wins_one_is_refused(path, seeds):
    """Guards the check and the write sharing one write-locked transaction."""
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def decide(who: str, accept: bool) -> None:
        db = store.open_db(path)
        barrier.wait(timeout=10)
        try:
            if accept:
                review.accept(
                    db, seeds, PENDING, category="early_exit", who=who, expected_version=0
                )
            else:
                review.reject(db, PENDING, who=who, expected_version=0)
            outcomes[who] = "decided"
        except review.StaleDecision:
            outcomes[who] = "refused"
        finally:
            db.close()

    threads = [
        threading.Thread(target=decide, args=("ada", True)),
        threading.Thread(target=decide, args=("bob", False)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes.values()) == ["decided", "refused"]
    winner = next(who for who, outcome in outcomes.items() if outcome == "decided")
    db = store.open_db(path)
    paper_id = review.find(db, PENDING)["id"]
    assert {
        r["who"] for r in db.query("SELECT who FROM decisions WHERE paper_id = ?", [paper_id])
    } == {winner}


def test_undo_by_a_reviewer_skips_the_others_and_refuses_to_overwrite(path, seeds):
    db = store.open_db(path)
    review.set_fields(db, Rules(seeds), PENDING, focus="mine", who="ada")
    review.set_fields(db, Rules(seeds), "1703.09844", note="bob's", who="bob")
    undone = review.undo(db, who="ada", by="ada")
    assert {r["paper_id"] for r in undone} == {review.find(db, PENDING)["id"]}
    assert review.find(db, "1703.09844")["notes"] == "bob's"

    review.set_fields(db, Rules(seeds), PENDING, focus="mine again", who="ada")
    review.set_fields(db, Rules(seeds), PENDING, focus="bob's now", who="bob")
    with pytest.raises(review.StaleDecision, match="bob has since made a set decision"):
        review.undo(db, who="ada", by="ada")
    assert review.find(db, PENDING)["focus"] == "bob's now"
    # The command line's undo (anyone's last) is unchanged.
    assert review.undo(db, who="carol")[0]["who"] == "bob"


def test_search_reads_words_never_fts_syntax(path):
    db = store.open_db(path)
    speech = review.find(db, PENDING)["id"]
    assert review.search(db, "speech") == [speech]
    assert review.search(db, 'spee "(') == [speech]  # prefixes, stray syntax ignored
    assert review.search(db, "AND OR NOT") == []
    assert review.search(db, "  ") == []
