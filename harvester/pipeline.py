"""The threads of a run: one fetcher per service, each at its own pace, and one writer.

A harvest's cost is the services' rate limits (arXiv one request per 3 s, Semantic Scholar
one per second), so the two must wait at the same time, not one after the other: each service
gets a thread that only fetches and parses, and every database write goes through the thread
that owns the connection, in the order the pages were handed over. The hand-over queue is
short, so a slow disk holds the fetchers back instead of filling memory with pages.

``Pending`` lets Semantic Scholar's refresh batches start while arXiv pages still arrive:
the writer adds the papers each page stored, the fetcher takes them 500 at a time.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterable
from typing import Any

# Pages waiting for the writer: enough to keep it busy while a fetcher waits its turn.
QUEUE_PAGES = 4


class WriterStopped(Exception):
    """The writer has stopped (the run failed or was interrupted): fetchers end quietly."""


class _Done:
    """A fetcher's last word: finished, or the exception that ended it."""

    def __init__(self, name: str, error: BaseException | None = None) -> None:
        self.name = name
        self.error = error


class Writer:
    """Runs database work on the calling thread while fetchers run on their own."""

    def __init__(self, maxsize: int = QUEUE_PAGES) -> None:
        self._jobs: queue.Queue[Callable[[], object] | _Done] = queue.Queue(maxsize)
        self._stopped = threading.Event()

    def submit(self, job: Callable[[], object]) -> None:
        """Queue ``job`` for the writer, waiting while the queue is full."""
        self._put(job)

    def _put(self, item: Callable[[], object] | _Done) -> None:
        while True:
            if self._stopped.is_set():
                raise WriterStopped
            try:
                self._jobs.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def run(
        self,
        fetchers: dict[str, Callable[[], None]],
        *,
        on_stop: Callable[[], None] | None = None,
        join_timeout: float = 5.0,
    ) -> None:
        """Start one thread per fetcher and do their jobs here until all have finished.

        A fetcher's exception is raised here once the jobs it queued before are done; a
        writer's exception (or Ctrl-C) stops the fetchers at their next hand-over.
        ``on_stop`` wakes fetchers waiting on something else than the writer.
        """
        threads = [
            threading.Thread(target=self._fetch, args=(name, fn), name=name, daemon=True)
            for name, fn in fetchers.items()
        ]
        for thread in threads:
            thread.start()
        running = len(threads)
        try:
            while running:
                item = self._jobs.get()
                if isinstance(item, _Done):
                    running -= 1
                    if item.error is not None:
                        raise item.error
                    continue
                item()
        finally:
            self._stopped.set()
            if on_stop is not None:
                on_stop()
            for thread in threads:
                thread.join(join_timeout)

    def _fetch(self, name: str, fn: Callable[[], None]) -> None:
        error: BaseException | None = None
        try:
            fn()
        except WriterStopped:
            return
        except BaseException as exc:  # handed to the writer's thread, which raises it
            error = exc
        with contextlib.suppress(WriterStopped):
            self._put(_Done(name, error))


class Pending:
    """Papers waiting for a refresh batch, in the order they were stored, each taken once."""

    def __init__(self) -> None:
        self._rows: dict[int, dict[str, Any]] = {}
        self._queued: set[int] = set()
        self._open = False
        self._finished = False
        self._closed = False
        self._cond = threading.Condition()

    def add(self, rows: Iterable[dict[str, Any]]) -> None:
        with self._cond:
            for row in rows:
                if row["id"] not in self._queued:
                    self._queued.add(row["id"])
                    self._rows[row["id"]] = row
            self._cond.notify_all()

    def discard(self, paper_ids: Iterable[int]) -> None:
        """Drop papers that no longer need the batch (a search has just described them)."""
        with self._cond:
            for paper_id in paper_ids:
                self._rows.pop(paper_id, None)
                self._queued.add(paper_id)

    def open(self) -> None:
        """Batches may start: ``take`` hands out papers once ``n`` are queued."""
        with self._cond:
            self._open = True
            self._cond.notify_all()

    def finish(self) -> None:
        """No more papers will come: ``take`` hands out what is left."""
        with self._cond:
            self._open = self._finished = True
            self._cond.notify_all()

    def close(self) -> None:
        """The run is over: ``take`` hands out nothing more."""
        with self._cond:
            self._closed = self._finished = True
            self._cond.notify_all()

    def __len__(self) -> int:
        with self._cond:
            return len(self._rows)

    def take(self, n: int) -> list[dict[str, Any]]:
        """The next ``n`` papers, waiting until the queue is open and that many are queued,
        or no more will come; an empty list at the end."""
        with self._cond:
            self._cond.wait_for(lambda: self._ready(n))
            return self._hand_out(n)

    def poll(self, n: int) -> list[dict[str, Any]] | None:
        """``take`` without waiting: None where ``take`` would wait."""
        with self._cond:
            return self._hand_out(n) if self._ready(n) else None

    def _ready(self, n: int) -> bool:
        return (self._open and len(self._rows) >= n) or self._finished

    def _hand_out(self, n: int) -> list[dict[str, Any]]:
        if self._closed:
            return []
        ids = list(self._rows)[:n]
        return [self._rows.pop(i) for i in ids]
