"""The "Focused On" line: the reviewer's focus, else the TL;DR, else a sentence of the abstract."""

from __future__ import annotations

import pytest

from harvester.report.focus import abstract_sentence, focused_on, sentences, shorten

SKIPNET = (
    "Many inputs are classified correctly by a shallower network than the deepest one, yet"
    " every input pays for all the layers. We act on this by skipping convolutional layers"
    " per input. We introduce SkipNet, a residual network in which a small gating network"
    " reads the activations of the previous layer and decides which convolutional blocks to"
    " skip for each image."
)
SURVEY = (
    "Static models run one fixed graph for every input. Dynamic networks instead change their"
    " structure or parameters with the input, e.g. by skipping layers. In this survey, we"
    " review the dynamic networks proposed so far and sort them into three families by what"
    " adapts to the input: sample-wise, spatial-wise and temporal-wise dynamic models."
)
MSDNET = (
    "In this paper we study image classification when the computation allowed at test time is"
    " limited. Two settings are considered: 1. anytime classification and 2. budgeted batch"
    " classification."
)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Early exits work. They save time.", ["Early exits work.", "They save time."]),
        # Abbreviations and initials do not end a sentence.
        (
            "As shown by Graves et al. (2016), halting helps. We use it.",
            ["As shown by Graves et al. (2016), halting helps.", "We use it."],
        ),
        ("Layers, e.g. ResNet blocks, are skipped. It works.", None),
        ("Gates, i.e. Small MLPs, decide. Done.", None),
        ("Proposed by J. Smith and A. B. Jones in 2019. We extend it.", None),
        # A decimal or a version is not a full stop.
        ("It is 2.5x faster at 0.3% loss. Code v1.2 is out.", None),
        # A question ends a sentence too.
        ("Do networks need a fixed structure? We say no.", None),
    ],
)
def test_sentences_are_not_cut_at_abbreviations_initials_or_decimals(text, expected):
    found = sentences(text)
    if expected is None:
        assert len(found) == 2 and "".join(found).replace(" ", "") == text.replace(" ", "")
    else:
        assert found == expected


@pytest.mark.parametrize(
    "abstract, expected",
    [
        # The sentence that says what the paper does, not the background it opens with.
        (
            SKIPNET,
            "We introduce SkipNet, a residual network in which a small gating network reads the"
            " activations of the previous layer and decides which convolutional blocks to…",
        ),
        # "In this survey," is dropped; a long sentence is cut at a word, with an ellipsis.
        (
            SURVEY,
            "We review the dynamic networks proposed so far and sort them into three families by"
            " what adapts to the input: sample-wise, spatial-wise and temporal-wise…",
        ),
        (
            MSDNET,
            "We study image classification when the computation allowed at test time is limited.",
        ),
        # No claim at all: the first sentence.
        ("Adaptive inference saves energy. Exits help.", "Adaptive inference saves energy."),
        # One endless sentence without a full stop.
        (
            "an abstract " * 30,
            ("an abstract " * 13) + "an…",
        ),
        ("", ""),
        (None, ""),
    ],
)
def test_one_short_sentence_of_the_abstract(abstract, expected):
    sentence = abstract_sentence(abstract)
    assert sentence == expected
    assert len(sentence) <= 160


def test_focus_wins_then_tldr_then_abstract_then_the_section():
    assert focused_on("早退/Bert模型第一个早退", "A TL;DR.", SKIPNET) == "早退/Bert模型第一个早退"
    assert focused_on(None, "A TL;DR.", SKIPNET) == "A TL;DR."
    assert focused_on("  ", None, SKIPNET).startswith("We introduce SkipNet")
    assert focused_on(None, None, None, "Early exit") == "Early exit"
    assert focused_on(None, "word " * 100, None) == shorten("word " * 100, 200)
    assert len(focused_on(None, "word " * 100, None)) == 200
