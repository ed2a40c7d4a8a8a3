"""Writers that meet: a harvest, its heartbeat, reviewers at the terminal and on the page.

SQLite in WAL mode lets readers run beside one writer, but a transaction opened with a
deferred ``BEGIN`` that reads first and writes later fails at its first write with "database
is locked" as soon as another connection has committed in between, at once, whatever the
busy timeout. Every writer takes the write lock up front (``store.write_transaction``), so
writers wait for each other instead.

The first tests make that collision happen every time, without threads or timing: an
``Interloper`` watches the statements of the connection under test and commits a reviewer's
note from a second connection at the worst moment of each of its transactions. The last test
is the everyday case for real: a harvest in its own process while reviewers decide through
the CLI and the review page's API.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sqlite_utils import Database

from bench.harvest import synthetic_corpus
from harvester import review, review_file, screening, store
from harvester.harvest import run_harvest
from harvester.lock import HarvestLock
from harvester.rules import Rules
from harvester.seeds import Seeds
from harvester.sources import open_sources
from tests.conftest import synthetic_entries
from tests.loopback import load_edges, load_s2_corpus
from tests.test_web_api import Reviewer
from tests.web_helpers import copy_db, live_app

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class Interloper:
    """A second connection that commits between the first read and the first write of every
    transaction on the connection under test, or is refused because that transaction
    already holds the write lock.

    sqlite3's trace callback runs as each statement starts, before the statement takes any
    lock: after a deferred ``BEGIN`` and a read, a commit made then is exactly what makes the
    next write fail. The commit is a reviewer's note (``review.set_fields``) on the first
    paper, on a connection that never waits (timeout 0), so a refusal is immediate.
    """

    def __init__(self, db: Database, path: Path, seeds: Seeds) -> None:
        self.other = Database(sqlite3.connect(path, timeout=0, check_same_thread=False))
        self.seeds = seeds
        self.begins: list[str] = []  # how each transaction on the watched connection began
        self.landed = 0  # commits made in the middle of a watched transaction
        self.refused = 0  # attempts turned away by a transaction holding the write lock
        self._state = ""
        db.conn.set_trace_callback(self._statement)

    def _statement(self, sql: str) -> None:
        words = sql.upper().split()
        if not words:
            return
        if words[0] == "BEGIN":
            self.begins.append(" ".join(words))
            self._state = "begun"
        elif words[0] in ("COMMIT", "END") or words[:2] == ["ROLLBACK"]:
            self._state = ""
        elif self._state == "begun" and words[0] in ("SELECT", "PRAGMA", "WITH"):
            self._state = "read"
        elif self._state == "read" and words[0] in WRITES:
            self._state = "written"
            self._commit_elsewhere()

    def _commit_elsewhere(self) -> None:
        first = self.other.execute("SELECT min(id) FROM papers").fetchone()[0]
        if first is None:
            return
        try:
            review.set_fields(
                self.other,
                Rules(self.seeds),
                str(first),
                note=f"note {self.landed + self.refused}",
                who="interloper",
            )
        except sqlite3.OperationalError:
            self.refused += 1
        else:
            self.landed += 1

    def close(self) -> None:
        self.other.close()


@pytest.fixture
def corpus_copy(tmp_path: Path, corpus_db: Path) -> Path:
    """A private copy of the harvested labelled corpora (4 seed papers, 92 pending)."""
    return copy_db(corpus_db, tmp_path / "copy" / "harvester.db")


def test_a_harvest_survives_a_commit_between_every_read_and_write(
    db, seeds, config, fake_arxiv, fake_s2, corpus
):
    fake_arxiv.corpus = corpus
    fake_s2.corpus = load_s2_corpus()
    fake_s2.edges = load_edges()  # snowballing queues and re-derives papers too
    interloper = Interloper(db, config.db, seeds)

    result = run_harvest(db, seeds, config)

    assert result.status == "ok", result.errors
    # The lock, the run row, seed papers, pages, watermarks, refresh batches, snowballing:
    # each transaction was asked to let a reviewer's commit in, and none did.
    assert interloper.refused > 20
    assert interloper.landed == 0
    assert set(interloper.begins) == {"BEGIN IMMEDIATE"}
    assert db.execute("SELECT count(*) FROM decisions WHERE who = 'interloper'").fetchone() == (0,)
    interloper.close()


def _export_and_tick(db: Database, seeds: Seeds, path: Path) -> list[int]:
    """A checklist with its first pending paper ticked and its second struck."""
    review_file.export(db, seeds, path)
    ids = [item.id for item in review.queue(db, seeds, explain=False)][:2]
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.endswith(f"`#{ids[0]}`"):
            line = line.replace("- [ ]", "- [x]", 1) + "\n  - category: system"
        elif line.endswith(f"`#{ids[1]}`"):
            line = line.replace("- [ ]", "- [-]", 1)
        lines.append(line)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ids


REVIEW_WRITES: dict[str, Callable[..., object]] = {
    "accept": lambda db, seeds, pid, **_: review.accept(db, seeds, str(pid), who="ada"),
    "reject": lambda db, seeds, pid, **_: review.reject(db, str(pid), who="ada"),
    "set": lambda db, seeds, pid, **_: review.set_fields(
        db, Rules(seeds), str(pid), category="system", focus="serving", who="ada"
    ),
    "milestone auto": lambda db, seeds, pid, **_: (
        review.set_fields(db, Rules(seeds), str(pid), milestone="yes", who="ada"),
        review.set_fields(db, Rules(seeds), str(pid), milestone="auto", who="ada"),
    ),
    "undo": lambda db, seeds, pid, **_: (
        review.reject(db, str(pid), who="ada"),
        review.undo(db, who="ada"),
    ),
    "import": lambda db, seeds, pid, tmp_path, **_: review_file.import_decisions(
        db, Rules(seeds), tmp_path / "queue.md", who="ada"
    ),
    "add": lambda db, seeds, pid, sources, **_: review.add_paper(
        db, Rules(seeds), sources, "2301.00000", category="early_exit", who="ada"
    ),
}


@pytest.mark.parametrize("write", list(REVIEW_WRITES))
def test_review_writes_survive_a_commit_between_their_reads_and_writes(
    write, corpus_copy, seeds, config, fake_arxiv, tmp_path
):
    fake_arxiv.corpus = synthetic_entries(1)  # the paper ``review add`` fetches
    db = store.open_db(corpus_copy)
    pid = [item.id for item in review.queue(db, seeds, explain=False)][-1]
    _export_and_tick(db, seeds, tmp_path / "queue.md")
    before = db.execute("SELECT count(*) FROM decisions").fetchone()[0]
    interloper = Interloper(db, corpus_copy, seeds)

    with open_sources(config) as sources:
        REVIEW_WRITES[write](db, seeds, pid, sources=sources, tmp_path=tmp_path)

    assert interloper.refused >= 1
    assert interloper.landed == 0
    assert set(interloper.begins) == {"BEGIN IMMEDIATE"}
    assert db.execute("SELECT count(*) FROM decisions").fetchone()[0] > before
    interloper.close()


def test_accepting_without_a_category_learns_the_suggestion_before_taking_the_write_lock(
    corpus_copy, seeds
):
    db = store.open_db(corpus_copy)
    pid = review.queue(db, seeds, explain=False)[0].id
    # Nothing kept: the acceptance has to train the ranking itself.
    screening.forget()
    shutil.rmtree(screening.cache_folder(db))
    statements: list[str] = []
    db.conn.set_trace_callback(statements.append)

    review.accept(db, seeds, str(pid), who="ada")

    begin, commit = statements.index("BEGIN IMMEDIATE"), statements.index("COMMIT")
    # Training reads every paper's text.
    training = f"SELECT {', '.join(store.papers.FEATURE_COLUMNS)} FROM papers ORDER BY id"
    assert training in statements[:begin]
    assert training not in statements[begin:commit]
    assert db.table("papers").get(pid)["status"] == "accepted"


def test_the_heartbeat_takes_the_write_lock_before_anything_else(db, config):
    held = HarvestLock.acquire(db, stale_after=600)
    held.attach(store.start_run(db, {}))
    beating = Database(sqlite3.connect(config.db))
    statements: list[str] = []
    beating.conn.set_trace_callback(statements.append)

    assert held.beat(beating) is True

    assert statements[0] == "BEGIN IMMEDIATE" and statements[-1] == "COMMIT"
    assert [s.split()[0] for s in statements[1:-1]] == ["UPDATE", "UPDATE"]
    beating.close()
    held.release()


# --- the everyday case, for real ------------------------------------------------------------

PAPERS = 4000  # synthetic papers (bench/harvest.py's corpus) beside the labelled ones
HARVEST_TOML = """\
backoff_max = 0
retries = 3
timeout = 60
arxiv_page_size = 100
# The heartbeat beats every stale_lock_after / 5 seconds: every 2 s instead of every 60 s.
stale_lock_after = 10
"""
BEFORE_RELEASE = 3  # decisions each way while the harvest cannot finish


class Channel:
    """One reviewer deciding back to back until the harvest ends, each decision a change:
    papers in turn, rejected, accepted or given a note, then a new note each round."""

    def __init__(self, who: str, papers: list[int]) -> None:
        self.who = who
        self.papers = papers
        self.made: list[tuple[int, str, str | None]] = []  # (paper, kind, note)
        self.failed: list[str] = []
        self.ready = threading.Event()  # BEFORE_RELEASE decisions made, or stopped

    def next(self) -> tuple[int, str, str | None]:
        i = len(self.made)
        paper, first = self.papers[i % len(self.papers)], i < len(self.papers)
        kind = ("reject", "accept", "set")[i % 3] if first else "set"
        return paper, kind, f"{self.who}, decision {i}" if kind == "set" else None

    def run(self, harvest: subprocess.Popen, decide: Callable[[int, str, str | None], str]) -> None:
        try:
            while harvest.poll() is None and len(self.made) < 500:
                paper, kind, note = self.next()
                try:
                    problem = decide(paper, kind, note)
                except Exception as exc:  # reported by the test, not lost in this thread
                    problem = repr(exc)
                if problem:
                    self.failed.append(f"{kind} #{paper}: {problem}")
                    return
                self.made.append((paper, kind, note))
                if len(self.made) == BEFORE_RELEASE:
                    self.ready.set()
        finally:
            self.ready.set()


def test_reviewing_from_the_cli_and_the_page_while_a_harvest_runs(
    spawn, server, fake_arxiv, fake_s2, corpus, corpus_db, seeds, config, tmp_path
):
    entries, papers = synthetic_corpus(PAPERS)
    fake_arxiv.corpus = corpus + entries
    fake_s2.corpus = load_s2_corpus() + papers
    copy_db(corpus_db, config.db)  # the labelled corpora, harvested: 92 papers pending
    db = store.open_db(config.db)
    pending = [item.id for item in review.queue(db, seeds, explain=False)]
    store.close_db(db)
    toml = tmp_path / "concurrent.toml"
    toml.write_text(HARVEST_TOML, encoding="utf-8")
    # Semantic Scholar's second request (its first search) waits until both reviewers have
    # decided a few times, so the harvest cannot end before them; arXiv's pages go on.
    gate = server.trip_at(2, api="s2")
    harvest = spawn(
        "--config",
        str(toml),
        "harvest",
        "--full",
        HARVESTER_ARXIV_DELAY="0.05",
        HARVESTER_S2_DELAY="0.05",
    )
    cli = Channel("cli-reviewer", pending[0::2])
    page = Channel("page-reviewer", pending[1::2])

    def by_cli(paper: int, kind: str, note: str | None) -> str:
        args = ["review", kind, str(paper)]
        args += {"accept": ["--category", "early_exit"], "set": ["--note", note or ""]}.get(
            kind, []
        )
        proc = spawn(*args, USER=cli.who)
        code = proc.wait(60)
        return "" if code == 0 else f"exit {code}: {proc.err_path.read_text()}"

    with live_app(config.db, seeds) as base:
        reviewer = Reviewer(base, page.who)
        # Each answer trains the ranker over 4,000 papers; on a loaded machine that is
        # seconds, and a timeout here would say nothing about the database.
        reviewer.client.timeout = httpx.Timeout(120)

        def by_page(paper: int, kind: str, note: str | None) -> str:
            fields = {"accept": {"category": "early_exit"}, "set": {"note": note}}.get(kind, {})
            answer = reviewer.decide(paper, kind, **fields)
            return "" if answer.status_code == 200 else f"HTTP {answer.status_code}: {answer.text}"

        threads = [
            threading.Thread(target=cli.run, args=(harvest, by_cli)),
            threading.Thread(target=page.run, args=(harvest, by_page)),
        ]
        for thread in threads:
            thread.start()
        cli.ready.wait(120)
        page.ready.wait(120)
        gate.release.set()
        code = harvest.wait(120)
        for thread in threads:
            thread.join(120)

    assert code == 0, harvest.err_path.read_text()
    assert cli.failed + page.failed == []
    assert len(cli.made) >= BEFORE_RELEASE and len(page.made) >= BEFORE_RELEASE
    db = store.open_db(config.db)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    [run, _] = store.last_runs(db, 2)
    assert run["status"] == "ok" and run["papers_updated"] > 0
    # Every command is one action in the audit trail, and what it decided stands.
    recorded = sorted(
        db.execute(
            "SELECT who, paper_id, kind FROM decisions WHERE who IN (?, ?)"
            " GROUP BY action ORDER BY action",
            [cli.who, page.who],
        ).fetchall()
    )
    made = [(c.who, paper, kind) for c in (cli, page) for paper, kind, _ in c.made]
    assert recorded == sorted(made)
    for channel in (cli, page):
        wanted: dict[int, dict[str, str]] = {}
        for paper, kind, note in channel.made:
            status = {"reject": "rejected", "accept": "accepted"}
            change = {"notes": note} if kind == "set" else {"status": status[kind]}
            wanted.setdefault(paper, {}).update(change)
        for paper, values in wanted.items():
            row = db.table("papers").get(paper)
            assert {k: row[k] for k in values} == values
    store.close_db(db)
