"""Relevance and category: two questions, answered from what the seeds know and what the
reviewer decided.

**Relevance** ("is this a dynamic-network paper?") orders the queue. A paper is described by
``PaperFeatures``: its words (TF-IDF over title and abstract with TL;DR, words and word pairs),
the keyword evidence that it is about the field, the categories whose queries found it, its
venue, and the papers it cites or is cited by. Before any decision, a prior scores it: a
logistic regression trained on prototypes of the field (the seed papers, each category's
description and field phrases, against the curator's look-alike phrases), plus the keyword
evidence, the query hits and the links to decided papers. Decisions train a second logistic
regression over all the features, the prior's score among them; while decisions are few or
one-sided the prior is blended in, and the model takes over as decisions of both kinds
accumulate.

Words that only pick a section ("survey", "compiler", "accelerator", "runtime", "hardware")
say nothing about relevance: a survey of dynamic graphs is no more relevant for being a
survey, so those words are left out of the relevance features altogether.

**Category** ("which section?") is the keyword classifier's section rule (for a paper no
keyword places, the category whose description it is most like) until a category has
``MIN_CATEGORY_ACCEPTED`` accepted papers; from then on, a model learned from the accepted
papers of such categories may file a paper under one of them when it is sure.

Everything here is a pure function of plain rows, features and decisions: the caller (the
store, a bench, a test) supplies them, and nothing here reads a database.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from scipy import sparse
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from harvester.classify import phrase_key
from harvester.classify import stem as stem_word
from harvester.features import (
    Decision,
    PaperFeatures,
    Scored,
    explain,
    keyword_category,
    keyword_relevance,
    most_likely_first,
    paper_features,
    uncertain_first,
    vocabulary,
)
from harvester.seeds import Seeds

__all__ = [
    "CategoryModel",
    "Decision",
    "PaperFeatures",
    "Prior",
    "Ranker",
    "Scored",
    "explain",
    "keyword_category",
    "keyword_relevance",
    "most_likely_first",
    "paper_features",
    "suggest_categories",
    "suggest_category",
    "uncertain_first",
    "vocabulary",
]

# A category's own learned model files papers only once it has this many accepted papers: one
# seed paper is no picture of a section ("Dynamic Neural Networks: A Survey" is no System
# paper for sharing words with Cavs).
MIN_CATEGORY_ACCEPTED = 5
# Title and body are each a unit vector, side by side: the ten words of a title weigh as much
# as the hundred of an abstract, since they say the same in fewer words.
TITLE_WEIGHT = 1.0
# How many decisions of the scarcer kind make the learned model as trusted as the prior.
PRIOR_DECISIONS = 12
# The prior's log-odds: the text model's, plus these weights on the keyword evidence (squashed
# to [-1, 1]), on having been found by a seed query at all, and per log of the accepted
# papers it cites and of the rejected papers it is linked to (look-alikes cite each other).
PRIOR_KEYWORD_WEIGHT = 2.0
PRIOR_FOUND_WEIGHT = 1.0
PRIOR_LINK_WEIGHT = 1.0
KEYWORD_SCALE = 10.0
# Regularisation of the learned model (scikit-learn's C: larger trusts the decisions more).
LEARNED_C = 1.0
# Decisions of the scarcer kind from which the learned model's probabilities are calibrated
# (Platt scaling over folds of the decisions), and how many folds.
CALIBRATE_FROM = 10
CALIBRATION_FOLDS = 3
# Regularisation of the learned category model.
CATEGORY_C = 1.0

_WORD_RE = re.compile(r"[a-z][a-z0-9]+")
# Function words and the boilerplate of abstracts; written here rather than taken from
# scikit-learn's list, which drops words the field uses ("side" branches, "first" exit).
STOPWORDS = frozenset(
    {
        *("a", "an", "and", "are", "as", "at", "be", "by", "can", "for", "from", "has"),
        *("have", "in", "into", "is", "it", "its", "of", "on", "or", "our", "over", "such"),
        *("than", "that", "the", "their", "these", "this", "to", "we", "which", "with"),
        *("while", "via", "using", "use", "used", "based", "new", "paper", "also", "both"),
        *("propose", "proposed", "show", "shows", "results", "method", "methods", "approach"),
        *("been", "but", "not", "they", "them", "how", "when", "where", "each", "more"),
    }
)


class _Tokens:
    """Stemmed words without stopwords or section-only words (a class, not a closure, so a
    trained ranking can be pickled into a cache)."""

    def __init__(self, drop: frozenset[str]) -> None:
        self.drop = drop

    def __call__(self, text: str) -> list[str]:
        words = (stem_word(w) for w in _WORD_RE.findall(text.lower()) if w not in STOPWORDS)
        return [w for w in words if w not in self.drop]


def _vectorizer(drop: frozenset[str]) -> TfidfVectorizer:
    return TfidfVectorizer(
        tokenizer=_Tokens(drop),
        token_pattern=None,
        lowercase=False,
        ngram_range=(1, 2),
        sublinear_tf=True,
        dtype=np.float64,
    )


def _text_sum(paper: PaperFeatures) -> int:
    """A checksum of the text the words are made of (stable across processes, unlike
    ``hash``)."""
    return zlib.crc32(f"{paper.title}\0{paper.body}".encode())


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.asarray(1 / (1 + np.exp(-np.clip(z, -50, 50))))


def _one_thread() -> threadpool_limits:
    """BLAS on one thread: the problems are small, and on a busy machine (a harvest beside
    the review page, two CPUs) threads spinning for each other made a fit 100 times slower."""
    return threadpool_limits(limits=1, user_api="blas")


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return np.asarray(np.log(p / (1 - p)))


# --- the ranking --------------------------------------------------------------------------------


@dataclass
class Prior:
    """What the seeds know, before any decision: the vocabulary of the papers and a text model
    of the field trained on the seeds' prototypes.

    It depends on the papers and the seed papers only, so a caller keeps it while decisions
    come and go and hands it to ``Ranker.train``.
    """

    title_vec: TfidfVectorizer
    body_vec: TfidfVectorizer
    text_model: LogisticRegression
    # The words of the papers it was fitted on, transformed once: scoring the queue after
    # each decision then costs no tokenising. By paper id, its row and a checksum of its
    # title and body (not the features themselves: kept beside the database, they made the
    # prior's pickle 18 MB and two seconds longer to load).
    _rows: dict[int, tuple[int, int]] = field(default_factory=dict, repr=False)
    _words: sparse.csr_matrix | None = field(default=None, repr=False)
    # ``feature_names``, made on first use: listing a vocabulary of word pairs costs more
    # than the rest of naming one paper's strongest words.
    _names: list[str] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def fit(
        cls, seeds: Seeds, papers: Sequence[PaperFeatures], seed_papers: Sequence[PaperFeatures]
    ) -> Prior:
        """Fit the vocabulary on ``papers`` (every paper of the store: the queue's words are
        what weights them) and the text model on the prototypes (see ``prototypes``)."""
        drop = vocabulary(seeds).section_words
        positive, negative = prototypes(seeds, seed_papers)
        protos = positive + negative
        title_vec = _vectorizer(drop).fit([p.title for p in papers] + [t for t, _ in protos])
        body_vec = _vectorizer(drop).fit([p.body for p in papers] + [b for _, b in protos])
        prior = cls(title_vec, body_vec, LogisticRegression(C=1.0, class_weight="balanced"))
        x = prior._transform([t for t, _ in protos], [b for _, b in protos])
        with _one_thread():
            prior.text_model.fit(x, [1] * len(positive) + [0] * len(negative))
        prior._words = prior._transform([p.title for p in papers], [p.body for p in papers])
        prior._rows = {p.paper_id: (i, _text_sum(p)) for i, p in enumerate(papers)}
        return prior

    def _transform(self, titles: list[str], bodies: list[str]) -> sparse.csr_matrix:
        return sparse.hstack(
            [TITLE_WEIGHT * self.title_vec.transform(titles), self.body_vec.transform(bodies)]
        ).tocsr()

    def words(self, papers: Sequence[PaperFeatures]) -> sparse.csr_matrix:
        """TF-IDF of title (weighted) and body, words and word pairs, side by side."""
        rows = [self._rows.get(p.paper_id) for p in papers]
        if self._words is not None and all(
            r is not None and r[1] == _text_sum(p) for r, p in zip(rows, papers, strict=True)
        ):
            return self._words[[r[0] for r in rows if r is not None]]
        return self._transform([p.title for p in papers], [p.body for p in papers])

    def feature_names(self) -> list[str]:
        """The word features' names, title's then body's (a word may be in both)."""
        if self._names is None:
            self._names = [
                *self.title_vec.get_feature_names_out().tolist(),
                *self.body_vec.get_feature_names_out().tolist(),
            ]
        return self._names

    def logit(
        self, words: sparse.csr_matrix, keyword_relevance: np.ndarray, found: np.ndarray
    ) -> np.ndarray:
        """The cold-start log-odds of papers from their words, keyword evidence and having
        been found (1 or 0): text likeness to the prototypes, keyword evidence of the field,
        and having been found by a seed query."""
        if not words.shape[0]:
            return np.zeros(0)
        text = self.text_model.decision_function(words)
        keyword = np.tanh(keyword_relevance / KEYWORD_SCALE)
        return np.asarray(text + PRIOR_KEYWORD_WEIGHT * keyword + PRIOR_FOUND_WEIGHT * found)


