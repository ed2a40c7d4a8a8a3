"""The review queue: find papers, list them best first, and record human decisions.

Every decision is written field by field to ``decisions`` (who, when, old → new), grouped by
``action`` so ``undo`` reverts a whole command, and the decided fields join the paper's
``manual_fields`` so no later harvest or enrichment overwrites them.
"""

from __future__ import annotations

import getpass
import heapq
import json
import os
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database

from harvester import clock, screening, store
from harvester.errors import HarvesterError
from harvester.paper_ids import parse_paper_id
from harvester.records import PaperRecord, normalise_title
from harvester.rules import Rules
from harvester.seeds import Seeds
from harvester.store import write_transaction
from harvester.store.decisions import Decision

if TYPE_CHECKING:
    from harvester.sources import Sources

STATUSES = ("pending", "accepted", "rejected")
MILESTONE_CHOICES = ("yes", "no", "auto")
# The fields a person decides; each becomes manual once set.
DECIDED_FIELDS = ("status", "category", "focus", "notes", "milestone")


class ReviewError(HarvesterError):
    """A review command that cannot be carried out: nothing was changed."""


class StaleDecision(ReviewError):
    """Someone decided on the paper after the caller looked at it: nothing was changed.

    Raised when a caller says which version it saw (``expected_version``) and that is no longer
    the paper's version, or when an undo would overwrite a later decision by someone else. Two
    reviewers working at once are refused instead of silently overwriting each other.
    """


def reviewer() -> str:
    """Who decides: ``$USER`` (or the login name), for the audit trail."""
    return os.environ.get("USER") or os.environ.get("USERNAME") or _login() or "unknown"


def _login() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


def find(db: Database, ident: str) -> dict[str, Any]:
    """The paper a user means: ``papers.id``, an arXiv id, a DOI or an S2 id, or an address
    of one (``harvester.paper_ids``)."""
    named = parse_paper_id(ident)
    column = {"id": "id", "arxiv": "arxiv_id", "doi": "doi", "s2": "s2_id", "title": "title_key"}[
        named.kind
    ]
    value = normalise_title(named.value) if named.kind == "title" else named.value
    rows = store.papers.papers_where(db, column, value)
    if not rows:
        raise ReviewError(
            f"no paper with id {ident!r} (give papers.id, an arXiv id, a DOI or an S2 id,"
            " or the address of one)"
        )
    return rows[0]


def search(db: Database, text: str) -> list[int]:
    """Ids of the papers whose title or abstract match every word of ``text``, best match first.

    Each word becomes a quoted prefix term of the full-text index, so whatever a person types
    (quotes, ``AND``, brackets) is searched for as words and never read as FTS5 syntax.
    """
    words = re.findall(r"\w+", text)
    if not words:
        return []
    match = " ".join('"' + w.replace('"', '""') + '"*' for w in words)
    return store.papers.search(db, match)


def paper_version(db: Database, paper_id: int) -> int:
    """The id of the last decision row about a paper (0 before any).

    Every decision and every undo adds rows, so a caller that remembers this number can tell
    whether anyone decided on the paper since it looked; a harvest never changes it.
    """
    return store.decisions.paper_version(db, paper_id)


def last_decision(db: Database) -> int:
    """The id of the last decision row about any paper (0 before any): the version of the
    whole queue, which a checklist records when it is exported."""
    return store.decisions.last_decision(db)


def _check_version(db: Database, paper: dict[str, Any], expected: int | None) -> None:
    """Refuse a decision made on an older version of the paper.

    Called inside ``write_transaction``: the write lock is held from the first read, so two
    reviewers cannot both pass the check and then both write.
    """
    if expected is None:
        return
    current = paper_version(db, paper["id"])
    if current == expected:
        return
    last = store.decisions.who_kind_at(db, current)
    what = "its decisions were removed"
    if last:
        who, kind, at = last
        what = f"{who}: {kind} at {at}"
    raise StaleDecision(
        f"paper #{paper['id']} changed since you loaded it ({what}); "
        "nothing was changed: reload it and decide again"
    )


