"""The ranking's two questions, relevance and category, on a small labelled set of our own
(tests/data/ranking_set.json) and the tests' seeds."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.base import clone

from harvester.ranking import (
    CategoryModel,
    Decision,
    PaperFeatures,
    Ranker,
    Scored,
    Table,
    keyword_relevance,
    most_likely_first,
    paper_features,
    suggest_category,
    uncertain_first,
    vocabulary,
)
from harvester.seeds import Seeds

SET = Path(__file__).parent / "data" / "ranking_set.json"


def load_set() -> list[dict[str, Any]]:
    return json.loads(SET.read_text(encoding="utf-8"))["papers"]


def features(seeds: Seeds, papers: list[dict[str, Any]]) -> list[PaperFeatures]:
    """Each row's features, its query hits and citations as the store would hand them over."""
    cited_by: dict[str, list[str]] = {}
    for paper in papers:
        for cited in paper["cites"]:
            cited_by.setdefault(cited, []).append(paper["s2_id"])
    return [
        paper_features(
            seeds,
            paper,
            hits=[{"category": key, "source": "arxiv", "query": "q"} for key in paper["found_by"]],
            cites=paper["cites"],
            cited_by=cited_by.get(paper["s2_id"], []),
        )
        for paper in papers
    ]


def seed_decisions(papers: list[dict[str, Any]]) -> list[Decision]:
    return [Decision(p["id"], True, p["label"], seed=True) for p in papers if p["seed"]]


def labels(papers: list[dict[str, Any]]) -> dict[int, str]:
    return {p["id"]: p["label"] for p in papers}


def pending(papers: list[dict[str, Any]], feats: list[PaperFeatures]) -> list[PaperFeatures]:
    seeds_ = {p["id"] for p in papers if p["seed"]}
    return [f for f in feats if f.paper_id not in seeds_]


# --- features ------------------------------------------------------------------------------------


def test_features_of_a_row_with_hits_and_citations(seeds):
    row = {
        "id": 7,
        "title": "Early-Exit Serving at Scale: a Survey",
        "abstract": "We review serving systems whose models stop early for easy inputs.",
        "tldr": "Early exits make serving cheaper.",
        "venue": "MLSys",
        "s2_id": "s2-me",
        "primary_category": "cs.DC",
        "arxiv_categories": '["cs.DC", "cs.LG"]',
    }
    hits = [
        {"category": "system", "source": "arxiv", "query": "a"},
        {"category": "early_exit", "source": "arxiv", "query": "b"},
        {"category": "system", "source": "s2", "query": "c"},
        {"category": "gone", "source": "s2", "query": "d"},
    ]
    assert paper_features(
        seeds, row, hits=hits, cites=["s2-a", "s2-me", ""], cited_by=["s2-b"]
    ) == PaperFeatures(
        paper_id=7,
        title="Early-Exit Serving at Scale: a Survey",
        body="We review serving systems whose models stop early for easy inputs."
        " Early exits make serving cheaper.",
        venue="MLSys",
        found_by=("early_exit", "system"),
        s2_id="s2-me",
        cites=frozenset({"s2-a"}),
        cited_by=frozenset({"s2-b"}),
        arxiv_classes=("cs.DC", "cs.LG"),
        # "Survey", "review", "serving" and "systems" pick a section; they are no evidence
        # of the field.
        keyword_relevance=10.0,
        relevance_reasons=("+8 title: 'early exit'", "+2 title: 'exit'"),
        # The section question: query hits and every category's keywords, as classified.
        category_scores=(
            ("survey", 15.0),
            ("system", 13.5),
            ("early_exit", 12.0),
            ("accelerator", 2.0),
        ),
    )


def test_features_of_a_bare_row(seeds):
    assert paper_features(seeds, {"id": 3, "title": "Capsules"}) == PaperFeatures(
        paper_id=3,
        title="Capsules",
        body="",
        venue=None,
        found_by=(),
        s2_id=None,
        cites=frozenset(),
        cited_by=frozenset(),
        arxiv_classes=(),
        keyword_relevance=0.0,
        relevance_reasons=(),
        category_scores=(),
    )


def test_section_words_are_split_from_field_evidence(seeds):
    vocab = vocabulary(seeds)
    assert {"survey", "review", "compiler", "accelerator", "runtime", "hardware"} <= set(
        vocab.section_words
    )
    # A section's phrase that names the field's idea still says "relevant".
    assert ("dynamic", "shape") in vocab.field
    assert ("early", "exit") in vocab.field
    assert ("dynamic", "neural", "network") in vocab.field


def test_a_single_section_word_stays_a_section_word_beside_a_family_phrase(seeds):
    # A model category naming "runtime pruning" does not make "runtime" evidence of the field;
    # a section's phrase of several words that shares a family's word does count.
    early_exit = seeds.categories["early_exit"]
    widened = replace(
        seeds,
        categories={
            **seeds.categories,
            "early_exit": replace(
                early_exit, keywords={**early_exit.keywords, "runtime pruning": 2.0}
            ),
        },
    )
    vocab = vocabulary(widened)
    assert "runtime" in vocab.section_words
    assert ("runtime", "pruning") in vocab.field
    assert ("dynamic", "batching") in vocab.field


