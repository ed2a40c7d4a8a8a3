"""Ranking that learns from the reviewer's decisions.

Cold start: papers are ordered by the keyword and query score of ``classify``. Once there are
accepted and rejected papers, a logistic regression over TF-IDF features of title, abstract
and TL;DR (plus the keyword score as one more feature) is trained on them, and pending papers
are ordered by its probability of acceptance. Categories are suggested by the nearest
centroid of the accepted papers of each category, falling back to the keyword category.

Pure Python on purpose: a few thousand short documents train in well under a second, and
the tool stays free of heavy numerical dependencies.
"""

from __future__ import annotations

import itertools
import math
import random
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from harvester import store
from harvester.classify import stem
from harvester.seeds import Seeds

# Decisions needed before the model replaces the cold-start score.
MIN_EACH_CLASS = 3
_STOPWORDS = frozenset(
    {
        *("a", "an", "and", "are", "as", "at", "be", "by", "can", "for", "from", "has"),
        *("have", "in", "into", "is", "it", "its", "of", "on", "or", "our", "over", "such"),
        *("than", "that", "the", "their", "these", "this", "to", "we", "which", "with"),
        *("without", "while", "via", "using", "use", "used", "based", "new", "paper"),
        *("propose", "proposed", "show", "shows", "results", "method", "methods", "approach"),
    }
)
_KW = "__keyword_score__"


def tokens(text: str) -> list[str]:
    """Stemmed words without stopwords, and their bigrams (``early exit`` is one feature)."""
    words = [stem(w) for w in re.findall(r"[a-z][a-z0-9]+", text.lower()) if w not in _STOPWORDS]
    return words + [f"{a} {b}" for a, b in itertools.pairwise(words)]


def _text(paper: dict[str, Any]) -> str:
    return " ".join(str(paper.get(k) or "") for k in ("title", "title", "abstract", "tldr"))


@dataclass
class Vectorizer:
    """TF-IDF with sublinear term frequency and unit length, over a fixed vocabulary."""

    idf: dict[str, float]

    @classmethod
    def fit(cls, docs: Iterable[list[str]]) -> Vectorizer:
        df: Counter[str] = Counter()
        n = 0
        for doc in docs:
            n += 1
            df.update(set(doc))
        # Terms seen once carry no signal across papers and bloat the model.
        return cls({t: math.log((1 + n) / (1 + c)) + 1 for t, c in df.items() if c > 1})

    def transform(self, doc: list[str]) -> dict[str, float]:
        counts = Counter(t for t in doc if t in self.idf)
        vec = {t: (1 + math.log(c)) * self.idf[t] for t, c in counts.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        return {t: v / norm for t, v in vec.items()}


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1 / (1 + math.exp(-z))
    e = math.exp(z)
    return e / (1 + e)


@dataclass
class LogisticModel:
    """Binary logistic regression trained by SGD with L2 and balanced class weights."""

    weights: dict[str, float] = field(default_factory=dict)
    bias: float = 0.0

    @classmethod
    def fit(
        cls,
        xs: list[dict[str, float]],
        ys: list[int],
        *,
        epochs: int = 60,
        rate: float = 1.0,
        l2: float = 1e-3,
        seed: int = 0,
    ) -> LogisticModel:
        model = cls()
        positives = sum(ys) or 1
        negatives = (len(ys) - sum(ys)) or 1
        class_weight = {1: len(ys) / (2 * positives), 0: len(ys) / (2 * negatives)}
        order = list(range(len(xs)))
        rng = random.Random(seed)  # deterministic: the same decisions give the same ranking
        for epoch in range(epochs):
            rng.shuffle(order)
            step = rate / (1 + epoch)
            for i in order:
                x, y = xs[i], ys[i]
                error = (model.predict(x) - y) * class_weight[y]
                model.bias -= step * error
                for t, v in x.items():
                    w = model.weights.get(t, 0.0)
                    model.weights[t] = w - step * (error * v + l2 * w)
        return model

    def predict(self, x: dict[str, float]) -> float:
        return _sigmoid(self.bias + sum(self.weights.get(t, 0.0) * v for t, v in x.items()))

    def top_terms(self, x: dict[str, float], n: int = 3) -> list[str]:
        scored = sorted(
            ((self.weights.get(t, 0.0) * v, t) for t, v in x.items() if t != _KW), reverse=True
        )
        return [t for s, t in scored[:n] if s > 0]


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(t, 0.0) for t, v in a.items())