@dataclass
class QueueItem:
    """One paper as the review queue shows it.

    ``category`` is the one category it is shown, counted and filed under
    (``screening.shown_category``); ``rank`` the ranking's probability that it is relevant.
    """

    id: int
    title: str
    status: str
    category: str | None
    score: float
    rank: float
    venue: str | None
    venue_year: int | None
    citation_count: int | None
    arxiv_id: str | None
    doi: str | None
    s2_id: str | None
    why: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "category": self.category,
            # The same category, under the name scripts of earlier versions read.
            "suggested_category": self.category,
            "score": round(self.score, 3),
            "rank": round(self.rank, 4),
            "venue": self.venue,
            "venue_year": self.venue_year,
            "citation_count": self.citation_count,
            "arxiv_id": self.arxiv_id,
            "doi": self.doi,
            "s2_id": self.s2_id,
            "why": self.why,
        }


@dataclass
class QueuePage:
    """A slice of the queue, and how many papers the whole filtered queue holds."""

    items: list[QueueItem]
    total: int
    # Ranked by the order held before the last decisions while their training runs (see
    # ``screening.order_now``): the statuses are current, the probabilities are older.
    stale: bool = False
    # The order the page was ranked and filed by (for counts shown beside it).
    ranking: screening.Order | None = None


ORDERS = ("likely", "uncertain")


def why(
    db: Database,
    seeds: Seeds,
    paper: dict[str, Any],
    extra: list[str] | None = None,
    current: screening.Order | None = None,
) -> list[str]:
    """What put the paper where it is: queries and rules for its category, citations, award."""
    return _explain(db, seeds, [paper], {paper["id"]: extra or []}, current)[paper["id"]]


def _explain(
    db: Database,
    seeds: Seeds,
    papers: list[dict[str, Any]],
    extra: dict[int, list[str]],
    current: screening.Order | None = None,
) -> dict[int, list[str]]:
    """``why`` for many papers, in a few queries: the queue file lists every pending paper."""
    reasons, queries = store.papers.explanations(db, [p["id"] for p in papers])
    current = current or screening.order(db, seeds)
    out: dict[int, list[str]] = {}
    for paper in papers:
        lines = list(extra.get(paper["id"], []))
        lines += reasons.get((paper["id"], screening.shown_category(paper, current) or ""), [])
        found = queries.get(paper["id"], [])
        lines += found[:3] + ([f"… and {len(found) - 3} more queries"] if len(found) > 3 else [])
        if paper["citation_count"] is not None:
            lines.append(f"{paper['citation_count']} citations")
        if paper["award"]:
            lines.append(paper["award"])
        if paper["is_seed"]:
            lines.append("seed paper")
        out[paper["id"]] = lines
    return out


def shown_category(db: Database, seeds: Seeds, paper: dict[str, Any]) -> str | None:
    """The category the paper is shown under (``screening.shown_category``)."""
    return screening.shown_category(paper, screening.order(db, seeds))


def ranking_line(db: Database, seeds: Seeds, paper_id: int) -> str | None:
    """The ranking's reason for one paper, with the words that weigh most for it."""
    return screening.explain_lines(db, seeds, [paper_id], words=True).get(paper_id)


def category_counts(
    db: Database, seeds: Seeds, current: screening.Order | None = None
) -> dict[str, dict[str, int]]:
    """Papers per shown category (``""`` for none) and status, as ``status`` prints them
    (by ``current``, the order the caller shows, when given)."""
    current = current or screening.order(db, seeds)
    out: dict[str, dict[str, int]] = {}
    for pid, status, stored, manual in store.papers.category_rows(db):
        row = {"id": pid, "status": status, "category": stored, "manual_fields": manual}
        key = screening.shown_category(row, current) or ""
        out.setdefault(key, dict.fromkeys(STATUSES, 0))[status] += 1
    return dict(sorted(out.items()))


def queue(db: Database, seeds: Seeds, **options: Any) -> list[QueueItem]:
    """``queue_page``'s items: papers of a status (or ``all``), best first."""
    return queue_page(db, seeds, **options).items


