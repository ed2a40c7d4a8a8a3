"""A harvest asks Python's garbage collector for fewer young collections, and only while it runs."""

from __future__ import annotations

import gc

from harvester import allocations


def test_the_young_threshold_is_raised_inside_and_restored_after() -> None:
    before = gc.get_threshold()
    with allocations.fewer_collections():
        inside = gc.get_threshold()
    assert inside == (max(before[0], allocations.YOUNG), *before[1:])
    assert gc.get_threshold() == before


def test_a_higher_threshold_set_by_the_program_is_kept() -> None:
    before = gc.get_threshold()
    gc.set_threshold(50_000, *before[1:])
    try:
        with allocations.fewer_collections():
            assert gc.get_threshold()[0] == 50_000
        assert gc.get_threshold()[0] == 50_000
    finally:
        gc.set_threshold(*before)
