"""The run's threads: fetchers hand work to one writer; the refresh queue hands out batches."""

from __future__ import annotations

import threading

import pytest

from harvester.pipeline import Pending, Writer, WriterStopped


def test_writer_does_every_job_on_its_own_thread_in_each_fetchers_order():
    done: list[tuple[str, int, str]] = []
    writer = Writer()

    def fetcher(name: str):
        def fetch() -> None:
            for i in range(20):
                writer.submit(lambda i=i: done.append((name, i, threading.current_thread().name)))

        return fetch

    writer.run({"a": fetcher("a"), "b": fetcher("b")})
    for name in "ab":
        assert [i for n, i, _ in done if n == name] == list(range(20))
    assert {thread for _, _, thread in done} == {threading.current_thread().name}


def test_a_fetchers_error_is_raised_after_the_jobs_it_queued_before():
    done: list[int] = []
    writer = Writer()

    def fetch() -> None:
        writer.submit(lambda: done.append(1))
        raise ValueError("parser bug")

    with pytest.raises(ValueError, match="parser bug"):
        writer.run({"a": fetch})
    assert done == [1]


def test_a_writers_error_stops_the_fetchers_at_their_next_hand_over():
    handed: list[int] = []
    stopped = threading.Event()
    writer = Writer(maxsize=1)

    def disk_full() -> None:
        raise OSError("disk full")

    def fetch() -> None:
        try:
            for i in range(1000):
                writer.submit(disk_full)
                handed.append(i)
        except WriterStopped:
            stopped.set()
            raise

    with pytest.raises(OSError, match="disk full"):
        writer.run({"a": fetch})
    assert stopped.wait(5)
    assert len(handed) < 1000


def test_refresh_batches_wait_until_open_and_full_or_finished():
    pending = Pending()
    pending.add({"id": i} for i in range(3))
    assert pending.poll(2) is None  # not open yet: the searches are not written
    taken: list[list[int]] = []
    first = threading.Event()

    def take() -> None:
        while rows := pending.take(2):
            taken.append([row["id"] for row in rows])
            first.set()

    thread = threading.Thread(target=take)
    thread.start()
    pending.open()
    assert first.wait(5)
    pending.add([{"id": 1}, {"id": 3}])  # 1 was queued before: taken once
    pending.discard([3])  # a search has just described it
    pending.finish()
    thread.join(5)
    assert taken == [[0, 1], [2]]


def test_a_closed_queue_hands_out_nothing_more():
    pending = Pending()
    pending.add({"id": i} for i in range(600))
    pending.close()
    assert pending.take(500) == []