def queue_page(
    db: Database,
    seeds: Seeds,
    *,
    status: str = "pending",
    category: str | None = None,
    limit: int | None = None,
    offset: int = 0,
    ids: Collection[int] | None = None,
    explain: bool = True,
    order: str = "likely",
    wait: bool = True,
) -> QueuePage:
    """Papers of a status (or ``all``) in the screening order, a page of them.

    ``order`` is ``likely`` (most probably relevant first) or ``uncertain`` (the papers the
    ranking is least sure about first: deciding those teaches it most). ``category`` keeps
    the papers shown under it; ``ids`` only those papers (a search's hits). The ranking is
    read from ``screening`` (trained only when the decisions or papers changed), and the
    ``why`` lines are made for the rows returned only (``explain=False``: none). Without
    ``wait``, a ranking that is training is not waited for: the page is ranked by the order
    held before and says so (``stale``).
    """
    if status not in (*STATUSES, "all"):
        raise ReviewError(f"unknown status {status!r} (use {', '.join(STATUSES)} or all)")
    if order not in ORDERS:
        raise ReviewError(f"unknown order {order!r} (use {', '.join(ORDERS)})")
    if category is not None:
        seeds.category(category)
    if wait:
        current, stale = screening.order(db, seeds), False
    else:
        current, stale = screening.order_now(db, seeds)
    # Every paper is sorted and filtered from a few columns (an index holds them); whole
    # rows, and each paper's shown category unless it filters, only for the page.
    rank = current.probability.get
    shown: dict[int, store.papers.QueueRow] | None = None
    if limit is None and ids is None:
        # Every paper of the status (the checklist): their whole rows in one read, sorted and
        # filtered from it (where reading the page by id took a query per 900 papers).
        shown = store.papers.queue_rows(db, status)
        # (id, status, category, manual fields, score, citations), as ``ranking_rows``.
        rows = [(r[0], r[2], r[3], r[4], r[5], r[8]) for r in shown.values()]
    else:
        rows = store.papers.ranking_rows(db, status)
    if ids is not None:
        rows = [r for r in rows if r[0] in ids]
    if category is not None:
        of = screening.category_of
        rows = [r for r in rows if of(r[0], r[1], r[2], r[3], current) == category]
    # Comprehensions over tuples: the loop runs for every pending paper on every read.
    keyed: list[tuple[float, ...]]
    if order == "uncertain":
        keyed = [(abs(p - 0.5), -p, r[0]) for r in rows for p in (rank(r[0], 0.0),)]
    else:
        keyed = [(-rank(r[0], 0.0), -r[4], -(r[5] or 0), r[0]) for r in rows]
    total = len(keyed)
    if limit is not None:
        page = heapq.nsmallest(offset + limit, keyed)[offset:]
    else:
        page = sorted(keyed)[offset:]
    page_ids = [int(key[-1]) for key in page]
    if shown is None:
        shown = store.papers.queue_rows_of(db, page_ids)
    items: list[QueueItem] = []
    category_of = screening.category_of
    for pid in page_ids:
        row = shown[pid]  # in ``QUEUE_COLUMNS`` order
        _, title, status_, stored, manual, score, venue, venue_year, cited, arxiv, doi, s2 = row
        items.append(
            QueueItem(
                id=pid,
                title=title,
                status=status_,
                category=category_of(pid, status_, stored, manual, current),
                score=score,
                rank=rank(pid, 0.0),
                venue=venue,
                venue_year=venue_year,
                citation_count=cited,
                arxiv_id=arxiv,
                doi=doi,
                s2_id=s2,
            )
        )
    if explain and items:
        shown_ids = [i.id for i in items]
        model_lines = screening.explain_lines(db, seeds, shown_ids, current=current)
        full = store.papers.papers_by_id(db, shown_ids)
        lines = _explain(
            db,
            seeds,
            [full[i] for i in shown_ids],
            {i: [model_lines[i]] if i in model_lines else [] for i in shown_ids},
            current,
        )
        for item in items:
            item.why = lines[item.id]
    return QueuePage(items, total, stale, current)


# --- decisions ----------------------------------------------------------------------------


def _as_text(value: Any) -> str | None:
    return None if value is None else str(value)


