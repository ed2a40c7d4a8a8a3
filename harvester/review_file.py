"""Review through pull requests: the queue as a Markdown checklist, and reading it back.

``export`` writes the pending papers grouped by suggested category; a reviewer ticks ``[x]``
(accept), writes ``[-]`` or strikes the title (reject), or adds ``category:``, ``focus:``,
``note:`` or ``reason:`` lines under an item. ``import_decisions`` checks every line first and
then applies all of them in one transaction, so a file with one bad line changes nothing.

A checklist is a snapshot: it records the queue's version (``review.last_decision``) when it
was written. On import, a paper someone decided on since then (at the terminal, in the
browser) keeps its newer decision and is reported as a conflict, as the review page refuses a
stale decision; ``force`` applies the file anyway. And a checklist whose marks the database
does not hold yet is never overwritten by a new export or report (``check_overwrite``).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from sqlite_utils import Database

from harvester import review, screening, store
from harvester.files import write_text
from harvester.links import primary_link
from harvester.markdown import escape, unescape
from harvester.review import ReviewError
from harvester.rules import Rules
from harvester.seeds import Seeds
from harvester.store import write_transaction
from harvester.store.papers import QueueRow

FORMAT = 2
# v1 files (before versions) carry no decision number: every decided paper counts as newer.
_MARKER_RE = re.compile(r"^<!-- harvester:review-queue v(\d+)(?: as of decision (\d+))? -->$", re.M)
_ITEM_RE = re.compile(r"^- \[(?P<mark>[ xX\-rR])\] (?P<rest>.*?)\s*`#(?P<id>\d+)`(?:~~)?\s*$")
_LOOSE_ITEM_RE = re.compile(r"^- \[(?P<mark>.)\] ")
_NOTE_RE = re.compile(r"^\s+[-*] (?P<key>category|focus|note|reason):\s*(?P<value>.*?)\s*$", re.I)
# A struck title: ~~**title**~~, **~~title~~** or ~~title~~.
_STRUCK_RE = re.compile(r"^(?:\*\*|__)?~~")
# SQLite integers are signed 64-bit: a larger id names no paper.
_MAX_ID = 2**63 - 1
# What an import sets from an item's notes, by paper column.
_NOTE_FIELDS = {"category": "category", "focus": "focus", "note": "notes"}
# How the checklist names each kind of link.
_LINK_TEXT = {"arXiv": "arXiv:{id}", "DOI": "doi:{id}", "Semantic Scholar": "S2"}


def render(
    db: Database,
    seeds: Seeds,
    *,
    pending: tuple[int, list[Pending]] | None = None,
    described: Mapping[int, str] | None = None,
) -> str:
    """The pending queue as a checklist, grouped by category, best first.

    ``pending`` is (``review.last_decision``, the pending queue) read in that order by a
    caller that needs the queue too (``report``), and ``described`` the items' lines
    (``describe``) that caller made while the order trained.
    """
    # Version read before the queue: a decision made in between then shows as newer than the
    # file (a conflict at import), never as older (which would let the file overwrite it).
    version, items = pending or queue_as_of(db, seeds)
    groups: dict[str | None, list[Pending]] = {}
    for item in items:
        groups.setdefault(item.category, []).append(item)
    lines = [
        "# Review queue",
        "",
        f"<!-- harvester:review-queue v{FORMAT} as of decision {version} -->",
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
            line = described.get(item.id) if described is not None else None
            lines.append(f"- [ ] {line or _describe(item)} `#{item.id}`")
    return "\n".join(lines) + "\n"


class Pending(NamedTuple):
    """A pending paper as its checklist line shows it (a tuple: the checklist has 20,000)."""

    id: int
    title: str
    # The category it is shown under (``screening.shown_category``).
    category: str | None
    score: float
    venue: str | None
    venue_year: int | None
    citation_count: int | None
    arxiv_id: str | None
    doi: str | None
    s2_id: str | None


def pending_rows(db: Database) -> tuple[int, dict[int, QueueRow]]:
    """The last decision's id, then every pending paper's row (``QUEUE_COLUMNS``), by id:
    what ``queue_as_of`` orders, read in that order (see ``render``)."""
    version = review.last_decision(db)
    return version, store.papers.queue_rows(db, "pending")


def describe(rows: Iterable[QueueRow]) -> dict[int, str]:
    """Each paper's checklist line without its mark and id, by id: made of the paper's own
    columns, not of the ranking, so ``report`` makes them while the order trains."""
    return {r[0]: _describe(Pending(r[0], r[1], None, *r[5:])) for r in rows}


def queue_as_of(
    db: Database, seeds: Seeds, read: tuple[int, dict[int, QueueRow]] | None = None
) -> tuple[int, list[Pending]]:
    """The last decision's id, then every pending paper in the queue's order
    (``review.queue``: most likely relevant first, then score, citations, id), each with the
    category it is shown under: read straight from the rows (``pending_rows``, or ``read``
    when the caller has them), without the queue's records and their ``why``, which the
    checklist prints none of."""
    version, by_id = read or pending_rows(db)
    current = screening.order(db, seeds)
    rank = current.probability.get
    category_of = screening.category_of
    # (id, title, status, category, manual fields, score, venue, venue year, citations,
    # arXiv id, DOI, S2 id): ``store.papers.QUEUE_COLUMNS``.
    rows = by_id.values()
    ranked = sorted(rows, key=lambda r: (-rank(r[0], 0.0), -r[5], -(r[8] or 0), r[0]))
    return version, [
        Pending(r[0], r[1], category_of(r[0], r[2], r[3], r[4], current), *r[5:]) for r in ranked
    ]


def _describe(item: Pending) -> str:
    line = f"**{escape(item.title)}**"
    if item.venue:
        line += " · " + escape(f"{item.venue} {item.venue_year or ''}".strip())
    if item.citation_count is not None:
        line += f" · {item.citation_count} citations"
    line += f" · score {item.score:.1f}"
    link = primary_link({"arxiv_id": item.arxiv_id, "doi": item.doi, "s2_id": item.s2_id})
    if link:
        line += f" · [{escape(_LINK_TEXT[link.label].format(id=link.id))}]({link.url})"
    return line


def export(db: Database, seeds: Seeds, path: Path, *, force: bool = False) -> int:
    """Write the checklist; returns how many papers it lists.

    Refuses (``ReviewError``) to replace a checklist with marks not imported yet, unless
    ``force``.
    """
    check_overwrite(db, path, force=force)
    text = render(db, seeds)
    write_text(path, text)
    return text.count("\n- [ ] ")


# --- reading a checklist back -------------------------------------------------------------


@dataclass
class _Item:
    line: int
    paper_id: int
    decision: str | None  # "accept", "reject" or None (annotations only)
    notes: dict[str, str] = field(default_factory=dict)


@dataclass
class _Checklist:
    version: int
    items: list[_Item]


@dataclass
class Conflict:
    """An item skipped because its paper was decided on after the checklist was exported."""

    line: int
    paper_id: int
    who: str
    kind: str
    at: str


@dataclass
class ImportReport:
    """What an import did, paper ids per kind of change, and what it skipped."""

    accepted: list[int] = field(default_factory=list)
    rejected: list[int] = field(default_factory=list)
    annotated: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)

    def summary(self) -> str:
        text = (
            f"accepted {len(self.accepted)}, rejected {len(self.rejected)}, "
            f"annotated {len(self.annotated)}, unchanged {len(self.unchanged)}"
        )
        return text + (f", skipped {len(self.conflicts)} (conflicts)" if self.conflicts else "")


def _parse(path: Path, text: str) -> _Checklist:
    marker = _MARKER_RE.search(text)
    if not marker:
        raise ReviewError(f"{path}: not a review queue written by 'harvester review export'")
    version = int(marker.group(2) or 0)
    by_id: dict[int, _Item] = {}
    current: _Item | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        match = _ITEM_RE.match(line)
        if match:
            paper_id = int(match.group("id"))
            if paper_id > _MAX_ID:
                raise ReviewError(f"{path}:{number}: no paper #{paper_id}")
            ticked = match.group("mark").lower() == "x"
            struck = bool(_STRUCK_RE.match(match.group("rest").strip()))
            if ticked and struck:
                raise ReviewError(
                    f"{path}:{number}: #{paper_id} is both ticked and struck: nothing imported"
                )
            rejected = struck or match.group("mark").lower() in ("-", "r")
            decision = "accept" if ticked else "reject" if rejected else None
            current = _Item(number, paper_id, decision)
            earlier = by_id.get(paper_id)
            if earlier is None:
                by_id[paper_id] = current
            else:
                _merge(path, earlier, current)
                current = earlier
            continue
        loose = _LOOSE_ITEM_RE.match(line)
        if loose:
            current = None
            if loose.group("mark") != " ":
                raise ReviewError(f"{path}:{number}: ticked item without its `#id` marker")
            continue
        note = _NOTE_RE.match(line)
        if note and current is not None:
            key, value = note.group("key").lower(), unescape(note.group("value"))
            if current.notes.get(key, value) != value:
                raise ReviewError(
                    f"{path}:{number}: #{current.paper_id} has two different {key} lines:"
                    " nothing imported"
                )
            current.notes[key] = value
    return _Checklist(version, list(by_id.values()))


def _merge(path: Path, earlier: _Item, later: _Item) -> None:
    """The same paper listed twice (two reviewers' edits merged): fine unless they disagree."""
    said = {"accept": "accepted", "reject": "rejected"}
    if earlier.decision and later.decision and earlier.decision != later.decision:
        raise ReviewError(
            f"{path}:{later.line}: #{later.paper_id} is {said[later.decision]} here but"
            f" {said[earlier.decision]} at line {earlier.line}: nothing imported"
        )
    earlier.decision = earlier.decision or later.decision


def _would_change(item: _Item, paper: dict[str, Any]) -> bool:
    """Whether importing the item changes what the database says about its paper.

    A rejection takes only its reason (kept with the decision); an acceptance or an unmarked
    item takes category, focus and note. An acceptance without a category keeps the one the
    paper has when it is accepted already.
    """
    wanted: dict[str, Any] = {}
    if item.decision == "accept":
        wanted["status"] = "accepted"
    elif item.decision == "reject":
        wanted["status"] = "rejected"
    if item.decision != "reject":
        wanted |= {
            column: item.notes[key] for key, column in _NOTE_FIELDS.items() if key in item.notes
        }
    return any(paper[column] != value for column, value in wanted.items())


def _paper(db: Database, paper_id: int) -> dict[str, Any] | None:
    return store.papers.get_paper(db, paper_id)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ReviewError(f"{path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ReviewError(f"{path}: not UTF-8 text") from None


def unimported_marks(db: Database, path: Path) -> int:
    """How many items of the checklist at ``path`` say what the database does not.

    Those are the reviewer's work that overwriting the file would lose: ticks, rejections and
    annotations not imported yet, or not applied because of a conflict. 0 when there is no
    checklist there. A checklist that cannot be read as one (a line the import would refuse)
    counts as one: only a person's edit makes it so.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return 0
    if not _MARKER_RE.search(text):
        return 0
    try:
        items = _parse(path, text).items
    except ReviewError:
        return 1
    # An item with neither a mark nor a note can change nothing: only the others are read,
    # in bulk (a fresh checklist of 20,000 papers would otherwise cost 20,000 lookups).
    marked = [item for item in items if item.decision or item.notes]
    papers = store.papers.papers_by_id(db, [item.paper_id for item in marked])
    count = 0
    for item in marked:
        paper = papers.get(item.paper_id)
        if paper is None or _would_change(item, paper):
            count += 1
    return count


def check_overwrite(db: Database, path: Path, *, force: bool = False) -> None:
    """Refuse to replace a checklist that holds a reviewer's unimported work."""
    if force or not unimported_marks(db, path):
        return
    raise ReviewError(
        f"{path} has marks not imported yet: run 'harvester review import"
        f" {shlex.quote(str(path))}' first (or give --force to overwrite them)"
    )


def _conflict(db: Database, item: _Item, version: int) -> Conflict | None:
    current = review.paper_version(db, item.paper_id)
    if current <= version:
        return None
    row = store.decisions.who_kind_at(db, current)
    assert row is not None  # the paper's version is the id of one of its decisions
    who, kind, at = row
    return Conflict(item.line, item.paper_id, who, kind, at)


def import_decisions(
    db: Database, rules: Rules, path: Path, *, who: str | None = None, force: bool = False
) -> ImportReport:
    """Apply what a reviewer marked in an exported checklist.

    An item whose paper was decided on after the export, and which would change it, is
    skipped and listed in ``conflicts``; ``force`` applies it. An item that would change
    nothing is ``unchanged``, so importing the same file twice is harmless.
    """
    seeds = rules.seeds
    checklist = _parse(path, _read(path))
    for item in checklist.items:  # check everything before changing anything
        if _paper(db, item.paper_id) is None:
            raise ReviewError(f"{path}:{item.line}: no paper #{item.paper_id}")
        category = item.notes.get("category")
        if category and category not in seeds.categories:
            raise ReviewError(
                f"{path}:{item.line}: unknown category {category!r} "
                f"(known: {', '.join(seeds.categories)})"
            )
    report = ImportReport()
    who = who or review.reviewer()
    # Read once before the write lock: each acceptance changes the ranking's key, and the
    # file was made against this order.
    current = screening.order(db, seeds)
    # The write lock from the first read: a decision made elsewhere cannot slip between the
    # version check and the write it allows.
    with write_transaction(db):
        for item in checklist.items:
            paper = _paper(db, item.paper_id)
            assert paper is not None  # papers are never deleted
            annotated = any(k in item.notes for k in _NOTE_FIELDS)
            if not item.decision and not annotated:
                continue
            if not _would_change(item, paper):
                report.unchanged.append(item.paper_id)
                continue
            if not force and (conflict := _conflict(db, item, checklist.version)):
                report.conflicts.append(conflict)
                continue
            _apply(db, rules, item, who=who, current=current)
            bucket = {"accept": report.accepted, "reject": report.rejected}
            bucket.get(item.decision or "", report.annotated).append(item.paper_id)
    return report


def _apply(db: Database, rules: Rules, item: _Item, *, who: str, current: screening.Order) -> None:
    ident, notes = str(item.paper_id), item.notes
    if item.decision == "accept":
        paper = _paper(db, item.paper_id)
        assert paper is not None
        review.accept(
            db,
            rules.seeds,
            ident,
            category=notes.get("category") or screening.shown_category(paper, current),
            focus=notes.get("focus"),
            note=notes.get("note"),
            who=who,
        )
    elif item.decision == "reject":
        review.reject(db, ident, reason=notes.get("reason"), who=who)
    else:
        review.set_fields(
            db,
            rules,
            ident,
            category=notes.get("category"),
            focus=notes.get("focus"),
            note=notes.get("note"),
            who=who,
        )
