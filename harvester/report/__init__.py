"""Reports: the awesome list in the seed's own format, yearly reports, the review queue,
what is new, an Atom feed and the list as BibTeX.

Everything here reads the database and writes text; the same database gives byte-identical
files, so a scheduled job that commits ``reports/`` makes small, reviewable diffs. Each file is
replaced whole (``files.write_text``), and nothing is written from a database no harvest has
completed, or over a review checklist whose marks are not imported yet.
"""

from __future__ import annotations

from pathlib import Path

from sqlite_utils import Database

from harvester import export, review_file, screening, store
from harvester.errors import ReportError
from harvester.files import write_text
from harvester.report.awesome import TITLE, render_readme
from harvester.report.common import accepted_papers
from harvester.report.feed import render_feed
from harvester.report.new import render_new
from harvester.report.yearly import CHART_FILE, render_chart, render_index, render_year
from harvester.rules import Rules


def _write(path: Path, text: str, written: list[Path]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        write_text(path, text)
    written.append(path)


def write_reports(
    db: Database,
    rules: Rules,
    out: Path,
    *,
    year: int | None = None,
    force: bool = False,
) -> list[Path]:
    """Write every report into ``out`` (or, with ``year``, only that year's); return the paths.

    Files whose text did not change are left untouched. Raises ``ReportError`` when no harvest
    has completed (``store.has_completed_harvest``), and ``ReviewError`` when
    ``review-queue.md`` holds marks not imported yet, unless ``force``; both before writing
    anything.
    """
    seeds, threshold = rules.seeds, rules.milestone_citations
    if not store.has_completed_harvest(db):
        raise ReportError(
            "no harvest has completed yet: nothing written (run 'harvester harvest';"
            " 'harvester status' shows how the last runs ended)"
        )
    written: list[Path] = []
    if year is not None:
        papers = accepted_papers(db)
        _write(
            out / "years" / f"{year}.md", render_year(db, seeds, papers, year, threshold), written
        )
        return written
    review_file.check_overwrite(db, out / "review-queue.md", force=force)
    # What needs no ranking is made while the order trains (after a decision, in a child
    # process: ``screening.training_ahead``); the files are written in the same order as
    # ever, the list first.
    with screening.training_ahead(db, seeds):
        papers = accepted_papers(db)
        _write(out / "README.md", render_readme(db, seeds, papers, threshold), written)
        years = sorted({p["venue_year"] for p in papers if p["venue_year"]}, reverse=True)
        for each in years:
            text = render_year(db, seeds, papers, each, threshold)
            _write(out / "years" / f"{each}.md", text, written)
        _write(out / "years" / "README.md", render_index(db, seeds, papers), written)
        _write(out / "years" / CHART_FILE, render_chart(seeds, papers), written)
        feed = render_feed(db, seeds, papers, TITLE)
        bib = export.render(db, seeds, "bibtex", title=TITLE)
        # One read of the pending queue for the checklist and new.md.
        read = review_file.pending_rows(db)
        described = review_file.describe(read[1].values())
        version, pending = review_file.queue_as_of(db, seeds, read)
    checklist = review_file.render(db, seeds, pending=(version, pending), described=described)
    _write(out / "review-queue.md", checklist, written)
    _write(out / "new.md", render_new(db, seeds, papers, pending), written)
    _write(out / "feed.xml", feed, written)
    _write(out / "papers.bib", bib, written)
    return written
