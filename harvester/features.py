"""What the ranking knows of one paper and says about it, without numerical libraries.

``PaperFeatures`` (computed once per paper from its row, hits and links), the keyword
evidence of the field, decisions and scores, the screening orders and the one-line
explanation. Kept apart from ``ranking`` (scikit-learn, numpy, scipy: seconds to import) so
that a command reading a kept ranking (``screening``) starts as fast as ``status`` did.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harvester.classify import CategoryScore, PhraseMatcher, best_category, phrase_key, score_paper
from harvester.rules import Rules
from harvester.seeds import Category, Seeds

# Words that join other words into a phrase without saying anything themselves: a section
# phrase is field evidence when it shares a real word with the model categories' phrases.
_JOINERS = frozenset({"a", "an", "the", "of", "to", "for", "in", "on", "and", "by", "with"})


# --- features -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaperFeatures:
    """What the ranking knows of one paper, computed once from its row.

    Nothing here depends on decisions: links to accepted and rejected papers are counted from
    ``neighbours`` when the ranking is trained, so the features can be stored per paper.
    """

    paper_id: int
    title: str
    # Abstract and TL;DR, the words beyond the title.
    body: str
    venue: str | None
    # Keys of the categories whose queries found the paper, sorted.
    found_by: tuple[str, ...]
    s2_id: str | None
    # Semantic Scholar ids of the papers it cites, and of those that cite it: a paper that
    # builds on accepted papers is likely relevant; one that accepted papers build on may be
    # a general tool (ResNet), so the two directions are kept apart.
    cites: frozenset[str]
    cited_by: frozenset[str]
    # arXiv subject classes, the primary one first.
    arxiv_classes: tuple[str, ...]
    # The keyword evidence of relevance (section-only words left out) and its reasons.
    keyword_relevance: float
    relevance_reasons: tuple[str, ...]
    # The keyword classifier's score per category (the section question), best first.
    category_scores: tuple[tuple[str, float], ...]


def paper_features(
    seeds: Seeds,
    row: Mapping[str, Any],
    *,
    hits: Iterable[Mapping[str, Any]] = (),
    cites: Iterable[str] = (),
    cited_by: Iterable[str] = (),
) -> PaperFeatures:
    """Features of a ``papers`` row, with its ``query_hits`` rows and the Semantic Scholar
    ids of the papers it cites and is cited by (the ``citations`` table)."""
    title = str(row.get("title") or "")
    abstract = str(row.get("abstract") or "")
    body = " ".join(t for t in (abstract, str(row.get("tldr") or "")) if t)
    hits_by_category: dict[str, int] = {}
    for hit in hits:
        key = str(hit["category"])
        if key in seeds.categories:
            hits_by_category[key] = hits_by_category.get(key, 0) + 1
    relevance, reasons = keyword_relevance(seeds, title, body)
    scores = score_paper(vocabulary(seeds).rules, title, abstract, hits_by_category)
    order = list(seeds.categories)
    s2_id = row.get("s2_id") or None
    ranked = sorted(scores.values(), key=lambda s: (-s.score, order.index(s.category)))
    return PaperFeatures(
        paper_id=int(row["id"]),
        title=title,
        body=body,
        venue=row.get("venue") or None,
        found_by=tuple(sorted(hits_by_category)),
        s2_id=s2_id,
        cites=frozenset(n for n in cites if n and n != s2_id),
        cited_by=frozenset(n for n in cited_by if n and n != s2_id),
        arxiv_classes=_arxiv_classes(row),
        keyword_relevance=relevance,
        relevance_reasons=tuple(reasons),
        category_scores=tuple((s.category, s.score) for s in ranked),
    )


def _arxiv_classes(row: Mapping[str, Any]) -> tuple[str, ...]:
    """The primary subject class, then the others (``arxiv_categories`` is a JSON list)."""
    primary = row.get("primary_category")
    others = row.get("arxiv_categories") or []
    if isinstance(others, str):
        try:
            others = json.loads(others)
        except ValueError:
            others = []
    found = [primary] if isinstance(primary, str) and primary else []
    found += [c for c in others if isinstance(c, str) and c and c not in found]
    return tuple(found)


@dataclass(frozen=True)
class _Vocabulary:
    """The seeds' phrases split by the question they answer, built once per Seeds."""

    # phrase key -> (phrase as written, weight): evidence that a paper is about the field.
    field: dict[tuple[str, ...], tuple[str, float]]
    # The curator's look-alike phrases, negative weights.
    negative: dict[tuple[str, ...], tuple[str, float]]
    # Single words that only pick a section: left out of the relevance features.
    section_words: frozenset[str]
    matcher: PhraseMatcher
    # The keyword classifier's compiled rules, for the section question.
    rules: Rules


