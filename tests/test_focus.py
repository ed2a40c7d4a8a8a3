"""The "Focused On" line: the reviewer's focus, else the TL;DR, else a sentence of the abstract."""

from __future__ import annotations

import pytest

from harvester.report.focus import abstract_sentence, focused_on, sentences, shorten

SKIPNET = (
    "While deeper convolutional networks are needed to achieve maximum accuracy in visual"
    " perception tasks, for many inputs shallower networks are sufficient. We exploit this"
    " observation by learning to skip convolutional layers on a per-input basis. We introduce"
    " SkipNet, a modified residual network, that uses a gating network to selectively skip"
    " convolutional blocks based on the activations of the previous layer."
)
SURVEY = (
    "Dynamic neural network is an emerging research topic in deep learning. Compared to static"
    " models, dynamic networks can adapt their structures or parameters to different inputs,"
    " e.g. by skipping layers. In this survey, we comprehensively review this rapidly"
    " developing area by dividing dynamic networks into three main categories: sample-wise,"
    " spatial-wise and temporal-wise dynamic models."
)
MSDNET = (
    "In this paper we investigate image classification with computational resource limits at"
    " test time. Two such settings are: 1. anytime classification and 2. budgeted batch"
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
            "We introduce SkipNet, a modified residual network, that uses a gating network to"
            " selectively skip convolutional blocks based on the activations of the previous…",
        ),
        # "In this survey," is dropped; a long sentence is cut at a word, with an ellipsis.
        (
            SURVEY,
            "We comprehensively review this rapidly developing area by dividing dynamic networks"
            " into three main categories: sample-wise, spatial-wise and temporal-wise…",
        ),
        (
            MSDNET,
            "We investigate image classification with computational resource limits at test time.",
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
