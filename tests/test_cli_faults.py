"""Small faults of the command line: a closed pipe, a command with nothing to do, an undo."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

from harvester import store
from harvester.cli import cli
from tests.conftest import SEEDS
from tests.sample_db import build_file


@pytest.fixture
def sample_env(tmp_path, seeds):
    build_file(tmp_path / "sample.db", seeds).close()
    return {
        "HARVESTER_DB": str(tmp_path / "sample.db"),
        "HARVESTER_SEEDS": str(SEEDS),
        "USER": "tester",
    }


def test_review_list_into_a_closed_pipe_ends_quietly_like_other_unix_tools(sample_env, tmp_path):
    """``harvester review list | head`` once head has read enough: no message, status 141."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first line is written
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "harvester", "review", "list"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            env=os.environ | sample_env,
            cwd=tmp_path,
            timeout=120,
        )
    finally:
        os.close(write_end)
    assert proc.stderr == b""
    assert proc.returncode == 141  # 128 + SIGPIPE, what the shell reports for `seq … | head`


def test_review_set_with_nothing_to_set_is_a_usage_error(sample_env):
    result = CliRunner().invoke(cli, ["review", "set", "2302.00003"], env=sample_env)
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        "error: nothing to set: give --category, --focus, --note or --milestone"
    ]
    db = store.open_db(sample_env["HARVESTER_DB"])
    assert db.execute("SELECT count(*) FROM decisions WHERE who = 'tester'").fetchone()[0] == 0


@pytest.fixture
def corpus_env(corpus_db, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copy(corpus_db, tmp_path / "harvester.db")
    return {
        "HARVESTER_DB": str(tmp_path / "harvester.db"),
        "HARVESTER_SEEDS": str(SEEDS),
        "USER": "tester",
    }


def test_undoing_a_category_change_in_the_loop_resets_the_category_it_files_under(
    corpus_env, seeds
):
    listed = CliRunner().invoke(cli, ["review", "list", "--json"], env=corpus_env)
    first = json.loads(listed.output)[0]
    keys = list(seeds.categories)
    other = next(k for k in keys if k != first["suggested_category"])
    digit = str(keys.index(other) + 1)
    result = CliRunner().invoke(
        cli, ["review", "--interactive"], env=corpus_env, input="c" + digit + "u" + "a" + "q"
    )
    assert result.exit_code == 0, result.output
    paper = store.open_db(corpus_env["HARVESTER_DB"]).table("papers").get(first["id"])
    assert (paper["status"], paper["category"]) == ("accepted", first["suggested_category"])
    cards = [line for line in result.output.splitlines() if line.startswith("    suggested: ")]
    # The card before the change, after it, and after the undo: back to what it first showed.
    assert cards[0] == cards[2] != cards[1]
