"""``reports/feed.xml``: an Atom feed of the accepted papers, newest acceptance first.

Everything in it comes from the database: an entry's time is when the paper was accepted, the
feed's time the newest of those, and an entry's id the paper's own address (its arXiv page,
else its DOI, else its Semantic Scholar page), which does not change when the feed is
written again, so feed readers show each paper once.
"""

from __future__ import annotations

import json
import re
import uuid
import xml.etree.ElementTree as ET
from typing import Any

from sqlite_utils import Database

from harvester import store
from harvester.report.common import link
from harvester.report.focus import focused_on
from harvester.seeds import Seeds

ATOM = "http://www.w3.org/2005/Atom"
# Feed readers keep what they have seen; the newest entries are what they need.
FEED_ENTRIES = 100
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_EPOCH = "1970-01-01T00:00:00Z"


def _text(value: Any) -> str:
    """Paper data as XML text: characters XML 1.0 cannot carry are dropped."""
    return _NOT_XML.sub("", " ".join(str(value).split()))


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    if text is not None:
        element.text = _text(text)
    return element


def entry_id(paper: dict[str, Any]) -> str:
    """The paper's stable address, or a name-based UUID for one without any id."""
    return link(paper) or f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, paper['title_key'])}"


def _summary(seeds: Seeds, paper: dict[str, Any]) -> str:
    category = seeds.categories.get(paper["category"] or "")
    parts = [f"{paper.get('venue_year') or paper.get('year') or ''} {paper.get('venue') or ''}"]
    if category:
        parts.append(f"{category.title} ({category.name})")
    parts.append(
        focused_on(
            paper.get("focus"),
            paper.get("tldr"),
            paper.get("abstract"),
            category.name if category else "",
        )
    )
    if paper.get("citation_count") is not None:
        parts.append(f"{paper['citation_count']:,} citations")
    if paper.get("award"):
        parts.append(paper["award"])
    return " · ".join(p.strip() for p in parts if p and p.strip())


def render_feed(
    db: Database, seeds: Seeds, papers: list[dict[str, Any]], title: str, limit: int = FEED_ENTRIES
) -> str:
    """The feed as XML text."""
    accepted_at = store.accepted_times(db)
    ordered = sorted(papers, key=lambda p: (accepted_at.get(p["id"], ""), p["id"]), reverse=True)
    newest = accepted_at.get(ordered[0]["id"]) if ordered else None
    feed = ET.Element("feed", {"xmlns": ATOM})
    _sub(feed, "title", f"{title}: accepted papers")
    _sub(feed, "subtitle", "Papers accepted into the list, newest first.")
    _sub(feed, "id", f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'harvester:feed:' + title)}")
    _sub(feed, "updated", newest or _EPOCH)
    _sub(feed, "link", rel="alternate", href="README.md")
    author = _sub(feed, "author")
    _sub(author, "name", "harvester")
    _sub(feed, "generator", "harvester")
    for paper in ordered[:limit]:
        entry = _sub(feed, "entry")
        _sub(entry, "title", paper["title"])
        _sub(entry, "id", entry_id(paper))
        url = link(paper)
        if url:
            _sub(entry, "link", rel="alternate", href=url)
        when = accepted_at.get(paper["id"]) or _EPOCH
        _sub(entry, "published", when)
        _sub(entry, "updated", when)
        for name in json.loads(paper.get("authors") or "[]"):
            _sub(_sub(entry, "author"), "name", name)
        category = seeds.categories.get(paper["category"] or "")
        if category:
            _sub(entry, "category", term=paper["category"], label=_text(category.name))
        _sub(entry, "summary", _summary(seeds, paper), type="text")
    ET.indent(feed)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode") + "\n"
