"""The review page as HTML text, rendered on the server from the dicts of ``data``.

Every value from the database passes through ``e`` (``html.escape`` with quotes), attribute
values included, and every link to a paper is built from its ids by ``data.links``; nothing
is marked "safe" anywhere. The page holds no inline script or style, so the Content Security
Policy of ``security`` can forbid both.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

from harvester.review import QueueItem
from harvester.seeds import Seeds
from harvester.web.data import STATUS_FILTERS, Filters

QUEUE_SHOWN = 200
KEYS = (
    ("a", "Accept", "accept"),
    ("r", "Reject", "reject"),
    ("c", "Category", "change category"),
    ("f", "Focus", "focus line"),
    ("n", "Note", "note"),
    ("u", "Undo", "undo your last decision"),
    ("k", "Previous", "previous paper"),
    ("j", "Next", "next paper"),
)


def e(value: Any) -> str:
    """Text for HTML content or a quoted attribute value."""
    return html.escape("" if value is None else str(value), quote=True)


@dataclass
class PageContext:
    """What one rendering of the page needs; built by ``app`` from ``data``."""

    seeds: Seeds
    csrf: str
    reviewer: str | None
    filters: Filters
    items: list[QueueItem]
    dashboard: dict[str, Any]
    paper: dict[str, Any] | None = None
    # Papers in the whole filtered queue; ``items`` holds the first ``QUEUE_SHOWN``.
    total: int = 0
    position: int | None = None
    next_url: str = "/"
    prev_url: str = "/"
    after_url: str = "/"
    message: str | None = None
    rename: bool = False
    # Ranked by the order held before the latest decisions while their training runs.
    stale: bool = False
    extra: dict[str, str] = field(default_factory=dict)


# Said on the page whenever it is ranked by an order older than the decisions.
STALE_NOTE = (
    "Ranking still learning from the latest decisions: the order and suggested categories"
    " are from before them (decided papers have left the queue); the next view has the new"
    " ranking once it is ready."
)


def category_label(seeds: Seeds, key: str | None) -> str:
    if key is None:
        return "(none)"
    category = seeds.categories.get(key)
    if category is None:
        return key
    return (
        category.title if category.title == category.name else f"{category.title} ({category.name})"
    )


def page(ctx: PageContext) -> str:
    title = f"{ctx.paper['title']} · review" if ctx.paper and ctx.reviewer else "Review · harvester"
    main = _name_form(ctx) if ctx.reviewer is None or ctx.rename else _card(ctx)
    return "\n".join(
        [
            "<!doctype html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f'<meta name="csrf-token" content="{e(ctx.csrf)}">',
            f"<title>{e(title)}</title>",
            '<link rel="stylesheet" href="/static/app.css">',
            '<script src="/static/app.js" defer></script>',
            "</head>",
            "<body>",
            _header(ctx),
            '<div class="layout">',
            _queue(ctx),
            main,
            _dashboard(ctx),
            "</div>",
            "</body>",
            "</html>",
        ]
    )


def _header(ctx: PageContext) -> str:
    dash = ctx.dashboard
    who = (
        f'reviewing as <b id="reviewer">{e(ctx.reviewer)}</b> · '
        f'<a href="{e(ctx.filters.url(rename=1))}">change</a>'
        if ctx.reviewer
        else "no reviewer name yet"
    )
    return (
        '<header class="bar">'
        '<span class="brand">harvester · review</span>'
        f'<span class="stat">queue <b id="queue-size">{dash["queue_size"]}</b></span>'
        f'<span class="stat">decisions today <b id="decisions-today">'
        f"{dash['decisions_today']}</b></span>"
        f'<span class="who">{who}</span>'
        "</header>"
    )


def _options(choices: list[tuple[str, str]], selected: str) -> str:
    return "".join(
        f'<option value="{e(v)}"{" selected" if v == selected else ""}>{e(label)}</option>'
        for v, label in choices
    )


def _queue(ctx: PageContext) -> str:
    f = ctx.filters
    statuses = [(s, s) for s in STATUS_FILTERS]
    categories = [("", "all categories")] + [
        (k, category_label(ctx.seeds, k)) for k in ctx.seeds.categories
    ]
    current = ctx.paper["id"] if ctx.paper else None
    rows = []
    for item in ctx.items[:QUEUE_SHOWN]:
        venue = " ".join(str(x) for x in (item.venue, item.venue_year) if x)
        cited = "" if item.citation_count is None else f" · {item.citation_count} cit."
        mark = ' class="current" aria-current="true"' if item.id == current else ""
        rows.append(
            f'<li{mark} data-paper-id="{item.id}">'
            f'<a href="{e(f.url(paper=item.id))}">{e(item.title)}</a>'
            f'<span class="meta">{e(venue)}{e(cited)} · '
            f"{e(item.category or '?')} · {item.rank:.2f}</span></li>"
        )
    more = ctx.total - len(ctx.items[:QUEUE_SHOWN])
    return (
        '<nav class="queue" aria-label="Queue">'
        '<form class="filters" method="get" action="/" role="search">'
        f'<input type="search" id="search" name="q" value="{e(f.q)}"'
        ' placeholder="Search titles and abstracts ( / )" aria-label="Search">'
        f'<select name="status" aria-label="Status">{_options(statuses, f.status)}</select>'
        f'<select name="category" aria-label="Category">'
        f"{_options(categories, f.category or '')}</select>"
        '<button type="submit">Filter</button>'
        "</form>"
        f'<p class="count" id="queue-count">{ctx.total} {e(f.status)} papers'
        f"{e(' matching ' + repr(f.q)) if f.q else ''}, best first</p>"
        + (
            f'<p class="count stale" id="ranking-stale" role="status">{STALE_NOTE}</p>'
            if ctx.stale
            else ""
        )
        + f'<ol id="queue-list">{"".join(rows)}</ol>'
        + (f'<p class="count">… and {more} more</p>' if more > 0 else "")
        + "</nav>"
    )


def _name_form(ctx: PageContext) -> str:
    return (
        '<main class="paper" id="name-panel">'
        + (f'<p class="message error">{e(ctx.message)}</p>' if ctx.message else "")
        + '<form class="name-form" method="post" action="/reviewer">'
        f'<input type="hidden" name="csrf" value="{e(ctx.csrf)}">'
        "<h1>Who is reviewing?</h1>"
        "<p>Your name goes into the audit trail with every decision you make here, as "
        "<code>$USER</code> does for <code>harvester review</code>. It is kept in a cookie "
        "of this browser.</p>"
        '<label>Name <input type="text" id="reviewer-name" name="name" required'
        f' maxlength="60" autofocus value="{e(ctx.reviewer or "")}"></label>'
        '<button type="submit" id="start">Start reviewing</button>'
        "</form></main>"
    )


def _facts(paper: dict[str, Any]) -> str:
    venue = " ".join(str(x) for x in (paper["venue"], paper["venue_year"]) if x) or "venue ?"
    parts = [venue]
    if paper["year"] and paper["year"] != paper["venue_year"]:
        parts.append(f"first seen {paper['year']}")
    if paper["citation_count"] is not None:
        cited = f"{paper['citation_count']:,} citations"
        if paper["influential_citation_count"]:
            cited += f" ({paper['influential_citation_count']:,} influential)"
        parts.append(cited)
    else:
        parts.append("citations ?")
    if paper["milestone"]:
        parts.append("milestone")
    if paper["award"]:
        parts.append(f"🏆 {paper['award']}")
    return " · ".join(e(p) for p in parts)


def _card(ctx: PageContext) -> str:
    paper = ctx.paper
    message = (
        f'<p id="message" class="message error" role="status">{e(ctx.message)}</p>'
        if ctx.message
        else '<p id="message" class="message" role="status" hidden></p>'
    )
    if paper is None:
        return (
            f'<main class="paper" id="paper">{message}'
            '<p class="empty">Nothing to review here: the queue is empty for these filters.</p>'
            f"{_buttons(empty=True)}</main>"
        )
    seeds = ctx.seeds
    total = ctx.total
    where = (
        f"{ctx.position + 1} of {total}"
        if ctx.position is not None
        else "not in the filtered queue"
    )
    proposed = paper["proposed_category"]
    chosen = "set by a person" if paper["category_set_by_person"] else "suggested"
    if paper["status"] == "accepted":
        chosen = "accepted in"
    links = " ".join(
        f'<a href="{e(link["url"])}" rel="noopener noreferrer" target="_blank">'
        f"{e(link['label'])}</a>"
        for link in paper["links"]
    )
    why = "".join(f"<li>{e(reason)}</li>" for reason in paper["why"])
    history = "".join(
        f"<li>{e(h['at'])} {e(h['who'])}: {e(h['kind'])} ({e(h['fields'])})"
        f"{' — undone' if h['undone'] else ''}</li>"
        for h in paper["history"]
    )
    numbered = "".join(
        f'<button type="button" data-category="{e(key)}">'
        f"<kbd>{i + 1}</kbd> {e(category_label(seeds, key))}</button>"
        for i, key in enumerate(seeds.categories)
    )
    parts = [
        f'<main class="paper" id="paper" data-paper-id="{paper["id"]}"'
        f' data-version="{paper["version"]}" data-status="{e(paper["status"])}"'
        f' data-proposed="{e(proposed or "")}" data-next-url="{e(ctx.next_url)}"'
        f' data-prev-url="{e(ctx.prev_url)}" data-after-url="{e(ctx.after_url)}"'
        f' data-here-url="{e(ctx.filters.url(paper=paper["id"]))}"'
        f' data-focus="{e(paper["focus"] or "")}" data-note="{e(paper["notes"] or "")}">',
        message,
        f'<p class="position">#{paper["id"]} · {e(where)} · '
        f'<span class="status status-{e(paper["status"])}" id="paper-status">'
        f"{e(paper['status'])}</span></p>",
        f'<h1 id="paper-title">{e(paper["title"])}</h1>',
        f'<p class="authors" id="paper-authors">{e(", ".join(paper["authors"]) or "authors ?")}'
        "</p>",
        f'<p class="facts" id="paper-facts">{_facts(paper)}</p>',
        f'<p class="links" id="paper-links">{links or "no links: the paper has no ids"}</p>',
        _buttons(),
        f'<div class="panel" id="category-panel" hidden><p>Change category to:</p>{numbered}</div>',
        '<form class="panel" id="text-panel" hidden>'
        '<label><span id="text-label">Focus</span> <input type="text" id="text-input"'
        ' maxlength="500"></label> <button type="submit">Save</button>'
        ' <button type="button" id="text-cancel">Cancel</button></form>',
        f'<section class="suggestion" id="paper-category"><h2>{e(chosen)}: '
        f"<b>{e(category_label(seeds, proposed))}</b></h2>"
        + (f'<ul class="why">{why}</ul>' if why else "")
        + "</section>",
    ]
    if paper["tldr"]:
        parts.append(f'<section><h2>TL;DR</h2><p id="paper-tldr">{e(paper["tldr"])}</p></section>')
    parts.append(
        '<section><h2>Abstract</h2><p id="paper-abstract">'
        f"{e(paper['abstract'] or 'No abstract.')}</p></section>"
    )
    if paper["focus"] or paper["notes"]:
        parts.append(
            "<section><h2>Focus and notes</h2>"
            + (f'<p id="paper-focus">Focus: {e(paper["focus"])}</p>' if paper["focus"] else "")
            + (f'<p id="paper-notes">Note: {e(paper["notes"])}</p>' if paper["notes"] else "")
            + "</section>"
        )
    cited = "".join(
        f"<li>{e(link['direction'])} #{e(str(link['id']))} {e(link['title'])}"
        f" ({e(link['category'] or '-')})</li>"
        for link in paper["citation_links"]
    )
    parts.append(
        "<section><h2>Citation links to accepted papers</h2>"
        + (f'<ul id="paper-citations">{cited}</ul>' if cited else "")
        + (
            f'<p class="note" id="paper-citations-note">{e(paper["citation_links_note"])}</p>'
            if paper["citation_links_note"]
            else ""
        )
        + "</section>"
    )
    if history:
        parts.append(f'<section><h2>Decisions</h2><ul class="history">{history}</ul></section>')
    parts.append("</main>")
    return "\n".join(parts)


def _buttons(empty: bool = False) -> str:
    keys = KEYS if not empty else [k for k in KEYS if k[0] == "u"]
    return (
        '<div class="actions" id="actions">'
        + "".join(
            f'<button type="button" data-key="{key}" title="{e(hint)} ({key})">'
            f"<kbd>{key}</kbd> {e(label)}</button>"
            for key, label, hint in keys
        )
        + "</div>"
    )


def _scalable(svg: str) -> str:
    """The report's SVG with a viewBox, so the page can shrink it to its column."""
    match = re.match(r'<svg [^>]*width="(\d+)" height="(\d+)"', svg)
    if not match or "viewBox" in svg[: match.end()]:
        return svg
    w, h = match.groups()
    return svg.replace("<svg ", f'<svg viewBox="0 0 {w} {h}" role="img" ', 1)