def test_keyword_relevance_ignores_words_that_only_pick_a_section(seeds):
    assert keyword_relevance(seeds, "A Survey of Compilers, Runtimes and Hardware", "") == (0, [])
    assert keyword_relevance(seeds, "A survey of temporal graph models", "") == (
        -6.0,
        ["-6 title: 'temporal graph'"],
    )


# --- relevance ----------------------------------------------------------------------------------


def test_cold_start_puts_every_relevant_paper_above_every_lookalike(seeds):
    papers = load_set()
    feats = features(seeds, papers)
    ranker = Ranker.train(seeds, feats, seed_decisions(papers))
    order = [
        labels(papers)[s.paper_id] for s in most_likely_first(ranker.score(pending(papers, feats)))
    ]
    assert order == [*(label for label in order if label != "lookalike"), *(["lookalike"] * 8)]
    assert len(order) == 16
    assert ranker.model is None


def test_a_survey_of_dynamic_graphs_is_not_lifted_by_survey(seeds):
    papers = load_set()
    graph_survey = next(p for p in papers if p["title"].startswith("Representation Learning"))
    # The same paper, saying nothing of being a survey.
    plain = dict(
        graph_survey,
        id=99,
        s2_id="s2-plain",
        title="Representation Learning for Dynamic Graphs",
        abstract=graph_survey["abstract"]
        .replace("We survey", "We study")
        .replace(", and give an overview of their benchmarks", ""),
    )
    feats = features(seeds, [*papers, plain])
    ranker = Ranker.train(seeds, feats, seed_decisions(papers))
    scores = {s.paper_id: s.probability for s in ranker.score(feats)}
    by_title = {f.paper_id: f for f in feats}
    assert by_title[graph_survey["id"]].keyword_relevance == by_title[99].keyword_relevance
    assert scores[graph_survey["id"]] == pytest.approx(scores[99], abs=0.02)
    relevant = [p["id"] for p in papers if p["label"] != "lookalike" and not p["seed"]]
    assert max(scores[graph_survey["id"]], scores[99]) < min(scores[i] for i in relevant)


def test_same_input_same_order(seeds):
    papers = load_set()
    decisions = [
        *seed_decisions(papers),
        Decision(3, True, "early_exit"),
        Decision(11, False),
        Decision(17, False),
        Decision(7, True, "system"),
    ]

    def order() -> list[Scored]:
        feats = features(seeds, papers)
        return most_likely_first(Ranker.train(seeds, feats, decisions).score(feats))

    first, second = order(), order()
    assert first == second
    assert [s.paper_id for s in first] == [s.paper_id for s in order()]


def test_decisions_of_both_kinds_train_a_model_the_prior_is_blended_with(seeds):
    papers = load_set()
    feats = features(seeds, papers)
    accepted_only = [*seed_decisions(papers), Decision(3, True, "early_exit")]
    assert Ranker.train(seeds, feats, accepted_only).model is None
    ranker = Ranker.train(seeds, feats, [*accepted_only, Decision(17, False)])
    assert ranker.model is not None
    # One rejection: the prior keeps most of the say.
    assert 0 < ranker.trust < 0.1


def test_a_rejection_sinks_the_papers_linked_to_it(seeds):
    papers = load_set()
    feats = features(seeds, papers)
    before = Ranker.train(seeds, feats, seed_decisions(papers))
    after = Ranker.train(seeds, feats, [*seed_decisions(papers), Decision(13, False)])
    # The survey of dynamic graphs cites the rejected temporal-graph paper.
    probability = {s.paper_id: s.prior for s in after.score(feats)}
    assert probability[12] < {s.paper_id: s.prior for s in before.score(feats)}[12]
    assert after.links(next(f for f in feats if f.paper_id == 12)) == (0, 1)


def test_the_learned_model_fits_only_the_columns_decided_papers_have_and_ranks_the_same(seeds):
    papers = load_set()
    feats = features(seeds, papers)
    decisions = [
        *seed_decisions(papers),
        *(Decision(p["id"], p["label"] != "lookalike", p["label"]) for p in papers[2:-2]),
    ]
    ranker = Ranker.train(seeds, feats, decisions)
    table = Table.of(ranker.prior, feats, tuple(seeds.categories))
    assert ranker.model is not None and ranker.columns is not None
    everything, _ = ranker._matrix(table)
    assert len(ranker.columns) < everything.shape[1]
    # The same model fitted over every column: a column no decided paper has gets no weight.
    decided = np.array([table.row[d.paper_id] for d in decisions], dtype=np.int64)
    x, _ = ranker._matrix(table, decided)
    wide = clone(ranker.model).fit(x, [int(d.accepted) for d in decisions])
    unused = np.setdiff1d(np.arange(x.shape[1]), ranker.columns)
    assert not wide.coef_[0][unused].any()
    over_every_column = replace(ranker, model=wide, columns=None)
    assert [s.probability for s in ranker.score(feats)] == pytest.approx(
        [s.probability for s in over_every_column.score(feats)], abs=1e-9
    )
    assert [ranker.top_words(f) for f in feats] == [over_every_column.top_words(f) for f in feats]


