"""Categories beyond the seed document's six: the families its classification tree names
(动态网络宽度, 动态网络参数) render after its six sections, everywhere a report lists sections.

The seeds here are the tests' own with the two families added (``tests/seeds_families``),
not the shipped ones: curators may reword or add categories without breaking these tests.
"""

from __future__ import annotations

import itertools
import re
import shutil
from pathlib import Path
from unittest import mock

import pytest
from sqlite_utils import Database

import harvester.clock as harvester_clock
from harvester import ingest, review, store
from harvester.report import write_reports
from harvester.report.common import anchor
from harvester.rules import Rules
from harvester.seeds import Seeds, load_seeds
from tests.conftest import ROOT
from tests.sample_db import _s2, build

FAMILIES_SEEDS = Path(__file__).parent / "seeds_families"
SIX = [
    "Dynamic Neural Network Survey",
    "早退",
    "跳层",
    "Dynamic Neural Network System",
    "Dynamic Neural Network Compiler",
    "Dynamic Neural Network Acclerator",
]
FAMILIES = ["动态网络宽度", "动态网络参数"]


@pytest.fixture(scope="module")
def family_seeds(tmp_path_factory: pytest.TempPathFactory) -> Seeds:
    folder = tmp_path_factory.mktemp("seeds")
    shutil.copytree(FAMILIES_SEEDS, folder, dirs_exist_ok=True)
    for name in ("venues.toml", "awards.csv"):
        shutil.copy2(ROOT / "seeds" / name, folder / name)
    return load_seeds(folder)


def build_with_families(db: Database, seeds: Seeds) -> None:
    """The report tests' sample database, then three papers accepted in the two families:
    two dynamic-width papers (2017, a milestone, and 2021) and a dynamic-parameters one
    (2019, a milestone)."""
    build(db, seeds)
    clock = (f"2026-11-{day:02d}T07:00:00Z" for day in itertools.count(10))
    papers = [
        (
            _s2(
                "1" * 40,
                "Outrageously Large Neural Networks: The Sparsely-Gated Mixture-of-Experts Layer",
                arxiv="1701.06538",
                venue="International Conference on Learning Representations",
                dblp="conf/iclr/ShazeerMMDLHD17",
                year=2017,
                cites=2900,
                tldr="A sparsely-gated mixture of experts between LSTM layers.",
            ),
            "dynamic_width",
        ),
        (
            _s2(
                "2" * 40,
                "Dynamic Slimmable Network",
                arxiv="2103.13258",
                venue="Computer Vision and Pattern Recognition",
                dblp="conf/cvpr/LiWLZC21",
                year=2021,
                cites=90,
                tldr="The width of the network is chosen per input.",
            ),
            "dynamic_width",
        ),
        (
            _s2(
                "3" * 40,
                "CondConv: Conditionally Parameterized Convolutions for Efficient Inference",
                arxiv="1904.04971",
                venue="Neural Information Processing Systems",
                dblp="conf/nips/YangBLN19",
                year=2019,
                cites=700,
                tldr="Convolution kernels mixed per example.",
            ),
            "dynamic_parameters",
        ),
    ]
    with (
        mock.patch.object(harvester_clock, "now_iso", lambda: next(clock)),
    ):
        ingest.save_records(db, Rules(seeds), [record for record, _ in papers])
        for record, category in papers:
            review.accept(db, seeds, str(record.arxiv_id), category=category, who="sample")


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory, family_seeds: Seeds) -> Path:
    folder = tmp_path_factory.mktemp("families")
    db = store.open_db(folder / "sample.db")
    build_with_families(db, family_seeds)
    out = folder / "reports"
    write_reports(db, Rules(family_seeds), out)
    return out


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def test_the_families_come_after_the_seeds_six_in_the_contents(written):
    toc = [line for line in read(written / "README.md").splitlines() if line.startswith("  - [")]
    assert toc == [f"  - [{title}](#{anchor(title)})" for title in SIX + FAMILIES]
    assert toc[-2:] == ["  - [动态网络宽度](#动态网络宽度)", "  - [动态网络参数](#动态网络参数)"]


def test_every_contents_anchor_names_a_heading_of_the_list(written):
    text = read(written / "README.md")
    headings = {anchor(h) for h in re.findall(r"^#+ (.+)$", text, flags=re.M)}
    links = re.findall(r"^\s*- \[[^\]]+\]\(#([^)]+)\)$", text, flags=re.M)
    assert links and [a for a in links if a not in headings] == []


