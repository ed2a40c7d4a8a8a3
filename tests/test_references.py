"""The citation graph among the papers a harvest found (``harvester.references``): their
references read once each by batch, the edges between stored papers kept, so the category
rule's citation vote has neighbours from the first harvest on."""

from __future__ import annotations

import dataclasses

import pytest

from harvester import ingest, screening, store
from harvester.config import Config
from harvester.harvest import run_harvest
from harvester.references import batch_size, read_references
from harvester.rules import Rules
from harvester.sources.semantic_scholar import (
    REFERENCE_FIELDS,
    to_record,
)
from tests import loopback
from tests.loopback import FakeS2, LoopbackServer
from tests.test_category_rule import DEPTH_ABSTRACT, DEPTH_TITLE, EXIT_ABSTRACT, shown

DEPTH, OUTSIDE, NEW = "d" * 40, "0" * 40, "f" * 40
EXITS = [f"{i}" * 40 for i in (2, 3, 4)]


def s2_paper(pid: str, title: str, abstract: str, published: str = "2024-03-01") -> dict:
    return loopback.s2_paper(
        pid, title, abstract, year=int(published[:4]), publicationDate=published, citationCount=3
    )


@pytest.fixture
def found(fake_s2: FakeS2) -> FakeS2:
    """Four papers the S2 queries find (a close call between Layer skipping and Early exit,
    citing three early-exit papers, one of which cites another), and one no query finds that
    the close call cites too (ResNet, say)."""
    fake_s2.corpus = [
        s2_paper(DEPTH, DEPTH_TITLE, DEPTH_ABSTRACT),
        *[s2_paper(pid, f"Patient exits {i}", EXIT_ABSTRACT) for i, pid in enumerate(EXITS, 2)],
        s2_paper(OUTSIDE, "Deep residual learning for image recognition", "Residual blocks."),
    ]
    fake_s2.edges = [
        (DEPTH, EXITS[0]),
        (DEPTH, EXITS[1]),
        (DEPTH, EXITS[2]),
        (DEPTH, OUTSIDE),
        (EXITS[0], EXITS[1]),
    ]
    return fake_s2


@pytest.fixture
def plain(config: Config) -> Config:
    """No recommendations (they would store papers no query finds): the graph alone."""
    return dataclasses.replace(config, recommend_limit=0)


def reference_batches(fake_s2: FakeS2) -> list[dict]:
    return [r for r in fake_s2.requests if r["params"].get("fields") == REFERENCE_FIELDS]


def stored_edges(db) -> set[tuple[str, str]]:
    return set(store.graph.all_edges(db))


def graph_errors(errors: list[str]) -> list[str]:
    """The run's failed lines but the seed papers the loopback corpus does not hold."""
    return [e for e in errors if "seed paper" not in e]


def test_first_harvest_stores_references_between_found_papers(db, seeds, plain, found, server):
    result = run_harvest(db, seeds, plain)
    assert stored_edges(db) == {
        (DEPTH, EXITS[0]),
        (DEPTH, EXITS[1]),
        (DEPTH, EXITS[2]),
        (EXITS[0], EXITS[1]),
    }
    [batch] = reference_batches(found)
    assert batch["method"] == "POST" and batch["path"].endswith("/paper/batch")
    stored = [r["s2_id"] for r in db.query("SELECT s2_id FROM papers ORDER BY id")]
    assert batch["body"] == {"ids": stored}
    assert sorted(stored) == sorted([DEPTH, *EXITS])
    assert result.requests["s2"] == len(found.requests)
    assert graph_errors(result.errors) == []


def test_the_vote_files_a_plainly_worded_paper_by_its_neighbours_after_the_first_harvest(
    db, seeds, plain, found, server
):
    run_harvest(db, seeds, plain)
    screening.forget()
    assert shown(db, seeds) == {
        DEPTH_TITLE: "early_exit",
        "Patient exits 2": "early_exit",
        "Patient exits 3": "early_exit",
        "Patient exits 4": "early_exit",
    }


def test_second_harvest_asks_no_references_for_known_papers(db, seeds, plain, found, server):
    run_harvest(db, seeds, plain)
    found.requests.clear()
    result = run_harvest(db, seeds, plain)
    assert reference_batches(found) == []
    assert graph_errors(result.errors) == []
    assert len(stored_edges(db)) == 4


def test_a_later_harvest_asks_only_the_new_papers_and_keeps_their_edges_to_stored_ones(
    db, seeds, plain, found, server
):
    run_harvest(db, seeds, plain)
    found.corpus.append(s2_paper(NEW, "Patient exits 5", EXIT_ABSTRACT, "2024-06-01"))
    found.edges += [(NEW, EXITS[2]), (NEW, OUTSIDE)]
    found.forget()
    found.requests.clear()
    run_harvest(db, seeds, plain)
    assert [r["body"] for r in reference_batches(found)] == [{"ids": [NEW]}]
    assert (NEW, EXITS[2]) in stored_edges(db)
    assert (NEW, OUTSIDE) not in stored_edges(db)


