"""The category rule's two readings beyond a paper's own phrases: the papers around it in the
citation graph, and what its title names (``ranking.suggest_categories``, the one function
``screening.shown_category`` files every pending paper by)."""

from __future__ import annotations

from dataclasses import replace

from sqlite_utils import Database

from harvester import export, ingest, screening, store
from harvester.ranking import PaperFeatures, paper_features, suggest_categories
from harvester.records import PaperRecord
from harvester.rules import Rules
from harvester.seeds import Seeds
from harvester.sources.semantic_scholar import to_record
from tests.loopback import s2_paper

# Its words lean a little to Layer skipping ("adaptive depth", "skipped"), with early exits
# named beside them: a close call.
DEPTH_TITLE = "Tokens that stop early: adaptive depth for language models"
DEPTH_ABSTRACT = (
    "Each token decides after every layer whether its prediction is final; the remaining"
    " layers are skipped for it. We compare with early exit baselines."
)
EXIT_ABSTRACT = "Internal classifiers after each layer stop inference early when two agree."
# A model paper that reports how it runs: system words in the abstract, none in the title.
SERVING_ABSTRACT = (
    "Each token leaves at an early exit of a multi-exit model; we report the throughput, memory"
    " and latency of serving on GPUs, the scheduling of requests and the communication cost of"
    " the deployment."
)
MODEL_TITLE = "Faster large language models with exits"


def paper(
    seeds: Seeds,
    pid: int,
    title: str,
    abstract: str,
    *,
    cites: tuple[int, ...] = (),
    cited_by: tuple[int, ...] = (),
) -> PaperFeatures:
    row = {"id": pid, "title": title, "abstract": abstract, "s2_id": f"s2-{pid}"}
    return paper_features(
        seeds,
        row,
        cites=[f"s2-{i}" for i in cites],
        cited_by=[f"s2-{i}" for i in cited_by],
    )


def early_exit_papers(seeds: Seeds, cited_by: int) -> list[PaperFeatures]:
    return [
        paper(seeds, pid, f"Patient exits {pid}", EXIT_ABSTRACT, cited_by=(cited_by,))
        for pid in (2, 3, 4)
    ]


def test_a_paper_citing_three_early_exit_papers_is_filed_as_early_exit(seeds):
    alone = paper(seeds, 1, DEPTH_TITLE, DEPTH_ABSTRACT)
    assert suggest_categories(seeds, [alone]) == {1: "layer_skipping"}
    citing = paper(seeds, 1, DEPTH_TITLE, DEPTH_ABSTRACT, cites=(2, 3, 4))
    assert suggest_categories(seeds, [citing, *early_exit_papers(seeds, cited_by=1)]) == {
        1: "early_exit",
        2: "early_exit",
        3: "early_exit",
        4: "early_exit",
    }


def test_a_paper_whose_words_are_clear_keeps_its_category_whatever_it_cites(seeds):
    skipping = paper(seeds, 1, "SkipNet: learning to skip layers", DEPTH_ABSTRACT, cites=(2, 3, 4))
    assert suggest_categories(seeds, [skipping, *early_exit_papers(seeds, cited_by=1)]) == {
        1: "layer_skipping",
        2: "early_exit",
        3: "early_exit",
        4: "early_exit",
    }


def test_accepted_neighbours_vote_for_the_category_they_are_filed_under(seeds):
    """A person's category for an accepted paper stands for it in the vote, whatever its
    words say (here they say nothing of any section)."""
    citing = paper(seeds, 1, DEPTH_TITLE, DEPTH_ABSTRACT, cites=(2, 3, 4))
    plain = [
        paper(seeds, pid, f"A study {pid}", "We train networks.", cited_by=(1,))
        for pid in (2, 3, 4)
    ]
    assert suggest_categories(seeds, [citing, *plain])[1] == "layer_skipping"
    filed = {2: "early_exit", 3: "early_exit", 4: "early_exit"}
    assert suggest_categories(seeds, [citing, *plain], filed=filed)[1] == "early_exit"


def test_the_vote_reads_the_neighbours_own_words_so_the_order_of_papers_does_not_matter(seeds):
    """Two close calls citing each other do not pull each other over: each neighbour counts
    for what its own words say, once."""
    papers = [
        paper(seeds, 1, DEPTH_TITLE, DEPTH_ABSTRACT, cites=(2, 3, 4, 5)),
        *early_exit_papers(seeds, cited_by=1),
        paper(seeds, 5, DEPTH_TITLE + " 5", DEPTH_ABSTRACT, cited_by=(1,)),
    ]
    expected = {1: "early_exit", 2: "early_exit", 3: "early_exit", 4: "early_exit"}
    expected[5] = "layer_skipping"
    assert suggest_categories(seeds, papers) == expected
    assert suggest_categories(seeds, papers[::-1]) == expected


