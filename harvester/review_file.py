"""Review through pull requests: the queue as a Markdown checklist, and reading it back.

``export`` writes the pending papers grouped by suggested category; a reviewer ticks ``[x]``
(accept), writes ``[-]`` or strikes the title (reject), or adds ``category:``, ``focus:``,
``note:`` or ``reason:`` lines under an item. ``import_decisions`` checks every line first and
then applies all of them in one transaction, so a file with one bad line changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlite_utils import Database

from harvester import review
from harvester.markdown import escape, unescape
from harvester.rank import Ranker
from harvester.review import ReviewError
from harvester.seeds import Seeds
from harvester.store import write_transaction

MARKER = "<!-- harvester:review-queue v1 -->"
_ITEM_RE = re.compile(r"^- \[(?P<mark>[ xX\-rR])\] (?P<rest>.*?)\s*`#(?P<id>\d+)`\s*$")
_LOOSE_ITEM_RE = re.compile(r"^- \[(?P<mark>.)\] ")
_NOTE_RE = re.compile(r"^\s+[-*] (?P<key>category|focus|note|reason):\s*(?P<value>.*?)\s*$", re.I)


def render(db: Database, seeds: Seeds, *, ranker: Ranker | None = None) -> str:
    """The pending queue as a checklist, grouped by suggested category, best first."""
    ranker = ranker or Ranker.train(db, seeds)
    items = review.queue(db, seeds, ranker=ranker)
    groups: dict[str | None, list[review.QueueItem]] = {}
    for item in items:
        groups.setdefault(item.suggested, []).append(item)
    lines = [
        "# Review queue",
        "",
        MARKER,
        "",
        f"{len(items)} {'paper waits' if len(items) == 1 else 'papers wait'} for a decision,"
        " best first. Tick `[x]` to accept, write `[-]`"
        " or strike the title (`~~…~~`) to reject. Under an item, lines such as"
        " `  - category: system`, `  - focus: …`, `  - note: …` or `  - reason: …` set those."
        " Then run `harvester review import` on this file.",
    ]
    order = [*seeds.categories, None]
    for key in sorted(groups, key=lambda k: order.index(k) if k in order else len(order)):
        title = (
            f"{seeds.categories[key].title} — {seeds.categories[key].name} (`{key}`)"
            if key in seeds.categories
            else "No suggested category"
        )
        lines += ["", f"## {title}: {len(groups[key])} pending", ""]
        for item in groups[key]:
            lines.append(f"- [ ] {_describe(item)} `#{item.id}`")
    return "\n".join(lines) + "\n"


def _describe(item: review.QueueItem) -> str:
    parts = [f"**{escape(item.title)}**"]
    if item.venue:
        parts.append(escape(f"{item.venue} {item.venue_year or ''}".strip()))
    if item.citation_count is not None:
        parts.append(f"{item.citation_count} citations")
    parts.append(f"score {item.score:.1f}")
    if item.arxiv_id:
        parts.append(f"[arXiv:{item.arxiv_id}](https://arxiv.org/abs/{item.arxiv_id})")
    elif item.doi:
        parts.append(f"[doi:{escape(item.doi)}](https://doi.org/{item.doi})")
    elif item.s2_id:
        parts.append(f"[S2](https://www.semanticscholar.org/paper/{item.s2_id})")
    return " · ".join(parts)


def export(db: Database, seeds: Seeds, path: Path) -> int:
    """Write the checklist; returns how many papers it lists."""
    text = render(db, seeds)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return text.count("\n- [ ] ")


@dataclass
class _Item:
    line: int
    paper_id: int
    mark: str
    struck: bool
    notes: dict[str, str] = field(default_factory=dict)


@dataclass
class ImportReport:
    """What an import did, paper ids per kind of change."""

    accepted: list[int] = field(default_factory=list)
    rejected: list[int] = field(default_factory=list)
    annotated: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"accepted {len(self.accepted)}, rejected {len(self.rejected)}, "
            f"annotated {len(self.annotated)}, unchanged {len(self.unchanged)}"
        )


def _parse(path: Path, text: str) -> list[_Item]:
    items: list[_Item] = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _ITEM_RE.match(line)
        if match:
            rest = match.group("rest").strip()
            items.append(
                _Item(
                    number,
                    int(match.group("id")),
                    match.group("mark").lower(),
                    rest.startswith("~~"),
                )
            )
            continue
        loose = _LOOSE_ITEM_RE.match(line)
        if loose:
            if loose.group("mark") != " ":
                raise ReviewError(f"{path}:{number}: ticked item without its `#id` marker")
            continue
        note = _NOTE_RE.match(line)
        if note and items:
            items[-1].notes[note.group("key").lower()] = unescape(note.group("value"))
    return items


def import_decisions(
    db: Database, seeds: Seeds, path: Path, *, who: str | None = None
) -> ImportReport:
    """Apply what a reviewer marked in an exported checklist."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ReviewError(f"{path}: cannot read ({exc.strerror})") from None
    if MARKER not in text:
        raise ReviewError(f"{path}: not a review queue written by 'harvester review export'")
    items = _parse(path, text)
    for item in items:  # check everything before changing anything
        if db.table("papers").count_where("id = ?", [item.paper_id]) == 0:
            raise ReviewError(f"{path}:{item.line}: no paper #{item.paper_id}")
        category = item.notes.get("category")
        if category and category not in seeds.categories:
            raise ReviewError(
                f"{path}:{item.line}: unknown category {category!r} "
                f"(known: {', '.join(seeds.categories)})"
            )
    report = ImportReport()
    who = who or review.reviewer()
    ranker = Ranker.train(db, seeds)
    with write_transaction(db):
        for item in items:
            ident = str(item.paper_id)
            before = db.table("papers").get(item.paper_id)
            notes = item.notes
            if item.mark == "x":
                review.accept(
                    db,
                    seeds,
                    ident,
                    category=notes.get("category"),
                    focus=notes.get("focus"),
                    note=notes.get("note"),
                    who=who,
                    ranker=ranker,
                )
                bucket = report.accepted
            elif item.mark in ("-", "r") or item.struck:
                review.reject(db, ident, reason=notes.get("reason"), who=who)
                bucket = report.rejected
            elif any(k in notes for k in ("category", "focus", "note")):
                review.set_fields(
                    db,
                    seeds,
                    ident,
                    category=notes.get("category"),
                    focus=notes.get("focus"),
                    note=notes.get("note"),
                    who=who,
                )
                bucket = report.annotated
            else:
                continue
            after = db.table("papers").get(item.paper_id)
            (bucket if after != before else report.unchanged).append(item.paper_id)
    return report
