"""Bad input of every kind: one clear line, the right exit code, nothing lost; fuzzed parsers."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import subprocess

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harvester import ingest, store
from harvester.cli import cli
from harvester.errors import SourceError
from harvester.sources.arxiv import parse_feed, to_record
from harvester.sources.semantic_scholar import to_record as s2_to_record
from harvester.store import migrations
from tests import sample_db
from tests.conftest import ROOT, SEEDS

FEED = (
    ROOT / "tests" / "fixtures" / "arxiv" / "axpy_013_q_testing_s10_m10_34e56e15aaac.xml"
).read_bytes()
S2_PAGE = json.loads(
    (ROOT / "tests" / "fixtures" / "s2" / "ss_093_graph_paper_search_200.json").read_text()
)


@pytest.fixture
def cwd(tmp_path, monkeypatch, server):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(SEEDS, tmp_path / "seeds")
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
    real = ingest.save_records
    calls = []

    def failing(db, rules, records, **kwargs):
        records = list(records)
        # Pages with papers only: the two services' empty pages come in any order.
        if records:
            calls.append(1)
        if len(calls) == 3:
            raise sqlite3.OperationalError(message)
        return real(db, rules, records, **kwargs)

    monkeypatch.setattr(ingest, "save_records", failing)
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


# --- configuration: refused before anything is written or sent -----------------------------


@pytest.mark.parametrize(
    "toml, env_extra, message",
    [
        ("timeout = inf", {}, "harvester.toml: timeout = inf must be a finite number"),
        ("", {"HARVESTER_ARXIV_DELAY": "1e309"}, "HARVESTER_ARXIV_DELAY: arxiv_delay = inf"),
        ("refresh_days = 1000000000", {}, "refresh_days = 1000000000 must be at most 3650 days"),
        ("overlap_days = 1000000000", {}, "overlap_days = 1000000000 must be at most 3650 days"),
        ('contact = "me@example.org\\r\\nX-Evil: 1"', {}, "must be printable ASCII"),
    ],
)
def test_an_unusable_setting_exits_2_before_anything_is_written_or_sent(
    cwd, fake_arxiv, fake_s2, corpus, toml, env_extra, message
):
    tmp, env = cwd
    fake_arxiv.corpus = corpus
    (tmp / "harvester.toml").write_text(toml + "\nbackoff_max = 0\nretries = 0\n")
    result = CliRunner().invoke(cli, ["harvest"], env=env | env_extra)
    assert result.exit_code == 2, result.output
    assert message in one_error_line(result)
    assert not (tmp / "h.db").exists()
    assert fake_arxiv.requests == [] and fake_s2.requests == []


def test_a_config_file_that_is_not_utf8_exits_2_naming_it(cwd):
    tmp, env = cwd
    (tmp / "harvester.toml").write_bytes(b'retries = 1\ncontact = "Jos\xe9 <jose@example.org>"\n')
    result = CliRunner().invoke(cli, ["status"], env=env)
    assert result.exit_code == 2
    assert one_error_line(result) == (
        "error: harvester.toml:2: not UTF-8 text (byte 0xe9); save it as UTF-8"
    )


# --- databases that are not ours, read-only, missing, out of date -----------------------------


def foreign_database(path) -> bytes:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
        conn.execute("INSERT INTO notes (text) VALUES ('my own data')")
    conn.close()
    return path.read_bytes()


@pytest.mark.parametrize("command", [["harvest"], ["status"], ["review", "accept", "1"]])
def test_a_foreign_sqlite_file_is_refused_untouched(cwd, command):
    tmp, env = cwd
    before = foreign_database(tmp / "h.db")
    result = CliRunner().invoke(cli, command, env=env)
    assert result.exit_code == 2, result.output
    assert one_error_line(result) == (
        f"error: {tmp / 'h.db'}: not a harvester database (it has tables notes); give another"
        " --db or HARVESTER_DB"
    )
    assert (tmp / "h.db").read_bytes() == before
    assert sorted(p.name for p in tmp.iterdir() if p.name.startswith("h.db")) == ["h.db"]


READING = [
    ["status"],
    ["status", "--json"],
    ["review", "list"],
    ["review", "show", "1"],
    ["review", "--no-interactive"],
    ["review", "export", "--out", "OUT/queue.md"],
    ["report", "--out", "OUT"],
    ["export", "--format", "ris"],
    ["export", "--out", "OUT/papers.bib"],
]


@pytest.mark.parametrize("command", READING, ids=" ".join)
def test_a_reading_command_on_a_missing_database_says_so_and_creates_nothing(cwd, command):
    tmp, env = cwd
    command = [c.replace("OUT", str(tmp / "out")) for c in command]
    result = CliRunner().invoke(cli, ["--db", str(tmp / "typo.db"), *command], env=env)
    assert result.exit_code == 2, result.output
    assert one_error_line(result) == (
        f"error: {tmp / 'typo.db'}: no database there (check --db or HARVESTER_DB;"
        " 'harvester harvest' creates one)"
    )
    assert not (tmp / "typo.db").exists() and not (tmp / "out").exists()


@contextlib.contextmanager
def read_only(folder):
    """``folder`` and its files made unwritable, even for root (who ignores permissions)."""
    files = [p for p in folder.iterdir() if p.is_file()]
    if os.geteuid() != 0:
        for path in files:
            path.chmod(0o444)
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)
            for path in files:
                path.chmod(0o644)
        return
    # Root writes through permissions; an immutable folder it cannot create files in.
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(folder)]).returncode != 0:
        pytest.skip("running as root without chattr +i: cannot make a folder read-only")
    try:
        yield
    finally:
        subprocess.run([chattr, "-i", str(folder)], check=True)


@pytest.mark.parametrize("command", READING, ids=" ".join)
def test_reading_commands_work_on_a_read_only_database(tmp_path, monkeypatch, seeds, command):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "ro"
    folder.mkdir()
    sample_db.build_file(folder / "h.db", seeds).close()
    before = (folder / "h.db").read_bytes()
    command = [c.replace("OUT", str(tmp_path / "out")) for c in command]
    env = {"HARVESTER_DB": str(folder / "h.db"), "HARVESTER_SEEDS": str(SEEDS)}
    with read_only(folder):
        result = CliRunner().invoke(cli, command, env=env)
        listing = sorted(p.name for p in folder.iterdir())
    assert result.exit_code == 0, result.output
    assert "error:" not in result.output
    assert (folder / "h.db").read_bytes() == before and listing == ["h.db"]


def test_status_on_a_read_only_database_shows_its_runs(tmp_path, seeds):
    folder = tmp_path / "ro"
    folder.mkdir()
    sample_db.build_file(folder / "h.db", seeds).close()
    env = {"HARVESTER_DB": str(folder / "h.db"), "HARVESTER_SEEDS": str(SEEDS)}
    writable = CliRunner().invoke(cli, ["status", "--json"], env=env)
    with read_only(folder):
        result = CliRunner().invoke(cli, ["status", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == json.loads(writable.output)


def test_a_reading_command_on_an_out_of_date_schema_says_to_run_a_writing_one(cwd, monkeypatch):
    tmp, env = cwd
    store.open_db(tmp / "h.db").close()
    before = (tmp / "h.db").read_bytes()
    newer = migrations.Migrations("harvester")
    for migration in migrations.MIGRATIONS._migrations:
        newer(name=migration.name)(migration.fn)
    newer(name="0099_later")(lambda db: db.execute("CREATE TABLE later (x)"))
    monkeypatch.setattr(migrations, "MIGRATIONS", newer)
    result = CliRunner().invoke(cli, ["status"], env=env)
    assert result.exit_code == 2
    assert one_error_line(result) == (
        f"error: {tmp / 'h.db'}: its schema is older than this harvester's; run a command that"
        " writes (such as 'harvester harvest') once to bring it up to date"
    )
    assert (tmp / "h.db").read_bytes() == before
    # A writing command brings it up to date.
    assert CliRunner().invoke(cli, ["review", "undo"], env=env).exit_code == 2  # nothing to undo
    assert CliRunner().invoke(cli, ["status"], env=env).exit_code == 0