def test_uncertain_first_puts_the_least_sure_first():
    scored = [
        Scored(1, 0.97, 0.9),
        Scored(2, 0.52, 0.5),
        Scored(3, 0.08, 0.1),
        Scored(4, 0.45, 0.5),
        Scored(5, 0.48, 0.5),
        Scored(6, 0.52, 0.5),
    ]
    assert [s.paper_id for s in uncertain_first(scored)] == [2, 6, 5, 4, 3, 1]
    assert [s.paper_id for s in most_likely_first(scored)] == [1, 2, 6, 5, 4, 3]


def test_explanation_names_the_evidence(seeds):
    papers = load_set()
    feats = features(seeds, papers)
    ranker = Ranker.train(seeds, feats, seed_decisions(papers))
    paper = next(f for f in feats if f.paper_id == 3)
    why = ranker.explain(paper, seeds)
    assert why.startswith(f"{ranker.score([paper])[0].probability:.0%} likely relevant; ")
    assert "+8 title: 'early exiting'" in why
    assert "found by Early exit queries" in why
    assert "cites 1 accepted" in why


# --- category -----------------------------------------------------------------------------------


def test_a_seed_only_category_model_is_not_used(seeds):
    papers = load_set()
    feats = features(seeds, papers)
    model = CategoryModel.train(seeds, feats, seed_decisions(papers))
    assert model.learned == ()
    assert model.probabilities(seeds, feats[0]) == {}
    survey = next(f for f in feats if f.title == "Dynamic Neural Networks: A Survey")
    assert suggest_category(seeds, survey, model) == "survey"


def test_suggested_categories_cold(seeds):
    papers = load_set()
    feats = features(seeds, papers)
    model = CategoryModel.train(seeds, feats, seed_decisions(papers))
    suggested = {
        f.paper_id: suggest_category(seeds, f, model)
        for f in pending(papers, feats)
        if labels(papers)[f.paper_id] != "lookalike"
    }
    assert suggested == {
        p["id"]: p["label"] for p in papers if p["label"] != "lookalike" and not p["seed"]
    }


def test_a_survey_of_dynamic_networks_stays_a_survey_under_a_learned_system_model(seeds):
    papers = load_set()
    by_id = {p["id"]: p for p in papers}

    def copies(source: dict[str, Any], first_id: int, title: str) -> list[dict[str, Any]]:
        return [
            dict(
                source,
                id=first_id + i,
                s2_id=f"s2-{first_id + i}",
                seed=False,
                title=f"{title} {i}",
            )
            for i in range(6)
        ]

    # Accepted system papers share the survey's words ("dynamic neural networks").
    systems = copies(by_id[2], 100, "A Runtime System for Dynamic Neural Networks")
    exits = copies(by_id[3], 200, "Early Exiting for Transformer Encoders")
    survey = dict(by_id[10], id=300, s2_id="s2-300", title="A Survey of Dynamic Neural Networks")
    feats = features(seeds, [*papers, *systems, *exits, survey])
    decisions = [
        *seed_decisions(papers),
        *(Decision(p["id"], True, "system") for p in systems),
        *(Decision(p["id"], True, "early_exit") for p in exits),
    ]
    model = CategoryModel.train(seeds, feats, decisions)
    assert model.learned == ("early_exit", "system")
    for paper in feats:
        if paper.paper_id in (10, 300):
            assert suggest_category(seeds, paper, model) == "survey", paper.title


def test_a_category_is_learned_from_its_fifth_accepted_paper(seeds):
    papers = load_set()
    by_id = {p["id"]: p for p in papers}
    copies = [
        dict(by_id[3], id=400 + i, s2_id=f"s2-{400 + i}", seed=False, title=f"Exits {i}")
        for i in range(5)
    ]
    feats = features(seeds, [*papers, *copies])
    # The seed paper MSDNet and three more: four accepted early-exit papers, no model.
    four = [*seed_decisions(papers), *(Decision(p["id"], True, "early_exit") for p in copies[:3])]
    assert CategoryModel.train(seeds, feats, four).learned == ()
    five = [*four, Decision(copies[3]["id"], True, "early_exit")]
    model = CategoryModel.train(seeds, feats, five)
    # Learned against the other accepted papers (Cavs), which the model knows only as "not
    # early exit": their own section stays the rule's.
    assert model.learned == ("early_exit",)
    assert set(model.probabilities(seeds, feats[0])) == {"", "early_exit"}
