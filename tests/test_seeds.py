"""The seeds folder: what the repo ships, and one clear line for every kind of mistake."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harvester.errors import SeedError
from harvester.seeds import check_arxiv_query, load_seeds
from tests.conftest import ROOT

SIX = ["survey", "early_exit", "layer_skipping", "system", "compiler", "accelerator"]


def test_shipped_seeds_have_the_six_categories_titled_as_the_seed_document(seeds):
    assert list(seeds.categories) == SIX
    titles = {k: c.title for k, c in seeds.categories.items()}
    assert titles == {
        "survey": "Dynamic Neural Network Survey",
        "early_exit": "早退",
        "layer_skipping": "跳层",
        "system": "Dynamic Neural Network System",
        "compiler": "Dynamic Neural Network Compiler",
        "accelerator": "Dynamic Neural Network Acclerator",
    }
    assert {c.domain for c in seeds.categories.values()} == {
        "Model",
        "System",
        "Compiler",
        "Accelerator",
    }


def test_every_shipped_query_is_well_formed_and_restricted_to_subject_classes(seeds):
    for category in seeds.categories.values():
        assert category.arxiv_queries and category.keywords
        for query in category.arxiv_search_queries():
            assert check_arxiv_query(query) is None
            assert "cat:" in query


def test_early_exit_queries_cover_the_synonyms_people_write(seeds):
    text = " ".join(seeds.categories["early_exit"].arxiv_queries).lower()
    for synonym in [
        "early exit",
        "early-exit",
        "early exiting",
        "multi-exit",
        "intermediate classifiers",
        "anytime prediction",
        "adaptive inference time",
    ]:
        assert synonym in text


def test_seed_papers_are_identified_only(seeds):
    by_key = {(p.arxiv_id or p.title): p for p in seeds.papers}
    assert set(by_key) == {
        "1703.09844",
        "2004.02178",
        "1711.11503",
        "Cavs: An Efficient Runtime System for Dynamic Neural Networks",
    }
    assert by_key["1703.09844"].category == "early_exit"
    assert by_key["1711.11503"].category == "layer_skipping"
    assert (
        by_key["Cavs: An Efficient Runtime System for Dynamic Neural Networks"].category == "system"
    )


def test_classification_tree_and_sections_are_read(seeds):
    assert seeds.classification.startswith("* 样本自适应动态网络")
    assert set(seeds.sections) == {"book", "people", "course", "conference", "company"}


@pytest.fixture
def seeds_copy(tmp_path: Path) -> Path:
    target = tmp_path / "seeds"
    shutil.copytree(ROOT / "seeds", target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    "file, old, new, message",
    [
        (
            "categories.toml",
            'name = "Early exit"',
            'name = "Early exit',
            r"categories\.toml: .*line \d+",
        ),
        (
            "categories.toml",
            'domain = "System"',
            'domain = "Runtime"',
            r"categories\.toml:\d+: \[system\]: domain 'Runtime'",
        ),
        (
            "categories.toml",
            '\'ti:"early exit" OR',
            '\'(ti:"early exit" OR',
            r"categories\.toml:\d+: \[early_exit\] arXiv query .*'\(' without '\)'",
        ),
        (
            "categories.toml",
            'abs:"layer skipping"',
            'abstract:"layer skipping"',
            r"unknown field prefix 'abstract:'",
        ),
        (
            "categories.toml",
            'arxiv_categories = ["cs.PL"',
            'arxiv_categories = ["compilers"',
            r"\[compiler\]: 'compilers' is not an arXiv category",
        ),
        (
            "categories.toml",
            '"early exit" = 4',
            '"early exit" = "high"',
            r"\[early_exit\] keywords: weight of 'early exit' must be a number",
        ),
        (
            "papers.toml",
            'category = "early_exit"',
            'category = "early_exits"',
            r"papers\.toml:\d+: paper 1: unknown category 'early_exits'",
        ),
        (
            "papers.toml",
            'arxiv_id = "2004.02178"',
            'arxiv_id = "2004.02178v2"',
            r"papers\.toml:\d+: paper 2: '2004.02178v2' is not a bare arXiv id",
        ),
        (
            "papers.toml",
            'arxiv_id = "1711.11503"',
            'arxiv_id = "1711.11503"\ntitle = "ConvNet-AIG"',
            r"paper 3: give exactly one of",
        ),
        ("classify.toml", "query_hit = 2.0", "query_hit = two", r"classify\.toml: .*line \d+"),
        (
            "classification.md",
            "  * 动态网络结构",
            "   * 动态网络结构",
            r"classification\.md:2: expected a list item",
        ),
    ],
)
def test_malformed_seeds_name_file_line_and_problem(seeds_copy, file, old, new, message):
    edit(seeds_copy / file, old, new)
    with pytest.raises(SeedError, match=message):
        load_seeds(seeds_copy)


def test_line_number_points_at_the_broken_table(seeds_copy):
    path = seeds_copy / "categories.toml"
    edit(path, 'domain = "Compiler"', 'domain = "Compilers"')
    line = next(
        i for i, text in enumerate(path.read_text().splitlines(), 1) if text == "[compiler]"
    )
    with pytest.raises(SeedError, match=rf"categories\.toml:{line}: \[compiler\]"):
        load_seeds(seeds_copy)


def test_missing_seeds_folder_says_how_to_point_at_one(tmp_path):
    with pytest.raises(SeedError, match="seeds folder not found"):
        load_seeds(tmp_path / "nowhere")


def test_unknown_category_lists_the_known_ones(seeds):
    with pytest.raises(SeedError, match=r"unknown category 'early' .*early_exit"):
        seeds.category("early")
