"""Fewer collections of Python's cyclic garbage collector while a harvest runs.

A harvest makes a million short-lived containers (records, rows, their dicts and tuples) and
keeps hundreds of thousands of long-lived ones (the writer's caches, the pages in flight,
the refresh queue). With the default threshold (a young collection every 700 net new
containers) the collector ran 1,700 times in a 20,000-paper harvest and, through them, went
over every long-lived container a dozen times: 1.6 s of its 11 s of CPU. Almost nothing a
harvest allocates is part of a reference cycle, so collecting a young generation of 10,000
instead costs little memory and a third of that time.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Net new containers between two young collections (Python's default is 700).
YOUNG = 10_000


@contextmanager
def fewer_collections() -> Iterator[None]:
    """The collector's young threshold raised to ``YOUNG`` (never lowered), then restored."""
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], YOUNG), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
