"""The category rule's misses on the dev split: python bench/categories.py [--seeds DIR] [--batch N]

Builds `bench/ranking.py`'s pool (the field corpus stored as one harvest and the sources leave
it, the seed papers accepted) and files every pending paper as the queue does
(`ranking.suggest_categories`, cold: the seed papers the only decisions). It prints, for the
relevant papers of the **dev split only**, how many are filed under their label, which labels
go where, and for each miss: its label, the category shown, the category its own words give
(without the citation vote), the votes of its neighbours, its arXiv class and venue, its
category scores and the phrases behind the two categories in question.

The category rule may be tuned looking at the dev split only (tests/data/field/README.md), so
this script never prints a test-split paper or figure and may be run as often as needed;
`bench/ranking.py` and `bench/evaluate.py` print test figures. `--batch N` prints the tuning
batch N alone (all dev), to measure the rule on papers written after it was tuned.

`--ceiling` asks how far words can go at all: a linear model over the queue's own TF-IDF words
and word pairs (``Prior.words``), trained on the dev labels themselves, cross-validated over
the dev split (5 folds, three shuffles), and with `--batch N` trained on the rest of dev and
measured on batch N. It is what a learner of these words could reach with every label given,
which no cold start has; a figure below the target says the target is not a matter of more
keywords. Dev only, like the rest of this script.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import numpy as np
from ranking import build_pool  # bench/ranking.py
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from harvester.classify import score_paper
from harvester.features import PaperFeatures, keyword_category, vocabulary
from harvester.ranking import CategoryModel, Prior, suggest_categories
from harvester.records import normalise_title
from harvester.seeds import Seeds, load_seeds
from tests import field_corpus

DEV = "dev"


def votes(seeds: Seeds, paper: PaperFeatures, own: dict[str, str | None]) -> dict[str, int]:
    """What the paper's citation neighbours in the pool are filed under (the vote)."""
    counted = Counter(own[ref] for ref in paper.cites | paper.cited_by if own.get(ref))
    return {str(k): n for k, n in counted.most_common() if k in seeds.categories}


def ceiling(
    seeds: Seeds,
    pool: Sequence[PaperFeatures],
    papers: Sequence[PaperFeatures],
    labels: list[str],
    held: list[bool],
) -> tuple[float, float | None]:
    """Accuracy of a words-only linear model taught the dev labels: cross-validated over
    ``papers``, and trained on the others and measured on the ``held`` ones (when any). The
    words are weighted over the whole ``pool``, as the queue's are."""
    x = Prior.fit(seeds, pool, []).words(papers)
    y = np.array(labels)

    def model() -> LogisticRegression:
        return LogisticRegression(C=10.0, class_weight="balanced", max_iter=3000)

    shares = []
    for shuffle in range(3):
        guessed = np.empty(len(y), dtype=object)
        folds = StratifiedKFold(5, shuffle=True, random_state=shuffle)
        for train, test in folds.split(x, y):
            guessed[test] = model().fit(x[train], y[train]).predict(x[test])
        shares.append(float(np.mean(guessed == y)))
    out = np.array(held)
    if not out.any():
        return sum(shares) / len(shares), None
    taught = model().fit(x[~out], y[~out])
    return sum(shares) / len(shares), float(np.mean(taught.predict(x[out]) == y[out]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=Path, default=ROOT / "seeds", help="seeds folder")
    parser.add_argument("--batch", type=int, help="only the dev papers of this tuning batch")
    parser.add_argument(
        "--ceiling", action="store_true", help="what a model taught the dev labels reaches"
    )
    args = parser.parse_args()
    seeds = load_seeds(args.seeds)
    folder = Path(tempfile.mkdtemp())
    pool = build_pool(seeds, folder)
    shutil.rmtree(folder, ignore_errors=True)
    batch = None
    if args.batch is not None:
        batch = {
            normalise_title(p.title)
            for p in field_corpus.field_papers()
            if p.tuning and p.batch == args.batch
        }
    filed = {d.paper_id: d.category for d in pool.seeds_decided if d.accepted and d.category}
    # As the queue files them cold: the category model of the seed decisions alone (it only
    # names the nearest description for a paper no keyword places).
    model = CategoryModel.train(seeds, pool.features, pool.seeds_decided)
    shown = suggest_categories(seeds, pool.features, model, filed)
    words = {f.paper_id: keyword_category(seeds, f) for f in pool.features}
    own = {f.s2_id: filed.get(f.paper_id) or words[f.paper_id] for f in pool.features if f.s2_id}
    judged = [
        f
        for f in pool.features
        if pool.rows[f.paper_id]["status"] == "pending"
        and pool.split[f.paper_id] == DEV
        and pool.label[f.paper_id] in seeds.categories
        and (batch is None or pool.rows[f.paper_id]["title_key"] in batch)
    ]
    judged.sort(key=lambda f: (pool.label[f.paper_id], pool.rows[f.paper_id]["title_key"]))
    misses = [f for f in judged if shown[f.paper_id] != pool.label[f.paper_id]]
    what = "dev" if args.batch is None else f"dev, tuning batch {args.batch}"
    print(
        f"{what}: {len(judged) - len(misses)}/{len(judged)} relevant pending papers filed"
        f" under their label; by their own words alone"
        f" {sum(words[f.paper_id] == pool.label[f.paper_id] for f in judged)}"
    )
    confusion = Counter((pool.label[f.paper_id], shown[f.paper_id]) for f in misses)
    for (label, category), n in confusion.most_common():
        print(f"  {label} -> {category}: {n}")
    if args.ceiling:
        dev = [
            f
            for f in pool.features
            if pool.rows[f.paper_id]["status"] == "pending"
            and pool.split[f.paper_id] == DEV
            and pool.label[f.paper_id] in seeds.categories
        ]
        held = [batch is not None and pool.rows[f.paper_id]["title_key"] in batch for f in dev]
        crossed, on_batch = ceiling(
            seeds, pool.features, dev, [pool.label[f.paper_id] for f in dev], held
        )
        print(f"ceiling: a words-only model taught the dev labels, 5-fold: {crossed:.1%}")
        if on_batch is not None:
            print(f"  taught the rest of dev, on tuning batch {args.batch}: {on_batch:.1%}")
    rules = vocabulary(seeds).rules
    for f in misses:
        label, category = pool.label[f.paper_id], shown[f.paper_id]
        row = pool.rows[f.paper_id]
        print()
        print(f"{f.title}")
        print(
            f"  label {label}, shown {category}, own words {words[f.paper_id]};"
            f" neighbours {votes(seeds, f, own) or 'none'};"
            f" arXiv {', '.join(f.arxiv_classes) or 'none'}; venue {f.venue}"
        )
        print("  scores: " + ", ".join(f"{k} {v:g}" for k, v in f.category_scores))
        reasons = score_paper(rules, f.title, row.get("abstract") or "", {})
        for key in dict.fromkeys((label, category)):
            if key in reasons:
                print(f"  {key}: " + "; ".join(reasons[key].reasons))


if __name__ == "__main__":
    main()
