"""The interactive review loop: one paper at a time, one key per decision.

Input and output are passed in (``getchar``, ``prompt``, ``echo``), so the loop is driven by
scripted key presses in tests exactly as by a person at a terminal. Paper data is shown
through ``printable``: a title cannot retitle the window or clear the screen.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from harvester import review, store
from harvester.review import ReviewError
from harvester.rules import Rules
from harvester.seeds import Seeds
from harvester.terminal import printable

HELP = "a accept · r reject · c category · f focus · n note · s skip · u undo · q quit · ? help"


@dataclass
class Session:
    """What a loop did, for the closing line."""

    accepted: list[int] = field(default_factory=list)
    rejected: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    undone: int = 0

    def summary(self) -> str:
        return (
            f"accepted {len(self.accepted)}, rejected {len(self.rejected)}, "
            f"skipped {len(self.skipped)}, undone {self.undone}"
        )


def _card(db: Database, seeds: Seeds, item: review.QueueItem, position: str) -> str:
    paper = _paper(db, item.id)
    suggested = seeds.categories.get(item.category or "")
    lines = [
        "",
        f"[{position}] #{item.id}  {printable(paper['title'])}",
        f"    {printable(item.venue or '?')} {item.venue_year or ''} · "
        f"{item.citation_count if item.citation_count is not None else '?'} citations · "
        f"score {item.score:.1f}"
        + (f" · arXiv:{printable(item.arxiv_id)}" if item.arxiv_id else ""),
        f"    suggested: {item.category or '(none)'}"
        + (f" ({suggested.title})" if suggested else ""),
    ]
    summary = printable(paper["tldr"] or (paper["abstract"] or "")[:600])
    if summary:
        lines += textwrap.wrap(summary, width=96, initial_indent="    ", subsequent_indent="    ")
    lines += [f"    why: {printable(reason)}" for reason in item.why[:4]]
    return "\n".join(lines)


def _paper(db: Database, paper_id: int) -> dict[str, Any]:
    row = store.papers.get_paper(db, paper_id)
    if row is None:
        raise review.ReviewError(f"no paper #{paper_id}")
    return row


def _reloaded(db: Database, seeds: Seeds, item: review.QueueItem) -> review.QueueItem:
    """The item as the database has it now, e.g. after an undo."""
    found = review.queue(db, seeds, status="all", ids={item.id})
    return found[0] if found else item


def review_loop(
    db: Database,
    rules: Rules,
    *,
    getchar: Callable[[], str],
    prompt: Callable[[str], str],
    echo: Callable[[str], None],
    who: str | None = None,
    category: str | None = None,
) -> Session:
    """Walk the pending queue best first until it ends or the reviewer quits."""
    seeds = rules.seeds
    items = review.queue(db, seeds, category=category)
    who = who or review.reviewer()
    session = Session()
    keys = list(seeds.categories)
    index = 0
    echo(f"{len(items)} papers to review. {HELP}")
    while 0 <= index < len(items):
        item = items[index]
        echo(_card(db, seeds, item, f"{index + 1}/{len(items)}"))
        key = getchar().lower()
        if key in ("q", "", "\x04"):  # q, end of input, Ctrl-D
            break
        if key == "a":
            try:
                review.accept(db, seeds, str(item.id), category=item.category, who=who)
            except ReviewError as exc:
                echo(f"    {exc}")
                continue
            session.accepted.append(item.id)
            echo("    accepted")
            index += 1
        elif key == "r":
            review.reject(db, str(item.id), who=who)
            session.rejected.append(item.id)
            echo("    rejected")
            index += 1
        elif key in ("s", "j", " "):
            session.skipped.append(item.id)
            index += 1
        elif key == "c":
            echo("    " + "  ".join(f"{i + 1} {k}" for i, k in enumerate(keys)))
            choice = getchar()
            if choice.isdigit() and 1 <= int(choice) <= len(keys):
                item.category = keys[int(choice) - 1]
                review.set_fields(db, rules, str(item.id), category=item.category, who=who)
                echo(f"    category: {item.category}")
        elif key == "f":
            text = prompt("    focus").strip()
            if text:
                review.set_fields(db, rules, str(item.id), focus=text, who=who)
        elif key == "n":
            text = prompt("    note").strip()
            if text:
                review.set_fields(db, rules, str(item.id), note=text, who=who)
        elif key == "u":
            try:
                reverted = review.undo(db, who=who)
            except ReviewError as exc:
                echo(f"    {exc}")
                continue
            session.undone += 1
            paper_id = reverted[0]["paper_id"]
            echo(f"    undid {reverted[0]['kind']} of #{paper_id}")
            for bucket in (session.accepted, session.rejected):
                if paper_id in bucket:
                    bucket.remove(paper_id)
            ids = [i.id for i in items]
            if paper_id in ids:
                index = ids.index(paper_id)
                # What the card shows (the category ``a`` files it under) is what the undo
                # restored, not what the undone command had put there.
                items[index] = _reloaded(db, seeds, items[index])
        else:
            echo(f"    {HELP}")
    echo(session.summary())
    return session
