"""The Big Event Timeline read at a glance: short names, a handful per cell."""

from __future__ import annotations

import pytest

from harvester.report.timeline import PER_CELL, cell, render_timeline, short_name
from harvester.seeds import Seeds


@pytest.mark.parametrize(
    "title, abstract, expected",
    [
        # The name before a title's colon.
        ("MSDNet: Multi-Scale Dense Networks", None, "MSDNet"),
        ("FastBERT: a Self-distilling BERT with Adaptive Inference Time", None, "FastBERT"),
        (
            "BERT Loses Patience: Fast and Robust Inference with Early Exit",
            None,
            "BERT Loses Patience",
        ),
        ("Dynamic Neural Networks: A Survey", None, "Dynamic Neural Networks"),
        # A short title is its own name.
        (
            "Universal Transformers",
            "We propose the Universal Transformer (UT), a …",
            "Universal Transformers",
        ),
        # A long head before the colon is not a name: the abstract, else the title's words.
        (
            "Not All Images are Worth 16x16 Words: Dynamic Transformers for Efficient Image Recognition",
            "Vision Transformers (ViT) cut every image into patches.",
            "Not All Images…",
        ),
        # The name the abstract introduces.
        (
            "Learning Dynamic Routing in Convolutional Networks",
            "Shallow networks suffice for most inputs. We introduce SkipNet, a gated residual network.",
            "SkipNet",
        ),
        (
            "An Efficient Runtime for Dynamic Networks",
            "We present a system called Cavs that separates the vertex function from the graph.",
            "Cavs",
        ),
        (
            "Fast Inference via Early Exits",
            "A new method, dubbed BranchyNet, exits early.",
            "BranchyNet",
        ),
        (
            "Early Exits for Language Models",
            "We propose a simple but effective method, DeeBERT, that lets BERT answer early.",
            "DeeBERT",
        ),
        (
            "Consistent Accelerated Inference via Confident Adaptive Transformers",
            "Here we present CATs -- Confident Adaptive Transformers -- that stop early …",
            "CATs",
        ),
        # The acronym in brackets after what the paper proposes (a plural made singular).
        (
            "Adaptive Computation Time for Recurrent Neural Networks",
            "This paper introduces Adaptive Computation Time (ACT), with which a network …",
            "ACT",
        ),
        (
            "Multi-Scale Dense Networks for Resource Efficient Image Classification",
            "We propose multi-scale dense networks (MSDNets) with early exits.",
            "MSDNet",
        ),
        (
            "Convolutional Networks with Adaptive Inference Graphs",
            "We propose convolutional networks with adaptive inference graphs (ConvNet-AIG),"
            " whose layers depend on the input.",
            "ConvNet-AIG",
        ),
        # Background acronyms are not the paper's name.
        (
            "Consistent Accelerated Inference for Transformers",
            "We develop a way to speed up the large Transformers that most work in natural"
            " language processing (NLP) relies on, with guarantees.",
            "Consistent Accelerated…",
        ),
        (
            "Conditional computation in neural networks: principles and research trends",
            "Then we introduce three ways of putting the idea to work: mixture-of-experts (MoEs)"
            " networks, token selection and early exits.",
            "Conditional computation…",
        ),
        (
            "A Survey on Dynamic Neural Networks for Natural Language Processing",
            None,
            "Survey on Dynamic…",
        ),
        ("Spatially Adaptive Computation Time for Residual Networks", "", "Spatially Adaptive…"),
    ],
)
def test_short_name(title, abstract, expected):
    assert short_name(title, abstract) == expected


def _paper(i: int, cites: int, award: str | None = None) -> dict:
    return {
        "id": i,
        "title": f"Net{i}Net: paper {i}",
        "title_key": f"net{i}net paper {i}",
        "abstract": None,
        "arxiv_id": f"2001.{i:05d}",
        "citation_count": cites,
        "award": award,
    }


def test_a_cell_shows_awards_first_then_the_most_cited_and_counts_the_rest():
    papers = [_paper(i, 100 + i) for i in range(1, 8)] + [_paper(9, 5, "CVPR 2020 Best Paper")]
    assert cell(papers, 2020) == "<br>".join(
        [
            "[Net9Net](https://arxiv.org/abs/2001.00009) (5, 🏆 CVPR 2020 Best Paper)",
            "[Net7Net](https://arxiv.org/abs/2001.00007) (107)",
            "[Net6Net](https://arxiv.org/abs/2001.00006) (106)",
            "[Net5Net](https://arxiv.org/abs/2001.00005) (105)",
            "[+4 more](years/2020.md#milestones-and-awards)",
        ]
    )
    assert PER_CELL == 4
    assert cell(papers[:2], 2020).count("<br>") == 1
    assert cell([], 2020) == ""


def test_the_timeline_has_a_column_only_for_the_years_that_have_milestones(seeds: Seeds):
    """A milestone of 1991 beside those of 2016 and 2018 must not spread the table over 28
    empty columns: the timeline is read at a glance."""
    papers = [
        {**_paper(1, 6100), "category": "early_exit", "milestone": 1, "venue_year": 1991},
        {**_paper(2, 1210), "category": "early_exit", "milestone": 1, "venue_year": 2016},
        {**_paper(3, 150), "category": "system", "milestone": 1, "venue_year": 2018},
        {**_paper(4, 90), "category": "system", "milestone": 0, "venue_year": 2017},
    ]
    assert render_timeline(seeds, papers) == [
        "| **Domain** | **1991** | **2016** | **2018** |",
        "| --- | --- | --- | --- |",
        "| Model | [Net1Net](https://arxiv.org/abs/2001.00001) (6,100) |"
        " [Net2Net](https://arxiv.org/abs/2001.00002) (1,210) |   |",
        "| System |   |   | [Net3Net](https://arxiv.org/abs/2001.00003) (150) |",
        "| Compiler |   |   |   |",
        "| Accelerator |   |   |   |",
    ]
