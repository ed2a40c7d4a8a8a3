"""Whole harvests against the loopback arXiv and Semantic Scholar serving real papers.

The corpora (tests/data/) hold relevant papers of the six categories and look-alikes (skip
connections, early stopping, static compilers, …), labelled; the seed queries must find the
first and mostly miss the second. Semantic Scholar also knows papers that are not on arXiv.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter

import pytest

from harvester import clock, review, store
from harvester.harvest import run_harvest
from harvester.records import normalise_title
from tests.conftest import synthetic_entries
from tests.loopback import FakeArxiv, FakeS2, load_s2_corpus, search

SEED_IDS = {"1703.09844", "2004.02178", "1711.11503"}
CAVS = "Cavs: An Efficient Runtime System for Dynamic Neural Networks"


@pytest.fixture(scope="session")
def s2_corpus() -> list[dict]:
    return load_s2_corpus()


@pytest.fixture
def corpus_arxiv(fake_arxiv: FakeArxiv, corpus, fake_s2: FakeS2, s2_corpus) -> FakeArxiv:
    fake_arxiv.corpus = corpus
    fake_s2.corpus = s2_corpus
    return fake_arxiv


def papers(db) -> dict[str, dict]:
    """Papers by arXiv id, or by title for those not on arXiv."""
    return {row["arxiv_id"] or row["title"]: row for row in db.query("SELECT * FROM papers")}


def test_harvest_stores_seed_papers_accepted_and_query_hits_pending(
    db, seeds, config, corpus_arxiv, server
):
    result = run_harvest(db, seeds, config)
    assert result.status == "ok", result.errors
    rows = papers(db)
    accepted = {k for k, row in rows.items() if row["status"] == "accepted"}
    assert accepted == SEED_IDS | {CAVS}
    assert {row["status"] for k, row in rows.items() if k not in accepted} == {"pending"}
    assert rows["1703.09844"]["category"] == "early_exit"
    assert rows["1711.11503"]["category"] == "layer_skipping"
    assert rows["1703.09844"]["focus"] == "早退/单模型多退出通道，多Scala"
    assert rows[CAVS]["category"] == "system" and rows[CAVS]["arxiv_id"] is None
    # Ids are bare and unique.
    assert all("v" not in row["arxiv_id"] for row in rows.values() if row["arxiv_id"])
    assert db.execute("SELECT count(*) FROM papers").fetchone()[0] == len(rows)


def test_seed_papers_carry_their_real_venue_year_and_citations(
    db, seeds, config, corpus_arxiv, s2_corpus, server
):
    run_harvest(db, seeds, config)
    rows = papers(db)
    venues = {k: (rows[k]["venue"], rows[k]["venue_year"]) for k in [*sorted(SEED_IDS), CAVS]}
    assert venues == {
        "1703.09844": ("ICLR", 2018),  # S2 says year 2017: the preprint's
        "1711.11503": ("ECCV", 2018),
        "2004.02178": ("ACL", 2020),
        CAVS: ("USENIX ATC", 2018),
    }
    assert rows["1703.09844"]["year"] == 2017
    by_title = {normalise_title(p["title"]): p for p in s2_corpus}
    for key in [*SEED_IDS, CAVS]:
        answered = by_title[normalise_title(rows[key]["title"])]
        assert rows[key]["s2_id"] == answered["paperId"]
        assert rows[key]["citation_count"] == answered["citationCount"]


def test_every_enriched_count_is_what_the_service_answered(
    db, seeds, config, corpus_arxiv, s2_corpus, server
):
    run_harvest(db, seeds, config)
    by_id = {p["paperId"]: p for p in s2_corpus}
    rows = list(db.query("SELECT * FROM papers"))
    assert all(row["s2_id"] for row in rows)
    for row in rows:
        answered = by_id[row["s2_id"]]
        assert row["citation_count"] == answered["citationCount"]
        assert row["influential_citation_count"] == answered["influentialCitationCount"]
        history = [
            h["citation_count"]
            for h in db.query("SELECT * FROM citation_history WHERE paper_id = ?", [row["id"]])
        ]
        assert history == [answered["citationCount"]]


def test_no_paper_is_stored_twice(db, seeds, config, corpus_arxiv, server):
    run_harvest(db, seeds, config)
    run_harvest(db, seeds, config)
    for column in ("arxiv_id", "s2_id", "doi", "title_key"):
        dupes = db.execute(
            f"SELECT {column}, count(*) FROM papers WHERE {column} IS NOT NULL GROUP BY 1 HAVING count(*) > 1"
        ).fetchall()
        assert dupes == [], column


def test_search_finds_every_harvested_paper_by_its_title(db, seeds, config, corpus_arxiv, server):
    run_harvest(db, seeds, config)
    run_harvest(db, seeds, dataclasses.replace(config, refresh_days=0), full=True)
    db.execute("INSERT INTO papers_fts (papers_fts) VALUES ('integrity-check')")
    for paper_id, title in db.execute("SELECT id, title FROM papers"):
        assert paper_id in review.search(db, title), title


def test_milestones_follow_citations_and_awards(db, seeds, config, corpus_arxiv, server):
    run_harvest(db, seeds, config)
    for row in db.query("SELECT * FROM papers"):
        expected = row["citation_count"] > config.milestone_citations or row["award"] is not None
        assert row["milestone"] == int(expected), row["title"]
    assert db.execute("SELECT count(*) FROM papers WHERE milestone = 1").fetchone()[0] > 10


def test_papers_only_semantic_scholar_knows_are_found(
    db, seeds, config, corpus_arxiv, s2_corpus, server
):
    run_harvest(db, seeds, config)
    found = {
        row["title_key"] for row in db.query("SELECT title_key FROM papers WHERE arxiv_id IS NULL")
    }
    s2_only = [p for p in s2_corpus if "ArXiv" not in p["externalIds"]]
    relevant = [p for p in s2_only if p["label"] != "lookalike"]
    hits = [p for p in relevant if normalise_title(p["title"]) in found]
    assert len(hits) >= 0.7 * len(relevant)
    lookalikes = [p for p in s2_only if p["label"] == "lookalike"]
    assert not [p for p in lookalikes if normalise_title(p["title"]) in found]


def test_enrichment_costs_one_request_per_500_papers(
    seeds, config, fake_arxiv, fake_s2, server, db
):
    fake_arxiv.corpus = synthetic_entries(1200)
    run_harvest(db, seeds, config, categories=["early_exit"])
    batches = [r for r in fake_s2.requests if r["path"].endswith("/paper/batch")]
    assert [len(r["body"]["ids"]) for r in batches] == [500, 500, 200]


def test_refresh_batches_start_while_arxiv_pages_still_arrive(
    seeds, config, fake_arxiv, fake_s2, server, db
):
    fake_arxiv.corpus = synthetic_entries(1200)
    gate = server.trip_at(8, api="arxiv")  # the seed lookup, then the query's 8th page of 100
    config = dataclasses.replace(config, arxiv_page_size=100)
    harvest = threading.Thread(
        target=run_harvest, args=(db, seeds, config), kwargs={"categories": ["early_exit"]}
    )
    harvest.start()
    try:
        assert gate.reached.wait(30)
        # arXiv waits inside its 8th request; 700 papers are stored, so a batch goes out.
        assert fake_s2.batch_seen.wait(30)
    finally:
        gate.release.set()
        harvest.join(60)
    batches = [r for r in fake_s2.requests if r["path"].endswith("/paper/batch")]
    assert [len(r["body"]["ids"]) for r in batches] == [500, 500, 200]


def test_run_row_records_requests_and_counts(db, seeds, config, corpus_arxiv, server):
    result = run_harvest(db, seeds, config)
    [run] = store.last_runs(db)
    # Each category's queries are sent as one (the seeds' fit in a URL).
    queries = s2_queries = len(seeds.categories)
    # arXiv: one id_list request for the seed papers, one page per query (the corpus is small).
    # S2: one title match (Cavs), one bulk page per query, one batch for every paper, one
    # for the TL;DRs of the papers recommended (one recommendations request per category:
    # from the seed papers of the three that have some, from the best keyword matches of
    # the others), and snowballing: one
    # batch for the graph of the four accepted seed papers (their neighbours are all stored
    # by then, so none is described); then one batch for the references of the papers stored.
    recommendations = len(seeds.categories)
    assert (
        run["requests"]
        == {
            "arxiv": 1 + queries,
            "s2": 1 + s2_queries + 1 + 1 + 1 + 1,
            "s2_recommendations": recommendations,
        }
        == result.requests
    )
    assert len(corpus_arxiv.requests) == 1 + queries
    assert run["status"] == "ok" and run["ended"] >= run["started"]
    assert run["papers_new"] == len(papers(db)) and run["errors"] == []
    # A search answer has a paper's citations, venue and ids but not its TL;DR: the batch
    # asks about every new paper, except Cavs, whose title match answered with its TL;DR
    # before a search described it.
    assert result.papers_refreshed == result.papers_enriched == len(papers(db)) - 1
    assert db.execute("SELECT count(*) FROM papers WHERE s2_refreshed IS NULL").fetchone()[0] == 0


def test_papers_a_search_found_get_their_tldr_in_the_same_run(
    db, seeds, config, corpus_arxiv, s2_corpus, server
):
    # A bulk-search answer carries no TL;DR; the "Focused On" column needs it in this run's
    # report, not after the next refresh days later.
    result = run_harvest(db, seeds, config)
    by_id = {p["paperId"]: p for p in s2_corpus}
    searched = list(
        db.query(
            "SELECT * FROM papers WHERE id IN (SELECT paper_id FROM query_hits WHERE source = 's2'"
            " AND query NOT IN ('recommendations', 'snowball'))"
        )
    )
    recommended = list(
        db.query(
            "SELECT * FROM papers WHERE id IN"
            " (SELECT paper_id FROM query_hits WHERE query = 'recommendations')"
        )
    )
    assert len(searched) > 20 and recommended
    # Recommended papers too: one more batch after the recommendations.
    for row in searched + recommended:
        answered = by_id[row["s2_id"]].get("tldr") or {}
        assert row["tldr"] == answered.get("text"), row["title"]
    # Still one batch request per 500 papers, the new papers a search found among them.
    batch, *_ = [r for r in server.s2.requests if r["path"].endswith("/paper/batch")]
    asked = set(batch["body"]["ids"])
    not_asked = {
        r["title"]
        for r in searched
        if r["s2_id"] not in asked and f"ARXIV:{r['arxiv_id']}" not in asked
    }
    assert not_asked == {CAVS}  # its title match answered with its TL;DR
    assert result.requests["s2"] + result.requests["s2_recommendations"] == len(server.s2.requests)


def test_seed_queries_find_most_relevant_papers_and_few_lookalikes(
    db, seeds, config, corpus_arxiv, corpus, server
):
    # The queries alone: recommendations bring papers by likeness, look-alikes among them
    # (scored down, never accepted), and are measured on the field corpus.
    run_harvest(db, seeds, dataclasses.replace(config, recommend_limit=0))
    rows = papers(db)
    relevant = [e for e in corpus if e.label != "lookalike"]
    lookalikes = [e for e in corpus if e.label == "lookalike"]
    found = Counter(e.label for e in relevant if e.arxiv_id in rows)
    total = Counter(e.label for e in relevant)
    for label, n in total.items():
        assert found[label] / n >= 0.75, f"{label}: {found[label]} of {n}"
    assert sum(found.values()) / len(relevant) >= 0.9
    found_lookalikes = [e for e in lookalikes if e.arxiv_id in rows]
    assert len(found_lookalikes) <= 0.15 * len(lookalikes)
    # The look-alikes that slip in rank below the typical relevant paper.
    relevant_scores = sorted(rows[e.arxiv_id]["score"] for e in relevant if e.arxiv_id in rows)
    median = relevant_scores[len(relevant_scores) // 2]
    assert all(rows[e.arxiv_id]["score"] < median for e in found_lookalikes)


def test_most_found_papers_get_their_own_category(db, seeds, config, corpus_arxiv, corpus, server):
    run_harvest(db, seeds, config)
    rows = papers(db)
    found = [e for e in corpus if e.label != "lookalike" and e.arxiv_id in rows]
    right = sum(rows[e.arxiv_id]["category"] == e.label for e in found)
    assert right / len(found) >= 0.75


def test_full_harvest_twice_stores_each_paper_once_and_sees_it_again(
    db, seeds, config, corpus_arxiv, server, monkeypatch
):
    # refresh_days = 0: the batch describes every paper, as a full run's does.
    run_harvest(db, seeds, dataclasses.replace(config, refresh_days=0))
    before = papers(db)
    monkeypatch.setattr(clock, "now_iso", lambda: "2099-01-01T00:00:00Z")
    second = run_harvest(db, seeds, config, full=True)
    after = papers(db)
    assert second.papers_new == 0 and second.papers_updated == 0
    assert after.keys() == before.keys()
    for arxiv_id, row in after.items():
        assert row["first_seen"] == before[arxiv_id]["first_seen"]
        assert row["last_seen"] == "2099-01-01T00:00:00Z"
        assert row["status"] == before[arxiv_id]["status"]


def comparable(db) -> dict[str, tuple]:
    return {
        k: (
            r["title"],
            r["category"],
            r["score"],
            r["status"],
            r["abstract"],
            r["venue"],
            r["venue_year"],
            r["citation_count"],
            r["s2_id"],
            r["milestone"],
        )
        for k, r in papers(db).items()
    }


def test_faults_on_the_way_end_in_the_same_database_as_a_clean_run(
    seeds, config, corpus_arxiv, fake_s2, server, tmp_path
):
    # Pages of 10, so that the arXiv queries take more requests than there are faults.
    config = dataclasses.replace(config, arxiv_page_size=10)
    clean = store.open_db(tmp_path / "clean.db")
    clean_requests = run_harvest(clean, seeds, config).requests
    faults = ["429", "503", "truncate", "reset", "500", "short", "200-html", "empty", "502"]
    s2_faults = ["429", "504-json", "502", "truncate", "short", "reset", "200-html", "500-json"]
    # Each request meets at most one fault, then its retry succeeds.
    corpus_arxiv.faults = [f for fault in faults for f in (fault, None)]
    fake_s2.faults = [f for fault in s2_faults for f in (fault, None)]
    faulty = store.open_db(tmp_path / "faulty.db")
    result = run_harvest(faulty, seeds, config)
    assert result.status == "ok", result.errors
    assert comparable(faulty) == comparable(clean)
    assert result.requests == {
        "arxiv": clean_requests["arxiv"] + len(faults),
        "s2": clean_requests["s2"] + len(s2_faults),
        "s2_recommendations": clean_requests["s2_recommendations"],
    }


def test_query_failing_past_retries_is_reported_others_kept_next_run_catches_up(
    db, seeds, config, corpus_arxiv, server, tmp_path
):
    # The seed lookup succeeds, then the first query fails on every attempt.
    corpus_arxiv.faults = [None] + ["503"] * (config.retries + 1)
    result = run_harvest(db, seeds, config)
    assert result.status == "failed"
    [error] = result.errors
    assert "gave up after 4 attempts: HTTP 503" in error and "[survey]" in error
    assert store.last_runs(db)[0]["status"] == "failed"
    partial = papers(db)
    assert partial.keys() >= SEED_IDS
    assert len(partial) > 50  # everything the other queries brought is kept
    catch_up = run_harvest(db, seeds, config)
    assert catch_up.status == "ok"
    clean = store.open_db(tmp_path / "clean.db")
    run_harvest(clean, seeds, config)
    assert papers(db).keys() == papers(clean).keys()


def test_old_atom_layout_gives_the_same_papers(seeds, config, corpus_arxiv, server, tmp_path):
    new = store.open_db(tmp_path / "new.db")
    run_harvest(new, seeds, config)
    corpus_arxiv.layout = "old"
    old = store.open_db(tmp_path / "old.db")
    run_harvest(old, seeds, config)
    assert comparable(old) == comparable(new)


def test_paging_through_a_large_result_set_keeps_every_paper(
    db, seeds, config, corpus_arxiv, corpus, server
):
    small_pages = type(config)(**{**config.__dict__, "arxiv_page_size": 7})
    run_harvest(db, seeds, small_pages, categories=["early_exit"])
    expected = {
        e.arxiv_id
        for query in seeds.categories["early_exit"].arxiv_search_queries()
        for e in search(corpus, query)
    }
    assert expected <= papers(db).keys()
    starts = Counter(r.get("start") for r in corpus_arxiv.requests if r.get("search_query"))
    assert starts["7"] >= 1 and starts["14"] >= 1