def _apply(
    db: Database,
    paper: dict[str, Any],
    changes: dict[str, Any],
    *,
    kind: str,
    who: str,
    reason: str | None = None,
    action: int | None = None,
) -> int | None:
    """Write the changes a person made, and their audit rows, in one transaction.

    Returns the action number, or None when nothing changed.
    """
    manual = json.loads(paper["manual_fields"])
    # What a person stated is theirs from now on, even where it confirms the current value.
    new_manual = sorted(set(manual) | (set(changes) & set(DECIDED_FIELDS)))
    changes = {k: v for k, v in changes.items() if paper[k] != v}
    if not changes and new_manual == manual:
        return None
    at = clock.now_iso()
    with write_transaction(db):
        action = action or store.decisions.next_action(db)
        rows = [(f, paper[f], v) for f, v in changes.items()]
        if new_manual != manual:
            rows.append(("manual_fields", paper["manual_fields"], json.dumps(new_manual)))
        store.decisions.record(
            db,
            [
                Decision(
                    action, paper["id"], who, at, kind, name, _as_text(old), _as_text(new), reason
                )
                for name, old, new in rows
            ],
        )
        store.papers.update_paper(
            db, paper["id"], changes | {"manual_fields": json.dumps(new_manual)}
        )
    return action


def _check_category(seeds: Seeds, category: str | None) -> None:
    if category is not None:
        seeds.category(category)


