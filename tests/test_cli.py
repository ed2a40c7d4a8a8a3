"""The command line end to end: exit codes, one-line errors, what the user sees."""

from __future__ import annotations

import io
import json
import logging
import re
import shutil
import socket
from pathlib import Path
from unittest import mock

import pytest
from click.testing import CliRunner

from harvester import ranking, screening, store, watermarks
from harvester.cli import cli
from harvester.harvest import run_harvest
from harvester.logs import OneLineFormatter
from harvester.progress import BarProgress, NoProgress, for_stream
from tests.conftest import SEEDS, dead_pid, dump, synthetic_entries
from tests.loopback import load_s2_corpus


@pytest.fixture
def run(server, tmp_path, monkeypatch):
    """Invoke the CLI against the loopback server with a temp database, no delays."""
    monkeypatch.chdir(tmp_path)
    shutil.copytree(SEEDS, tmp_path / "seeds")
    (tmp_path / "harvester.toml").write_text("backoff_max = 0\nretries = 2\narxiv_page_size = 50\n")
    env = {
        "HARVESTER_ARXIV_URL": server.arxiv_url,
        "HARVESTER_S2_URL": server.s2_url,
        "HARVESTER_ARXIV_DELAY": "0",
        "HARVESTER_S2_DELAY": "0",
        "HARVESTER_DB": str(tmp_path / "db" / "h.db"),
    }

    def invoke(*args: str, env_extra: dict[str, str] | None = None):
        return CliRunner().invoke(cli, list(args), env=env | (env_extra or {}))

    return invoke


def test_harvest_then_status(run, fake_arxiv):
    fake_arxiv.corpus = synthetic_entries(60)
    result = run("harvest")
    assert result.exit_code == 1, result.output  # the seed papers are not in this corpus
    assert "60 new" in result.output
    assert "failed: arxiv: seed paper 1703.09844 not found" in result.output
    status = run("status", "--json")
    assert status.exit_code == 0
    data = json.loads(status.output)
    assert data["runs"][0]["papers_new"] == 60
    assert data["runs"][0]["requests"]["arxiv"] >= 1
    assert data["categories"]["early_exit"]["pending"] == 60
    text = run("status")
    assert "early_exit" in text.output and "requests: arxiv" in text.output


def test_python_dash_m_is_the_same_program():
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "harvester", "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0 and "harvest" in out.stdout and "status" in out.stdout


def test_unknown_category_is_usage_error_before_any_request(run, server):
    result = run("harvest", "--category", "early")
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "error: unknown category 'early' (known: survey, early_exit, layer_skipping, system,"
        " compiler, accelerator)"
    ]
    assert server.arxiv.requests == []


def test_bad_seeds_file_exits_2_naming_file_and_line(run, tmp_path, server):
    path = tmp_path / "seeds" / "categories.toml"
    path.write_text(path.read_text().replace('domain = "Model"', 'domain = "Modle"', 1))
    result = run("harvest")
    assert result.exit_code == 2
    assert "seeds/categories.toml:" in result.output and "'Modle'" in result.output
    assert "Traceback" not in result.output
    assert server.arxiv.requests == []


def test_bad_config_value_exits_2(run):
    result = run("harvest", env_extra={"HARVESTER_ARXIV_DELAY": "fast"})
    assert result.exit_code == 2
    assert (
        result.output.strip()
        == "error: HARVESTER_ARXIV_DELAY: arxiv_delay = 'fast' is not a valid float"
    )


def test_unreachable_services_exit_1_with_one_line_per_failed_query(run):
    down = {
        "HARVESTER_ARXIV_URL": "http://127.0.0.1:9/api/query",
        "HARVESTER_S2_URL": "http://127.0.0.1:9/graph/v1",
    }
    result = run("harvest", "--category", "compiler", env_extra=down)
    assert result.exit_code == 1
    failed = [line for line in result.output.splitlines() if line.startswith("failed: ")]
    # The compiler category's two arXiv queries, sent as one, and its S2 query; it has no
    # seed paper.
    assert [line.split(":")[1].strip() for line in failed] == ["arxiv", "s2"]
    assert all("connection failed" in line for line in failed)


def test_debug_shows_the_traceback(run):
    result = run("--debug", "harvest", "--category", "nope")
    assert result.exit_code != 0
    assert result.exception is not None


