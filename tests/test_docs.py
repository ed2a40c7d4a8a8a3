"""The README is part of the interface: its commands, options and keys must be real."""

from __future__ import annotations

import dataclasses
import re

from click.testing import CliRunner

from harvester.cli import cli
from harvester.config import ENV_VARS, Config
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def quick_start() -> list[str]:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)\n```", section, re.S)


def test_quick_start_is_two_commands_and_ci_runs_the_test_one():
    install_and_harvest, install_and_test = quick_start()
    assert install_and_harvest.endswith("harvester harvest")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()[-1]
    assert ci == install_and_test


def test_every_config_key_and_variable_is_documented():
    table = README.split("## Configuration", 1)[1].split("\n### ", 1)[0]
    keys = set(re.findall(r"^\| `(\w+)` \|", table, re.M))
    variables = set(re.findall(r"`([A-Z0-9_]+)`", table))
    fields = {f.name for f in dataclasses.fields(Config)} - {"s2_api_key"}
    assert keys == fields
    assert variables >= set(ENV_VARS)


def test_documented_commands_and_options_exist():
    for command, options in [
        ("harvest", ["--category", "--full"]),
        ("status", ["--json", "--runs"]),
        ("review", ["--interactive"]),
        ("review list", ["--status", "--category", "--limit", "--json"]),
        ("review show", []),
        ("review accept", ["--category", "--focus", "--note"]),
        ("review reject", ["--reason"]),
        ("review set", ["--category", "--focus", "--note", "--milestone"]),
        ("review undo", []),
        ("review add", ["--category"]),
        ("review export", ["--out", "--force"]),
        ("review import", ["--force"]),
        ("report", ["--out", "--year", "--force"]),
        ("export", ["--format", "--status", "--category", "--out"]),
        ("serve", ["--host", "--port", "--open", "--token"]),
    ]:
        assert f"harvester {command}" in README
        help_text = CliRunner().invoke(cli, [*command.split(), "--help"]).output
        for option in options:
            assert option in help_text and option in README
    group_help = CliRunner().invoke(cli, ["--help"]).output
    for option in ["--config", "--db", "--debug", "-v", "-q", "--log-file", "--version"]:
        assert option in group_help and f"`{option}" in README


def test_documented_tables_exist(db):
    section = README.split("## The database", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `(\w+)`", section, re.M))
    documented |= {"paper_authors"}
    assert documented <= set(db.table_names())
