"""What follows from a merged row and the rules: venue, venue year, award, milestone,
category and score, with each category's score and reasons.

Pure functions over a row, the sources' venue claims, the queries that found the paper and
its links to accepted papers: no database, no network. Fields a person set
(``manual_fields``) are never changed; a seed paper keeps its category.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter
from typing import Any

from harvester.classify import CategoryScore, best_category, score_paper
from harvester.records import VenueClaim
from harvester.rows import manual_fields
from harvester.rules import Rules
from harvester.venues import VenueEvidence

# (source, category, query)
Hit = tuple[str, str, str]


def evidence(paper: Mapping[str, Any], claims: Iterable[VenueClaim]) -> VenueEvidence:
    """What says where a paper appeared: the sources' claims (newest first), and the
    paper's own comment and journal reference (arXiv's), and its DOI."""
    names: tuple[str, ...] = ()
    dblp = None
    year = None
    for claim in claims:
        names += claim.names
        dblp = dblp or claim.dblp
        year = year or claim.year
    comment, journal_ref = paper["comment"], paper["journal_ref"]
    texts = (comment, journal_ref) if comment and journal_ref else (comment or journal_ref,)
    return VenueEvidence(names, dblp, year, texts if texts[0] else (), paper["doi"])


def hits_per_category(hits: Iterable[Hit]) -> dict[str, int]:
    """How many queries (of either source) of each category found the paper."""
    counts: dict[str, int] = {}
    for _, category, _ in hits:
        counts[category] = counts.get(category, 0) + 1
    return counts


# Every column ``derive`` reads: its inputs, and the derived columns it compares against.
INPUTS = (
    "title",
    "abstract",
    "comment",
    "journal_ref",
    "doi",
    "published",
    "arxiv_id",
    "primary_category",
    "year",
    "citation_count",
    "manual_fields",
    "is_seed",
)
DERIVED = ("category", "venue", "venue_year", "award", "milestone", "score")
# The columns as one tuple, read in C: a harvest takes these digests 100,000 times.
_inputs = itemgetter(*INPUTS)
_derived = itemgetter(*DERIVED)


def input_digest(
    paper: Mapping[str, Any],
    claims: Iterable[VenueClaim],
    hits: Iterable[Hit],
    links: Mapping[str, int] | None = None,
) -> int:
    """A digest of the evidence ``derive`` reads for a paper (``INPUTS``, claims, hits and
    links): what ``fingerprint`` combines with the derived columns, so that a writer which
    has just changed those hashes only them again."""
    return hash(
        (
            _inputs(paper),
            tuple(claims),
            frozenset(hits),
            tuple(sorted(links.items())) if links else (),
        )
    )


def fingerprint(paper: Mapping[str, Any], inputs: int) -> int:
    """A digest of everything ``derive`` reads for a paper (``inputs``, its
    ``input_digest``, and the derived columns as they stand): equal digests, equal results.

    Python's 64-bit hash, so a writer can remember what it derived tens of thousands of
    papers from in a few MB; two different inputs of one paper share a digest with odds of
    2**-64.
    """
    return hash((inputs, _derived(paper)))


@dataclass(frozen=True)
class Derived:
    """A paper's derived fields that differ from its row, and its per-category scores."""

    changes: dict[str, Any]
    scores: dict[str, CategoryScore]

    def category_rows(self, paper_id: int) -> list[tuple[int, str, float, str]]:
        """The scores as ``paper_categories`` rows (paper, category, score, reasons JSON)."""
        return [
            (paper_id, s.category, s.score, _reasons_text(tuple(s.reasons)))
            for s in self.scores.values()
        ]


@lru_cache(maxsize=16_384)  # most papers' reasons are a few common lines
def _reasons_text(reasons: tuple[str, ...]) -> str:
    return json.dumps(list(reasons), ensure_ascii=False)


def derive(
    rules: Rules,
    paper: Mapping[str, Any],
    claims: Iterable[VenueClaim],
    hits: Iterable[Hit],
    links: Mapping[str, int] | None = None,
) -> Derived:
    """Venue, award, milestone, category and score as the sources and rules give them."""
    scores = score_paper(rules, paper["title"], paper["abstract"], hits_per_category(hits), links)
    manual = manual_fields(paper)
    changes: dict[str, Any] = {}
    first_year = int(paper["published"][:4]) if paper["published"] else paper["year"]
    venue, venue_year = rules.seeds.venues.place(
        evidence(paper, claims),
        preprint_year=first_year if paper["arxiv_id"] else None,
        year=paper["year"],
    )
    changes.update({"venue": venue, "venue_year": venue_year})

    award = rules.seeds.awards.match(paper["title"], venue, venue_year)
    changes["award"] = award.label if award else None
    cited = (paper["citation_count"] or 0) > rules.milestone_citations
    changes["milestone"] = int(cited or award is not None)

    best = best_category(scores, rules.order, rules, primary_class=paper.get("primary_category"))
    if "category" in manual or paper["is_seed"]:
        own = scores.get(paper["category"])
        changes["score"] = own.score if own else (best.score if best else 0.0)
    else:
        changes["category"] = best.category if best else None
        changes["score"] = best.score if best else 0.0
    return Derived({k: v for k, v in changes.items() if k not in manual and paper[k] != v}, scores)