_VOCABULARIES: dict[int, tuple[Seeds, _Vocabulary]] = {}


def _is_section(category: Category) -> bool:
    """A section cuts across the field (a survey, a system of dynamic networks): higher
    ``priority`` in the seeds says so. The model categories say what the field is."""
    return category.priority > 0


def vocabulary(seeds: Seeds) -> _Vocabulary:
    """Split each section category's keywords into field evidence ("dynamic shape", "early
    exit") and section-only words ("compiler", "survey", "runtime").

    A section's phrase is field evidence when a model category has it too, or when it is a
    phrase of several words sharing one with the model categories' phrases ("dynamic
    batching" shares "dynamic"). A single word is field evidence only as a model category's
    own phrase: "runtime" names a section even where "runtime pruning" names a family.
    """
    cached = _VOCABULARIES.get(id(seeds))
    if cached is not None and cached[0] is seeds:
        return cached[1]
    model_phrases = {
        phrase_key(phrase)
        for category in seeds.categories.values()
        if not _is_section(category)
        for phrase in category.keywords
    }
    model_words = {word for key in model_phrases for word in key} - _JOINERS

    def is_field(key: tuple[str, ...]) -> bool:
        return key in model_phrases or (len(key) > 1 and bool(set(key) & model_words))

    found: dict[tuple[str, ...], tuple[str, float]] = {}
    section: set[tuple[str, ...]] = set()
    for category in seeds.categories.values():
        for phrase, weight in category.keywords.items():
            key = phrase_key(phrase)
            if not key:
                continue
            if _is_section(category) and not is_field(key):
                section.add(key)
            elif weight > found.get(key, ("", -math.inf))[1]:
                found[key] = (phrase, weight)
    section -= set(found)
    negative = {phrase_key(p): (p, w) for p, w in seeds.rules.negative.items() if phrase_key(p)}
    built = _Vocabulary(
        field=found,
        negative=negative,
        section_words=frozenset(k[0] for k in section if len(k) == 1),
        matcher=PhraseMatcher([p for p, _ in (*found.values(), *negative.values())]),
        rules=Rules(seeds),
    )
    if len(_VOCABULARIES) > 64:
        _VOCABULARIES.clear()
    _VOCABULARIES[id(seeds)] = (seeds, built)
    return built


def keyword_relevance(seeds: Seeds, title: str, body: str) -> tuple[float, list[str]]:
    """The keyword evidence that a paper is about the field, and why.

    Each field phrase counts once, in the title ``title_weight`` times, else in the body
    ``abstract_weight`` times; the look-alike phrases subtract the same way. Section-only
    words count nothing here: they pick a section, they do not make a paper relevant.
    """
    vocab = vocabulary(seeds)
    rules = seeds.rules
    in_title = vocab.matcher.found(title)
    in_body = vocab.matcher.found(body)
    total = 0.0
    reasons: list[str] = []
    for table in (vocab.field, vocab.negative):
        for key, (phrase, weight) in table.items():
            if key in in_title:
                points, where = weight * rules.title_weight, "title"
            elif key in in_body:
                points, where = weight * rules.abstract_weight, "abstract"
            else:
                continue
            total += points
            reasons.append(f"{points:+g} {where}: {phrase!r}")
    return total, reasons


