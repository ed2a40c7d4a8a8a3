"""The ``harvester`` command: parses options, calls the library, maps errors to exit codes.

No SQL and no HTTP here. A ``HarvesterError`` becomes one line on stderr and its exit code;
anything else is a bug and shows its traceback only with ``--debug``.
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from harvester import __version__, store
from harvester.config import Config, load_config
from harvester.errors import EXIT_PARTIAL, HarvesterError
from harvester.harvest import run_harvest
from harvester.seeds import load_seeds


@dataclass
class Context:
    """What the group's options decide, for the subcommands."""

    config_path: Path | None
    db: Path | None
    debug: bool

    def config(self) -> Config:
        return load_config(self.config_path, overrides={"db": self.db})


class HarvesterGroup(click.Group):
    """Turns library errors into one clear line and the documented exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except HarvesterError as exc:
            obj = ctx.obj
            if isinstance(obj, Context) and obj.debug:
                raise
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)


@click.group(cls=HarvesterGroup)
@click.version_option(__version__, prog_name="harvester")
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Configuration file (default: ./harvester.toml if present).",
)
@click.option(
    "--db",
    type=click.Path(path_type=Path, dir_okay=False),
    help="SQLite database (overrides HARVESTER_DB and the config file).",
)
@click.option("-v", "--verbose", count=True, help="Show progress; -vv also shows each request.")
@click.option("-q", "--quiet", is_flag=True, help="Only errors.")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def cli(
    ctx: click.Context,
    config_path: Path | None,
    db: Path | None,
    verbose: int,
    quiet: bool,
    debug: bool,
) -> None:
    """Harvest Dynamic Neural Network papers from arXiv into SQLite.

    Exit codes: 0 done, 1 some sources or queries failed, 2 bad usage, config or seeds.
    """
    level = (
        logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    )
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr
    )
    if verbose < 2:
        # httpx logs every request at INFO; that is -vv material.
        logging.getLogger("httpx").setLevel(logging.WARNING)
    ctx.obj = Context(config_path=config_path, db=db, debug=debug)


@cli.command()
@click.option(
    "--category",
    "categories",
    multiple=True,
    metavar="KEY",
    help="Harvest only this category (repeatable). Default: all of seeds/categories.toml.",
)
@click.pass_obj
def harvest(obj: Context, categories: tuple[str, ...]) -> None:
    """Fetch every category's queries and the seed papers into the database."""
    config = obj.config()
    seeds = load_seeds(config.seeds)
    for key in categories:
        seeds.category(key)
    db = store.open_db(config.db)
    result = run_harvest(db, seeds, config, categories=list(categories) or None)
    requests = ", ".join(f"{k} {v}" for k, v in result.requests.items()) or "none"
    click.echo(
        f"run {result.run_id}: {result.papers_seen} papers seen, {result.papers_new} new, "
        f"{result.papers_updated} updated; requests: {requests}"
    )
    for line in result.skipped:
        click.echo(f"skipped: {line}", err=True)
    for line in result.errors:
        click.echo(f"failed: {line}", err=True)
    if result.errors:
        sys.exit(EXIT_PARTIAL)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.option("--runs", default=5, show_default=True, help="How many recent runs to show.")
@click.pass_obj
def status(obj: Context, as_json: bool, runs: int) -> None:
    """Show the last runs and the papers per category and status."""
    config = obj.config()
    db = store.open_db(config.db)
    recent = store.last_runs(db, runs)
    counts = store.counts_by_category(db)
    if as_json:
        click.echo(json.dumps({"runs": recent, "categories": counts}, indent=2, ensure_ascii=False))
        return
    click.echo(f"database: {config.db}")
    click.echo("last runs:")
    if not recent:
        click.echo("  none yet: run 'harvester harvest'")
    for run in recent:
        requests = ", ".join(f"{k} {v}" for k, v in run["requests"].items()) or "none"
        click.echo(
            f"  #{run['id']} {run['started']} → {run['ended'] or '…'} {run['status']}: "
            f"{run['papers_new'] or 0} new, {run['papers_updated'] or 0} updated; "
            f"requests: {requests}; errors: {len(run['errors'])}"
        )
    click.echo("papers (pending / accepted / rejected):")
    for category, by_status in counts.items():
        click.echo(
            f"  {category or '(none)':16} {by_status['pending']:6} {by_status['accepted']:6}"
            f" {by_status['rejected']:6}"
        )
