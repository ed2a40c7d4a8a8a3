"""The command line end to end: exit codes, one-line errors, what the user sees."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from harvester.cli import cli
from tests.conftest import ROOT, synthetic_entries


@pytest.fixture
def run(server, tmp_path, monkeypatch):
    """Invoke the CLI against the loopback server with a temp database, no delays."""
    monkeypatch.chdir(tmp_path)
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
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
    # The compiler category's two arXiv queries and its S2 query; it has no seed paper.
    assert [line.split(":")[1].strip() for line in failed] == ["arxiv", "arxiv", "s2"]
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
    assert len(queries) == 2 and all("cat:cs.PL" in q for q in queries)


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
