"""What every report needs: the accepted papers, their cells, links and anchors."""

from __future__ import annotations

import re
from typing import Any

from sqlite_utils import Database

from harvester import store
from harvester.code_links import code_link
from harvester.links import paper_url
from harvester.markdown import escape
from harvester.report.focus import focused_on, shorten


def accepted_papers(db: Database) -> list[dict[str, Any]]:
    """Accepted papers, newest venue year first, then most cited, then title: a total order."""
    return store.papers.accepted_papers(db)


def last_harvest(db: Database) -> str | None:
    """The date of the last harvest: the only time a report may show."""
    ended = store.runs.last_ended(db)
    return ended[:10] if ended else None


def link(paper: dict[str, Any]) -> str | None:
    """arXiv abstract page, else DOI, else Semantic Scholar page, from valid ids only."""
    return paper_url(paper)


def linked_title(paper: dict[str, Any], text: str | None = None) -> str:
    label = escape(text or paper["title"])
    url = link(paper)
    return f"[{label}]({url})" if url else label


def date_cell(paper: dict[str, Any]) -> str:
    """``2018 ICLR``: the venue's year and its short name, as the seed writes it."""
    year = paper.get("venue_year") or paper.get("year") or ""
    return escape(f"{year} {paper.get('venue') or ''}".strip())


def focus_cell(paper: dict[str, Any], fallback: str = "", limit: int = 200) -> str:
    """The reviewer's focus line, else Semantic Scholar's TL;DR, else a sentence of the
    abstract, else ``fallback`` (the section's name): never empty for a listed paper."""
    text = focused_on(paper.get("focus"), paper.get("tldr"), paper.get("abstract"), fallback)
    return escape(shorten(text, limit))


def notes_cell(paper: dict[str, Any], threshold: int) -> str:
    parts = []
    if paper.get("citation_count") is not None:
        parts.append(f"{paper['citation_count']:,} citations")
    if paper.get("award"):
        parts.append(f"🏆 {escape(paper['award'])}")
    if (paper.get("citation_count") or 0) > threshold:
        parts.append(f"cite > {threshold}")
    if paper.get("notes"):
        parts.append(escape(paper["notes"]))
    code = code_link(paper.get("abstract"), paper.get("comment"), paper.get("journal_ref"))
    if code:
        parts.append(f"[code]({code})")
    return " · ".join(parts)


def anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = [
        "| " + " | ".join(f"**{h}**" for h in header) + " |",
        "| " + " | ".join("---" for _ in header) + " |",
    ]
    lines += ["| " + " | ".join(cell or " " for cell in row) + " |" for row in rows]
    return lines
