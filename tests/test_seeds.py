"""The seeds folder: what the repo ships (validated here; its quality is measured by
bench/evaluate.py), and one clear line for every kind of mistake."""

from __future__ import annotations

import shutil
from pathlib import Path

import arxiv
import httpx
import pytest

from harvester.classify import phrase_key
from harvester.config import Config
from harvester.errors import SeedError
from harvester.seeds import Seeds, check_arxiv_query, check_s2_query, load_seeds
from tests.conftest import ROOT, SEEDS

SIX = ["survey", "early_exit", "layer_skipping", "system", "compiler", "accelerator"]
# The families the seed's classification tree names without a table, after its six.
FAMILIES = ["dynamic_width", "dynamic_parameters"]
# arXiv's API is a GET: a query whose URL grows past about 2,000 characters risks being
# refused or cut by a proxy on the way.
ARXIV_URL_LIMIT = 2000


@pytest.fixture(scope="module")
def shipped() -> Seeds:
    """The seeds the repository ships (the other tests run on tests/seeds)."""
    return load_seeds(ROOT / "seeds")


def test_shipped_seeds_list_the_seed_documents_six_sections_then_the_two_families(shipped):
    assert list(shipped.categories) == SIX + FAMILIES
    titles = {k: (c.title, c.name, c.domain) for k, c in shipped.categories.items()}
    assert titles == {
        "survey": ("Dynamic Neural Network Survey", "Survey", "Model"),
        "early_exit": ("早退", "Early exit", "Model"),
        "layer_skipping": ("跳层", "Layer skipping", "Model"),
        "system": ("Dynamic Neural Network System", "System", "System"),
        "compiler": ("Dynamic Neural Network Compiler", "Compiler", "Compiler"),
        "accelerator": ("Dynamic Neural Network Acclerator", "Accelerator", "Accelerator"),
        "dynamic_width": ("动态网络宽度", "Dynamic width", "Model"),
        "dynamic_parameters": ("动态网络参数", "Dynamic parameters", "Model"),
    }


def test_the_two_families_are_titled_as_the_classification_tree_writes_them(shipped):
    tree = shipped.classification
    for key in FAMILIES:
        assert f"* {shipped.categories[key].title}" in tree


def test_every_shipped_query_is_well_formed_and_restricted_to_subject_classes(shipped):
    for category in shipped.categories.values():
        assert category.arxiv_queries and category.s2_queries and category.keywords
        for query in category.arxiv_search_queries():
            assert check_arxiv_query(query) is None
            assert "cat:" in query
        for query in category.s2_queries:
            assert check_s2_query(query) is None


def arxiv_url(query: str) -> str:
    """The URL of a query's first page as the harvester sends it (sources/arxiv.py)."""
    search = arxiv.Search(
        query=query,
        sort_by=arxiv.SortCriterion.SubmittedDate,
        sort_order=arxiv.SortOrder.Descending,
    )
    params = search._url_args() | {"start": "0", "max_results": "2000"}
    return str(httpx.URL(Config().arxiv_url, params=params))


def test_every_shipped_arxiv_query_fits_in_a_url_arxiv_accepts(shipped):
    lengths = {
        (key, i): len(arxiv_url(query))
        for key, category in shipped.categories.items()
        for i, query in enumerate(category.arxiv_search_queries())
    }
    assert {k: n for k, n in lengths.items() if n > ARXIV_URL_LIMIT} == {}


def test_shipped_keywords_count_each_phrase_once(shipped):
    """ "expert" and "experts" are one phrase to the classifier: listed twice, it would count
    twice."""
    for key, category in shipped.categories.items():
        phrases: dict[tuple[str, ...], str] = {}
        for phrase in category.keywords:
            assert phrase_key(phrase) not in phrases, (key, phrases[phrase_key(phrase)], phrase)
            phrases[phrase_key(phrase)] = phrase


def test_early_exit_queries_cover_the_synonyms_people_write(shipped):
    text = " ".join(shipped.categories["early_exit"].arxiv_queries).lower()
    for synonym in [
        "early exit",
        "early exiting",
        "multi-exit",
        "intermediate classifiers",
        "anytime prediction",
        "adaptive inference time",
        "self-speculative",
    ]:
        assert synonym in text


def test_every_family_of_the_llm_era_has_its_words_in_the_queries(shipped):
    def words(key: str) -> str:
        category = shipped.categories[key]
        return " ".join([*category.arxiv_queries, *category.s2_queries]).lower()

    assert "mixture of depths" in words("layer_skipping")
    assert "recurrent depth" in words("layer_skipping")
    assert "sublayer skipping" in words("layer_skipping")
    for phrase in ("offloading", "expert parallelism", "serving", "on-device"):
        assert phrase in words("system")
    assert "mixture of experts" in shipped.categories["system"].s2_queries[0].lower()


def test_seed_papers_are_identified_only(shipped):
    by_key = {(p.arxiv_id or p.title): p for p in shipped.papers}
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


def test_classification_tree_and_sections_are_read(shipped):
    assert shipped.classification.startswith("* 样本自适应动态网络")
    assert set(shipped.sections) == {"book", "people", "course", "conference", "company"}


@pytest.fixture
def seeds_copy(tmp_path: Path) -> Path:
    """The tests' own seeds, to break: the messages are behaviour, not the shipped data."""
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target)
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
            'arxiv_categories = ["cs.PL"',
            'primary_classes = ["PL"]\narxiv_categories = ["cs.PL"',
            r"\[compiler\]: 'PL' is not an arXiv category",
        ),
        (
            "categories.toml",
            'arxiv_categories = ["cs.PL"',
            'priority_margin = 1.5\narxiv_categories = ["cs.PL"',
            r"\[compiler\]: priority_margin must be a number above 0 and at most 1",
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
