"""Classification v1: a category and a relevance score from keyword rules and query hits.

Pure functions over text and counts, so the rules can be tested without a database. The
score is additive and explainable: every contribution is kept as a reason line that the
review queue shows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
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


def stem(word: str) -> str:
    """A light plural stemmer: exits -> exit, branches -> branch; enough for keyword rules."""
    if len(word) > 4 and word.endswith("es") and word[-3] in "sxhz":
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


@lru_cache(maxsize=8192)
def phrase_key(phrase: str) -> tuple[str, ...]:
    """A phrase as stemmed words: case, hyphens and plurals do not matter (early-exits)."""
    return tuple(stem(w) for w in re.findall(r"[a-z0-9]+", phrase.lower()))


_WORD_RE = re.compile(r"[a-z0-9]+")


class PhraseMatcher:
    """Finds which of a fixed set of phrases occur in a text, in one pass over its words.

    Every word position is looked up among the phrases starting with that word, so a test
    costs one dictionary lookup per word however many phrases the seeds have; classifying
    tens of thousands of papers a run must stay a small part of a harvest.
    """

    def __init__(self, phrases: Iterable[str]) -> None:
        self._by_first: dict[str, list[tuple[str, ...]]] = {}
        for phrase in phrases:
            key = phrase_key(phrase)
            if key and key not in self._by_first.get(key[0], []):
                self._by_first.setdefault(key[0], []).append(key)
        self._stems: dict[str, str] = {}

    def _stem(self, word: str) -> str:
        stemmed = self._stems.get(word)
        if stemmed is None:
            stemmed = stem(word)
            if len(self._stems) < 100_000:  # a vocabulary, bounded
                self._stems[word] = stemmed
        return stemmed

    def found(self, text: str) -> set[tuple[str, ...]]:
        """The phrase keys (see ``phrase_key``) that occur in ``text``."""
        words = [self._stem(w) for w in _WORD_RE.findall(text.lower())]
        out: set[tuple[str, ...]] = set()
        for i, word in enumerate(words):
            for key in self._by_first.get(word, ()):
                if len(key) == 1 or tuple(words[i : i + len(key)]) == key:
                    out.add(key)
        return out


@dataclass
class _Rules:
    """The seeds' phrases as keys, built once per Seeds: (phrase, key, weight) in seed order."""

    matcher: PhraseMatcher
    keywords: dict[str, list[tuple[str, tuple[str, ...], float]]]
    negative: list[tuple[str, tuple[str, ...], float]]


# Seeds are frozen but hold dicts, so they cannot be hashed: keyed by id, checked by identity.
_COMPILED: dict[int, tuple[Seeds, _Rules]] = {}


def _rules(seeds: Seeds) -> _Rules:
    cached = _COMPILED.get(id(seeds))
    if cached is not None and cached[0] is seeds:
        return cached[1]
    keywords = {
        key: [(p, phrase_key(p), w) for p, w in c.keywords.items()]
        for key, c in seeds.categories.items()
    }
    negative = [(p, phrase_key(p), w) for p, w in seeds.rules.negative.items()]
    phrases = [p for entries in keywords.values() for p, _, _ in entries]
    built = _Rules(PhraseMatcher([*phrases, *seeds.rules.negative]), keywords, negative)
    if len(_COMPILED) > 64:
        _COMPILED.clear()
    _COMPILED[id(seeds)] = (seeds, built)
    return built


def score_paper(
    seeds: Seeds,
    title: str,
    abstract: str | None,
    hits: Mapping[str, int],
    links: Mapping[str, int] | None = None,
) -> dict[str, CategoryScore]:
    """Score every category for one paper.

    ``hits`` maps a category key to how many of its queries found the paper; ``links`` to
    how many of its accepted papers this one cites or is cited by (a paper citing three
    early-exit papers is probably about early exits). A keyword
    counts once per field (title weighs more than abstract); the curator's negative phrases
    (look-alikes such as "early stopping") subtract from every category.
    """
    rules = seeds.rules
    compiled = _rules(seeds)
    in_title = compiled.matcher.found(title)
    in_abstract = compiled.matcher.found(abstract or "")
    penalties: list[tuple[float, str]] = []
    for phrase, key, weight in compiled.negative:
        if key in in_title:
            penalties.append((weight * rules.title_weight, f"title says {phrase!r}"))
        elif key in in_abstract:
            penalties.append((weight * rules.abstract_weight, f"abstract says {phrase!r}"))

    scores: dict[str, CategoryScore] = {}
    for key, category in seeds.categories.items():
        result = CategoryScore(key)
        n_hits = hits.get(key, 0)
        if n_hits:
            plural = "query" if n_hits == 1 else "queries"
            result.add(rules.query_hit * n_hits, f"found by {n_hits} {category.name} {plural}")
        n_links = min((links or {}).get(key, 0), rules.link_cap)
        if n_links:
            plural = "paper" if n_links == 1 else "papers"
            result.add(
                rules.link * n_links,
                f"cites or cited by {n_links} accepted {category.name} {plural}",
            )
        for phrase, phrase_id, weight in compiled.keywords[key] if in_title or in_abstract else ():
            if phrase_id in in_title:
                result.add(weight * rules.title_weight, f"title: {phrase!r}")
            elif phrase_id in in_abstract:
                result.add(weight * rules.abstract_weight, f"abstract: {phrase!r}")
        if not result.reasons:
            continue
        for points, reason in penalties:
            result.add(points, reason)
        scores[key] = result
    return scores


def best_category(
    scores: Mapping[str, CategoryScore], order: list[str], seeds: Seeds | None = None
) -> CategoryScore | None:
    """The winning category: the highest score, unless a more specific category (higher
    ``priority`` in the seeds) comes within ``priority_margin`` of it; ties go to the
    earlier category in the seeds."""
    if not scores:
        return None
    best = max(scores.values(), key=lambda s: (s.score, -order.index(s.category)))
    if seeds is None or best.score <= 0:
        return best
    margin = seeds.rules.priority_margin * best.score
    close = [s for s in scores.values() if s.score >= margin]
    return max(
        close,
        key=lambda s: (seeds.categories[s.category].priority, s.score, -order.index(s.category)),
    )
