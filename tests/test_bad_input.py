"""Bad input of every kind: one clear line, the right exit code, nothing lost; fuzzed parsers."""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harvester import store
from harvester.cli import cli
from harvester.errors import SourceError
from harvester.sources.arxiv import parse_feed, to_record
from harvester.sources.semantic_scholar import to_record as s2_to_record
from tests.conftest import ROOT

FEED = (
    ROOT / "tests" / "fixtures" / "arxiv" / "axpy_013_q_testing_s10_m10_34e56e15aaac.xml"
).read_bytes()
S2_PAGE = json.loads(
    (ROOT / "tests" / "fixtures" / "s2" / "ss_093_graph_paper_search_200.json").read_text()
)


@pytest.fixture
def cwd(tmp_path, monkeypatch, server):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    env = {
        "HARVESTER_DB": str(tmp_path / "h.db"),
        "HARVESTER_ARXIV_URL": server.arxiv_url,
        "HARVESTER_S2_URL": server.s2_url,
        "HARVESTER_ARXIV_DELAY": "0",
        "HARVESTER_S2_DELAY": "0",
    }
    return tmp_path, env


def one_error_line(result) -> str:
    lines = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    return lines[0]


def test_database_from_a_newer_harvester_exits_2_untouched(cwd):
    tmp, env = cwd
    db = store.open_db(tmp / "h.db")
    db.table("_sqlite_migrations").insert(
        {"migration_set": "harvester", "name": "9999_future", "applied_at": "x"}
    )
    db.close()
    before = (tmp / "h.db").read_bytes()
    result = CliRunner().invoke(cli, ["harvest"], env=env)
    assert result.exit_code == 2
    assert "written by a newer harvester" in one_error_line(result)
    assert (tmp / "h.db").read_bytes() == before


def test_corrupted_database_file_exits_2_untouched(cwd):
    tmp, env = cwd
    (tmp / "h.db").write_bytes(b"not sqlite" * 500)
    result = CliRunner().invoke(cli, ["status"], env=env)
    assert result.exit_code == 2
    assert "cannot use this database" in one_error_line(result)
    assert (tmp / "h.db").read_bytes() == b"not sqlite" * 500


@pytest.mark.parametrize(
    "message", ["database or disk is full", "attempt to write a readonly database"]
)
def test_a_write_error_is_one_line_and_keeps_what_was_stored(
    cwd, monkeypatch, fake_arxiv, corpus, message
):
    tmp, env = cwd
    fake_arxiv.corpus = corpus
    real = store.save_records
    calls = []

    def failing(db, seeds, records, **kwargs):
        records = list(records)
        # Pages with papers only: the two services' empty pages come in any order.
        if records:
            calls.append(1)
        if len(calls) == 3:
            raise sqlite3.OperationalError(message)
        return real(db, seeds, records, **kwargs)

    monkeypatch.setattr(store, "save_records", failing)
    result = CliRunner().invoke(cli, ["harvest"], env=env)
    assert result.exit_code == 1
    line = one_error_line(result)
    assert message in line and "what was stored before is intact" in line
    db = store.open_db(tmp / "h.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.table("papers").count > 0


def test_unknown_category_in_config_and_bad_values_exit_2(cwd):
    tmp, env = cwd
    (tmp / "harvester.toml").write_text("retries = -2\n")
    result = CliRunner().invoke(cli, ["harvest"], env=env)
    assert result.exit_code == 2 and "retries = -2 must be zero or more" in one_error_line(result)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.binary(max_size=3000)
    | st.integers(0, len(FEED)).map(lambda n: FEED[:n])
    | st.binary(max_size=50).map(lambda b: FEED[:1500] + b + FEED[1500:])
)
def test_arxiv_parser_raises_only_its_own_error(body):
    try:
        feed = parse_feed(body)
        for result in feed.results:
            to_record(result)
    except SourceError:
        pass


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=20,
)
paper_keys = st.sampled_from(list(S2_PAGE["data"][0]))


@settings(max_examples=300, deadline=None)
@given(
    json_values
    | st.dictionaries(paper_keys, json_values, max_size=12)
    | st.builds(
        lambda base, k, v: {**base, k: v},
        st.sampled_from(S2_PAGE["data"][:5]),
        paper_keys,
        json_values,
    )
)
def test_semantic_scholar_parser_raises_only_its_own_error(data):
    try:
        record = s2_to_record(data)
    except SourceError:
        return
    assert record.s2_id and record.title
