"""Classification v1: a category and a relevance score from keyword rules and query hits.

Pure functions over text and counts, so the rules can be tested without a database. The
score is additive and explainable: every contribution is kept as a reason line that the
review queue shows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from harvester.records import words as text_words

if TYPE_CHECKING:
    from harvester.rules import Rules


@dataclass
class CategoryScore:
    """How strongly one paper belongs to one category, and why."""

    category: str
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)

    def add(self, points: float, reason: str) -> None:
        self.score += points
        self.reasons.append(f"{points:+g} {reason}")


_WORD_RE = re.compile(r"[a-z0-9]+")


def stem(word: str) -> str:
    """A light plural stemmer: exits -> exit, branches -> branch; enough for keyword rules."""
    if len(word) > 4 and word.endswith("es") and word[-3] in "sxhz":
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def phrase_key(phrase: str) -> tuple[str, ...]:
    """A phrase as stemmed words: case, hyphens and plurals do not matter (early-exits)."""
    return tuple(stem(w) for w in _WORD_RE.findall(phrase.lower()))


class _Stems(dict[str, str]):
    """Each word's stem, computed once: a vocabulary, so it stays small."""

    def __missing__(self, word: str) -> str:
        stemmed = stem(word)
        if len(self) < 200_000:
            self[word] = stemmed
        return stemmed


class PhraseMatcher:
    """Finds which of a fixed set of phrases occur in a text.

    Classifying tens of thousands of papers a run must stay a small part of a harvest, so
    the work per text is done by C loops: stemming through a dictionary, a set intersection
    for the words that can start a phrase, a substring test for phrases of several words.
    """

    def __init__(self, phrases: Iterable[str]) -> None:
        self._by_first: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for phrase in phrases:
            key = phrase_key(phrase)
            entries = self._by_first.setdefault(key[0], []) if key else []
            if key and all(key != k for k, _ in entries):
                entries.append((key, f" {' '.join(key)} "))
        self._first = frozenset(self._by_first)
        self._stems = _Stems()
        # A harvest scores a paper again when another source's page finds it (its arXiv
        # page, then its Semantic Scholar page, then its refresh batch): the same texts come
        # back, so their phrases are kept for the life of this matcher (one command), by the
        # text's 64-bit hash rather than the text (two texts share one with odds of 2**-64),
        # each distinct set of phrases once: texts as keys weighed so much that only 20,000
        # fitted, fewer than the titles and abstracts of a 20,000-paper harvest, and most of
        # its texts were matched twice.
        self._seen: dict[int, frozenset[tuple[str, ...]]] = {}
        self._sets: dict[frozenset[tuple[str, ...]], frozenset[tuple[str, ...]]] = {}

    def found(self, text: str) -> frozenset[tuple[str, ...]]:
        """The phrase keys (see ``phrase_key``) that occur in ``text``."""
        key = hash(text)
        phrases = self._seen.get(key)
        if phrases is None:
            if len(self._seen) >= 120_000:
                self._seen.clear()
                self._sets.clear()
            found = self._find(text)
            phrases = self._seen[key] = self._sets.setdefault(found, found)
        return phrases

    def _find(self, text: str) -> frozenset[tuple[str, ...]]:
        words = list(map(self._stems.__getitem__, text_words(text)))
        starts = self._first.intersection(words)
        if not starts:
            return frozenset()
        # Spaces on both sides: a phrase matches whole words only.
        joined = f" {' '.join(words)} "
        return frozenset(
            key
            for word in starts
            for key, needle in self._by_first[word]
            if len(key) == 1 or needle in joined
        )


def score_paper(
    rules: Rules,
    title: str,
    abstract: str | None,
    hits: Mapping[str, int],
    links: Mapping[str, int] | None = None,
) -> dict[str, CategoryScore]:
    """Score every category for one paper.

    ``hits`` maps a category key to how many of its queries found the paper (counted, with
    ``hits_need_keywords``, only for a category one of whose phrases the paper has); ``links`` to
    how many of its accepted papers this one cites or is cited by (a paper citing three
    early-exit papers is probably about early exits). A keyword
    counts once per field (title weighs more than abstract); the curator's negative phrases
    (look-alikes such as "early stopping") subtract from every category.
    """
    in_title = rules.matcher.found(title)
    in_abstract = rules.matcher.found(abstract or "")
    # Papers share their phrases, hits and links far more often than their texts: the
    # scores of each combination are worked out once per rules object.
    key = (in_title, in_abstract, tuple(sorted(hits.items())), tuple(sorted((links or {}).items())))
    known = rules.scores.get(key)
    if known is None:
        if len(rules.scores) >= 50_000:
            rules.scores.clear()
        known = rules.scores[key] = [
            (s.category, s.score, tuple(s.reasons))
            for s in _score(rules, in_title, in_abstract, hits, links).values()
        ]
    return {c: CategoryScore(c, score, list(reasons)) for c, score, reasons in known}


