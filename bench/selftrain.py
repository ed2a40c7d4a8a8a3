"""Self-training the category at cold start, measured on dev: python bench/selftrain.py
[--seeds DIR] [--batch N] [--margin M --confident P --rounds R]

The question: can the pool teach the section rule where it is unsure? The papers the rule
(``ranking.suggest_categories``, cold as the queue files it: the seed papers the only
decisions, the nearest description for a paper no keyword places) files with a clear
margin (the first category's keyword score ahead of the second's by at least ``margin`` of
the first) are pseudo-labels, with the seed papers under the categories a person gave them;
they train a linear model (the Prior's TF-IDF words with word pairs, the rule's keyword
shares, venue and arXiv-class indicators: what ``CategoryModel`` reads), and the model files
the papers the rule is unsure of (a smaller margin, or nothing placing them) when its
probability is at least ``confident``. It never overrules a confident rule, and never a more
specific section than its own pick (a survey of dynamic networks stays a Survey). With
``rounds`` above one, the papers it filed join the pseudo-labels and it learns again (as
scikit-learn's ``SelfTrainingClassifier`` does). With the vote "after", the pseudo-labels
are the rule's over the paper's own words (no citation vote), and the vote is cast last, its
neighbours counting for the categories self-training gave them; a paper the model filed
keeps the model's pick. With the margin "after the vote", a paper's margin is over its
keyword scores with the vote's points added.

It prints, for the relevant pending papers of the **dev split only** (the part the rule was
tuned on, and each tuning batch apart), how many the rule alone and each variant file under
their label, and how many papers of the whole pool (every split, look-alikes included: what
the queue would show) each variant moves. Like ``bench/categories.py`` it never prints a
test-split paper or figure. ``--batch N`` prints the tuning batch N alone.

The learner is not in the harvester: on dev and the batches it did not gain (CHANGELOG.md),
so the queue keeps the rule. This script is the measurement, kept so that it can be run
again when the rule or the corpus changes.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import numpy as np
from ranking import Pool, build_pool  # bench/ranking.py
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression

from harvester.features import PaperFeatures, keyword_category
from harvester.ranking import (
    CategoryModel,
    Prior,
    category_columns,
    meta_cells,
    suggest_categories,
)
from harvester.records import normalise_title
from harvester.seeds import Seeds, load_seeds
from tests import field_corpus

DEV = "dev"
MARGINS = (0.1, 0.25, 0.5)
CONFIDENCES = (0.5, 0.7)
ROUNDS = (1, 3)


@dataclass(frozen=True)
class Variant:
    margin: float
    confident: float
    rounds: int
    vote_after: bool = False
    # The margin over the scores with the vote's points (``link`` per neighbour, at most
    # ``link_cap``) rather than over the paper's own words.
    vote_margin: bool = False


def margin(paper: PaperFeatures, votes: Mapping[str, float] | None = None) -> float:
    """How far the first category's keyword score is ahead of the second's, as a share of
    the first; -1 where no category scores. ``votes`` adds points per category (the vote's)."""
    points = dict(paper.category_scores)
    for key, extra in (votes or {}).items():
        points[key] = points.get(key, 0.0) + extra
    scores = sorted(points.values(), reverse=True)
    if not scores or scores[0] <= 0:
        return -1.0
    second = scores[1] if len(scores) > 1 else 0.0
    return (scores[0] - max(second, 0.0)) / scores[0]


def self_trained(
    seeds: Seeds,
    papers: Sequence[PaperFeatures],
    rule: Mapping[int, str | None],
    filed: Mapping[int, str],
    prior: Prior,
    variant: Variant,
) -> dict[int, str | None]:
    """``rule``'s categories, with the papers it is unsure of filed by the self-trained model
    where it is confident (see the module's docstring)."""
    voted = rule
    if variant.vote_after:
        rule = {p.paper_id: keyword_category(seeds, p) for p in papers}
    labels: dict[int, str] = dict(filed)
    words = {
        p.s2_id: filed.get(p.paper_id) or keyword_category(seeds, p) for p in papers if p.s2_id
    }
    for paper in papers:
        pick = rule[paper.paper_id]
        points: dict[str, float] = {}
        if variant.vote_margin:
            votes = _votes(paper, words)
            weights = seeds.rules
            points = {k: weights.link * min(n, weights.link_cap) for k, n in votes.items()}
        clear = margin(paper, points) >= variant.margin
        if paper.paper_id not in labels and pick is not None and clear:
            labels[paper.paper_id] = pick
    unsure = [p for p in papers if p.paper_id not in labels]
    out = dict(rule)
    for _ in range(variant.rounds):
        train = [p for p in papers if p.paper_id in labels]
        left = [p for p in unsure if p.paper_id not in labels]
        if not left or len({labels[p.paper_id] for p in train}) < 2:
            break
        meta = DictVectorizer().fit(map(meta_cells, train))
        model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=3000)
        model.fit(category_columns(seeds, prior, meta, train), [labels[p.paper_id] for p in train])
        classes = [str(c) for c in model.classes_]
        probabilities = model.predict_proba(category_columns(seeds, prior, meta, left))
        for paper, row in zip(left, probabilities, strict=True):
            best = int(np.argmax(row))
            if row[best] < variant.confident:
                continue
            pick, own = classes[best], rule[paper.paper_id]
            if own is not None and seeds.categories[own].priority > seeds.categories[pick].priority:
                pick = own
            out[paper.paper_id] = labels[paper.paper_id] = pick
    if not variant.vote_after:
        return out
    own = {p.s2_id: filed.get(p.paper_id) or out[p.paper_id] for p in papers if p.s2_id}
    after: dict[int, str | None] = {}
    for paper in papers:
        if out[paper.paper_id] != rule[paper.paper_id]:
            after[paper.paper_id] = out[paper.paper_id]
            continue
        votes = _votes(paper, own)
        after[paper.paper_id] = (keyword_category(seeds, paper, votes) if votes else None) or voted[
            paper.paper_id
        ]
    return after