@dataclass
class Ranker:
    """Relevance and category suggestions for papers, learned from decisions when there are."""

    vectorizer: Vectorizer | None = None
    model: LogisticModel | None = None
    centroids: dict[str, dict[str, float]] = field(default_factory=dict)
    keyword: dict[int, dict[str, float]] = field(default_factory=dict)
    centroid_weight: float = 2.0

    @property
    def trained(self) -> bool:
        return self.model is not None

    @classmethod
    def train(cls, db: Database, seeds: Seeds) -> Ranker:
        """Learn from accepted (seed papers included) and rejected papers in ``db``."""
        labelled = store.papers.decided_papers(db)
        accepted = [p for p in labelled if p["status"] == "accepted"]
        rejected = [p for p in labelled if p["status"] == "rejected"]
        if len(accepted) < 1:
            return cls()
        docs = [tokens(_text(p)) for p in store.papers.texts(db)]
        vectorizer = Vectorizer.fit(docs)
        ranker = cls(vectorizer=vectorizer)
        ranker.keyword = store.papers.category_scores(db)
        by_category: dict[str, list[dict[str, float]]] = {}
        for paper in accepted:
            if paper["category"] in seeds.categories:
                by_category.setdefault(paper["category"], []).append(ranker._vector(paper))
        for key, vectors in by_category.items():
            total: Counter[str] = Counter()
            for vec in vectors:
                total.update({t: v for t, v in vec.items() if t != _KW})
            norm = math.sqrt(sum(v * v for v in total.values())) or 1.0
            ranker.centroids[key] = {t: v / norm for t, v in total.items()}
        if len(accepted) >= MIN_EACH_CLASS and len(rejected) >= MIN_EACH_CLASS:
            xs = [ranker._vector(p) for p in labelled]
            ys = [int(p["status"] == "accepted") for p in labelled]
            ranker.model = LogisticModel.fit(xs, ys)
        return ranker

    def _vector(self, paper: dict[str, Any]) -> dict[str, float]:
        assert self.vectorizer is not None
        vec = self.vectorizer.transform(tokens(_text(paper)))
        # The cold-start score stays one feature among the words, squashed to [-1, 1].
        vec[_KW] = math.tanh((paper.get("score") or 0.0) / 10)
        return vec

    def relevance(self, paper: dict[str, Any]) -> float:
        """Probability of acceptance, or the squashed keyword score before any training."""
        if self.model is None:
            return (math.tanh((paper.get("score") or 0.0) / 10) + 1) / 2
        return self.model.predict(self._vector(paper))

    def suggest_category(self, paper: dict[str, Any]) -> str | None:
        """Keyword evidence and likeness to each category's accepted papers, together.

        Each category scores its keyword score relative to the paper's best, plus
        ``centroid_weight`` times the cosine to the centroid of its accepted papers.
        """
        if not self.centroids or self.vectorizer is None:
            return paper.get("category")
        keyword = self.keyword.get(paper.get("id", -1), {})
        top = max((v for v in keyword.values() if v > 0), default=1.0)
        vec = self._vector(paper)
        candidates = set(self.centroids) | {k for k, v in keyword.items() if v > 0}
        if not candidates:
            return paper.get("category")

        def score(key: str) -> tuple[float, str]:
            near = _cosine(vec, self.centroids[key]) if key in self.centroids else 0.0
            return max(keyword.get(key, 0.0), 0.0) / top + self.centroid_weight * near, key

        return max(candidates, key=score)

    def explain(self, paper: dict[str, Any]) -> str:
        if self.model is None:
            return ""
        vec = self._vector(paper)
        terms = ", ".join(repr(t) for t in self.model.top_terms(vec))
        probability = self.model.predict(vec)
        return f"model: {probability:.0%} likely accepted" + (f" ({terms})" if terms else "")


def roc_auc(scores: list[float], labels: list[int]) -> float:
    """Area under the ROC curve: the chance a positive ranks above a negative (ties half)."""
    pairs = sorted(zip(scores, labels, strict=True))
    positives = sum(labels)
    negatives = len(labels) - positives
    if not positives or not negatives:
        raise ValueError("need both positives and negatives")
    rank_sum = 0.0
    i = 0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            j += 1
        mean_rank = (i + j + 1) / 2  # 1-based ranks i+1..j
        rank_sum += mean_rank * sum(label for _, label in pairs[i:j])
        i = j
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)