@dataclass
class Table:
    """Every paper's features as the ranking reads them, in arrays: made once per state of the
    papers (with the prior), so that training on a new decision and scoring the whole queue
    after it read no feature records and loop over no papers.

    What depends on decisions (the links to accepted and rejected papers) is counted from
    the citation edges kept here; the rest (words, the prior's log-odds, keyword evidence,
    the categories that found a paper, its venue) is fixed.
    """

    ids: list[int]
    row: dict[int, int]
    s2_ids: list[str | None]
    # The prior's words of each row (None in the kept copy: see ``without_words``).
    words: sparse.csr_matrix | None
    # The keyword evidence, its cell (``tanh(keyword_relevance / KEYWORD_SCALE)``, made as
    # the per-paper cells were) and having been found, per row.
    keyword_relevance: np.ndarray
    keyword: np.ndarray
    found: np.ndarray
    # Venue -> column, in order of first appearance among the papers.
    venues: dict[str, int]
    # The cells after the first five (the categories that found a paper, its venue), per row
    # as in a CSR matrix: row r's are ``fixed_cols[fixed_at[r]:fixed_at[r + 1]]``.
    fixed_at: np.ndarray
    fixed_cols: np.ndarray
    fixed_vals: np.ndarray
    # Citation edges by row and by the other paper's Semantic Scholar id (its code in
    # ``s2_codes``): the papers each cites, and each one's neighbours (cites or cited by).
    s2_codes: dict[str, int]
    cites_row: np.ndarray
    cites_code: np.ndarray
    near_row: np.ndarray
    near_code: np.ndarray

    @classmethod
    def of(
        cls,
        prior: Prior,
        papers: Sequence[PaperFeatures],
        categories: Sequence[str],
        venues: dict[str, int] | None = None,
    ) -> Table:
        """The table of ``papers``; ``venues`` are numbered from them unless given."""
        if venues is None:
            venues = {}
            for paper in papers:
                if paper.venue and paper.venue not in venues:
                    venues[paper.venue] = len(venues)
        index = {key: i for i, key in enumerate(categories)}
        n = len(index)
        words = prior.words(papers)
        fixed_at = [0]
        fixed_cols: list[int] = []
        codes: dict[str, int] = {}
        cites_row: list[int] = []
        cites_code: list[int] = []
        near_row: list[int] = []
        near_code: list[int] = []
        for r, paper in enumerate(papers):
            # Sorted as the columns of a canonical CSR row: the matrices come out as the
            # per-paper ones did, cell for cell.
            cells = sorted(5 + index[key] for key in paper.found_by)
            if paper.venue in venues:
                cells.append(5 + n + venues[paper.venue])
            fixed_cols += cells
            fixed_at.append(len(fixed_cols))
            for s2 in paper.cites:
                cites_row.append(r)
                cites_code.append(codes.setdefault(s2, len(codes)))
            for s2 in paper.cites | paper.cited_by:
                near_row.append(r)
                near_code.append(codes.setdefault(s2, len(codes)))
        return cls(
            ids=[p.paper_id for p in papers],
            row={p.paper_id: r for r, p in enumerate(papers)},
            s2_ids=[p.s2_id for p in papers],
            words=words,
            keyword_relevance=np.array([p.keyword_relevance for p in papers], dtype=float),
            keyword=np.array([math.tanh(p.keyword_relevance / KEYWORD_SCALE) for p in papers]),
            found=np.array([1.0 if p.found_by else 0.0 for p in papers]),
            venues=venues,
            fixed_at=np.array(fixed_at, dtype=np.int64),
            fixed_cols=np.array(fixed_cols, dtype=np.int64),
            fixed_vals=np.ones(len(fixed_cols)),
            s2_codes=codes,
            cites_row=np.array(cites_row, dtype=np.int64),
            cites_code=np.array(cites_code, dtype=np.int64),
            near_row=np.array(near_row, dtype=np.int64),
            near_code=np.array(near_code, dtype=np.int64),
        )

    def without_words(self) -> Table:
        """The table as kept on disk: the words are the prior's, kept in its own file."""
        return replace(self, words=None)

    def with_words(self, prior: Prior) -> Table:
        """A kept table with its words again, from the prior it was made with."""
        assert prior._words is not None
        rows = [prior._rows[pid][0] for pid in self.ids]
        return replace(self, words=prior._words[rows])

    def links(self, accepted_s2: frozenset[str], rejected_s2: frozenset[str]) -> np.ndarray:
        """Per row: the accepted papers it cites, the rejected papers it is linked to."""

        def counts(ids: frozenset[str], rows: np.ndarray, codes: np.ndarray) -> np.ndarray:
            wanted = np.zeros(len(self.s2_codes) + 1, dtype=bool)
            at = [self.s2_codes[s] for s in ids if s in self.s2_codes]
            wanted[np.array(at, dtype=np.int64)] = True
            return np.bincount(rows[wanted[codes]], minlength=len(self.ids))

        return np.column_stack(
            [
                counts(accepted_s2, self.cites_row, self.cites_code),
                counts(rejected_s2, self.near_row, self.near_code),
            ]
        )


