"""Semantic Scholar's recommendations as a discovery channel: which categories to ask, with
which papers, and how the queue explains what came back.

Keyword queries find papers that use the field's words, snowballing those linked to accepted
papers; the Recommendations API finds papers *like* a set of papers, whatever their words.
Each category asks with its own decisions: its accepted papers as positives, its rejected
ones as negatives, so a curator who rejects look-alikes steers the next answer away from
them. An answer depends only on what was sent, so a category is asked again only when its
request would differ from the last one answered (a decision added or changed, another
``limit``): a daily run whose curator decided nothing costs no request here.

Pure functions over decided papers; the store keeps the last request's digest
(``store.recommendations``), the run makes the requests (``harvest``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from harvester.seeds import Seeds

# The query name of a recommendation's hit in ``query_hits``.
QUERY = "recommendations"
# Most papers of each kind sent in one request: the request stays small, and a category
# with hundreds of decisions is described well enough by its most cited ones.
MAX_IDS = 100


@dataclass(frozen=True)
class Decided:
    """A category's decided papers as Semantic Scholar ids, the ones to send first first."""

    accepted: tuple[str, ...] = ()
    rejected: tuple[str, ...] = ()


@dataclass(frozen=True)
class Ask:
    """One recommendations request to make: a category, what to send, and why it is due."""

    category: str
    positives: tuple[str, ...]
    negatives: tuple[str, ...]
    limit: int
    digest: str
    reason: str


def digest(positives: Sequence[str], negatives: Sequence[str], limit: int) -> str:
    """What identifies a request: the same digest, the same answer."""
    body = json.dumps([list(positives), list(negatives), limit], separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def reason(category_name: str, positives: int) -> str:
    """The line the queue shows where it shows the query that found a paper."""
    papers = "paper" if positives == 1 else "papers"
    return f"recommended from {positives} accepted {category_name} {papers}"


def due(
    seeds: Seeds,
    keys: Sequence[str],
    decided: Mapping[str, Decided],
    last: Mapping[str, str],
    limit: int,
) -> list[Ask]:
    """The requests to make this run, in the order of ``keys``.

    A category without an accepted paper has nothing to recommend from; one whose request
    would be the last one answered (``last``: digest by category) is not due.
    """
    asks: list[Ask] = []
    if limit <= 0:
        return asks
    for key in keys:
        papers = decided.get(key)
        if papers is None or not papers.accepted:
            continue
        positives = papers.accepted[:MAX_IDS]
        negatives = papers.rejected[:MAX_IDS]
        fingerprint = digest(positives, negatives, limit)
        if last.get(key) == fingerprint:
            continue
        name = seeds.categories[key].name
        asks.append(
            Ask(key, positives, negatives, limit, fingerprint, reason(name, len(positives)))
        )
    return asks
