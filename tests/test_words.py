"""The words keyword phrases and query phrases are matched on: the runs of a-z and 0-9 in the
lower-cased text, whatever the text (``records.words``)."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harvester.records import normalise_title, words

# The definition ``words`` keeps to, as the classifier and the query matcher wrote it before.
WORD_RE = re.compile(r"[a-z0-9]+")


def test_words_are_the_runs_of_letters_and_digits_of_the_lower_cased_text():
    assert words("Early-Exit  networks (EENs):\t2x faster, v2.1\n") == [
        "early",
        "exit",
        "networks",
        "eens",
        "2x",
        "faster",
        "v2",
        "1",
    ]
    assert words("") == words(" -- ") == []


def test_non_ascii_text_gives_the_words_its_lower_case_has():
    # The Kelvin sign lower-cases to k; é is no word character; İ lower-cases to i and a
    # combining dot, which ends the word.
    assert words("\u212aernel caf\u00e9 \u0130ndex") == ["kernel", "caf", "i", "ndex"]


@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_any_ascii_text_splits_as_the_expression_splits_it(text):
    assert words(text) == WORD_RE.findall(text.lower())


@given(st.text())
def test_any_text_splits_as_the_expression_splits_it(text):
    assert words(text) == WORD_RE.findall(text.lower())


@given(st.text())
def test_a_title_key_is_its_ascii_folded_words(text):
    folded = unicodedata.normalize("NFKD", text)
    # Punctuation, symbols and spaces outside ASCII part words as ASCII ones do; what else
    # has no ASCII form (combining accents, other scripts) is dropped.
    folded = "".join(
        " " if not c.isascii() and unicodedata.category(c)[0] in "PSZ" else c for c in folded
    )
    folded = folded.encode("ascii", "ignore").decode("ascii")
    assert normalise_title(text) == " ".join(re.sub(r"[^a-z0-9]+", " ", folded.lower()).split())


@pytest.mark.parametrize(
    ("title", "typed"),
    [
        ("Early\u2010Exit Networks", "Early-Exit Networks"),  # the hyphen publishers typeset
        ("Early\u2011Exit Networks", "Early-Exit Networks"),  # the non-breaking hyphen
        ("Don\u2019t Stop at the First Layer", "Don't Stop at the First Layer"),
        ("BERT Loses Patience\u2014Fast and Robust", "BERT Loses Patience - Fast and Robust"),
        ("Layer Skipping\u2009for LLMs", "Layer Skipping for LLMs"),  # a thin space
    ],
)
def test_a_title_typeset_with_unicode_punctuation_keys_as_its_ascii_spelling(title, typed):
    """One paper, two sources: arXiv's ASCII title and a publisher's typeset one match."""
    assert normalise_title(title) == normalise_title(typed)


def test_a_title_key_survives_case_accents_punctuation_and_spacing():
    assert normalise_title("  Café-Net:  Early-Exit   Networks! ") == "cafe net early exit networks"