def test_failed_reference_batch_is_one_failed_line(db, seeds, plain, found, server, tmp_path):
    clean = store.open_db(tmp_path / "clean.db")
    run_harvest(clean, seeds, plain)
    before = found.requests.index(reference_batches(found)[0])
    found.requests.clear()
    found.faults = [None] * before + ["503"] * (plain.retries + 1)
    result = run_harvest(db, seeds, plain)
    assert graph_errors(result.errors) == [
        f"s2: gave up after {plain.retries + 1} attempts: HTTP 503: <html><body><h1>502 Bad"
        f" Gateway</h1></body></html> (references of 4 papers from #{first_id(db)})"
    ]
    assert result.status == "failed"
    # The rest of the run is kept, and the next run asks again.
    assert db.execute("SELECT count(*) FROM papers").fetchone()[0] == 4
    assert stored_edges(db) == set()
    found.requests.clear()
    again = run_harvest(db, seeds, plain)
    assert graph_errors(again.errors) == []
    assert len(reference_batches(found)) == 1
    assert len(stored_edges(db)) == 4


def first_id(db) -> int:
    return int(db.execute("SELECT min(id) FROM papers").fetchone()[0])


def test_references_off_asks_nothing(db, seeds, plain, found, server):
    run_harvest(db, seeds, dataclasses.replace(plain, references=False))
    assert reference_batches(found) == []
    assert stored_edges(db) == set()


def test_papers_scoring_below_the_floor_are_not_asked(db, seeds, plain, found, server):
    run_harvest(db, seeds, dataclasses.replace(plain, references_min_score=1e6))
    assert reference_batches(found) == []


# --- the step on its own ----------------------------------------------------------------------


def test_batches_hold_as_many_papers_as_their_references_fit_in_one_answer():
    """80 references a paper until answers came, then what they listed, with a margin."""
    assert batch_size(0, 0) == 124
    assert batch_size(4000, 100) == 199  # 40 a paper: 50 with the margin
    assert batch_size(300, 100) == 500  # at most 500 ids
    assert batch_size(0, 124) == 500
    assert batch_size(1000 * 100, 100) == 7


def test_a_batch_s2_refuses_as_too_big_is_split_in_two(
    db, seeds, s2, fake_s2: FakeS2, server: LoopbackServer
):
    """Eleven papers listing 1,000 references each: one answer would hold 11,000."""
    ids = [f"{i:x}" * 40 for i in range(10, 16)] + [f"{i}" * 40 for i in range(1, 6)]
    fake_s2.corpus = [s2_paper(pid, f"Paper {pid[0]}", "") for pid in ids]
    ingest.save_records(db, Rules(seeds), [to_record(p) for p in fake_s2.corpus])
    fake_s2.edges = [(ids[0], ids[1])]
    fake_s2.edges += [(pid, f"{i:040x}") for pid in ids for i in range(1000)]
    read = read_references(db, Rules(seeds), s2, min_score=-1e6)
    assert [len(r["body"]["ids"]) for r in reference_batches(fake_s2)] == [11, 5, 6]
    assert read.errors == []
    assert stored_edges(db) == {(ids[0], ids[1])}


def test_a_new_link_to_an_accepted_paper_derives_the_other_end_again(
    db, seeds, s2, fake_s2: FakeS2, server
):
    """Links to accepted papers count in a paper's category scores (``derive``)."""
    from harvester import review

    fake_s2.corpus = [
        s2_paper(DEPTH, DEPTH_TITLE, DEPTH_ABSTRACT),
        *[s2_paper(pid, f"Patient exits {i}", EXIT_ABSTRACT) for i, pid in enumerate(EXITS, 2)],
    ]
    saved = ingest.save_records(db, Rules(seeds), [to_record(p) for p in fake_s2.corpus])
    for paper_id in saved.seen[1:]:
        review.accept(db, seeds, str(paper_id), category="early_exit", who="t")
    store.graph.record_reads(
        db,
        [(i, 3) for i in saved.seen[1:]],
        "references",
        "2026-01-01T00:00:00Z",
    )
    fake_s2.edges = [(DEPTH, pid) for pid in EXITS]
    before = db.execute("SELECT score FROM papers WHERE s2_id = ?", [DEPTH]).fetchone()[0]
    read = read_references(db, Rules(seeds), s2, min_score=0)
    assert (read.papers_read, read.edges) == (1, 3)
    scores = dict(
        db.execute(
            "SELECT category, score FROM paper_categories WHERE paper_id = ?", [saved.seen[0]]
        ).fetchall()
    )
    links = Rules(seeds).seeds.rules.link * 3
    assert scores["early_exit"] >= links
    after = db.execute("SELECT score FROM papers WHERE s2_id = ?", [DEPTH]).fetchone()[0]
    assert after > before
