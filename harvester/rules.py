"""The rules a paper is derived by: the seeds, the thresholds, the compiled phrase matcher.

Built once per command (``Rules.from_config``) and passed to whatever derives venue, award,
milestone, category and score, so no threshold travels through signatures on its own and
nothing is compiled twice or cached at module level.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harvester.classify import PhraseMatcher, phrase_key
from harvester.config import Config
from harvester.seeds import Seeds

# (phrase as the seeds write it, its key, its weight)
Phrase = tuple[str, tuple[str, ...], float]
# (points, the reason line a score shows for them)
Line = tuple[float, str]


def _line(points: float, reason: str) -> Line:
    return points, f"{points:+g} {reason}"


@dataclass(frozen=True)
class Rules:
    """What derivation follows, beside the sources' records and the stored rows.

    ``milestone_citations``: a paper with more citations joins the timeline ("cite > 100").
    The rest is compiled from ``seeds``, once: each category's keyword phrases, the negative
    phrases, one matcher over all of them, and the reason line each one adds to a score.
    """

    seeds: Seeds
    milestone_citations: int = 100
    matcher: PhraseMatcher = field(init=False, repr=False, compare=False)
    keywords: dict[str, list[Phrase]] = field(init=False, repr=False, compare=False)
    negative: list[Phrase] = field(init=False, repr=False, compare=False)
    # Each category's phrase keys: a paper that has none of them skips its keyword loop.
    phrase_ids: dict[str, frozenset[tuple[str, ...]]] = field(init=False, repr=False, compare=False)
    # Per category, phrase key -> (its place in the seeds, what it adds found in a title,
    # what it adds found in an abstract).
    keyword_lines: dict[str, dict[tuple[str, ...], tuple[int, Line, Line]]] = field(
        init=False, repr=False, compare=False
    )
    # The negative phrases: (phrase key, found in a title, found in an abstract).
    penalties: list[tuple[tuple[str, ...], Line, Line]] = field(
        init=False, repr=False, compare=False
    )
    # The categories in the seeds' order (ties go to the earlier one).
    order: list[str] = field(init=False, repr=False, compare=False)
    # Each section's own phrase keys (higher ``priority``), those no model category has:
    # what a title names when the paper's contribution is a system, a compiler, a survey.
    own_phrase_ids: dict[str, frozenset[tuple[str, ...]]] = field(
        init=False, repr=False, compare=False
    )
    # ``classify.score_paper``'s answers, by the phrases found, hits and links: rules are
    # fixed for the life of this object, so an answer never goes stale.
    scores: dict[Any, list[tuple[str, float, tuple[str, ...]]]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        rules = self.seeds.rules
        keywords = {
            key: [(p, phrase_key(p), w) for p, w in category.keywords.items()]
            for key, category in self.seeds.categories.items()
        }
        negative = [(p, phrase_key(p), w) for p, w in rules.negative.items()]
        phrases = [p for entries in keywords.values() for p, _, _ in entries]
        lines: dict[str, dict[tuple[str, ...], tuple[int, Line, Line]]] = {}
        for key, entries in keywords.items():
            lines[key] = {}
            for position, (phrase, phrase_id, weight) in enumerate(entries):
                lines[key].setdefault(
                    phrase_id,
                    (
                        position,
                        _line(weight * rules.title_weight, f"title: {phrase!r}"),
                        _line(weight * rules.abstract_weight, f"abstract: {phrase!r}"),
                    ),
                )
        ids = {key: frozenset(k for _, k, _ in entries) for key, entries in keywords.items()}
        compiled: dict[str, Any] = {
            "keywords": keywords,
            "negative": negative,
            "phrase_ids": ids,
            "matcher": PhraseMatcher([*phrases, *rules.negative]),
            "keyword_lines": lines,
            "penalties": [
                (
                    phrase_id,
                    _line(weight * rules.title_weight, f"title says {phrase!r}"),
                    _line(weight * rules.abstract_weight, f"abstract says {phrase!r}"),
                )
                for phrase, phrase_id, weight in negative
            ],
            "order": list(self.seeds.categories),
        }
        model = frozenset().union(
            *(ids[k] for k, c in self.seeds.categories.items() if c.priority <= 0)
        )
        compiled["own_phrase_ids"] = {
            k: ids[k] - model for k, c in self.seeds.categories.items() if c.priority > 0
        }
        # Frozen, so the compiled parts are set once here, through object.__setattr__.
        for name, value in compiled.items():
            object.__setattr__(self, name, value)

    @classmethod
    def from_config(cls, seeds: Seeds, config: Config) -> Rules:
        return cls(seeds, milestone_citations=config.milestone_citations)
