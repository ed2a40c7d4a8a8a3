"""Recall, category accuracy and cost on the field corpus: python bench/evaluate.py [--seeds DIR]

Serves the field corpus (tests/field_corpus.py: the old labelled corpus of tests/data/ and the
papers of tests/data/field/, relevant ones of eight categories and look-alikes, with their
citation graph) from the loopback server and runs the real harvester over it with the given
seeds (the shipped ``seeds/`` by default):

1. a first harvest into an empty database (snowballing as configured, depth 1 by default);
2. a review round, as a curator would do it by the labels: every pending relevant paper
   accepted (in its labelled category when the seeds have it, else in the suggested one),
   every other pending paper rejected; then a second, incremental harvest.

It prints per category the relevant papers found after each harvest, on the ``test`` split
and on the whole corpus, then the overall recall, the category accuracy of the first harvest
(the category a relevant paper found is shown under, ``screening.shown_category``, equals its
label; a label the seeds have no category for is always wrong), the look-alikes queued and
accepted, and the requests each run made per source. Queries and keywords may be tuned
looking at the ``dev`` split only (the corpus's README says how it is split): ``test`` is
what tells whether they generalise.

``--seeds DIR`` measures another seeds folder (an older version of ``seeds/``, say:
``mkdir before && git archive main seeds | tar -x -C before``, then
``--seeds before/seeds``); ``--depth`` sets ``snowball_depth``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harvester import review, store
from harvester.config import Config
from harvester.evaluate_harvest import LOOKALIKE, HarvestQuality, measure_harvest
from harvester.harvest import RunResult, run_harvest
from harvester.seeds import Seeds, load_seeds
from tests import field_corpus
from tests.loopback import FakeArxiv, FakeS2, LoopbackServer

SPLITS = ("test", "all")


@dataclass
class Round:
    """What one harvest left in the database, on each split, and what it cost."""

    quality: dict[str, HarvestQuality]
    result: RunResult


@dataclass
class Evaluation:
    first: Round
    second: Round
    accepted: int
    rejected: int


def _measure(db: store.Database, seeds: Seeds, result: RunResult) -> Round:
    labels = field_corpus.labels()
    splits = field_corpus.splits()
    test = {key for key, split in splits.items() if split == "test"}
    keys = list(seeds.categories)
    return Round(
        quality={
            "test": measure_harvest(db, seeds, labels, keys, only=test),
            "all": measure_harvest(db, seeds, labels, keys),
        },
        result=result,
    )


def _review(db: store.Database, seeds: Seeds) -> tuple[int, int]:
    """Accept the relevant pending papers, reject the rest, as a curator with the labels."""
    labels = field_corpus.labels()
    accepted = rejected = 0
    for row in db.query("SELECT id, title_key FROM papers WHERE status = 'pending'"):
        label = labels.get(row["title_key"], LOOKALIKE)
        if label == LOOKALIKE:
            review.reject(db, str(row["id"]), who="bench")
            rejected += 1
        else:
            category = label if label in seeds.categories else None
            review.accept(db, seeds, str(row["id"]), category=category, who="bench")
            accepted += 1
    return accepted, rejected


def evaluate(seeds: Seeds, depth: int = 1, **settings: Any) -> Evaluation:
    """Both harvests and the review round; ``settings`` are further ``Config`` fields."""
    arxiv = FakeArxiv(field_corpus.arxiv_entries())
    s2 = FakeS2(field_corpus.s2_papers(), edges=field_corpus.edges())
    with LoopbackServer(arxiv, s2) as srv:
        path = Path(tempfile.mkdtemp()) / "evaluate.db"
        config = Config(
            db=path,
            arxiv_url=srv.arxiv_url,
            s2_url=srv.s2_url,
            arxiv_delay=0,
            s2_delay=0,
            backoff_max=0,
            snowball_depth=depth,
            **settings,
        )
        db = store.open_db(path)
        first = _measure(db, seeds, run_harvest(db, seeds, config))
        accepted, rejected = _review(db, seeds)
        second = _measure(db, seeds, run_harvest(db, seeds, config))
    return Evaluation(first, second, accepted, rejected)


def _cell(found: int, relevant: int) -> str:
    return f"{found}/{relevant} ({found / relevant:.0%})" if relevant else "–"


def _requests(result: RunResult) -> str:
    parts = ", ".join(f"{k} {v}" for k, v in sorted(result.requests.items()))
    return f"{sum(result.requests.values())} ({parts})"


def table(evaluation: Evaluation) -> str:
    first, second = evaluation.first, evaluation.second
    keys = list(first.quality["all"].per_category)
    lines = [
        "| category | first harvest, test | after review, test | first harvest, all"
        " | after review, all |",
        "| --- | --- | --- | --- | --- |",
    ]
    for key in keys:
        cells = [
            _cell(r.quality[s].per_category[key].found, r.quality[s].per_category[key].relevant)
            for s in SPLITS
            for r in (first, second)
        ]
        lines.append(f"| {key} | " + " | ".join(cells) + " |")

    def total(r: Round, split: str) -> str:
        q = r.quality[split]
        relevant = sum(c.relevant for c in q.per_category.values())
        return _cell(sum(c.found for c in q.per_category.values()), relevant)

    lines.append(
        "| **all relevant** | "
        + " | ".join(total(r, s) for s in SPLITS for r in (first, second))
        + " |"
    )
    lines += ["", "| measure | test | all |", "| --- | --- | --- |"]
    lines.append(
        "| category accuracy, first harvest | "
        + " | ".join(f"{first.quality[s].category_accuracy:.0%}" for s in SPLITS)
        + " |"
    )
    for name, r in (("first harvest", first), ("after review", second)):
        lines.append(
            f"| look-alikes queued / accepted, {name} | "
            + " | ".join(
                f"{r.quality[s].lookalikes_found}/{r.quality[s].lookalikes} /"
                f" {r.quality[s].lookalikes_accepted}"
                for s in SPLITS
            )
            + " |"
        )
    lines += [
        "",
        f"requests, first harvest: {_requests(first.result)}; second harvest"
        f" (after {evaluation.accepted} accepted, {evaluation.rejected} rejected):"
        f" {_requests(second.result)}",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=Path, default=ROOT / "seeds", help="the seeds folder")
    parser.add_argument("--depth", type=int, default=1, help="snowball_depth (0 off)")
    args = parser.parse_args()
    seeds = load_seeds(args.seeds)
    evaluation = evaluate(seeds, args.depth)
    print(f"seeds: {args.seeds}; snowball_depth {args.depth}")
    print()
    print(table(evaluation))


if __name__ == "__main__":
    main()