def _dashboard(ctx: PageContext) -> str:
    dash = ctx.dashboard
    names = {k: c.name for k, c in ctx.seeds.categories.items()}
    rows = "".join(
        f"<tr><th>{e(names.get(key, key) if key else '(none)')}</th>"
        f"<td>{c['pending']}</td><td>{c['accepted']}</td><td>{c['rejected']}</td></tr>"
        for key, c in dash["by_category"].items()
        if key is not None or any(c.values())
    )
    return (
        '<aside class="dashboard" aria-label="Dashboard">'
        "<h2>Accepted papers per category and year</h2>"
        f'<div class="chart" id="chart">{_scalable(dash["chart_svg"])}</div>'
        '<h2>Papers per category</h2><table class="counts">'
        "<tr><th></th><th>pending</th><th>accepted</th><th>rejected</th></tr>"
        f"{rows}</table>"
        '<p class="keys">Keys: <kbd>a</kbd> accept · <kbd>r</kbd> reject · <kbd>c</kbd> '
        "category, then its number · <kbd>f</kbd> focus · <kbd>n</kbd> note · <kbd>u</kbd> "
        "undo · <kbd>j</kbd>/<kbd>k</kbd> next/previous · <kbd>/</kbd> search · "
        "<kbd>Esc</kbd> close</p>"
        "</aside>"
    )


def error_page(message: str) -> str:
    """A whole page for an error before the review page can be built."""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>harvester</title>'
        f'<link rel="stylesheet" href="/static/app.css"></head><body><p class="message error">'
        f'{e(message)}</p><p><a href="/">Back to the queue</a></p></body></html>'
    )
