"""Classification v1: a category and a relevance score from keyword rules and query hits.

Pure functions over text and counts, so the rules can be tested without a database. The
score is additive and explainable: every contribution is kept as a reason line that the
review queue shows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from harvester.seeds import Seeds


@dataclass
class CategoryScore:
    """How strongly one paper belongs to one category, and why."""

    category: str
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)

    def add(self, points: float, reason: str) -> None:
        self.score += points
        self.reasons.append(f"{points:+g} {reason}")


def _fold(text: str) -> str:
    """Lower-case, with hyphens and runs of spaces as single spaces: early-exit == early exit."""
    return " " + " ".join(re.sub(r"[-‐‑–_/]+", " ", text.lower()).split()) + " "


@lru_cache(maxsize=4096)
def _phrase_re(phrase: str) -> re.Pattern[str]:
    # Word boundaries on both sides, but a trailing "s" or "es" is allowed: exit/exits.
    return re.compile(r"(?<![a-z0-9])" + re.escape(_fold(phrase).strip()) + r"(?:e?s)?(?![a-z0-9])")


def _matches(phrase: str, folded: str) -> bool:
    return _phrase_re(phrase).search(folded) is not None


def score_paper(
    seeds: Seeds,
    title: str,
    abstract: str | None,
    hits: Mapping[str, int],
) -> dict[str, CategoryScore]:
    """Score every category for one paper.

    ``hits`` maps a category key to how many of its queries found the paper. A keyword
    counts once per field (title weighs more than abstract); the curator's negative phrases
    (look-alikes such as "early stopping") subtract from every category.
    """
    rules = seeds.rules
    folded_title, folded_abstract = _fold(title), _fold(abstract or "")
    penalties: list[tuple[float, str]] = []
    for phrase, weight in rules.negative.items():
        if _matches(phrase, folded_title):
            penalties.append((weight * rules.title_weight, f"title says {phrase!r}"))
        elif _matches(phrase, folded_abstract):
            penalties.append((weight * rules.abstract_weight, f"abstract says {phrase!r}"))

    scores: dict[str, CategoryScore] = {}
    for key, category in seeds.categories.items():
        result = CategoryScore(key)
        n_hits = hits.get(key, 0)
        if n_hits:
            plural = "query" if n_hits == 1 else "queries"
            result.add(rules.query_hit * n_hits, f"found by {n_hits} {category.name} {plural}")
        for phrase, weight in category.keywords.items():
            if _matches(phrase, folded_title):
                result.add(weight * rules.title_weight, f"title: {phrase!r}")
            elif _matches(phrase, folded_abstract):
                result.add(weight * rules.abstract_weight, f"abstract: {phrase!r}")
        if not result.reasons:
            continue
        for points, reason in penalties:
            result.add(points, reason)
        scores[key] = result
    return scores


def best_category(scores: Mapping[str, CategoryScore], order: list[str]) -> CategoryScore | None:
    """The winning category: highest score; ties go to the earlier category in the seeds."""
    if not scores:
        return None
    return max(scores.values(), key=lambda s: (s.score, -order.index(s.category)))
