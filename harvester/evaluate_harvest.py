"""Measure a harvest on a labelled corpus: recall, precision and category accuracy.

The labelled set is any list of (title key, label) pairs: a category key for a relevant
paper, ``lookalike`` for one that only shares its words. Used by ``bench/evaluate.py``.

A label may name a category the seeds do not have (measuring seeds from before a category
was added): its papers count as relevant, and as filed in the wrong category whatever the
harvester did with them.

A paper's category is the one it is shown, counted and filed under
(``screening.shown_category``): what a curator sees in ``status`` and the queue, not the
keyword classifier's column alone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field

from sqlite_utils import Database

from harvester import screening, store
from harvester.seeds import Seeds

LOOKALIKE = "lookalike"


@dataclass
class CategoryQuality:
    relevant: int = 0
    found: int = 0
    right_category: int = 0
    filed: int = 0  # found papers the harvester put in this category

    @property
    def recall(self) -> float:
        return self.found / self.relevant if self.relevant else 1.0

    @property
    def precision(self) -> float:
        return self.right_category / self.filed if self.filed else 1.0


@dataclass
class HarvestQuality:
    per_category: dict[str, CategoryQuality] = field(default_factory=dict)
    lookalikes: int = 0
    lookalikes_found: int = 0
    lookalikes_accepted: int = 0

    @property
    def recall(self) -> float:
        relevant = sum(c.relevant for c in self.per_category.values())
        return sum(c.found for c in self.per_category.values()) / relevant if relevant else 1.0

    @property
    def category_accuracy(self) -> float:
        found = sum(c.found for c in self.per_category.values())
        return sum(c.right_category for c in self.per_category.values()) / found if found else 0.0


def measure_harvest(
    db: Database,
    seeds: Seeds,
    labels: dict[str, str],
    categories: list[str],
    *,
    only: Collection[str] | None = None,
) -> HarvestQuality:
    """Compare what ``db`` holds with the labels (keyed by normalised title).

    ``only`` restricts the count to those title keys (a split of the corpus); categories
    come in the order of ``categories``, then any other label in order of appearance.
    """
    rows = {r["title_key"]: r for r in store.papers.labels(db)}
    current = screening.order(db, seeds)
    order = list(categories) + [
        label for label in dict.fromkeys(labels.values()) if label not in (*categories, LOOKALIKE)
    ]
    quality = HarvestQuality(per_category={k: CategoryQuality() for k in order})
    filed: Counter[str] = Counter()
    for key, label in labels.items():
        if only is not None and key not in only:
            continue
        row = rows.get(key)
        if label == LOOKALIKE:
            quality.lookalikes += 1
            quality.lookalikes_found += row is not None
            quality.lookalikes_accepted += row is not None and row["status"] == "accepted"
            continue
        stats = quality.per_category[label]
        stats.relevant += 1
        if row is not None:
            stats.found += 1
            shown = screening.shown_category(row, current)
            stats.right_category += shown == label
            filed[shown or ""] += 1
    for key, n in filed.items():
        if key in quality.per_category:
            quality.per_category[key].filed = n
    return quality