def accept(
    db: Database,
    seeds: Seeds,
    ident: str,
    *,
    category: str | None = None,
    focus: str | None = None,
    note: str | None = None,
    who: str | None = None,
    kind: str = "accept",
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Accept a paper, in the given category or else the one it is shown under
    (``screening.shown_category``).

    With ``expected_version`` (see ``paper_version``) the decision is refused with
    ``StaleDecision`` if anyone decided on the paper since the caller read that version.
    """
    _check_category(seeds, category)
    current = None
    if category is None and not db.conn.in_transaction:
        # Read (or trained) before the write lock is taken, so a harvest's pages never
        # wait for a training.
        current = screening.order(db, seeds)
    with write_transaction(db):
        paper = find(db, ident)
        _check_version(db, paper, expected_version)
        if category is None:
            category = screening.shown_category(paper, current or screening.order(db, seeds))
        if category is None:
            raise ReviewError(f"paper {paper['id']} has no suggested category: give --category")
        changes: dict[str, Any] = {"status": "accepted", "category": category}
        if focus is not None:
            changes["focus"] = focus
        if note is not None:
            changes["notes"] = note
        _apply(db, paper, changes, kind=kind, who=who or reviewer())
    return _row(db, paper["id"])


def _row(db: Database, paper_id: int) -> dict[str, Any]:
    row = store.papers.get_paper(db, paper_id)
    if row is None:
        raise ReviewError(f"no paper #{paper_id}")
    return row


def add_paper(
    db: Database,
    rules: Rules,
    sources: Sources,
    ident: str,
    *,
    category: str | None = None,
    who: str | None = None,
) -> dict[str, Any]:
    """Fetch, enrich and accept a paper the harvest did not find.

    ``ident`` is an arXiv id, a DOI, a Semantic Scholar id or an exact title.
    """
    _check_category(rules.seeds, category)
    named = parse_paper_id(ident)
    kind, value = named.kind, named.value
    if kind == "id":
        raise ReviewError(f"{ident!r}: review add takes an arXiv id, a DOI, an S2 id or a title")
    records: list[PaperRecord] = []
    if kind == "arxiv":
        records += sources.arxiv.fetch_ids([value])
        if not records:
            raise ReviewError(f"arXiv has no paper {value}")
        enriched = sources.s2.batch([f"ARXIV:{value}"])
    elif kind == "doi":
        enriched = sources.s2.batch([f"DOI:{value}"])
    elif kind == "s2":
        enriched = sources.s2.batch([value])
    else:
        enriched = [sources.s2.match_title(value)]
    found = [r for r in enriched if r is not None]
    if kind != "arxiv" and found and found[0].arxiv_id:
        records += sources.arxiv.fetch_ids([found[0].arxiv_id])
    records += found
    if not records:
        raise ReviewError(f"no paper found for {ident!r}")
    from harvester import ingest  # the save path: only adding a paper needs it

    saved = ingest.save_records(db, rules, records)
    return accept(db, rules.seeds, str(saved.seen[-1]), category=category, who=who, kind="add")


def reject(
    db: Database,
    ident: str,
    *,
    reason: str | None = None,
    who: str | None = None,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Reject a paper; it stays in the database, out of the list and the queue."""
    with write_transaction(db):
        paper = find(db, ident)
        _check_version(db, paper, expected_version)
        _apply(
            db, paper, {"status": "rejected"}, kind="reject", who=who or reviewer(), reason=reason
        )
    return _row(db, paper["id"])


def set_fields(
    db: Database,
    rules: Rules,
    ident: str,
    *,
    category: str | None = None,
    focus: str | None = None,
    note: str | None = None,
    milestone: str | None = None,
    who: str | None = None,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Change what a person decides about a paper without changing its status.

    ``milestone`` is ``yes`` or ``no`` (an override the harvest keeps) or ``auto`` (back to
    citations and awards). ``expected_version`` as for ``accept``.
    """
    _check_category(rules.seeds, category)
    if milestone is not None and milestone not in MILESTONE_CHOICES:
        raise ReviewError(f"milestone must be one of {', '.join(MILESTONE_CHOICES)}")
    with write_transaction(db):
        paper = find(db, ident)
        _check_version(db, paper, expected_version)
        changes: dict[str, Any] = {}
        if category is not None:
            changes["category"] = category
        if focus is not None:
            changes["focus"] = focus
        if note is not None:
            changes["notes"] = note
        if milestone in ("yes", "no"):
            changes["milestone"] = int(milestone == "yes")
        who = who or reviewer()
        action = _apply(db, paper, changes, kind="set", who=who)
        if milestone == "auto":
            _milestone_auto(db, rules, paper["id"], who, action)
    return _row(db, paper["id"])


def _milestone_auto(
    db: Database, rules: Rules, paper_id: int, who: str, action: int | None
) -> None:
    paper = _row(db, paper_id)
    manual = json.loads(paper["manual_fields"])
    if "milestone" not in manual:
        return
    new_manual = [f for f in manual if f != "milestone"]
    with write_transaction(db):
        action = action or store.decisions.next_action(db)
        store.papers.update_paper(db, paper_id, {"manual_fields": json.dumps(new_manual)})
        from harvester import ingest

        ingest.refresh_paper(db, rules, paper_id)
        after = _row(db, paper_id)
        at = clock.now_iso()
        store.decisions.record(
            db,
            [
                Decision(action, paper_id, who, at, "set", name, _as_text(old), _as_text(new))
                for name, old, new in (
                    ("milestone", paper["milestone"], after["milestone"]),
                    ("manual_fields", paper["manual_fields"], after["manual_fields"]),
                )
            ],
        )


_INT_FIELDS = {"milestone"}


def _from_text(name: str, value: str | None) -> Any:
    if value is None:
        return None
    return int(value) if name in _INT_FIELDS else value


def undo(db: Database, *, who: str | None = None, by: str | None = None) -> list[dict[str, Any]]:
    """Revert the last decision not yet undone (itself recorded as a decision).

    ``by`` limits it to that reviewer's own decisions, so in a team one person's undo never
    takes back another's. An undo that would overwrite a later decision on the same paper
    (someone else's, not itself undone) is refused with ``StaleDecision``.

    Returns the decision rows that were reverted; raises if there is nothing to undo.
    """
    with write_transaction(db):
        return _undo(db, who=who or reviewer(), by=by)


def _undo(db: Database, *, who: str, by: str | None) -> list[dict[str, Any]]:
    action = store.decisions.last_undoable(db, by)
    if action is None:
        raise ReviewError("nothing to undo" + (f" by {by}" if by is not None else ""))
    rows = store.decisions.action_rows(db, action)
    later = store.decisions.later_decision(db, action)
    if later:
        raise StaleDecision(
            f"cannot undo {rows[0]['kind']} of #{rows[0]['paper_id']}: {later[0]} has since made"
            f" a {later[1]} decision on #{later[2]}; nothing was changed"
        )
    at = clock.now_iso()
    with write_transaction(db):
        new_action = store.decisions.next_action(db)
        undone: list[Decision] = []
        for decision in reversed(rows):
            value = _from_text(decision["field"], decision["old"])
            store.papers.update_paper(db, decision["paper_id"], {decision["field"]: value})
            undone.append(
                Decision(
                    new_action,
                    decision["paper_id"],
                    who,
                    at,
                    "undo",
                    decision["field"],
                    decision["new"],
                    decision["old"],
                    f"undo of {decision['kind']} #{action}",
                )
            )
        store.decisions.record(db, undone)
        store.decisions.mark_undone(db, action)
    return rows


def decisions_today(db: Database) -> int:
    return store.decisions.actions_on(db, clock.now_iso()[:10])
