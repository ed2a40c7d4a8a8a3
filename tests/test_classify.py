"""Classification v1: keyword rules and query hits, explained by their reasons."""

from __future__ import annotations

from harvester.classify import best_category, phrase_key, score_paper
from harvester.rules import Rules


def test_hyphens_case_and_plurals_do_not_matter():
    assert phrase_key("Early-Exits") == phrase_key("early exit")
    assert phrase_key("intermediate classifiers") == phrase_key("Intermediate Classifier")
    assert phrase_key("side branches") == phrase_key("side branch")


def test_title_counts_more_than_abstract(seeds):
    in_title = score_paper(Rules(seeds), "Early exits for BERT", "We study models.", {})
    in_abstract = score_paper(Rules(seeds), "A study of BERT", "We add early exits to models.", {})
    assert in_title["early_exit"].score == 2 * in_abstract["early_exit"].score


def test_query_hits_add_and_are_explained(seeds):
    scores = score_paper(Rules(seeds), "A model", "Nothing relevant here.", {"compiler": 2})
    assert scores["compiler"].score == 2 * seeds.rules.query_hit
    assert scores["compiler"].reasons == ["+4 found by 2 Compiler queries"]


def test_early_stopping_lookalike_is_penalised_everywhere(seeds):
    scores = score_paper(
        Rules(seeds),
        "Early stopping without a validation set",
        "We propose an early stopping criterion for training with gradient descent.",
        {"early_exit": 1},
    )
    assert scores["early_exit"].score < 0
    assert any("early stopping" in reason for reason in scores["early_exit"].reasons)


def test_compiler_paper_for_dynamic_shapes_lands_in_compiler(seeds):
    scores = score_paper(
        Rules(seeds),
        "DISC: A Dynamic Shape Compiler for Machine Learning Workloads",
        "We present a compiler that supports dynamic shapes with a runtime.",
        {"compiler": 1},
    )
    assert best_category(scores, list(seeds.categories)).category == "compiler"


def test_ties_go_to_the_earlier_category_in_the_seeds(seeds):
    scores = score_paper(Rules(seeds), "x", "y", {"system": 1, "early_exit": 1})
    assert best_category(scores, list(seeds.categories)).category == "early_exit"


def test_no_evidence_means_no_category(seeds):
    assert score_paper(Rules(seeds), "Protein folding", "Biology.", {}) == {}
    assert best_category({}, list(seeds.categories)) is None
