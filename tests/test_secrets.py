"""S2_API_KEY goes to Semantic Scholar and nowhere else: not logs, runs, reports, errors."""

from __future__ import annotations

import logging
import shutil
import sqlite3
from urllib.parse import quote

import pytest
from click.testing import CliRunner

from harvester import redact
from harvester.cli import cli
from harvester.config import Config
from harvester.logs import setup_logging
from tests.conftest import SEEDS, synthetic_entries
from tests.loopback import load_edges, load_s2_corpus

KEY = "sk-TEST-3f9a1c7e5b2d4068a1f0"


def test_the_key_never_leaves_the_request(
    tmp_path, monkeypatch, server, fake_arxiv, fake_s2, corpus
):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(SEEDS, tmp_path / "seeds")
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


def _env(tmp_path, server, key: str) -> dict[str, str]:
    return {
        "S2_API_KEY": key,
        "HARVESTER_DB": str(tmp_path / "h.db"),
        "HARVESTER_ARXIV_URL": server.arxiv_url,
        "HARVESTER_S2_URL": server.s2_url,
        "HARVESTER_ARXIV_DELAY": "0",
        "HARVESTER_S2_DELAY": "0",
        "HARVESTER_REPORTS": str(tmp_path / "reports"),
    }


def _everything_written(tmp_path, outputs) -> list[str]:
    """Every text the commands left: their output, exceptions, the log file, the database."""
    texts = [o.output for o in outputs]
    texts += [repr(o.exception) for o in outputs if o.exception]
    log = tmp_path / "h.log"
    if log.exists():
        texts.append(log.read_text(encoding="utf-8"))
    if (tmp_path / "h.db").exists():
        with sqlite3.connect(tmp_path / "h.db") as conn:
            texts += list(conn.iterdump())
    return texts


@pytest.mark.parametrize("padding", ["\r", "\n", "\r\n", "  ", "\t \r\n"])
def test_a_key_with_a_trailing_newline_or_spaces_is_sent_stripped_and_never_shown(
    tmp_path, monkeypatch, server, fake_arxiv, fake_s2, padding
):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(SEEDS, tmp_path / "seeds")
    fake_arxiv.corpus = synthetic_entries(3)
    fake_s2.faults = ["502"] * 20  # every S2 step fails: its errors are printed and stored
    (tmp_path / "harvester.toml").write_text("backoff_max = 0\nretries = 1\nsnowball_depth = 0\n")
    env = _env(tmp_path, server, " " + KEY + padding)
    result = CliRunner().invoke(
        cli, ["-vv", "--log-file", str(tmp_path / "h.log"), "harvest"], env=env
    )
    assert result.exit_code == 1, result.output  # S2 failed; arXiv's papers are stored
    assert {r["api_key"] for r in fake_s2.requests} == {KEY}
    texts = _everything_written(tmp_path, [result])
    assert [t[:200] for t in texts if KEY in t] == []
    assert "failed: s2: gave up after 2 attempts: HTTP 502" in result.output


@pytest.mark.parametrize(
    "key, kind",
    [
        (KEY[:10] + "\r" + KEY[10:], "control"),
        (KEY + "\x7f", "control"),
        (KEY + "\x1b[2J", "control"),
        (KEY[:5] + "é" + KEY[5:], "non-ASCII"),
        (KEY + "\u202e", "non-ASCII"),
    ],
)
def test_a_key_with_control_or_non_ascii_characters_is_refused_without_showing_it(
    tmp_path, monkeypatch, server, fake_s2, key, kind
):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(SEEDS, tmp_path / "seeds")
    env = _env(tmp_path, server, key)
    outputs = [
        CliRunner().invoke(cli, ["--log-file", str(tmp_path / "h.log"), "harvest"], env=env),
        CliRunner().invoke(cli, ["--debug", "harvest"], env=env),
    ]
    for result in outputs:
        assert result.exit_code == 2, result.output
    line = outputs[0].output.strip()
    assert line.startswith("error: S2_API_KEY: the Semantic Scholar key has a ")
    assert f"a {kind} character" in line and len(outputs[0].output.splitlines()) == 1
    texts = _everything_written(tmp_path, outputs)
    assert [t[:200] for t in texts if KEY[:12] in t or KEY[-12:] in t] == []
    assert fake_s2.requests == [] and not (tmp_path / "h.db").exists()


@pytest.mark.parametrize("status", ["400", "403", "500"])
def test_a_key_the_server_echoes_back_is_scrubbed_from_every_output(
    tmp_path, monkeypatch, server, fake_arxiv, fake_s2, status
):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(SEEDS, tmp_path / "seeds")
    fake_arxiv.corpus = synthetic_entries(3)
    fake_s2.faults = [f"echo-key:{status}"] * 20
    (tmp_path / "harvester.toml").write_text("backoff_max = 0\nretries = 1\nsnowball_depth = 0\n")
    env = _env(tmp_path, server, KEY)
    runner = CliRunner()
    outputs = [
        runner.invoke(
            cli, ["-vv", "--debug", "--log-file", str(tmp_path / "h.log"), "harvest"], env=env
        ),
        runner.invoke(cli, ["status"], env=env),
        runner.invoke(cli, ["status", "--json"], env=env),
        runner.invoke(cli, ["--debug", "review", "add", "10.1145/3341301.3359630"], env=env),
        runner.invoke(cli, ["review", "add", "Some Title Nobody Has"], env=env),
    ]
    assert outputs[0].exit_code == 1, outputs[0].output
    assert outputs[3].exit_code != 0 and outputs[4].exit_code != 0
    texts = _everything_written(tmp_path, outputs)
    assert [t[:300] for t in texts if KEY in t] == []
    # The echo did happen, and what it said is shown with the key hidden.
    assert f"HTTP {status}" in outputs[0].output
    assert "key [redacted] refused" in outputs[0].output + outputs[4].output


def test_log_records_of_any_harvester_module_are_scrubbed_on_every_handler(tmp_path, capsys):
    Config(s2_api_key=KEY)  # a configuration holding the key makes it a secret
    setup_logging(verbose=2, log_file=tmp_path / "h.log")
    try:
        logging.getLogger("harvester.http").warning("answer quoted %s back", KEY)
        logging.getLogger("harvester").error("x-api-key: " + KEY)
    finally:
        setup_logging()
    logged = (tmp_path / "h.log").read_text(encoding="utf-8")
    shown = capsys.readouterr().err
    for text in (logged, shown):
        assert KEY not in text
        assert "answer quoted [redacted] back" in text and "x-api-key: [redacted]" in text


def test_scrub_hides_every_spelling_of_a_registered_secret():
    secret = "se'cr%et\\value"
    redact.register(secret)
    text = f"raw {secret} repr {secret!r} url {quote(secret, safe='')}"
    assert redact.scrub(text) == 'raw [redacted] repr "[redacted]" url [redacted]'
    assert redact.scrub("nothing secret") == "nothing secret"
