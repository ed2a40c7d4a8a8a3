"""S2_API_KEY goes to Semantic Scholar and nowhere else: not logs, runs, reports, errors."""

from __future__ import annotations

import shutil
import sqlite3

from click.testing import CliRunner

from harvester.cli import cli
from tests.conftest import ROOT
from tests.loopback import load_edges, load_s2_corpus

KEY = "sk-TEST-3f9a1c7e5b2d4068a1f0"


def test_the_key_never_leaves_the_request(
    tmp_path, monkeypatch, server, fake_arxiv, fake_s2, corpus
):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    fake_arxiv.corpus = corpus
    fake_s2.corpus = load_s2_corpus()
    fake_s2.edges = load_edges()
    fake_s2.faults = [None, "403", None, "502", "502", "502", "502", "502", "502"]  # errors too
    env = {
        "S2_API_KEY": KEY,
        "HARVESTER_DB": str(tmp_path / "h.db"),
        "HARVESTER_ARXIV_URL": server.arxiv_url,
        "HARVESTER_S2_URL": server.s2_url,
        "HARVESTER_ARXIV_DELAY": "0",
        "HARVESTER_S2_DELAY": "0",
        "HARVESTER_REPORTS": str(tmp_path / "reports"),
    }
    (tmp_path / "harvester.toml").write_text("backoff_max = 0\nretries = 1\n")
    runner = CliRunner()
    outputs = [
        runner.invoke(
            cli, ["-vv", "--debug", "--log-file", str(tmp_path / "h.log"), "harvest"], env=env
        ),
        runner.invoke(cli, ["-vv", "status", "--json"], env=env),
        runner.invoke(cli, ["report"], env=env),
        runner.invoke(cli, ["review", "list", "--json"], env=env),
        runner.invoke(cli, ["--debug", "review", "accept", "9999.99999"], env=env),
    ]
    assert outputs[0].exit_code == 1  # the faults did happen
    assert {r["api_key"] for r in fake_s2.requests} == {KEY}  # sent on every S2 request
    texts = [o.output for o in outputs]
    texts += [repr(o.exception) for o in outputs if o.exception]
    texts.append((tmp_path / "h.log").read_text(encoding="utf-8"))
    texts += [
        p.read_text(encoding="utf-8") for p in (tmp_path / "reports").rglob("*") if p.is_file()
    ]
    with sqlite3.connect(tmp_path / "h.db") as conn:
        texts += list(conn.iterdump())
    leaks = [t[:200] for t in texts if KEY in t]
    assert leaks == []
    assert any("gave up" in t or "HTTP 403" in t for t in texts)
