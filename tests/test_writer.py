"""The writer's shortcuts give what the long way gives: pure checks, no database."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from harvester import merge
from harvester.records import PaperRecord

_KEYS = st.sampled_from(["title", "tldr", "abstract", "venue", "externalIds", 'say "tldr": no'])
_VALUES = st.recursive(
    st.none() | st.integers(-3, 3) | st.sampled_from(["", "x", '"tldr": 1', "tl;dr", "é"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=3),
    max_leaves=6,
)
_PAYLOADS = st.dictionaries(_KEYS, _VALUES, max_size=5)


def _decoded(record: PaperRecord, stored: str) -> bool:
    """``said_nothing_new`` the long way: decode the stored text, compare every field."""
    said = json.loads(stored)
    return all(said.get(key) == value for key, value in merge.source_data(record).items())


@settings(deadline=None)  # no timed assertions: a busy machine must not fail it
@given(_PAYLOADS, _PAYLOADS, st.booleans())
def test_news_is_judged_as_decoding_the_stored_text_would(
    stored: dict[str, Any], now: dict[str, Any], compact: bool
) -> None:
    record = PaperRecord(source="s2", title="t", raw=now)
    # Texts stored by other writers may be spaced differently; the verdict must not change.
    separators = (",", ":") if compact else None
    text = json.dumps(stored, ensure_ascii=False, sort_keys=True, separators=separators)
    assert merge.said_nothing_new(record, merge.source_text(record), text) == _decoded(record, text)


def test_a_batch_answer_adding_a_tldr_is_news_and_one_repeating_the_search_is_not() -> None:
    search = {"paperId": "p1", "title": "Exits", "citationCount": 3}
    stored = json.dumps(search, ensure_ascii=False, sort_keys=True)
    with_tldr = PaperRecord(source="s2", title="Exits", raw=search | {"tldr": {"text": "Fast."}})
    without = PaperRecord(source="s2", title="Exits", raw=search | {"tldr": None})
    assert not merge.said_nothing_new(with_tldr, merge.source_text(with_tldr), stored)
    assert merge.said_nothing_new(without, merge.source_text(without), stored)


_TEXTS = st.text(alphabet=st.sampled_from(["a", "é", '"', "\\", "\n", "\x00", "\u2028", "😀"]))
_ANY = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | _TEXTS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXTS, inner, max_size=3),
    max_leaves=8,
)


@settings(deadline=None)
@given(st.dictionaries(_TEXTS, _ANY, max_size=5))
def test_a_source_record_is_stored_as_its_sorted_json(payload: dict[str, Any]) -> None:
    """What ``paper_sources.data`` holds, byte for byte: ``json.dumps`` with sorted keys and
    the text as it is, however the encoding is done."""
    record = PaperRecord(source="s2", title="t", raw=payload)
    assert merge.source_text(record) == json.dumps(payload, ensure_ascii=False, sort_keys=True)
