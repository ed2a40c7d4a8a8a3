"""Measure the ranking on a labelled set: ROC AUC of relevant over look-alike, and how often
the suggested category is right, for the cold-start score and for the learned model.

Used by ``bench/ranking.py`` and the tests; the labelled set is any list of records with a
label (a category key, or ``lookalike``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlite_utils import Database

from harvester import ingest, review, store
from harvester.rank import Ranker, roc_auc
from harvester.records import PaperRecord
from harvester.rules import Rules
from harvester.seeds import Seeds

LOOKALIKE = "lookalike"


@dataclass
class RankingQuality:
    train: int
    test: int
    auc_cold: float
    auc_learned: float
    category_cold: float
    category_learned: float


def _half(record: PaperRecord) -> int:
    """A stable split: the same paper always lands in the same half."""
    key = record.arxiv_id or record.title
    return hashlib.sha1(key.encode()).digest()[0] % 2


def measure(db: Database, seeds: Seeds, labelled: list[tuple[PaperRecord, str]]) -> RankingQuality:
    """Load the papers, decide the training half as a reviewer would, score the other half."""
    ids: list[tuple[int, str, int]] = []
    rules = Rules(seeds)
    for record, label in labelled:
        saved = ingest.save_records(db, rules, [record])
        ids.append((saved.seen[0], label, _half(record)))
    test = [(pid, label) for pid, label, half in ids if half == 1]

    def scores(ranker: Ranker) -> tuple[float, float]:
        rows = store.papers_by_id(db, [pid for pid, _ in test])
        papers = [rows[pid] for pid, _ in test]
        auc = roc_auc(
            [ranker.relevance(p) for p in papers], [int(label != LOOKALIKE) for _, label in test]
        )
        relevant = [
            (p, label) for p, (_, label) in zip(papers, test, strict=True) if label != LOOKALIKE
        ]
        right = sum(ranker.suggest_category(p) == label for p, label in relevant)
        return auc, right / len(relevant)

    auc_cold, category_cold = scores(Ranker())
    for pid, label, half in ids:
        if half == 0:
            if label == LOOKALIKE:
                review.reject(db, str(pid), who="evaluation")
            else:
                review.accept(db, seeds, str(pid), category=label, who="evaluation")
    auc_learned, category_learned = scores(Ranker.train(db, seeds))
    return RankingQuality(
        train=sum(1 for *_, half in ids if half == 0),
        test=len(test),
        auc_cold=auc_cold,
        auc_learned=auc_learned,
        category_cold=category_cold,
        category_learned=category_learned,
    )
