"""The words keyword phrases and query phrases are matched on: the runs of a-z and 0-9 in the
lower-cased text, whatever the text (``records.words``)."""

from __future__ import annotations

import re
import unicodedata

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
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    # The key as it was defined before it was made from ``words``.
    assert normalise_title(text) == " ".join(re.sub(r"[^a-z0-9]+", " ", folded.lower()).split())


def test_a_title_key_survives_case_accents_punctuation_and_spacing():
    assert normalise_title("  Café-Net:  Early-Exit   Networks! ") == "cafe net early exit networks"