def test_a_model_paper_reporting_its_serving_cost_stays_a_model_paper(seeds):
    """System is close behind on the abstract's words (throughput, serving, GPUs,
    scheduling), but the title names the exits, not a system: an Early exit paper."""
    model = paper(seeds, 1, MODEL_TITLE, SERVING_ABSTRACT)
    scores = dict(model.category_scores)
    assert scores["early_exit"] > scores["system"] >= 0.6 * scores["early_exit"]
    assert suggest_categories(seeds, [model]) == {1: "early_exit"}


def test_a_serving_system_says_so_in_its_title_and_is_filed_as_system(seeds):
    system = paper(seeds, 1, "An early-exit serving system for multi-exit models", SERVING_ABSTRACT)
    scores = dict(system.category_scores)
    assert scores["early_exit"] > scores["system"]
    assert suggest_categories(seeds, [system]) == {1: "system"}


def test_a_section_in_its_home_arxiv_class_wins_from_behind_without_a_title_word(seeds):
    categories = dict(seeds.categories)
    categories["system"] = replace(categories["system"], primary_classes=("cs.DC",))
    with_home = replace(seeds, categories=categories)
    row = {
        "id": 1,
        "title": MODEL_TITLE,
        "abstract": SERVING_ABSTRACT,
        "s2_id": "s2-1",
        "primary_category": "cs.DC",
    }
    assert suggest_categories(with_home, [paper_features(with_home, row)]) == {1: "system"}
    row["primary_category"] = "cs.CL"
    assert suggest_categories(with_home, [paper_features(with_home, row)]) == {1: "early_exit"}


# --- through the queue ---------------------------------------------------------------------------


def s2_record(paper_id: str, title: str, abstract: str) -> PaperRecord:
    return to_record(
        s2_paper(
            paper_id,
            title,
            abstract,
            year=2024,
            citationCount=3,
            authors=[{"authorId": "1", "name": "A. Author"}],
            tldr=None,
        )
    )


def shown(db: Database, seeds: Seeds) -> dict[str, str | None]:
    current = screening.order(db, seeds)
    rows = db.query("SELECT id, title, status, category, manual_fields FROM papers")
    return {row["title"]: screening.shown_category(row, current) for row in rows}


def test_the_queue_files_a_paper_by_the_stored_citation_graph(tmp_path, seeds):
    """``status``, ``review list`` and ``accept`` read ``shown_category``: the citations the
    harvest stored are its vote."""
    db = store.open_db(tmp_path / "h.db")
    records = [s2_record("p1", DEPTH_TITLE, DEPTH_ABSTRACT)]
    records += [s2_record(f"e{i}", f"Patient exits {i}", EXIT_ABSTRACT) for i in (2, 3, 4)]
    ingest.save_records(db, Rules(seeds), records)
    screening.forget()
    assert shown(db, seeds)[DEPTH_TITLE] == "layer_skipping"
    store.graph.add_edges(db, [("p1", "e2"), ("p1", "e3"), ("p1", "e4")])
    db.conn.commit()
    screening.forget()
    assert shown(db, seeds) == {
        DEPTH_TITLE: "early_exit",
        "Patient exits 2": "early_exit",
        "Patient exits 3": "early_exit",
        "Patient exits 4": "early_exit",
    }


def test_an_export_of_pending_papers_files_them_where_the_queue_shows_them(tmp_path, seeds):
    """``export --status pending --category`` is the queue's category, not the keyword one
    ``derive`` stores before the citation vote and the title have had their say."""
    db = store.open_db(tmp_path / "h.db")
    records = [s2_record("p1", DEPTH_TITLE, DEPTH_ABSTRACT)]
    records += [s2_record(f"e{i}", f"Patient exits {i}", EXIT_ABSTRACT) for i in (2, 3, 4)]
    ingest.save_records(db, Rules(seeds), records)
    store.graph.add_edges(db, [("p1", "e2"), ("p1", "e3"), ("p1", "e4")])
    db.conn.commit()
    screening.forget()

    def exported(category: str) -> list[tuple[str, tuple[str, ...]]]:
        found = export.citations(db, seeds, status="pending", category=category)
        return sorted((c.title, c.keywords) for c in found)

    name = seeds.categories["early_exit"].name
    assert exported("early_exit") == sorted(
        [(DEPTH_TITLE, (name,)), *[(f"Patient exits {i}", (name,)) for i in (2, 3, 4)]]
    )
    assert exported("layer_skipping") == []
