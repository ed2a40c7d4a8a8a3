"""Where large pages are parsed: in a worker process, so the writer keeps its interpreter.

A harvest's fetchers run on threads beside the writer (``harvester.pipeline``), and reading
a 2,000-entry arXiv feed or a 1,000-paper Semantic Scholar answer into records is Python
work that holds the GIL: on a 2-core machine it stalled the writer for a tenth of the run.
A ``PageParser`` hands those pages' bytes to one worker process started for the purpose
and gets the records back pickled, which costs the harvest's process about a third of the
parse itself.

Only the reading of bytes moves: the request, its pacing, retries and every error stay in
the fetching thread. A worker function returns None for anything but a well-formed page,
and the caller then parses it in its own thread as before, so a malformed, truncated or
odd answer fails exactly as it always did (``sources.arxiv``, ``sources.semantic_scholar``).

Small answers never leave the thread (a test, a weekly run's first page of 100, seed
lookups): a page below ``MIN_BYTES`` is cheaper to parse than to send, and no process is
started for a run that never sees a large one. The worker starts on the first large page,
which is parsed in the thread meanwhile; if it dies (killed, out of memory), the page is
parsed in the thread and so is every later one, and ``crashed`` says what happened, once.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import threading
from collections.abc import Callable
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from harvester.merge import source_text
from harvester.records import PaperRecord

log = logging.getLogger(__name__)

T = TypeVar("T")

# Pages from this size on are parsed in the worker: a 100-entry arXiv page (about 140 kB)
# parses in a few milliseconds, less than the round trip; a full page is 1–3 MB.
MIN_BYTES = 256 * 1024


def _start_worker() -> None:
    """The worker's initializer. Ctrl-C is the harvest's to handle (it shuts the worker
    down), not a traceback from a process the user never started; and every log record is
    seen (``_Said``), whatever level the harvest logs at."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.getLogger().setLevel(logging.DEBUG)


def _ready() -> bool:
    return True


class _Said(logging.Handler):
    """Notes that a parse logged something (a skipped entry, a malformed object)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.said = False

    def emit(self, record: logging.LogRecord) -> None:
        self.said = True


def _parse_quietly(fn: Callable[[bytes], Any], content: bytes) -> Any:
    """``fn(content)`` in the worker, or None for a page it fails on or logs about: the
    fetching thread reads that one again itself, so its errors are raised and its messages
    logged where the harvest sees them, exactly as before."""
    said = _Said()
    root = logging.getLogger()
    root.addHandler(said)
    try:
        result = fn(content)
    except Exception:
        return None
    finally:
        root.removeHandler(said)
    return None if said.said else result


def with_texts(records: list[PaperRecord]) -> list[PaperRecord]:
    """The records, each with the text the writer stores for it (``merge.source_text``),
    made here in the worker: a pure function of the record, and a fifth of the writer's
    work per record when made there."""
    for record in records:
        record.source_text = source_text(record)
    return records


class PageParser:
    """Parses large pages in one worker process, started when the first one comes.

    ``enabled=False`` parses everything in the calling thread (the worker is never started).
    Thread-safe: both services' fetchers share one parser and one worker, which parses their
    pages one after the other (there are two cores: one for the writer, one for this).
    """

    def __init__(self, *, enabled: bool = True, min_bytes: int | None = None) -> None:
        self.enabled = enabled
        self.min_bytes = MIN_BYTES if min_bytes is None else min_bytes
        self.crashed: str | None = None
        self._pool: ProcessPoolExecutor | None = None
        self._started: Future[bool] | None = None
        self._lock = threading.RLock()

    def offload(self, fn: Callable[[bytes], T], content: bytes) -> T | None:
        """``fn(content)`` run in the worker, or None where the caller should parse the page
        itself: a small page, a worker not started yet or gone, or a page ``fn`` fails on
        or logs about. ``fn`` must be picklable (a module's function, or a ``partial`` of
        one) and return picklable values."""
        if not self.enabled or len(content) < self.min_bytes:
            return None
        pool = self._pool_when_ready()
        if pool is None:
            return None
        try:
            return pool.submit(_parse_quietly, fn, content).result()
        except BrokenProcessPool as exc:
            self._broken(exc)
            return None
        except (RuntimeError, CancelledError):  # closed meanwhile: the run is ending
            return None

    def _pool_when_ready(self) -> ProcessPoolExecutor | None:
        """The worker once it has started; the first call starts it (spawned, not forked:
        the harvest's process has threads and an open database)."""
        with self._lock:
            if self.crashed is not None:
                return None
            if self._pool is None:
                context = multiprocessing.get_context("spawn")
                self._pool = ProcessPoolExecutor(1, mp_context=context, initializer=_start_worker)
                self._started = self._pool.submit(_ready)
                return None
            started = self._started
            if started is not None and not started.done():
                return None
            if started is not None and started.exception() is not None:
                self._broken(started.exception())
                return None
            return self._pool

    def _broken(self, exc: BaseException | None) -> None:
        with self._lock:
            if self.crashed is None:
                self.crashed = (
                    f"page parser: the worker process stopped ({exc}); later pages were"
                    " parsed in the harvest's own process"
                )
                log.warning("%s", self.crashed)

    def close(self) -> None:
        """Stop the worker (a page being parsed is finished first); pages after this are
        parsed in the calling thread."""
        with self._lock:
            pool, self._pool, self.enabled = self._pool, None, False
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
