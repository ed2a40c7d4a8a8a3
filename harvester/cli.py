"""The ``harvester`` command: parses options, calls the library, maps errors to exit codes.

No SQL and no HTTP here. A ``HarvesterError`` becomes one line on stderr and its exit code;
anything else is a bug and shows its traceback only with ``--debug``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import sqlite3
import sys
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import click
from sqlite_utils import Database

from harvester import __version__, lock, review, store
from harvester import export as exports
from harvester.config import Config, load_config
from harvester.errors import EXIT_PARTIAL, HarvesterError
from harvester.files import write_text
from harvester.logs import setup_logging
from harvester.redact import scrub
from harvester.rules import Rules
from harvester.seeds import Seeds, load_seeds
from harvester.terminal import printable

# What only some commands need (the fetchers and their HTTP stack, the reports, the review
# loop, the ranking's training) is imported inside those commands: every command pays the
# start-up of what it uses, and ``status`` or ``review list`` none of the harvest's.

# What a shell reports for a program that SIGPIPE ended (128 + 13), as `seq 1000000 | head`.
EXIT_BROKEN_PIPE = 141


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
            _fail(ctx, exc, f"error: {exc}", exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except BrokenPipeError:
            # Whoever read the output has gone (`harvester review list | head`): stop without
            # a word, as Unix tools do, and point stdout at /dev/null so that the flush at
            # exit cannot fail a second time.
            with contextlib.suppress(OSError, ValueError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(EXIT_BROKEN_PIPE)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except sqlite3.Error as exc:
            # Disk full, a read-only file or folder, a database locked by another tool: every
            # page is one transaction, so what was stored before stays whole.
            _fail(
                ctx,
                exc,
                f"error: the database could not be written ({exc}); what was stored before"
                " is intact",
                EXIT_PARTIAL,
            )
        except Exception as exc:
            # A bug or an environment failure (disk full, database locked by another tool).
            message = " ".join(str(exc).split())
            _fail(
                ctx,
                exc,
                f"error: unexpected {type(exc).__name__}: {message} (--debug shows where)",
                EXIT_PARTIAL,
            )


def _fail(ctx: click.Context, exc: BaseException, line: str, code: int) -> NoReturn:
    """Print the error's one line (after its traceback with ``--debug``) and exit.

    Both are scrubbed: a library's exception chained below ours may quote a secret.
    """
    obj = ctx.obj
    if isinstance(obj, Context) and obj.debug:
        click.echo(scrub("".join(traceback.format_exception(exc))), err=True, nl=False)
    click.echo(scrub(line), err=True)
    sys.exit(code)


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
    from harvester import screening
    from harvester.harvest import run_harvest
    from harvester.progress import for_stream

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
            # The queue's ranking trained now, in the cron job, rather than by the first
            # person to look at the queue (seconds at 20,000 papers).
            screening.order(db, seeds)
    finally:
        store.close_db(db)
    requests = ", ".join(f"{k} {v}" for k, v in result.requests.items()) or "none"
    seen = result.papers_seen + result.papers_unchanged
    click.echo(
        f"run {result.run_id}: {seen} papers seen, {result.papers_new} new, "
        f"{result.papers_updated} updated, {result.papers_unchanged} unchanged, "
        f"{result.papers_refreshed} refreshed; requests: {requests}"
    )
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
    seeds = load_seeds(config.seeds)
    db = store.open_db(config.db, access="read")
    try:
        recent = store.last_runs(db, runs)
        counts = review.category_counts(db, seeds)
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


# --- review -------------------------------------------------------------------------------


def _category_option(help_text: str) -> Any:
    return click.option("--category", metavar="KEY", help=help_text)


def _open(obj: Context, access: store.Access = "write") -> tuple[Config, Seeds, Database]:
    """Config, seeds and the database; only ``harvest`` and ``review add`` create one."""
    config = obj.config()
    seeds = load_seeds(config.seeds)
    return config, seeds, store.open_db(config.db, access=access)


def _line(item: review.QueueItem) -> str:
    venue = printable(f"{item.venue or '?'} {item.venue_year or ''}")
    cited = "?" if item.citation_count is None else str(item.citation_count)
    return (
        f"{item.id:>6}  {item.rank:5.2f}  {item.score:6.1f}  {item.category or '-':14}  "
        f"{venue:16} {cited:>6}  {printable(item.title)}"
    )


@cli.group(name="review", invoke_without_command=True)
@click.option(
    "--interactive/--no-interactive",
    default=None,
    help="Force the one-key review loop on or off (default: on when stdin is a terminal).",
)
@_category_option("Review only papers suggested for this category.")
@click.pass_context
def review_cmd(ctx: click.Context, interactive: bool | None, category: str | None) -> None:
    """Review the queue: alone, one paper at a time with single keys.

    Keys: a accept, r reject, c change category, f focus line, n note, s skip, u undo,
    q quit. The subcommands below do the same from scripts.
    """
    if ctx.invoked_subcommand is not None:
        return
    obj: Context = ctx.obj
    if interactive is None:
        interactive = sys.stdin.isatty()
    config, seeds, db = _open(obj, "write" if interactive else "read")
    if not interactive:
        for item in review.queue(db, seeds, category=category, explain=False):
            click.echo(_line(item))
        return
    from harvester.interactive import review_loop

    review_loop(
        db,
        Rules.from_config(seeds, config),
        getchar=lambda: click.getchar(echo=False),
        prompt=lambda text: click.prompt(text, default="", show_default=False),
        echo=click.echo,
        category=category,
    )
    _rank_again(db, seeds)


def _rank_again(db: Database, seeds: Seeds) -> None:
    """Train the queue's ranking on the decisions just made, once, before the command ends.

    A session or a checklist decides many papers at once; whatever reads the queue next (a
    report published right after, the page, ``review list``) would otherwise train first,
    seconds at 20,000 papers. Nothing is trained when the decisions did not change.
    """
    from harvester import screening

    screening.order(db, seeds)


@review_cmd.command("list")
@click.option(
    "--status",
    type=click.Choice([*review.STATUSES, "all"]),
    default="pending",
    show_default=True,
)
@_category_option("Only the papers shown under this category (as status counts them).")
@click.option("--limit", type=click.IntRange(min=1), help="At most N papers.")
@click.option("--offset", type=click.IntRange(min=0), default=0, help="Skip the first N.")
@click.option(
    "--uncertain",
    is_flag=True,
    help="The papers the ranking is least sure about first (the decisions that teach it most).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.pass_obj
def review_list(
    obj: Context,
    status: str,
    category: str | None,
    limit: int | None,
    offset: int,
    uncertain: bool,
    as_json: bool,
) -> None:
    """Papers most likely relevant first: id, rank (the probability), score, category,
    venue, citations, title, why."""
    _, seeds, db = _open(obj, "read")
    items = review.queue(
        db,
        seeds,
        status=status,
        category=category,
        limit=limit,
        offset=offset,
        order="uncertain" if uncertain else "likely",
    )
    if as_json:
        click.echo(json.dumps([i.as_json() for i in items], indent=2, ensure_ascii=False))
        return
    click.echo(
        f"{'id':>6}  {'rank':>5}  {'score':>6}  {'category':14}  {'venue':16} {'cited':>6}  title"
    )
    for item in items:
        click.echo(_line(item))
        for reason in item.why[:3]:
            click.echo(f"{'':8}why: {printable(reason)}")


@review_cmd.command("show")
@click.argument("ident", metavar="ID")
@click.pass_obj
def review_show(obj: Context, ident: str) -> None:
    """Everything about one paper. ID is papers.id, an arXiv id, a DOI or an S2 id."""
    _, seeds, db = _open(obj, "read")
    paper = review.find(db, ident)
    paper["category"] = review.shown_category(db, seeds, paper)
    for key in (
        "id",
        "title",
        "status",
        "category",
        "venue",
        "venue_year",
        "year",
        "citation_count",
        "milestone",
        "award",
        "arxiv_id",
        "doi",
        "s2_id",
        "focus",
        "notes",
        "tldr",
        "abstract",
    ):
        if paper[key] not in (None, ""):
            click.echo(f"{key:15} {printable(paper[key])}")
    click.echo(f"{'authors':15} {printable(', '.join(json.loads(paper['authors'])))}")
    ranking = review.ranking_line(db, seeds, paper["id"])
    for reason in review.why(db, seeds, paper, [ranking] if ranking else []):
        click.echo(f"{'why':15} {printable(reason)}")


def _decided(paper: dict[str, Any]) -> None:
    click.echo(
        f"#{paper['id']} {paper['status']} [{paper['category']}] {printable(paper['title'])}"
    )


@review_cmd.command("accept")
@click.argument("ident", metavar="ID")
@_category_option("Category to file it under (default: the suggested one).")
@click.option("--focus", help="The 'Focused On' line of the list.")
@click.option("--note", help="A note for the list's Notes column.")
@click.pass_obj
def review_accept(
    obj: Context, ident: str, category: str | None, focus: str | None, note: str | None
) -> None:
    """Accept a paper into the list."""
    _, seeds, db = _open(obj)
    _decided(review.accept(db, seeds, ident, category=category, focus=focus, note=note))


@review_cmd.command("reject")
@click.argument("ident", metavar="ID")
@click.option("--reason", help="Why, for the audit trail.")
@click.pass_obj
def review_reject(obj: Context, ident: str, reason: str | None) -> None:
    """Reject a paper: it stays in the database, out of the list and the queue."""
    _, _, db = _open(obj)
    _decided(review.reject(db, ident, reason=reason))


@review_cmd.command("set")
@click.argument("ident", metavar="ID")
@_category_option("Move it to this category.")
@click.option("--focus", help="The 'Focused On' line.")
@click.option("--note", help="A note.")
@click.option(
    "--milestone",
    type=click.Choice(review.MILESTONE_CHOICES),
    help="Force the timeline flag on or off, or back to citations and awards (auto).",
)
@click.pass_obj
def review_set(
    obj: Context,
    ident: str,
    category: str | None,
    focus: str | None,
    note: str | None,
    milestone: str | None,
) -> None:
    """Change category, focus, note or milestone without changing the status."""
    if category is None and focus is None and note is None and milestone is None:
        raise review.ReviewError("nothing to set: give --category, --focus, --note or --milestone")
    config, seeds, db = _open(obj)
    paper = review.set_fields(
        db,
        Rules.from_config(seeds, config),
        ident,
        category=category,
        focus=focus,
        note=note,
        milestone=milestone,
    )
    _decided(paper)


@review_cmd.command("undo")
@click.pass_obj
def review_undo(obj: Context) -> None:
    """Revert the last decision (repeat to go further back)."""
    _, _, db = _open(obj)
    rows = review.undo(db)
    fields = ", ".join(r["field"] for r in rows if r["field"] != "manual_fields")
    click.echo(f"undid {rows[0]['kind']} of #{rows[0]['paper_id']} ({fields})")


@review_cmd.command("add")
@click.argument("ident", metavar="ARXIV_ID|DOI|S2_ID|TITLE")
@_category_option("Category to file it under (default: the suggested one).")
@click.pass_obj
def review_add(obj: Context, ident: str, category: str | None) -> None:
    """Fetch, enrich and accept a paper the harvest did not find."""
    from harvester.sources import open_sources

    config, seeds, db = _open(obj, "create")
    with open_sources(config) as sources:
        paper = review.add_paper(
            db, Rules.from_config(seeds, config), sources, ident, category=category
        )
    _decided(paper)
    if paper["award"] or paper["milestone"]:
        click.echo(
            f"  {printable(paper['venue'])} {paper['venue_year']},"
            f" {paper['citation_count']} citations"
            + (f", {printable(paper['award'])}" if paper["award"] else "")
            + ", milestone"
        )


@review_cmd.command("export")
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Where to write (default: REPORTS/review-queue.md).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Overwrite a checklist even when it has marks not imported yet.",
)
@click.pass_obj
def review_export(obj: Context, out: Path | None, force: bool) -> None:
    """Write the pending queue as a Markdown checklist, for review in a pull request.

    A checklist there whose ticks, strikes or notes are not imported yet is kept (exit 2):
    run 'harvester review import' on it first.
    """
    from harvester import review_file

    config, seeds, db = _open(obj, "read")
    path = out or config.reports / "review-queue.md"
    count = review_file.export(db, seeds, path, force=force)
    click.echo(f"wrote {path}: {count} papers")


@review_cmd.command("import")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--force",
    is_flag=True,
    help="Apply the checklist also to papers decided on after it was exported.",
)
@click.pass_obj
def review_import(obj: Context, path: Path, force: bool) -> None:
    """Apply a checklist: [x] accepts, [-] or ~~struck~~ rejects, 'key: value' lines annotate.

    A paper someone decided on after the export keeps that decision: it is listed as a
    conflict and skipped (exit 1), unless --force.
    """
    from harvester import review_file

    config, seeds, db = _open(obj)
    report = review_file.import_decisions(db, Rules.from_config(seeds, config), path, force=force)
    for c in report.conflicts:
        click.echo(
            f"conflict: {path}:{c.line}: #{c.paper_id} was decided after this checklist was"
            f" exported ({printable(c.who)}: {c.kind} at {c.at}); skipped (--force applies"
            " the checklist)",
            err=True,
        )
    click.echo(f"{path}: {report.summary()}")
    _rank_again(db, seeds)
    if report.conflicts:
        sys.exit(EXIT_PARTIAL)


# --- reports ------------------------------------------------------------------------------


@cli.command()
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder to write into (default: HARVESTER_REPORTS, reports/).",
)
@click.option("--year", type=click.IntRange(1900, 2100), help="Only this year's report.")
@click.option(
    "--force",
    is_flag=True,
    help="Overwrite review-queue.md even when it has marks not imported yet.",
)
@click.pass_obj
def report(obj: Context, out: Path | None, year: int | None, force: bool) -> None:
    """Write the awesome list (README.md), yearly reports, the review queue, what's new
    (new.md), the Atom feed (feed.xml) and the list as BibTeX (papers.bib).

    Writes nothing (exit 1) before a harvest has completed, and nothing (exit 2) while
    review-queue.md has ticks, strikes or notes not imported: run 'harvester review import'
    on it first.
    """
    from harvester.report import write_reports

    config, seeds, db = _open(obj, "read")
    paths = write_reports(
        db, Rules.from_config(seeds, config), out or config.reports, year=year, force=force
    )
    for path in paths:
        click.echo(f"wrote {path}")


@cli.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(exports.FORMATS),
    default="bibtex",
    show_default=True,
    help="bibtex (LaTeX), csl-json (Zotero, citation processors) or ris (other managers).",
)
@click.option(
    "--status",
    type=click.Choice(exports.STATUSES),
    default="accepted",
    show_default=True,
    help="Which papers: the list (accepted), the queue (pending) or all.",
)
@_category_option("Only this category.")
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write to this file (replaced whole) instead of standard output.",
)
@click.pass_obj
def export(obj: Context, fmt: str, status: str, category: str | None, out: Path | None) -> None:
    """Export papers for citation managers: BibTeX, CSL-JSON or RIS, one entry per paper.

    Citation keys (huang2018multi) stay the same from one export to the next; the year is
    the venue's.
    """
    _, seeds, db = _open(obj, "read")
    try:
        text = exports.render(db, seeds, fmt, status=status, category=category)
    finally:
        store.close_db(db)
    if out is None:
        click.echo(text, nl=False)
        return
    write_text(out, text)
    click.echo(f"wrote {out}", err=True)


# --- the review page ----------------------------------------------------------------------


@cli.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. Anything but loopback (e.g. 0.0.0.0) needs --token.",
)
@click.option("--port", default=8765, show_default=True, type=click.IntRange(1, 65535))
@click.option("--open", "open_browser", is_flag=True, help="Open the page in the default browser.")
@click.option(
    "--token",
    envvar="HARVESTER_TOKEN",
    help="Secret every request must carry (env HARVESTER_TOKEN); required beyond loopback.",
)
@click.pass_obj
def serve(obj: Context, host: str, port: int, open_browser: bool, token: str | None) -> None:
    """Review in the browser: the queue, one paper at a time, single keys, a dashboard.

    Decisions are the same as 'harvester review' makes, with the name each reviewer gives.
    """
    # Imported here: the web stack is only needed by this command.
    from harvester.web.app import create_app
    from harvester.web.security import check_bind, is_loopback
    from harvester.web.server import bind, make_server, url_for

    check_bind(host, token)  # a usage error comes before the database is looked at
    config, seeds, db = _open(obj)
    db.close()
    app = create_app(
        config.db,
        Rules.from_config(seeds, config),
        token=token,
        loopback_only=is_loopback(host),
    )
    sock = bind(host, port)
    url = url_for(host, port)
    click.echo(f"review page for {config.db}: {url}  (Ctrl-C stops it)")
    if token:
        click.echo(f"every request needs the token: open {url}?token=… once in each browser")
    opened = (url + (f"?token={token}" if token else "")) if open_browser else None
    make_server(app, host, port, open_url=opened, access_log=not token).run(sockets=[sock])
