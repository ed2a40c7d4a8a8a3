"""``years/YYYY.md`` and ``years/README.md``: what each year brought, and a chart."""

from __future__ import annotations

from collections import Counter
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from sqlite_utils import Database

from harvester import store
from harvester.markdown import escape
from harvester.report.awesome import category_table
from harvester.report.common import last_harvest, linked_title, table
from harvester.seeds import Seeds

CHART_FILE = "papers-per-year.svg"
_PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#9c755f"]


def _year(paper: dict[str, Any]) -> int | None:
    return paper.get("venue_year") or paper.get("year")


def _counts(seeds: Seeds, papers: list[dict[str, Any]]) -> dict[int, Counter[str]]:
    counts: dict[int, Counter[str]] = {}
    for paper in papers:
        year = _year(paper)
        if year and paper["category"] in seeds.categories:
            counts.setdefault(year, Counter())[paper["category"]] += 1
    return counts


def citation_rises(
    db: Database, paper_ids: list[int], limit: int = 5
) -> list[tuple[int, int, int]]:
    """(paper id, previous count, latest count) for the largest rises between the last two
    observations of each paper's citations."""
    return store.papers.citation_rises(db, paper_ids, limit)


def render_year(
    db: Database, seeds: Seeds, papers: list[dict[str, Any]], year: int, threshold: int = 100
) -> str:
    these = [p for p in papers if _year(p) == year]
    before = [p for p in papers if _year(p) == year - 1]
    harvested = last_harvest(db)
    out = [
        f"# {year} in dynamic neural networks",
        "",
        f"{len(these)} accepted papers"
        + (f", as of the harvest of {harvested}." if harvested else ".")
        + " [All years](README.md) · [the list](../README.md)",
        "",
        "## Compared with the year before",
        "",
    ]
    now, then = Counter(p["category"] for p in these), Counter(p["category"] for p in before)
    rows = [
        [c.title, str(now[k]), str(then[k]), f"{now[k] - then[k]:+d}"]
        for k, c in seeds.categories.items()
    ]
    rows.append(["**All**", str(len(these)), str(len(before)), f"{len(these) - len(before):+d}"])
    out += table(["Category", str(year), str(year - 1), "Change"], rows)

    out += ["", "## Most cited", ""]
    cited = sorted(
        (p for p in these if p["citation_count"] is not None),
        key=lambda p: (-p["citation_count"], p["title_key"]),
    )[:5]
    out += [f"1. {linked_title(p)}: {p['citation_count']:,} citations" for p in cited] or [
        "None yet."
    ]

    out += ["", "## Milestones and awards", ""]
    milestones = [p for p in these if p["milestone"]]
    out += [
        f"- {linked_title(p)}"
        + (
            f": 🏆 {escape(p['award'])}"
            if p["award"]
            else f": {p['citation_count'] or 0:,} citations"
        )
        for p in milestones
    ] or ["None yet."]

    out += ["", "## Citations rising", ""]
    by_id = {p["id"]: p for p in these}
    rises = citation_rises(db, list(by_id))
    out += [
        f"- {linked_title(by_id[pid])}: {old:,} → {new:,} (+{new - old:,})"
        for pid, old, new in rises
    ] or ["No change since the previous harvest."]

    out += ["", "## Papers by category", ""]
    for key, category in seeds.categories.items():
        rows_of = [p for p in these if p["category"] == key]
        if rows_of:
            out += [f"### {category.title}", ""]
            out += category_table(rows_of, category.focus_header, threshold, category.name)
            out.append("")
    out += ["## Papers per category and year", "", f"![Papers per category and year]({CHART_FILE})"]
    return "\n".join(out).rstrip() + "\n"


def render_index(db: Database, seeds: Seeds, papers: list[dict[str, Any]]) -> str:
    counts = _counts(seeds, papers)
    years = sorted(counts, reverse=True)
    out = ["# Yearly reports", "", f"![Papers per category and year]({CHART_FILE})", ""]
    header = ["Year", *(c.title for c in seeds.categories.values()), "All"]
    rows = [
        [
            f"[{y}]({y}.md)",
            *(str(counts[y][k]) for k in seeds.categories),
            str(sum(counts[y].values())),
        ]
        for y in years
    ]
    out += table(header, rows)
    return "\n".join(out) + "\n"


def render_chart(seeds: Seeds, papers: list[dict[str, Any]]) -> str:
    """A stacked bar chart as SVG text: GitHub shows it inline, and it diffs as text."""
    counts = _counts(seeds, papers)
    keys = list(seeds.categories)
    years = list(range(min(counts), max(counts) + 1)) if counts else []
    top = max((sum(c.values()) for c in counts.values()), default=0) or 1
    bar, gap, height, left, bottom = 28, 12, 200, 40, 30
    width = left + len(years) * (bar + gap) + 220
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + bottom + 20}"'
        ' font-family="sans-serif" font-size="11">',
        f'<text x="{left}" y="14">Accepted papers per category and year</text>',
    ]
    for i, year in enumerate(years):
        x = left + i * (bar + gap)
        y = height + 20
        for j, key in enumerate(keys):
            n = counts.get(year, Counter())[key]
            if n:
                h = round(n / top * (height - 20))
                y -= h
                colour = _PALETTE[j % len(_PALETTE)]
                name = xml_escape(seeds.categories[key].name)
                parts.append(
                    f'<rect x="{x}" y="{y}" width="{bar}" height="{h}" fill="{colour}">'
                    f"<title>{year} {name}: {n}</title></rect>"
                )
        parts.append(f'<text x="{x}" y="{height + 35}">{year}</text>')
    for j, key in enumerate(keys):
        lx, ly = left + len(years) * (bar + gap) + 20, 30 + j * 18
        parts.append(
            f'<rect x="{lx}" y="{ly}" width="12" height="12" fill="{_PALETTE[j % len(_PALETTE)]}"/>'
        )
        parts.append(
            f'<text x="{lx + 18}" y="{ly + 10}">{xml_escape(seeds.categories[key].title)}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