# --- decisions and scores -----------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """A reviewer's decision on one paper; a seed paper counts as accepted prior knowledge."""

    paper_id: int
    accepted: bool
    category: str | None = None
    seed: bool = False


@dataclass(frozen=True)
class Scored:
    """A paper's probability of being relevant, and what the prior alone would say."""

    paper_id: int
    probability: float
    prior: float


def most_likely_first(scored: Iterable[Scored]) -> list[Scored]:
    """The screening order: most probably relevant first (ties by id, so it is total)."""
    return sorted(scored, key=lambda s: (-s.probability, s.paper_id))


def uncertain_first(scored: Iterable[Scored]) -> list[Scored]:
    """Uncertainty sampling: the papers the ranking is least sure about first (probability
    closest to one half), the decisions that teach the model most."""
    return sorted(scored, key=lambda s: (abs(s.probability - 0.5), -s.probability, s.paper_id))


def explain(
    seeds: Seeds,
    paper: PaperFeatures,
    scored: Scored,
    *,
    trust: float | None,
    links: tuple[int, int],
    words: Sequence[str] = (),
) -> str:
    """Why a paper scores as it does, in one line, from its score and features: ``trust``
    is the learned model's share (None before it exists), ``links`` the paper's links to
    accepted and rejected papers, ``words`` its strongest words (``Ranker.top_words``)."""
    head = f"{scored.probability:.0%} likely relevant"
    if trust is not None:
        head += f" (prior {scored.prior:.0%}, learned {trust:.0%} of it)"
    parts = [head]
    strongest = sorted(paper.relevance_reasons, key=_points, reverse=True)
    parts += [r for r in strongest if _points(r) > 0][:2]
    parts += [r for r in strongest if _points(r) < 0][-1:]
    if paper.found_by:
        names = ", ".join(seeds.categories[k].name for k in paper.found_by)
        parts.append(f"found by {names} queries")
    to_accepted, to_rejected = links
    if to_accepted:
        parts.append(f"cites {to_accepted} accepted")
    if to_rejected:
        parts.append(f"linked to {to_rejected} rejected")
    if words:
        parts.append("words: " + ", ".join(repr(w) for w in words))
    return "; ".join(parts)


def _points(reason: str) -> float:
    return float(reason.split(" ", 1)[0])


# --- categories ---------------------------------------------------------------------------------


def keyword_category(
    seeds: Seeds, paper: PaperFeatures, neighbours: Mapping[str, int] | None = None
) -> str | None:
    """The section rule of the keyword classifier (priorities included) over the paper's
    stored scores.

    ``neighbours`` counts, per category, the papers this one cites or is cited by that are
    filed there: each adds classify.toml's ``link`` (at most ``link_cap`` of them), as an
    accepted paper of the category does to the stored score. A paper is mostly cited by and
    citing its own family, so where its words leave two sections close (a mixture-of-experts
    model that reports its GPU throughput, a dynamic-depth model compared with early exits),
    the papers around it say which.
    """
    scores = {key: CategoryScore(key, score) for key, score in paper.category_scores}
    if neighbours:
        weights = seeds.rules
        for key, count in neighbours.items():
            if count > 0 and key in seeds.categories:
                scores.setdefault(key, CategoryScore(key)).score += weights.link * min(
                    count, weights.link_cap
                )
    primary = paper.arxiv_classes[0] if paper.arxiv_classes else None
    best = best_category(
        scores,
        list(seeds.categories),
        vocabulary(seeds).rules,
        primary_class=primary,
        title=paper.title,
    )
    return best.category if best is not None else None


# The learned category model overrules the keyword rule only this sure: the rule is the
# curator's, the model a guess from a few dozen papers.
