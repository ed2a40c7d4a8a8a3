"""Semantic Scholar's recommendations as a discovery channel: which categories to ask, with
which papers, and how the queue explains what came back.

Keyword queries find papers that use the field's words, snowballing those linked to accepted
papers; the Recommendations API finds papers *like* a set of papers, whatever their words.
Each category asks with its own decisions: its accepted papers as positives, its rejected
ones as negatives, so a curator who rejects look-alikes steers the next answer away from
them. A category nobody has accepted a paper of yet (a new section, one without seed
papers) asks with its best keyword matches instead, the cold start of relevance feedback
(pseudo-relevance feedback): the pending papers its own queries and keywords rank highest
stand in for accepted ones until a curator accepts one, then its accepted papers take over;
a rejected paper is never a positive. The papers it recommends wait as pending, as every
recommendation does, and their reason says nobody chose what they were recommended from.
An answer depends only on what was sent, so a category is asked again only when its request
would differ from the last one answered (a decision added or changed, a new best match,
another ``limit``): a daily run that found nothing and whose curator decided nothing costs
no request here.

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
    # Its best keyword matches (pending, never rejected): the positives while none is accepted.
    matches: tuple[str, ...] = ()


@dataclass(frozen=True)
class Ask:
    """One recommendations request to make: a category, what to send, and why it is due."""

    category: str
    positives: tuple[str, ...]
    negatives: tuple[str, ...]
    limit: int
    digest: str
    reason: str
    # What the positives are, for messages: "accepted papers" or "best keyword matches".
    basis: str = "accepted papers"


def digest(positives: Sequence[str], negatives: Sequence[str], limit: int) -> str:
    """What identifies a request: the same digest, the same answer."""
    body = json.dumps([list(positives), list(negatives), limit], separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def reason(category_name: str, positives: int) -> str:
    """The line the queue shows where it shows the query that found a paper."""
    papers = "paper" if positives == 1 else "papers"
    return f"recommended from {positives} accepted {category_name} {papers}"


def match_reason(category_name: str, positives: int) -> str:
    """The queue's line for a paper recommended from a category's best keyword matches:
    says that no person chose the papers it was recommended from."""
    matches = "best keyword match" if positives == 1 else f"{positives} best keyword matches"
    return f"recommended from the {matches} for {category_name} (none accepted yet)"


def due(
    seeds: Seeds,
    keys: Sequence[str],
    decided: Mapping[str, Decided],
    last: Mapping[str, str],
    limit: int,
) -> list[Ask]:
    """The requests to make this run, in the order of ``keys``.

    A category without an accepted paper asks with its best keyword matches, one with
    neither has nothing to recommend from; one whose request would be the last one answered
    (``last``: digest by category) is not due.
    """
    asks: list[Ask] = []
    if limit <= 0:
        return asks
    for key in keys:
        papers = decided.get(key, Decided())
        rejected = set(papers.rejected)
        matches = tuple(m for m in papers.matches if m not in rejected)
        positives = (papers.accepted or matches)[:MAX_IDS]
        if not positives:
            continue
        negatives = papers.rejected[:MAX_IDS]
        fingerprint = digest(positives, negatives, limit)
        if last.get(key) == fingerprint:
            continue
        name = seeds.categories[key].name
        if papers.accepted:
            why, basis = reason(name, len(positives)), "accepted papers"
        else:
            why, basis = match_reason(name, len(positives)), "best keyword matches"
        asks.append(Ask(key, positives, negatives, limit, fingerprint, why, basis))
    return asks