def test_category_option_harvests_only_that_category(run, fake_arxiv, server):
    fake_arxiv.corpus = synthetic_entries(5, words="dynamic shapes compiler compilation")
    result = run("harvest", "--category", "compiler")
    assert result.exit_code == 0, result.output
    queries = {r["search_query"] for r in server.search_requests()}
    # Its two arXiv queries, OR-combined into one.
    assert len(queries) == 1 and all("cat:cs.PL" in q for q in queries)


def test_every_command_has_help(run):
    for args in (["--help"], ["harvest", "--help"], ["status", "--help"]):
        result = run(*args)
        assert result.exit_code == 0 and "Usage:" in result.output


def test_db_option_overrides_environment(run, fake_arxiv, tmp_path):
    fake_arxiv.corpus = synthetic_entries(2, words="dynamic shapes compiler")
    target = tmp_path / "elsewhere.db"
    assert run("--db", str(target), "harvest", "--category", "compiler").exit_code == 0
    assert target.exists()
    assert not Path(tmp_path / "db" / "h.db").exists()


DOWN = {
    "HARVESTER_ARXIV_URL": "http://127.0.0.1:9/api/query",
    "HARVESTER_S2_URL": "http://127.0.0.1:9/graph/v1",
}


def test_services_down_exit_1_one_line_each_and_nothing_stored_is_touched(
    run, fake_arxiv, fake_s2, corpus, tmp_path
):
    fake_arxiv.corpus = corpus
    fake_s2.corpus = load_s2_corpus()
    assert run("harvest").exit_code == 0
    path = tmp_path / "db" / "h.db"
    db = store.open_db(path)
    before, marks = dump(db), watermarks.all_watermarks(db)

    result = run("harvest", env_extra=DOWN)

    assert result.exit_code == 1
    failed = [line for line in result.output.splitlines() if line.startswith("failed: ")]
    # Three steps per source fail (the breaker's threshold), then each source is given up
    # in one line; the seed papers are stored already and cost no request.
    assert [line.split(":")[1].strip() for line in failed] == ["arxiv"] * 3 + ["s2"] * 3 + [
        "arxiv",
        "s2",
    ]
    assert all("connection failed" in line for line in failed[:6])
    # Of the six categories' arXiv queries (one combined query each), three failed.
    assert failed[6] == (
        "failed: arxiv: given up after 3 failures in a row; skipped 3 queries "
        "(the next run does them)"
    )
    assert failed[7].startswith("failed: s2: given up after 3 failures in a row; skipped 3")
    assert "Traceback" not in result.output
    # Each failure once: the log records of what the command prints stay off the console.
    assert len(result.output.splitlines()) == 1 + len(failed)
    assert dump(db) == before and watermarks.all_watermarks(db) == marks
    [last] = store.last_runs(db, 1)
    assert last["status"] == "failed" and last["errors"] == [f[len("failed: ") :] for f in failed]


def test_status_shows_runs_queue_lock_and_errors(run, fake_arxiv):
    fake_arxiv.corpus = synthetic_entries(60)
    assert run("harvest").exit_code == 1  # the seed papers are not in this corpus
    text = run("status").output
    assert "lock: free" in text
    assert "queue: 60 papers pending review" in text
    assert "    arxiv: seed paper 1703.09844 not found" in text
    assert " failed: 60 new, 0 updated; requests: arxiv " in text
    data = json.loads(run("status", "--json").output)
    assert data["queue"] == {"pending": 60} and data["lock"] is None
    [last] = data["runs"][:1]
    assert isinstance(last["duration"], int) and last["options"]["full"] is False
    assert last["errors"][0] == "arxiv: seed paper 1703.09844 not found"


def test_status_names_the_holder_of_the_lock(run, tmp_path):
    db = store.open_db(tmp_path / "db" / "h.db")
    with db.atomic():
        db.execute(
            "INSERT INTO harvest_lock VALUES (1, 7, 4242, 'cron-box', '2026-01-01T00:00:00Z',"
            " '2026-01-01T00:05:00Z')"
        )
    text = run("status").output
    assert "lock: held by run 7, pid 4242 on cron-box, since 2026-01-01T00:00:00Z" in text
    assert json.loads(run("status", "--json").output)["lock"]["host"] == "cron-box"