@dataclass
class Ranker:
    """The relevance ranking, trained on decisions over a prior.

    Build it with ``Ranker.train``; it scores any papers with ``score``. Training is
    deterministic: the same papers and decisions give the same probabilities.
    """

    prior: Prior
    categories: tuple[str, ...]
    venues: dict[str, int]
    accepted_s2: frozenset[str]
    rejected_s2: frozenset[str]
    model: LogisticRegression | CalibratedClassifierCV | None = None
    # The learned model's share of the log-odds, 0 before decisions of both kinds.
    trust: float = 0.0
    # The feature columns the learned model reads (see ``train``), in the matrix's order.
    columns: np.ndarray | None = None

    @classmethod
    def train(
        cls,
        seeds: Seeds,
        papers: Sequence[PaperFeatures],
        decisions: Sequence[Decision],
        *,
        prior: Prior | None = None,
        table: Table | None = None,
    ) -> Ranker:
        """Train on the decided ``papers``; ``prior`` is fitted here when not given.

        ``table`` (``Table.of`` the papers, with ``prior``) stands for ``papers`` when given:
        a caller that keeps both retrains after a decision without a feature record.
        """
        if table is None:
            if prior is None:
                by_id = {p.paper_id: p for p in papers}
                seed_papers = [
                    by_id[d.paper_id]
                    for d in decisions
                    if d.paper_id in by_id and d.seed and d.accepted
                ]
                prior = Prior.fit(seeds, papers, seed_papers)
            table = Table.of(prior, papers, tuple(seeds.categories))
        elif prior is None:
            raise ValueError("a table is read with the prior it was made with")
        decided = [d for d in decisions if d.paper_id in table.row]

        def s2_ids(accepted: bool) -> frozenset[str]:
            ids = (table.s2_ids[table.row[d.paper_id]] for d in decided if d.accepted == accepted)
            return frozenset(s for s in ids if s)

        ranker = cls(prior, tuple(seeds.categories), table.venues, s2_ids(True), s2_ids(False))
        accepted = sum(1 for d in decided if d.accepted and not d.seed)
        rejected = sum(1 for d in decided if not d.accepted)
        if accepted and rejected:
            rows = np.array([table.row[d.paper_id] for d in decided], dtype=np.int64)
            x, _ = ranker._matrix(table, rows)
            # Only the columns some decided paper has a value in: any other would be fitted
            # to a weight of exactly zero (its only gradient is the penalty's), and the
            # optimiser's every step is as long as the columns (40,000 words and word pairs
            # at 20,000 papers, of which 500 decisions use 3,000): the same model, 2-4 times
            # faster to fit.
            ranker.columns = np.unique(x.indices)
            x = x[:, ranker.columns]
            ys = [int(d.accepted) for d in decided]
            scarce = min(accepted, rejected)
            linear = LogisticRegression(C=LEARNED_C, class_weight="balanced", max_iter=2000)
            if scarce >= CALIBRATE_FROM:
                # Balanced class weights move the probabilities; Platt scaling on held-out
                # folds (unshuffled, so deterministic) puts them back to the decisions' odds.
                model: LogisticRegression | CalibratedClassifierCV = CalibratedClassifierCV(
                    linear, method="sigmoid", cv=CALIBRATION_FOLDS
                )
            else:
                model = linear
            with _one_thread():
                ranker.model = model.fit(x, ys)
            ranker.trust = scarce / (scarce + PRIOR_DECISIONS)
        return ranker

    def links(self, paper: PaperFeatures) -> tuple[int, int]:
        """Accepted papers it cites; rejected papers it cites or is cited by."""
        return (
            len(paper.cites & self.accepted_s2),
            len((paper.cites | paper.cited_by) & self.rejected_s2),
        )

    def _matrix(
        self, table: Table, rows: np.ndarray | None = None
    ) -> tuple[sparse.csr_matrix, np.ndarray]:
        """The features of the table's ``rows`` (all by default), and their base log-odds:
        the prior's, with the links to decided papers at fixed weights (what the ranking
        says before it has learned anything of its own)."""
        assert table.words is not None
        words = table.words if rows is None else table.words[rows]
        every = table.links(self.accepted_s2, self.rejected_s2)
        picked = every if rows is None else every[rows]
        links = picked.astype(float).reshape(-1, 2)
        keyword_relevance = (
            table.keyword_relevance if rows is None else table.keyword_relevance[rows]
        )
        found = table.found if rows is None else table.found[rows]
        prior = self.prior.logit(words, keyword_relevance, found)
        link = PRIOR_LINK_WEIGHT * (np.log1p(links[:, 0]) - np.log1p(links[:, 1]))
        base = np.asarray(prior + link)
        others = self._others(table, rows, base, picked)
        return sparse.hstack([words, others]).tocsr(), base

    def _others(
        self, table: Table, rows: np.ndarray | None, base: np.ndarray, links: np.ndarray
    ) -> sparse.csr_matrix:
        """Every feature beyond the words: keyword evidence, the base log-odds, having been
        found, links to accepted and to rejected papers, each category that found it, venue
        (the columns in that order; a cell that is zero is left out)."""
        if rows is None:
            rows = np.arange(len(table.ids), dtype=np.int64)
        m = len(rows)
        # ``math.log1p`` of each count, as the cells always were.
        log1p = np.array([math.log1p(k) for k in range(int(links.max(initial=0)) + 1)])
        first = np.column_stack(
            [
                table.keyword[rows],
                base / 4,
                table.found[rows],
                log1p[links[:, 0]],
                log1p[links[:, 1]],
            ]
        ).reshape(m, 5)
        first_rows = np.repeat(np.arange(m), 5)
        first_cols = np.tile(np.arange(5), m)
        starts = table.fixed_at[rows]
        counts = table.fixed_at[rows + 1] - starts
        at = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))
        row_of = np.concatenate([first_rows, np.repeat(np.arange(m), counts)])
        cols = np.concatenate([first_cols, table.fixed_cols[at]])
        values = np.concatenate([first.ravel(), table.fixed_vals[at]])
        keep = values != 0
        row_of, cols, values = row_of[keep], cols[keep], values[keep]
        order = np.lexsort((cols, row_of))
        indptr = np.concatenate([[0], np.cumsum(np.bincount(row_of, minlength=m))])
        shape = (m, 5 + len(self.categories) + len(self.venues))
        return sparse.csr_matrix((values[order], cols[order], indptr), shape=shape)

    def _learned_logit(self, x: sparse.csr_matrix) -> np.ndarray:
        assert self.model is not None
        if self.columns is not None:
            x = x[:, self.columns]
        if isinstance(self.model, CalibratedClassifierCV):
            return _logit(self.model.predict_proba(x)[:, 1])
        return np.asarray(self.model.decision_function(x))

    def score_table(self, table: Table) -> tuple[np.ndarray, np.ndarray]:
        """Each row's probability of being relevant, and the base's alone: the base
        log-odds, blended with the learned model's as far as the decisions let it be
        trusted."""
        if not table.ids:
            return np.zeros(0), np.zeros(0)
        x, base = self._matrix(table)
        logit = base
        if self.model is not None:
            logit = (1 - self.trust) * base + self.trust * self._learned_logit(x)
        return _sigmoid(logit), _sigmoid(base)

    def score(self, papers: Sequence[PaperFeatures]) -> list[Scored]:
        """``score_table`` of these papers, as records."""
        if not papers:
            return []
        table = Table.of(self.prior, papers, self.categories, venues=self.venues)
        probability, prior = self.score_table(table)
        return [
            Scored(p.paper_id, float(probability[i]), float(prior[i])) for i, p in enumerate(papers)
        ]

    def explain(self, paper: PaperFeatures, seeds: Seeds) -> str:
        """Why a paper scores as it does, in one line: for the rows a reader is shown only,
        since it costs a scoring of its own."""
        return explain(
            seeds,
            paper,
            self.score([paper])[0],
            trust=self.trust if self.model is not None else None,
            links=self.links(paper),
            words=self.top_words(paper),
        )

    def _word_weights(self, coef: np.ndarray, words: int) -> np.ndarray:
        """The learned weight of each of the ``words`` word columns (zero where the model
        reads no such column)."""
        if self.columns is None:
            return coef[:words]
        weights = np.zeros(words)
        read = self.columns < words
        weights[self.columns[read]] = coef[: int(read.sum())]
        return weights

    def top_words(self, paper: PaperFeatures, n: int = 3) -> list[str]:
        """The words and word pairs of the paper that weigh most for relevance."""
        x = self.prior.words([paper])
        if isinstance(self.model, LogisticRegression):
            coef = self._word_weights(self.model.coef_[0], x.shape[1])
        elif isinstance(self.model, CalibratedClassifierCV):
            coef = np.mean(
                [
                    self._word_weights(c.estimator.coef_[0], x.shape[1])
                    for c in self.model.calibrated_classifiers_
                ],
                axis=0,
            )
        else:
            coef = self.prior.text_model.coef_[0]
        names = self.prior.feature_names()
        row = x.tocoo()
        weighed = sorted(
            ((v * coef[j], names[j]) for j, v in zip(row.col, row.data, strict=True)),
            reverse=True,
        )
        # A word of both title and body is one word to a reader.
        shown: list[str] = []
        for weight, name in weighed:
            if weight <= 0 or len(shown) == n:
                break
            if name not in shown:
                shown.append(name)
        return shown