def _votes(paper: PaperFeatures, filed_as: Mapping[str, str | None]) -> dict[str, int]:
    """How many of the paper's citation neighbours are filed under each category."""
    votes: dict[str, int] = {}
    for ref in paper.cites | paper.cited_by:
        neighbour = filed_as.get(ref)
        if neighbour is not None:
            votes[neighbour] = votes.get(neighbour, 0) + 1
    return votes


def queue_categories(seeds: Seeds, pool: Pool, prior: Prior) -> dict[int, str | None]:
    """Every paper's category as the queue files it cold (``screening`` trains the category
    model, which at cold start only names the nearest description for a paper no keyword
    places)."""
    filed = {d.paper_id: d.category for d in pool.seeds_decided if d.accepted and d.category}
    model = CategoryModel.train(seeds, pool.features, pool.seeds_decided, prior=prior)
    return suggest_categories(seeds, pool.features, model, filed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=Path, default=ROOT / "seeds", help="seeds folder")
    parser.add_argument("--batch", type=int, help="only the dev papers of this tuning batch")
    parser.add_argument("--margin", type=float, help="one variant: its margin")
    parser.add_argument("--confident", type=float, default=0.7, help="one variant: threshold")
    parser.add_argument("--rounds", type=int, default=1, help="one variant: rounds")
    parser.add_argument("--vote-after", action="store_true", help="one variant: vote last")
    parser.add_argument(
        "--vote-margin", action="store_true", help="one variant: the margin after the vote"
    )
    args = parser.parse_args()
    seeds = load_seeds(args.seeds)
    folder = Path(tempfile.mkdtemp())
    pool: Pool = build_pool(seeds, folder)
    shutil.rmtree(folder, ignore_errors=True)
    batch_of = {normalise_title(p.title): p.batch for p in field_corpus.field_papers() if p.tuning}
    seed_papers = [f for f in pool.features if pool.rows[f.paper_id]["is_seed"]]
    prior = Prior.fit(seeds, pool.features, seed_papers)
    filed = {d.paper_id: d.category for d in pool.seeds_decided if d.accepted and d.category}
    rule = queue_categories(seeds, pool, prior)
    judged = [
        f.paper_id
        for f in pool.features
        if pool.rows[f.paper_id]["status"] == "pending"
        and pool.split[f.paper_id] == DEV
        and pool.label[f.paper_id] in seeds.categories
    ]
    parts: dict[str, list[int]] = {}
    if args.batch is None:
        parts["dev"] = judged
        parts["tuned on"] = [p for p in judged if pool.rows[p]["title_key"] not in batch_of]
        for n in sorted(set(batch_of.values())):
            parts[f"batch {n}"] = [
                p for p in judged if batch_of.get(pool.rows[p]["title_key"]) == n
            ]
    else:
        parts[f"batch {args.batch}"] = [
            p for p in judged if batch_of.get(pool.rows[p]["title_key"]) == args.batch
        ]

    def right(shown: Mapping[int, str | None], ids: list[int]) -> str:
        return f"{sum(shown[p] == pool.label[p] for p in ids)}/{len(ids)}"

    print("| variant | " + " | ".join(parts) + " | papers moved (whole pool) |")
    print("| --- " * (len(parts) + 2) + "|")
    print("| rule | " + " | ".join(right(rule, ids) for ids in parts.values()) + " | |")
    if args.margin is not None:
        variants = [
            Variant(args.margin, args.confident, args.rounds, args.vote_after, args.vote_margin)
        ]
    else:
        variants = [
            Variant(m, c, r, after)
            for after in (False, True)
            for r in ROUNDS
            for m in MARGINS
            for c in CONFIDENCES
        ]
        variants += [Variant(m, c, 1, vote_margin=True) for m in MARGINS for c in CONFIDENCES]
    for variant in variants:
        shown = self_trained(seeds, pool.features, rule, filed, prior, variant)
        moved = sum(shown[p] != rule[p] for p in shown)
        print(
            f"| margin {variant.margin:g}, confident {variant.confident:g},"
            f" {variant.rounds} round{'s' if variant.rounds > 1 else ''}"
            f"{', vote after' if variant.vote_after else ''}"
            f"{', margin after the vote' if variant.vote_margin else ''} | "
            + " | ".join(right(shown, ids) for ids in parts.values())
            + f" | {moved} |"
        )


if __name__ == "__main__":
    main()
