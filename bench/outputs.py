"""The list's outputs on the labelled corpus: python bench/outputs.py [--field]

After one harvest of tests/data/ through the loopback server and a review round (the relevant
papers accepted in their labelled category, the look-alikes rejected, as bench/evaluate.py
does), writes the reports and measures what a curator and a reader see:

- Focused On: accepted rows with the cell filled, and from what (focus, TL;DR, abstract,
  the section's name);
- Date cells: the longest, and how many are longer than a year and a short venue;
- the timeline: milestones, entries shown, the most in one cell, cells with "+N more";
- papers.bib: entries bibtexparser reads, one per accepted paper, with the venue's year;
- feed.xml: entries, and whether feedparser finds it well formed; new.md's two lists.

``--field`` uses the field corpus instead (tests/field_corpus.py: the corpus above and the
papers of tests/data/field/); papers of a label the seeds have no category for (with seeds
from before dynamic width and dynamic parameters) are accepted in the category the harvester
suggests.

Needs the test install (bibtexparser and feedparser are test dependencies). The Markdown is
read back from the files written, not from the library, so the figures are what is published.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bibtexparser
import feedparser
from bibtexparser.middlewares import LatexDecodingMiddleware

from harvester import review, store
from harvester.config import Config
from harvester.harvest import run_harvest
from harvester.records import normalise_title
from harvester.report import write_reports
from harvester.report.focus import abstract_sentence
from harvester.rules import Rules
from harvester.seeds import load_seeds
from tests.loopback import (
    FakeArxiv,
    FakeS2,
    LoopbackServer,
    load_corpus,
    load_edges,
    load_s2_corpus,
)

# "2018 ICLR": a year, a space and the longest short venue venues.py allows.
DATE_LIMIT = 4 + 1 + 18
_CELL_SPLIT = re.compile(r"(?<!\\)\|")


def _cells(line: str) -> list[str]:
    return [c.strip() for c in _CELL_SPLIT.split(line.strip())[1:-1]]


def category_rows(readme: str) -> list[list[str]]:
    """The Date | Paper | Focused On | Notes rows of every category table."""
    papers = readme.split("\n# Papers\n", 1)[1]
    rows = []
    for line in papers.splitlines():
        if line.startswith("| ") and not line.startswith("| **") and "---" not in line:
            rows.append(_cells(line))
    return rows


def timeline_cells(readme: str) -> list[list[str]]:
    part = readme.split("# Big Event Timeline", 1)[1].split("\n----", 1)[0]
    cells = []
    for line in part.splitlines():
        if line.startswith("| ") and not line.startswith("| **") and "---" not in line:
            cells += [
                [e for e in c.split("<br>") if e.strip()] for c in _cells(line)[1:] if c.strip()
            ]
    return cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--field", action="store_true", help="the field corpus")
    args = parser.parse_args()
    seeds = load_seeds(ROOT / "seeds")
    if args.field:
        from tests import field_corpus

        entries, s2, edges = (
            field_corpus.arxiv_entries(),
            field_corpus.s2_papers(),
            field_corpus.edges(),
        )
        labels = field_corpus.labels()
    else:
        entries, s2, edges = load_corpus(), load_s2_corpus(), load_edges()
        labels = {normalise_title(p["title"]): p["label"] for p in s2}
    folder = Path(tempfile.mkdtemp())
    with LoopbackServer(FakeArxiv(entries), FakeS2(s2, edges=edges)) as srv:
        config = Config(
            db=folder / "bench.db",
            arxiv_url=srv.arxiv_url,
            s2_url=srv.s2_url,
            arxiv_delay=0,
            s2_delay=0,
            backoff_max=0,
        )
        db = store.open_db(config.db)
        result = run_harvest(db, seeds, config)
    decided = Counter()
    for row in db.query("SELECT id, title_key FROM papers WHERE status = 'pending'"):
        label = labels.get(row["title_key"], "lookalike")
        if label == "lookalike":
            review.reject(db, str(row["id"]), who="bench")
            decided["rejected"] += 1
        else:
            category = label if label in seeds.categories else None
            review.accept(db, seeds, str(row["id"]), category=category, who="bench")
            decided["accepted"] += 1
    out = folder / "reports"
    write_reports(db, Rules.from_config(seeds, config), out)
    accepted = list(db.query("SELECT * FROM papers WHERE status = 'accepted'"))
    readme = (out / "README.md").read_text(encoding="utf-8")

    rows = category_rows(readme)
    empty_focus = sum(1 for r in rows if not r[2].strip())
    source = Counter()
    for p in accepted:
        if (p["focus"] or "").strip():
            source["focus"] += 1
        elif (p["tldr"] or "").strip():
            source["TL;DR"] += 1
        elif abstract_sentence(p["abstract"]):
            source["abstract"] += 1
        else:
            source["section name"] += 1
    dates = [r[0] for r in rows]
    longest = max(dates, key=len)
    venues = Counter(p["venue"] for p in accepted)

    cells = timeline_cells(readme)
    shown = [[e for e in c if "more](" not in e] for c in cells]
    milestones = sum(1 for p in accepted if p["milestone"])

    print(f"harvest: {result.status}, requests {result.requests}")
    print(
        f"review round: {decided['accepted']} accepted, {decided['rejected']} rejected;"
        f" {len(accepted)} papers in the list"
    )
    print()
    print("| measure | result |")
    print("| --- | --- |")
    print(f"| rows of the list | {len(rows)} (accepted papers: {len(accepted)}) |")
    print(
        f"| Focused On filled | {len(rows) - empty_focus}/{len(rows)}"
        f" ({', '.join(f'{k} {n}' for k, n in source.most_common())}) |"
    )
    print(
        f"| Date cells longer than {DATE_LIMIT} characters | "
        f"{sum(len(d) > DATE_LIMIT for d in dates)} (longest: `{longest}`, {len(longest)}) |"
    )
    print(
        f"| venues without a short form (`Unknown`, blank) | "
        f"{venues.get('Unknown', 0) + venues.get(None, 0)} of {len(venues)} venues |"
    )
    print(
        f"| timeline | {milestones} milestones, {sum(map(len, shown))} shown in {len(cells)}"
        f" cells, at most {max(map(len, shown), default=0)} a cell,"
        f" {sum(len(c) != len(s) for c, s in zip(cells, shown, strict=True))}"
        " cells with '+N more' |"
    )
    bib = out / "papers.bib"
    if bib.exists():
        library = bibtexparser.parse_string(
            bib.read_text(encoding="utf-8"), append_middleware=[LatexDecodingMiddleware()]
        )
        by_year = {
            normalise_title(re.sub(r"[{}]", "", e["title"]).replace("ˆ", "^")): e["year"]
            for e in library.entries
        }
        right = sum(by_year.get(p["title_key"]) == str(p["venue_year"]) for p in accepted)
        kinds = Counter(e.entry_type for e in library.entries)
        print(
            f"| papers.bib | {len(library.entries)} entries for {len(accepted)} papers,"
            f" {len(library.failed_blocks)} unreadable, {right} with the venue's year;"
            f" {', '.join(f'@{k} {n}' for k, n in sorted(kinds.items()))} |"
        )
    else:
        print("| papers.bib | not written |")
    feed_file = out / "feed.xml"
    if feed_file.exists():
        feed = feedparser.parse(feed_file.read_text(encoding="utf-8"))
        print(f"| feed.xml | {len(feed.entries)} entries, well formed: {not feed.bozo} |")
    new_file = out / "new.md"
    if new_file.exists():
        text = new_file.read_text(encoding="utf-8")
        print(f"| new.md | {text.splitlines()[4]} |")
    print()
    print("Venues of the list:", json.dumps(dict(venues.most_common()), ensure_ascii=False))


if __name__ == "__main__":
    main()
