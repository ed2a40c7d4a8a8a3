"""Classification v1: keyword rules and query hits, explained by their reasons."""

from __future__ import annotations

import json
import shutil

import pytest

from harvester import derive
from harvester.classify import CategoryScore, best_category, phrase_key, score_paper
from harvester.features import paper_features
from harvester.ranking import suggest_category
from harvester.rules import Rules
from harvester.seeds import load_seeds
from tests.conftest import SEEDS
from tests.test_derive import COLUMNS


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


@pytest.fixture
def classed(tmp_path):
    """The tests' seeds with the primary classes of System (cs.DC) and Accelerator (cs.AR)."""
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target)
    path = target / "categories.toml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("[system]\n", '[system]\nprimary_classes = ["cs.DC"]\n', 1)
    text = text.replace("[accelerator]\n", '[accelerator]\nprimary_classes = ["cs.AR"]\n', 1)
    path.write_text(text, encoding="utf-8")
    return load_seeds(target)


# System 16 (serving, runtime words), Accelerator 10: within the priority margin (0.6).
NEAR_TIE = (
    "Serving dynamic DNNs at the edge",
    "A hardware design with on-chip buffers and a dataflow for the throughput of dynamic DNNs.",
)


def test_a_near_tie_goes_to_the_section_of_the_arxiv_primary_class(classed):
    rules = Rules(classed)
    scores = score_paper(rules, *NEAR_TIE, {})
    assert {k: s.score for k, s in scores.items()} == {"system": 16.0, "accelerator": 10.0}
    assert best_category(scores, rules.order, rules).category == "system"
    assert best_category(scores, rules.order, rules, primary_class="cs.AR").category == (
        "accelerator"
    )
    # A class no section claims, or the leader's own, leaves the rule as it was.
    assert best_category(scores, rules.order, rules, primary_class="cs.LG").category == "system"
    assert best_category(scores, rules.order, rules, primary_class="cs.DC").category == "system"


def test_the_primary_class_does_not_overturn_a_clear_lead(classed):
    rules = Rules(classed)
    title, abstract = NEAR_TIE
    scores = score_paper(rules, title, abstract.replace(" and a dataflow", ""), {})
    assert {k: s.score for k, s in scores.items()} == {"system": 16.0, "accelerator": 9.0}
    assert best_category(scores, rules.order, rules, primary_class="cs.AR").category == "system"


def test_the_primary_class_gives_no_category_without_evidence(classed):
    rules = Rules(classed)
    scores = score_paper(rules, "Protein folding", "Biology.", {})
    assert best_category(scores, rules.order, rules, primary_class="cs.AR") is None


def test_stored_and_suggested_category_both_follow_the_primary_class(classed):
    """``papers.category`` (derivation) and the queue's suggestion read the same rule."""
    row = dict.fromkeys(COLUMNS)
    title, abstract = NEAR_TIE
    row |= dict(id=1, title=title, abstract=abstract, is_seed=0, manual_fields="[]", year=2025)
    filed = {}
    for primary in (None, "cs.AR"):
        row |= dict(primary_category=primary, arxiv_categories=json.dumps([primary or "cs.LG"]))
        stored = derive.derive(Rules(classed), row, [], []).changes["category"]
        suggested = suggest_category(classed, paper_features(classed, row))
        filed[primary] = (stored, suggested)
    assert filed == {None: ("system", "system"), "cs.AR": ("accelerator", "accelerator")}


def test_a_section_wins_from_as_far_behind_as_its_own_priority_margin(tmp_path):
    """classify.toml's margin (0.6 in the tests' seeds) for every section but one that sets
    its own: System at 65% of the best wins under 0.6, not under its own 0.7."""
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target)
    path = target / "categories.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("[system]\n", "[system]\npriority_margin = 0.7\n", 1))
    own = Rules(load_seeds(target))
    shared = Rules(load_seeds(SEEDS))
    scores = {"early_exit": CategoryScore("early_exit", 10), "system": CategoryScore("system", 6.5)}
    assert best_category(scores, shared.order, shared).category == "system"
    assert best_category(scores, own.order, own).category == "early_exit"
    scores["system"] = CategoryScore("system", 7)
    assert best_category(scores, own.order, own).category == "system"


def with_min_score(tmp_path, minimum: str):
    """The tests' seeds with ``priority_min_score`` in classify.toml."""
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target)
    path = target / "classify.toml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("priority_margin = 0.6\n", f"priority_margin = 0.6\n{minimum}", 1)
    path.write_text(text, encoding="utf-8")
    return load_seeds(target)


def test_a_section_needs_evidence_of_its_own_to_win_from_behind(tmp_path):
    seeds = with_min_score(tmp_path, "priority_min_score = 4\n")
    rules = Rules(seeds)
    assert seeds.rules.priority_min_score == 4.0
    # System within the margin (2.5 >= 0.6 x 3.5) on two weak words: the family keeps it.
    weak = {"early_exit": CategoryScore("early_exit", 3.5), "system": CategoryScore("system", 2.5)}
    assert best_category(weak, rules.order, rules).category == "early_exit"
    # With evidence of its own, the section wins from behind as before.
    strong = {
        "early_exit": CategoryScore("early_exit", 6.0),
        "system": CategoryScore("system", 4.0),
    }
    assert best_category(strong, rules.order, rules).category == "system"
    # A section that leads needs no minimum.
    alone = {"system": CategoryScore("system", 2.5), "early_exit": CategoryScore("early_exit", 1)}
    assert best_category(alone, rules.order, rules).category == "system"


def test_without_a_minimum_any_score_within_the_margin_wins_for_the_section(seeds):
    rules = Rules(seeds)
    assert seeds.rules.priority_min_score == 0.0
    weak = {"early_exit": CategoryScore("early_exit", 3.5), "system": CategoryScore("system", 2.5)}
    assert best_category(weak, rules.order, rules).category == "system"


def test_priority_min_score_must_be_a_number(tmp_path):
    from harvester.seeds import SeedError

    with pytest.raises(SeedError, match="priority_min_score must be a number"):
        with_min_score(tmp_path, 'priority_min_score = "four"\n')


def test_a_query_hit_counts_only_for_a_category_the_paper_has_a_phrase_of(tmp_path):
    seeds = with_min_score(tmp_path, "hits_need_keywords = true\n")
    title, abstract = "Skipping layers per token", "A router decides which layers to skip."
    hits = {"early_exit": 1, "layer_skipping": 1}
    scores = score_paper(Rules(seeds), title, abstract, hits)
    assert set(scores) == {"layer_skipping"}
    assert scores["layer_skipping"].reasons[0] == "+2 found by 1 Layer skipping query"
    # Without the rule, the early-exit query's hit alone gives Early exit a score.
    plain = score_paper(Rules(load_seeds(SEEDS)), title, abstract, hits)
    assert plain["early_exit"].reasons == ["+2 found by 1 Early exit query"]


def test_hits_need_keywords_must_be_true_or_false(tmp_path):
    from harvester.seeds import SeedError

    with pytest.raises(SeedError, match="hits_need_keywords must be true or false"):
        with_min_score(tmp_path, "hits_need_keywords = 1\n")
