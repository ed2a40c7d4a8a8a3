"""The rules a paper is derived by: the seeds, the thresholds, the compiled phrase matcher.

Built once per command (``Rules.from_config``) and passed to whatever derives venue, award,
milestone, category and score, so no threshold travels through signatures on its own and
nothing is compiled twice or cached at module level.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harvester.classify import PhraseMatcher, phrase_key
from harvester.config import Config
from harvester.seeds import Seeds

# (phrase as the seeds write it, its key, its weight)
Phrase = tuple[str, tuple[str, ...], float]


@dataclass(frozen=True)
class Rules:
    """What derivation follows, beside the sources' records and the stored rows.

    ``milestone_citations``: a paper with more citations joins the timeline ("cite > 100").
    The rest is compiled from ``seeds``: each category's keyword phrases, the negative
    phrases, and one matcher over all of them.
    """

    seeds: Seeds
    milestone_citations: int = 100
    matcher: PhraseMatcher = field(init=False, repr=False, compare=False)
    keywords: dict[str, list[Phrase]] = field(init=False, repr=False, compare=False)
    negative: list[Phrase] = field(init=False, repr=False, compare=False)
    # Each category's phrase keys: a paper that has none of them skips its keyword loop.
    phrase_ids: dict[str, frozenset[tuple[str, ...]]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        keywords = {
            key: [(p, phrase_key(p), w) for p, w in category.keywords.items()]
            for key, category in self.seeds.categories.items()
        }
        negative = [(p, phrase_key(p), w) for p, w in self.seeds.rules.negative.items()]
        phrases = [p for entries in keywords.values() for p, _, _ in entries]
        # Frozen, so the compiled parts are set once here, through object.__setattr__.
        object.__setattr__(self, "keywords", keywords)
        object.__setattr__(self, "negative", negative)
        object.__setattr__(
            self,
            "phrase_ids",
            {key: frozenset(k for _, k, _ in entries) for key, entries in keywords.items()},
        )
        object.__setattr__(self, "matcher", PhraseMatcher([*phrases, *self.seeds.rules.negative]))

    @classmethod
    def from_config(cls, seeds: Seeds, config: Config) -> Rules:
        return cls(seeds, milestone_citations=config.milestone_citations)

    @property
    def order(self) -> list[str]:
        """The categories in the seeds' order (ties go to the earlier one)."""
        return list(self.seeds.categories)