def test_log_file_keeps_the_detail_and_stderr_stays_short(run, fake_arxiv, tmp_path):
    fake_arxiv.corpus = synthetic_entries(5, words="dynamic shapes compiler compilation")
    log_file = tmp_path / "logs" / "harvest.log"
    result = run("--log-file", str(log_file), "harvest", "--category", "compiler")
    assert result.exit_code == 0, result.output
    # Not a terminal: no progress bar, no per-query lines; only the summary.
    assert result.output.splitlines() == [
        line for line in result.output.splitlines() if line.startswith("run ")
    ]
    lines = log_file.read_text(encoding="utf-8").splitlines()
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (DEBUG|INFO|WARNING|ERROR) harvester[.\w]*: \S"
    assert lines and all(re.match(stamp, line) for line in lines)
    assert any("arxiv compiler: 5/5 for" in line for line in lines)
    # A second command appends.
    run("--log-file", str(log_file), "harvest", "--category", "compiler")
    assert len(log_file.read_text(encoding="utf-8").splitlines()) > len(lines)


def test_log_records_are_one_line_each():
    formatter = OneLineFormatter()
    record = logging.LogRecord(
        "harvester.x", logging.ERROR, "f", 1, "bad\nbody:\n %s", ("x",), None
    )
    assert "\n" not in formatter.format(record)
    assert formatter.format(record).endswith("ERROR harvester.x: bad body: x")


def test_warnings_show_by_default_and_quiet_hides_them(run, fake_arxiv, tmp_path):
    fake_arxiv.corpus = synthetic_entries(5, words="dynamic shapes compiler compilation")
    db = store.open_db(tmp_path / "db" / "h.db")

    def plant_stale_lock():
        with db.atomic():
            db.execute(
                "INSERT INTO harvest_lock VALUES (1, NULL, ?, ?, '2026-01-01T00:00:00Z',"
                " '2026-01-01T00:00:00Z')",
                [dead_pid(), socket.gethostname()],
            )

    plant_stale_lock()
    shown = run("harvest", "--category", "compiler")
    assert shown.exit_code == 0
    [warning] = [line for line in shown.output.splitlines() if " WARNING " in line]
    assert "taking over a stale harvest lock" in warning
    plant_stale_lock()
    quiet = run("-q", "harvest", "--category", "compiler")
    assert quiet.exit_code == 0 and " WARNING " not in quiet.output


def test_full_option_rereads_everything(run, fake_arxiv, server):
    fake_arxiv.corpus = synthetic_entries(120, words="dynamic shapes compiler compilation")
    assert run("harvest", "--category", "compiler").exit_code == 0
    first = len(list(server.search_requests()))
    assert run("harvest", "--category", "compiler").exit_code == 0
    incremental = len(list(server.search_requests())) - first
    assert run("harvest", "--full", "--category", "compiler").exit_code == 0
    full = len(list(server.search_requests())) - first - incremental
    assert full == first > incremental


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal_and_nowhere_else(db, seeds, config, fake_arxiv, server):
    assert isinstance(for_stream(io.StringIO(), quiet=False, verbose=0), NoProgress)
    assert isinstance(for_stream(Terminal(), quiet=True, verbose=0), NoProgress)
    assert isinstance(for_stream(Terminal(), quiet=False, verbose=1), NoProgress)
    terminal = Terminal()
    bar = for_stream(terminal, quiet=False, verbose=0)
    assert isinstance(bar, BarProgress)
    fake_arxiv.corpus = synthetic_entries(5, words="dynamic shapes compiler compilation")
    run_harvest(db, seeds, config, categories=["compiler"], progress=bar)
    shown = terminal.getvalue()
    # One step per source: compiler's two arXiv queries are sent as one.
    assert "arXiv + S2" in shown and "2/2" in shown


def test_a_harvest_leaves_the_queue_ranking_trained(run, fake_arxiv, tmp_path):
    fake_arxiv.corpus = synthetic_entries(30)
    run("harvest")
    assert (tmp_path / "db" / "h.db-ranking" / "order.pickle").exists()
    screening.forget()  # the next command is another process
    with mock.patch.object(ranking.Ranker, "train", side_effect=ranking.Ranker.train) as train:
        assert run("review", "list", "--limit", "5").exit_code == 0
        assert run("status").exit_code == 0
    assert train.call_count == 0
