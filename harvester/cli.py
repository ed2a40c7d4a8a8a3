"""The ``harvester`` command: parses options, calls the library, maps errors to exit codes.

No SQL and no HTTP here. A ``HarvesterError`` becomes one line on stderr and its exit code;
anything else is a bug and shows its traceback only with ``--debug``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import signal
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from harvester import __version__, lock, store
from harvester.config import Config, load_config
from harvester.errors import EXIT_PARTIAL, HarvesterError
from harvester.harvest import run_harvest
from harvester.logs import setup_logging
from harvester.progress import for_stream
from harvester.seeds import load_seeds


@dataclass
class Context:
    """What the group's options decide, for the subcommands."""

    config_path: Path | None
    db: Path | None
    debug: bool
    verbose: int = 0
    quiet: bool = False

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
        except (click.exceptions.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            # A bug or an environment failure (disk full, database locked by another tool).
            obj = ctx.obj
            if isinstance(obj, Context) and obj.debug:
                raise
            message = " ".join(str(exc).split())
            click.echo(
                f"error: unexpected {type(exc).__name__}: {message} (--debug shows where)",
                err=True,
            )
            sys.exit(EXIT_PARTIAL)


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """systemd and CI stop a job with SIGTERM: unwind like Ctrl-C, so the run row is closed
    as ``interrupted`` and the lock released, instead of dying mid-way."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


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
@click.option(
    "-v", "--verbose", count=True, help="A log line per query and page; -vv also per request."
)
@click.option("-q", "--quiet", is_flag=True, help="Only errors (no progress bar).")
@click.option(
    "--log-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also append log records (-v detail) to this file, one line each.",
)
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def cli(
    ctx: click.Context,
    config_path: Path | None,
    db: Path | None,
    verbose: int,
    quiet: bool,
    log_file: Path | None,
    debug: bool,
) -> None:
    """Harvest Dynamic Neural Network papers from arXiv and Semantic Scholar into SQLite.

    Exit codes: 0 done, 1 some sources or queries failed, 2 bad usage, config or seeds,
    3 another harvest holds the database's lock.
    """
    ctx.obj = Context(config_path=config_path, db=db, debug=debug, verbose=verbose, quiet=quiet)
    setup_logging(verbose=verbose, quiet=quiet, log_file=log_file)


@cli.command()
@click.option(
    "--category",
    "categories",
    multiple=True,
    metavar="KEY",
    help="Harvest only this category (repeatable). Default: all of seeds/categories.toml.",
)
@click.option(
    "--full",
    is_flag=True,
    help="Ignore the watermarks: re-read every query to its end and refresh every paper.",
)
@click.pass_obj
def harvest(obj: Context, categories: tuple[str, ...], full: bool) -> None:
    """Fetch what is new in every category's queries, and the seed papers, into the database.

    Each query is read newest first down to where the last complete read stopped (less
    overlap_days); citation counts older than refresh_days are refreshed. One harvest per
    database at a time: a second one exits 3.
    """
    config = obj.config()
    seeds = load_seeds(config.seeds)
    for key in categories:
        seeds.category(key)
    db = store.open_db(config.db)
    try:
        with _sigterm_interrupts():
            result = run_harvest(
                db,
                seeds,
                config,
                categories=list(categories) or None,
                full=full,
                progress=for_stream(sys.stderr, quiet=obj.quiet, verbose=obj.verbose),
            )
    finally:
        store.close_db(db)
    requests = ", ".join(f"{k} {v}" for k, v in result.requests.items()) or "none"
    seen = result.papers_seen + result.papers_unchanged
    click.echo(
        f"run {result.run_id}: {seen} papers seen, {result.papers_new} new, "
        f"{result.papers_updated} updated, {result.papers_unchanged} unchanged, "
        f"{result.papers_refreshed} refreshed; requests: {requests}"
    )
    for line in result.skipped:
        click.echo(f"skipped: {line}", err=True)
    for line in result.errors:
        click.echo(f"failed: {line}", err=True)
    if result.errors:
        sys.exit(EXIT_PARTIAL)


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return "?"
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.option("--runs", default=5, show_default=True, help="How many recent runs to show.")
@click.pass_obj
def status(obj: Context, as_json: bool, runs: int) -> None:
    """Show the last runs, the lock, the review queue and the papers per category."""
    config = obj.config()
    db = store.open_db(config.db)
    try:
        recent = store.last_runs(db, runs)
        counts = store.counts_by_category(db)
        queue = store.queue_size(db)
        holder = lock.current_holder(db)
    finally:
        store.close_db(db)
    if as_json:
        data = {
            "runs": recent,
            "queue": {"pending": queue},
            "lock": None if holder is None else dataclasses.asdict(holder),
            "categories": counts,
        }
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    click.echo(f"database: {config.db}")
    click.echo(f"lock: held by {holder.describe()}" if holder else "lock: free")
    click.echo(f"queue: {queue} papers pending review")
    click.echo("last runs:")
    if not recent:
        click.echo("  none yet: run 'harvester harvest'")
    for run in recent:
        requests = ", ".join(f"{k} {v}" for k, v in run["requests"].items()) or "none"
        full = " (full)" if run["options"].get("full") else ""
        click.echo(
            f"  #{run['id']} {run['started']} {_duration(run['duration'])} {run['status']}{full}:"
            f" {run['papers_new'] or 0} new, {run['papers_updated'] or 0} updated;"
            f" requests: {requests}; errors: {len(run['errors'])}"
        )
        for line in run["errors"]:
            click.echo(f"    {line}")
    click.echo("papers (pending / accepted / rejected):")
    for category, by_status in counts.items():
        click.echo(
            f"  {category or '(none)':16} {by_status['pending']:6} {by_status['accepted']:6}"
            f" {by_status['rejected']:6}"
        )