def prototypes(
    seeds: Seeds, seed_papers: Sequence[PaperFeatures] = ()
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(title, body) documents for the prior: the field as the seeds describe it, against the
    curator's look-alikes.

    Positive: every seed paper, and every category as its description with its field
    phrases; negative: every look-alike phrase of ``classify.toml``, alone.
    """
    vocab = vocabulary(seeds)
    positive = [(p.title, p.body) for p in seed_papers]
    for category in seeds.categories.values():
        phrases = [phrase for phrase in category.keywords if phrase_key(phrase) in vocab.field]
        description = category.description or category.name
        positive.append((description, ". ".join([description, *phrases])))
    negative = [(phrase, phrase) for phrase in seeds.rules.negative]
    return positive, negative


# --- categories ---------------------------------------------------------------------------------


# How sure the learned category model must be to overrule the keyword rule. Cross-validated over
# the accepted papers of the field corpus's dev split (5 folds, models of 30, 60, 100 and about
# 170 papers): no threshold below 0.5 did better than the rule alone, and 0.5 to 0.7 made the
# same picks as the rule. The model reads the rule's keyword shares among its features, so it
# mostly agrees with the rule, and where it does not it is rarely this sure.
CONFIDENT = 0.7
_OTHER = ""


def meta_cells(paper: PaperFeatures) -> dict[str, float]:
    """Venue and arXiv subject classes as named indicators: systems, compilers and hardware
    have venues and classes of their own (OSDI, ISCA, cs.AR)."""
    cells = {f"arxiv={c}": 1.0 for c in paper.arxiv_classes}
    if paper.venue:
        cells[f"venue={paper.venue}"] = 1.0
    return cells


def category_columns(
    seeds: Seeds, prior: Prior, meta_vec: DictVectorizer, papers: Sequence[PaperFeatures]
) -> sparse.csr_matrix:
    """What a category model reads of each paper: its words, the keyword rule's score of each
    category as a share of its best one, and its venue and arXiv classes (``meta_cells``)."""
    keys = list(seeds.categories)
    shares = np.zeros((len(papers), len(keys)))
    for r, paper in enumerate(papers):
        top = max((s for _, s in paper.category_scores), default=0.0)
        for key, score in paper.category_scores:
            if top > 0 and score > 0 and key in keys:
                shares[r, keys.index(key)] = score / top
    return sparse.hstack(
        [
            prior.words(papers),
            sparse.csr_matrix(shares),
            meta_vec.transform([meta_cells(p) for p in papers]),
        ]
    ).tocsr()


@dataclass
class CategoryModel:
    """Which section, learned from accepted papers, for the categories that have enough; and
    the seeds' own description of each section, for papers no keyword places.

    The words are the ``Prior``'s, transformed once for every paper: filing the whole queue
    after a decision is then one sparse product, not a tokenising of every abstract.
    """

    described: tuple[str, ...]
    description_vec: TfidfVectorizer
    descriptions: sparse.csr_matrix
    prior: Prior | None = None
    learned: tuple[str, ...] = ()
    meta_vec: DictVectorizer | None = None
    model: LogisticRegression | None = None

    @classmethod
    def train(
        cls,
        seeds: Seeds,
        papers: Sequence[PaperFeatures],
        decisions: Sequence[Decision],
        *,
        min_accepted: int = MIN_CATEGORY_ACCEPTED,
        prior: Prior | None = None,
    ) -> CategoryModel:
        """Learn from accepted papers, once at least one category has ``min_accepted`` and
        there is something to tell it from (another such category, or accepted papers of
        the rest, which the model learns as "not one of mine"). ``prior`` gives the words
        (fitted here when not given)."""
        described = tuple(seeds.categories)
        docs = [
            ". ".join([c.description or c.name, *c.keywords]) for c in seeds.categories.values()
        ]
        description_vec = _vectorizer(frozenset()).fit(docs)
        built = cls(described, description_vec, description_vec.transform(docs))
        by_id = {p.paper_id: p for p in papers}
        accepted = [
            (by_id[d.paper_id], d.category)
            for d in decisions
            if d.accepted and d.category in seeds.categories and d.paper_id in by_id
        ]
        counts: dict[str, int] = {}
        for _, key in accepted:
            assert key is not None
            counts[key] = counts.get(key, 0) + 1
        learned = tuple(k for k in seeds.categories if counts.get(k, 0) >= min_accepted)
        classes = [key if key in learned else _OTHER for _, key in accepted]
        if not learned or len(set(classes)) < 2:
            return built
        if prior is None:
            seed_papers = [by_id[d.paper_id] for d in decisions if d.seed and d.paper_id in by_id]
            prior = Prior.fit(seeds, papers, seed_papers)
        shown = [p for p, _ in accepted]
        built.prior = prior
        built.learned = learned
        built.meta_vec = DictVectorizer().fit([meta_cells(p) for p in shown])
        model = LogisticRegression(C=CATEGORY_C, class_weight="balanced", max_iter=2000)
        with _one_thread():
            built.model = model.fit(built._matrix(seeds, shown), classes)
        return built

    @staticmethod
    def learns_from(decisions: Sequence[Decision]) -> tuple[tuple[int, str | None], ...]:
        """What of the decisions ``train`` reads: the accepted papers and their categories.
        While these stay the same (a rejection, most decisions) a trained model and its
        suggestions can be kept; whoever changes ``train`` keeps this true."""
        return tuple(sorted((d.paper_id, d.category) for d in decisions if d.accepted))

    def _matrix(self, seeds: Seeds, papers: Sequence[PaperFeatures]) -> sparse.csr_matrix:
        assert self.prior is not None and self.meta_vec is not None
        return category_columns(seeds, self.prior, self.meta_vec, papers)

    def probabilities(self, seeds: Seeds, paper: PaperFeatures) -> dict[str, float]:
        """Each learned category's probability ("" for "another category"), or nothing."""
        return self.probabilities_of(seeds, [paper])[0]

    def probabilities_of(
        self, seeds: Seeds, papers: Sequence[PaperFeatures]
    ) -> list[dict[str, float]]:
        """``probabilities`` of many papers, in one product."""
        if self.model is None or not papers:
            return [{} for _ in papers]
        with _one_thread():
            rows = self.model.predict_proba(self._matrix(seeds, papers))
        classes = [str(c) for c in self.model.classes_]
        return [dict(zip(classes, map(float, row), strict=True)) for row in rows]

    def nearest_description(self, paper: PaperFeatures) -> str | None:
        """The category whose description and keywords the paper's words are most like."""
        words = self.description_vec.transform([f"{paper.title}. {paper.body}"])
        likeness = (self.descriptions @ words.T).toarray().ravel()
        if not likeness.size or likeness.max() <= 0:
            return None
        return self.described[int(np.argmax(likeness))]


def suggest_category(
    seeds: Seeds, paper: PaperFeatures, model: CategoryModel | None = None
) -> str | None:
    """The category the ranking proposes for one paper on its own words (no neighbours to
    vote): ``suggest_categories`` of that paper alone."""
    return suggest_categories(seeds, [paper], model)[paper.paper_id]


def suggest_categories(
    seeds: Seeds,
    papers: Sequence[PaperFeatures],
    model: CategoryModel | None = None,
    filed: Mapping[int, str] | None = None,
) -> dict[int, str | None]:
    """The category the ranking proposes for each of ``papers``.

    The keyword section rule (``keyword_category``) over the paper's own words, with a vote
    of its citation neighbours among ``papers``: each paper it cites or is cited by counts
    for the category it is filed under (``filed``, the accepted papers' categories) or, not
    yet decided, the one its own words give. The vote is read from the neighbours' words
    alone, never from their votes, so one pass decides it and no paper's category depends
    on the order of the papers. For a paper nothing places, the category whose description
    it is most like. Once ``model`` has learned categories (each with
    ``MIN_CATEGORY_ACCEPTED`` accepted papers: a seed paper alone never makes one), its pick
    among them replaces the rule's when it is sure (``CONFIDENT``), and never replaces a more
    specific section (higher ``priority``): a survey of dynamic networks stays a Survey.
    """
    filed = filed or {}
    words = {p.paper_id: keyword_category(seeds, p) for p in papers}
    own = {pid: filed.get(pid) or category for pid, category in words.items()}
    by_s2 = {p.s2_id: own[p.paper_id] for p in papers if p.s2_id}
    probabilities = (
        model.probabilities_of(seeds, papers) if model is not None else [{} for _ in papers]
    )
    out: dict[int, str | None] = {}
    for paper, probs in zip(papers, probabilities, strict=True):
        votes: dict[str, int] = {}
        for ref in paper.cites | paper.cited_by:
            neighbour = by_s2.get(ref)
            if neighbour is not None:
                votes[neighbour] = votes.get(neighbour, 0) + 1
        rule = keyword_category(seeds, paper, votes) if votes else words[paper.paper_id]
        if rule is None and model is not None:
            rule = model.nearest_description(paper)
        out[paper.paper_id] = _pick(seeds, rule, probs)
    return out


def _pick(seeds: Seeds, rule: str | None, probabilities: dict[str, float]) -> str | None:
    if not probabilities:
        return rule
    best = max(probabilities, key=lambda k: (probabilities[k], k))
    if best in (_OTHER, rule) or probabilities[best] < CONFIDENT:
        return rule
    if rule is not None and seeds.categories[rule].priority > seeds.categories[best].priority:
        return rule
    return best
