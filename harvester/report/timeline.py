"""The Big Event Timeline: Domain × Year, each cell the milestone papers of that year."""

from __future__ import annotations

from typing import Any

from harvester.markdown import escape
from harvester.report.common import link, short_name, table
from harvester.seeds import DOMAINS, Seeds

TIMELINE_TITLE = "Big Event Timeline(cite > 100 / Best Paper...)"


def _cell(paper: dict[str, Any]) -> str:
    name = escape(short_name(paper["title"]))
    url = link(paper)
    text = f"[{name}]({url})" if url else name
    details = []
    if paper.get("citation_count") is not None:
        details.append(f"{paper['citation_count']:,}")
    if paper.get("award"):
        details.append(f"🏆 {escape(paper['award'])}")
    return text + (f" ({', '.join(details)})" if details else "")


def render_timeline(seeds: Seeds, papers: list[dict[str, Any]]) -> list[str]:
    """Every accepted milestone once, in its category's domain and its venue year."""
    events: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for paper in papers:
        category = seeds.categories.get(paper["category"] or "")
        year = paper.get("venue_year") or paper.get("year")
        if paper["milestone"] and category and year:
            events.setdefault((category.domain, year), []).append(paper)
    if not events:
        return ["", "No milestones yet."]
    first, last = min(y for _, y in events), max(y for _, y in events)
    years = list(range(first, last + 1))
    rows = [
        [domain, *("<br>".join(_cell(p) for p in events.get((domain, y), [])) for y in years)]
        for domain in DOMAINS
    ]
    return table(["Domain", *map(str, years)], rows)
