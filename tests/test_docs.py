"""The README is part of the interface: its commands, options and keys must be real."""

from __future__ import annotations

import dataclasses
import re

import click
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


def cli_commands(group: click.Group = cli, prefix: tuple[str, ...] = ()):
    """Every command of the CLI, subcommands included, as (words after ``harvester``, command)."""
    for name, command in sorted(group.commands.items()):
        path = (*prefix, name)
        yield " ".join(path), command
        if isinstance(command, click.Group):
            yield from cli_commands(command, path)


def long_options(command: click.Command) -> set[str]:
    return {
        o for p in command.params if isinstance(p, click.Option) for o in p.opts if o[:2] == "--"
    }


def test_documented_commands_and_options_exist():
    rows = dict(re.findall(r"^\| `harvester ([a-z]+(?: [a-z]+)*)([^`]*)` \|", README, re.M))
    commands = dict(cli_commands())
    assert set(rows) == set(commands), "every command has a row in the Commands table"
    for name, command in commands.items():
        assert f"harvester {name}" in README
        result = CliRunner().invoke(cli, [*name.split(), "--help"])
        assert result.exit_code == 0, result.output
        options = long_options(command)
        for option in options:
            assert option in result.output and option in README, (name, option)
        # What the table says a command takes, it takes.
        assert set(re.findall(r"--[a-z-]+", rows[name])) <= options, name
    group_help = CliRunner().invoke(cli, ["--help"]).output
    for option in ["--config", "--db", "--debug", "-v", "-q", "--log-file", "--version"]:
        assert option in group_help and f"`{option}" in README
    assert {o for p in cli.params for o in p.opts if o[:2] == "--"} - {
        "--verbose",
        "--quiet",
    } <= set(re.findall(r"`(--[a-z-]+)", README))


def test_documented_tables_exist(db):
    section = README.split("## The database", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `(\w+)`", section, re.M))
    documented |= {"paper_authors"}
    assert documented <= set(db.table_names()) | set(db.view_names())


def test_architecture_lists_every_module_once_and_none_that_is_gone():
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    table = text.split("## Modules", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"^\| `(harvester/[^`]+)` \|", table, re.M)
    package = ROOT / "harvester"
    modules = {str(p.relative_to(ROOT)) for p in package.rglob("*.py")}
    assert len(listed) == len(set(listed))
    assert set(listed) == modules | {"harvester/web/static/"}