def test_the_family_sections_follow_the_six_with_their_num_lines(written):
    papers = read(written / "README.md").split("\n# Papers\n", 1)[1]
    sections = re.findall(r"^## (.+)$", papers, flags=re.M)
    assert sections == SIX + FAMILIES
    width = papers.split("## 动态网络宽度\n", 1)[1].split("\n----\n", 1)[0]
    assert width == (
        "(num) 2021 = 1, 2017 = 1,\n"
        "| **Date** | **Paper** | **Focused On** | **Notes** |\n"
        "| --- | --- | --- | --- |\n"
        "| 2021 CVPR | [Dynamic Slimmable Network](https://arxiv.org/abs/2103.13258)"
        " | The width of the network is chosen per input. | 90 citations |\n"
        "| 2017 ICLR | [Outrageously Large Neural Networks: The Sparsely-Gated"
        " Mixture-of-Experts Layer](https://arxiv.org/abs/1701.06538)"
        " | A sparsely-gated mixture of experts between LSTM layers."
        " | 2,900 citations · cite > 100 |\n"
    )
    parameters = papers.split("## 动态网络参数\n", 1)[1].split("\n----\n", 1)[0]
    assert parameters == (
        "(num) 2019 = 1,\n"
        "| **Date** | **Paper** | **Focused On** | **Notes** |\n"
        "| --- | --- | --- | --- |\n"
        "| 2019 NeurIPS | [CondConv: Conditionally Parameterized Convolutions for Efficient"
        " Inference](https://arxiv.org/abs/1904.04971)"
        " | Convolution kernels mixed per example. | 700 citations · cite > 100 |\n"
    )


def test_the_seeds_six_sections_are_unchanged_by_the_families(written, tmp_path, seeds):
    """The six sections read as they do with the tests' seeds of six categories."""
    db = store.open_db(tmp_path / "six.db")
    build(db, seeds)
    out = tmp_path / "six"
    write_reports(db, Rules(seeds), out)

    def six_sections(text: str) -> str:
        papers = text.split("\n# Papers\n", 1)[1]
        return papers.split("## 动态网络宽度\n", 1)[0].rstrip()

    assert six_sections(read(written / "README.md")) == six_sections(read(out / "README.md"))


def test_family_milestones_join_the_model_row_of_the_timeline(written):
    timeline = read(written / "README.md").split("# Big Event Timeline", 1)[1]
    rows = {
        line.split(" | ", 1)[0].removeprefix("| "): line
        for line in timeline.split("\n----", 1)[0].splitlines()
        if line.startswith("| ") and not line.startswith("| **") and "---" not in line
    }
    assert list(rows) == ["Model", "System", "Compiler", "Accelerator"]
    model = rows["Model"].split(" | ")
    header = timeline.splitlines()[1].split(" | ")
    years = [cell.strip("*| ") for cell in header[1:]]
    cells = dict(zip(years, model[1:], strict=True))
    assert "[Outrageously Large…](https://arxiv.org/abs/1701.06538) (2,900)" in cells["2017"]
    assert cells["2019"].startswith("[CondConv](https://arxiv.org/abs/1904.04971) (700)")
    assert "Dynamic Slimmable" not in rows["Model"]  # 90 citations: no milestone


def test_yearly_reports_list_the_families_after_the_six(written):
    year = read(written / "years" / "2017.md")
    compared = year.split("## Compared with the year before\n", 1)[1].split("\n## ", 1)[0]
    categories = [line.split(" | ")[0].removeprefix("| ") for line in compared.splitlines()[3:]]
    assert categories == SIX + FAMILIES + ["**All**"]
    assert "| 动态网络宽度 | 1 | 0 | +1 |" in compared
    by_category = year.split("## Papers by category\n", 1)[1]
    assert re.findall(r"^### (.+)$", by_category, flags=re.M) == ["动态网络宽度"]
    index = read(written / "years" / "README.md")
    header = next(line for line in index.splitlines() if line.startswith("| **Year**"))
    assert header == "| " + " | ".join(f"**{t}**" for t in ["Year", *SIX, *FAMILIES, "All"]) + " |"
    assert "| [2019](2019.md) | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 1 | 1 |" in index


def test_the_chart_gives_every_category_its_own_colour(written):
    chart = read(written / "years" / "papers-per-year.svg")
    legend = re.findall(
        r'<rect x="\d+" y="\d+" width="12" height="12" fill="(#[0-9a-f]+)"/>', chart
    )
    labels = re.findall(r'<text x="\d+" y="\d+">([^<]+)</text>', chart)
    assert [t for t in labels if not t.isdigit()][1:] == SIX + FAMILIES
    assert len(legend) == 8 and len(set(legend)) == 8