def _score(
    rules: Rules,
    in_title: frozenset[tuple[str, ...]],
    in_abstract: frozenset[tuple[str, ...]],
    hits: Mapping[str, int],
    links: Mapping[str, int] | None,
) -> dict[str, CategoryScore]:
    weights = rules.seeds.rules
    anywhere = in_title | in_abstract
    penalties: list[tuple[float, str]] = []
    for phrase_id, in_the_title, in_the_abstract in rules.penalties:
        if phrase_id in in_title:
            penalties.append(in_the_title)
        elif phrase_id in in_abstract:
            penalties.append(in_the_abstract)

    scores: dict[str, CategoryScore] = {}
    for key, category in rules.seeds.categories.items():
        result = CategoryScore(key)
        found = rules.phrase_ids[key] & anywhere
        # A query is an OR of many phrases, some broad ("adaptive inference"): a hit with
        # none of the category's own phrases in the text says little of which section.
        n_hits = hits.get(key, 0) if found or not weights.hits_need_keywords else 0
        if n_hits:
            plural = "query" if n_hits == 1 else "queries"
            result.add(weights.query_hit * n_hits, f"found by {n_hits} {category.name} {plural}")
        n_links = min((links or {}).get(key, 0), weights.link_cap)
        if n_links:
            plural = "paper" if n_links == 1 else "papers"
            result.add(
                weights.link * n_links,
                f"cites or cited by {n_links} accepted {category.name} {plural}",
            )
        if found:
            entries = rules.keyword_lines[key]
            # In the seeds' order, so reasons read (and scores add up) as the seeds list them.
            for phrase_id in sorted(found, key=lambda i: entries[i][0]):
                _, in_the_title, in_the_abstract = entries[phrase_id]
                points, line = in_the_title if phrase_id in in_title else in_the_abstract
                result.score += points
                result.reasons.append(line)
        if not result.reasons:
            continue
        for points, line in penalties:
            result.score += points
            result.reasons.append(line)
        scores[key] = result
    return scores


def best_category(
    scores: Mapping[str, CategoryScore],
    order: list[str],
    rules: Rules | None = None,
    *,
    primary_class: str | None = None,
    title: str | None = None,
) -> CategoryScore | None:
    """The winning category: the highest score, unless a more specific category (higher
    ``priority`` in the seeds) comes within ``priority_margin`` of it (the category's own,
    else classify.toml's) with a score of at least ``priority_min_score``; ties go to the
    earlier category in the seeds.

    The minimum keeps the margin for papers that have evidence of the section: two weak
    words ("kernels", "framework") put a dynamic-convolution paper with little evidence of
    its own within 0.7 of its family, yet say nothing of a system.

    Within that margin, a category whose ``primary_classes`` holds the paper's arXiv
    ``primary_class`` comes first: words shared by neighbouring sections ("mixture of
    experts", "memory", "devices") decide a near-tie by their weights alone, while the
    authors' own choice of cs.AR, cs.DC or cs.PL says which community the paper addresses.

    Given the paper's ``title``, a section wins from behind only when the title names it
    with a phrase of its own (one no model category has: "serving", "compiler", "survey")
    or the paper is in its home class: a title names the paper's contribution, and a
    mixture-of-experts model whose abstract reports its GPU throughput and communication
    cost is still a model, while an MoE serving system says so in its title.
    """
    if not scores:
        return None
    best = max(scores.values(), key=lambda s: (s.score, -order.index(s.category)))
    if rules is None or best.score <= 0:
        return best
    seeds = rules.seeds

    def margin(key: str) -> float:
        own = seeds.categories[key].priority_margin
        return seeds.rules.priority_margin if own is None else own

    floor = seeds.rules.priority_min_score
    named = rules.matcher.found(title) if title is not None else None

    def may_lead(key: str) -> bool:
        """Whether this section may win from behind the best (see the docstring)."""
        category = seeds.categories[key]
        if named is None or category.priority <= seeds.categories[best.category].priority:
            return True
        if primary_class is not None and primary_class in category.primary_classes:
            return True
        return not named.isdisjoint(rules.own_phrase_ids.get(key, frozenset()))

    close = [
        s
        for s in scores.values()
        if s is best
        or (
            s.score >= margin(s.category) * best.score and s.score >= floor and may_lead(s.category)
        )
    ]

    def rank(s: CategoryScore) -> tuple[bool, int, float, int]:
        category = seeds.categories[s.category]
        home = primary_class is not None and primary_class in category.primary_classes
        return (home, category.priority, s.score, -order.index(s.category))

    return max(close, key=rank)
