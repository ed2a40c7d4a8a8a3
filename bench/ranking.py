"""Ranking quality on the field corpus: python bench/ranking.py [--seeds DIR] [--wss]

The screening pool is every labelled paper of the field corpus (tests/field_corpus.py: the old
corpus of tests/data/ and the papers of tests/data/field/), stored as the harvester stores
them: one harvest through the loopback fakes with the seeds (query hits, TL;DRs, venues, the
seed papers accepted), then every paper the queries did not find, from its sources' records
(as snowballing would bring it). The citation graph is the one the fake Semantic Scholar
serves. Labels and the dev/test split are by normalised title.

Measured, for the ranking (harvester/ranking.py, as harvester/screening.py trains it):

- ROC AUC of relevant over look-alike, cold (the seed papers the only decisions) and after 50
  simulated decisions: each round the reviewer decides the paper the ranking puts first (the
  corpus label says accept or reject), and the ranking is retrained. On the test split the
  reviewer screens dev papers and the AUC is over test papers; on "all" the reviewer screens
  every paper and the AUC is over those not yet decided (the queue left). "random 50" decides
  50 papers drawn at random instead.
- WSS@95 (--wss): work saved over random screening at 95% recall, screening the whole pool in
  the ranking's order with retraining after every decision (slow: minutes).
- Suggested category right, over relevant papers of the categories the seeds have: cold,
  after the 50 decisions, and after every dev paper is decided (the test split then). Labels
  of categories the seeds lack (a seeds folder given with --seeds may have fewer) count as
  relevant and uncategorised: accepted without a category, left out of category accuracy,
  and named in the output.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sklearn.metrics import roc_auc_score

from harvester import ingest, store
from harvester.config import Config
from harvester.harvest import run_harvest
from harvester.ranking import (
    CategoryModel,
    Decision,
    PaperFeatures,
    Prior,
    Ranker,
    most_likely_first,
    paper_features,
    suggest_categories,
)
from harvester.records import normalise_title
from harvester.rules import Rules
from harvester.seeds import Seeds, load_seeds
from harvester.sources.arxiv import parse_feed
from harvester.sources.arxiv import to_record as arxiv_record
from harvester.sources.semantic_scholar import to_record as s2_record
from tests import field_corpus
from tests.loopback import FakeArxiv, FakeS2, LoopbackServer, render_feed

LOOKALIKE = "lookalike"
ROUNDS = 50
RANDOM_DRAWS = 5


@dataclass
class Pool:
    """The stored papers, their labels and splits, and the features the new ranking reads."""

    db_path: Path
    rows: dict[int, dict]
    label: dict[int, str]
    split: dict[int, str]
    features: list[PaperFeatures]
    seeds_decided: list[Decision]


def first_harvest(seeds: Seeds, path: Path) -> store.Database:
    """The field corpus served by the loopback fakes, harvested once into ``path``."""
    with LoopbackServer(
        FakeArxiv(field_corpus.arxiv_entries()),
        FakeS2(field_corpus.s2_papers(), edges=field_corpus.edges()),
    ) as srv:
        config = Config(
            db=path,
            arxiv_url=srv.arxiv_url,
            s2_url=srv.s2_url,
            arxiv_delay=0,
            s2_delay=0,
            backoff_max=0,
        )
        db = store.open_db(config.db)
        run_harvest(db, seeds, config)
    return db


def build_pool(seeds: Seeds, folder: Path) -> Pool:
    path = folder / "pool.db"
    db = first_harvest(seeds, path)
    stored = {row["title_key"] for row in db.table("papers").rows}
    entries = [e for e in field_corpus.arxiv_entries() if normalise_title(e.title) not in stored]
    feed = parse_feed(render_feed(entries, len(entries), 0, len(entries)))
    records = [arxiv_record(x) for x in feed.results]
    records += [
        s2_record(p) for p in field_corpus.s2_papers() if normalise_title(p["title"]) not in stored
    ]
    rules = Rules(seeds)
    for record in records:
        ingest.save_records(db, rules, [record])
    labels, splits = field_corpus.labels(), field_corpus.splits()
    rows = {row["id"]: row for row in db.table("papers").rows}
    hits: dict[int, list[dict]] = defaultdict(list)
    for hit in db["query_hits"].rows:
        hits[hit["paper_id"]].append(hit)
    # The graph Semantic Scholar knows; the ranking counts only links to decided papers.
    cites: dict[str, set[str]] = defaultdict(set)
    cited_by: dict[str, set[str]] = defaultdict(set)
    for citing, cited in field_corpus.edges():
        cites[citing].add(cited)
        cited_by[cited].add(citing)
    features = [
        paper_features(
            seeds,
            row,
            hits=hits[pid],
            cites=cites.get(row["s2_id"] or "", ()),
            cited_by=cited_by.get(row["s2_id"] or "", ()),
        )
        for pid, row in sorted(rows.items())
    ]
    decided = [
        Decision(pid, True, row["category"], seed=True)
        for pid, row in rows.items()
        if row["is_seed"]
    ]
    store.close_db(db)
    return Pool(
        db_path=path,
        rows=rows,
        label={pid: labels[row["title_key"]] for pid, row in rows.items()},
        split={pid: splits[row["title_key"]] for pid, row in rows.items()},
        features=features,
        seeds_decided=decided,
    )


def auc(pool: Pool, scores: dict[int, float], ids: Sequence[int]) -> float:
    return float(
        roc_auc_score([int(pool.label[i] != LOOKALIKE) for i in ids], [scores[i] for i in ids])
    )


def wss(labels_in_order: Sequence[bool], recall: float = 0.95) -> float:
    """Work saved over sampling: the share of papers left unread once ``recall`` of the
    relevant ones are found, minus what random reading would leave (1 - recall)."""
    total = sum(labels_in_order)
    need = recall * total
    found = 0
    for read, relevant in enumerate(labels_in_order, start=1):
        found += relevant
        if found >= need:
            return (len(labels_in_order) - read) / len(labels_in_order) - (1 - recall)
    return 0.0


# --- the two rankings, behind one face -----------------------------------------------------------


class NewRanking:
    name = "ranking.py"

    def __init__(self, seeds: Seeds, pool: Pool) -> None:
        self.seeds, self.pool = seeds, pool
        seed_papers = [f for f in pool.features if pool.rows[f.paper_id]["is_seed"]]
        self.prior = Prior.fit(seeds, pool.features, seed_papers)
        self.by_id = {f.paper_id: f for f in pool.features}
        self.decisions = list(pool.seeds_decided)
        self._retrain()

    def _retrain(self) -> None:
        self.ranker = Ranker.train(self.seeds, self.pool.features, self.decisions, prior=self.prior)
        self.categories: CategoryModel | None = None
        self.suggested: dict[int, str | None] = {}

    def decide(self, pid: int, label: str, *, retrain: bool = True) -> None:
        category = label if label in self.seeds.categories else None
        self.decisions.append(Decision(pid, label != LOOKALIKE, category))
        if retrain:
            self._retrain()

    def retrain(self) -> None:
        self._retrain()

    def scores(self, ids: Sequence[int]) -> dict[int, float]:
        return {s.paper_id: s.probability for s in self.ranker.score([self.by_id[i] for i in ids])}

    def first(self, ids: Sequence[int]) -> int:
        ranked = most_likely_first(self.ranker.score([self.by_id[i] for i in ids]))
        return ranked[0].paper_id

    def category(self, pid: int) -> str | None:
        """As the queue files it: every paper's suggestion at once, among all the others
        (their citation vote), with the accepted papers' categories."""
        if self.categories is None:
            self.categories = CategoryModel.train(
                self.seeds, self.pool.features, self.decisions, prior=self.prior
            )
            filed = {d.paper_id: d.category for d in self.decisions if d.accepted and d.category}
            self.suggested = suggest_categories(
                self.seeds, self.pool.features, self.categories, filed
            )
        return self.suggested[pid]


Ranking = NewRanking


@dataclass
class Figures:
    cold: float
    top: float
    uncertain: float
    random: float
    category_cold: float
    category_top: float
    category_dev_decided: float | None
    wss: float | None = None


def category_right(ranking: Ranking, seeds: Seeds, pool: Pool, ids: Sequence[int]) -> float:
    judged = [i for i in ids if pool.label[i] in seeds.categories]
    return sum(ranking.category(i) == pool.label[i] for i in judged) / len(judged)


def uncertain(ranking: Ranking, ids: Sequence[int]) -> int:
    """The paper whose probability is closest to one half (ties by id)."""
    scores = ranking.scores(ids)
    return min(ids, key=lambda i: (abs(scores[i] - 0.5), i))


def screen(ranking: Ranking, pool: Pool, left: list[int], pick: Callable[[list[int]], int]) -> None:
    """``ROUNDS`` rounds: the reviewer decides the paper ``pick`` chooses, the ranking
    retrains."""
    for _ in range(ROUNDS):
        chosen = pick(left)
        left.remove(chosen)
        ranking.decide(chosen, pool.label[chosen])


def measure(
    make: Callable[[], Ranking], seeds: Seeds, pool: Pool, mode: str, *, with_wss: bool
) -> Figures:
    """``mode`` "test": screen dev, score test; "all": screen all, score what is left."""
    # By title: the harvest's threads number the papers in a different order each run.
    pending = sorted(
        (pid for pid, row in pool.rows.items() if row["status"] == "pending"),
        key=lambda pid: pool.rows[pid]["title_key"],
    )
    test = [i for i in pending if pool.split[i] == "test"]
    screenable = pending if mode == "all" else [i for i in pending if pool.split[i] == "dev"]

    def scored(left: list[int]) -> list[int]:
        return left if mode == "all" else test

    ranking = make()
    cold = auc(pool, ranking.scores(scored(pending)), scored(pending))
    category_cold = category_right(ranking, seeds, pool, scored(pending))
    left = list(screenable)
    screen(ranking, pool, left, ranking.first)
    top = auc(pool, ranking.scores(scored(left)), scored(left))
    category_top = category_right(ranking, seeds, pool, scored(left))
    dev_decided = None
    if mode == "test":
        for pid in left:
            ranking.decide(pid, pool.label[pid], retrain=False)
        ranking.retrain()
        dev_decided = category_right(ranking, seeds, pool, test)

    unsure = make()
    left = list(screenable)
    screen(unsure, pool, left, lambda ids: uncertain(unsure, ids))
    by_uncertainty = auc(pool, unsure.scores(scored(left)), scored(left))

    draws = []
    for draw in range(RANDOM_DRAWS):
        randomly = make()
        left = list(screenable)
        random.Random(draw).shuffle(left)
        for pid in left[:ROUNDS]:
            randomly.decide(pid, pool.label[pid], retrain=False)
        randomly.retrain()
        rest = scored(left[ROUNDS:])
        draws.append(auc(pool, randomly.scores(rest), rest))

    saved = None
    if with_wss and mode == "all":
        ranking = make()
        left = list(pending)
        need = 0.95 * sum(pool.label[i] != LOOKALIKE for i in pending)
        found: list[bool] = []
        while left and sum(found) < need:
            pick = ranking.first(left)
            left.remove(pick)
            found.append(pool.label[pick] != LOOKALIKE)
            ranking.decide(pick, pool.label[pick])
        saved = wss(found + [pool.label[i] != LOOKALIKE for i in left])
    return Figures(
        cold=cold,
        top=top,
        uncertain=by_uncertainty,
        random=sum(draws) / len(draws),
        category_cold=category_cold,
        category_top=category_top,
        category_dev_decided=dev_decided,
        wss=saved,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=Path, default=ROOT / "seeds", help="seeds folder")
    parser.add_argument("--wss", action="store_true", help="also WSS@95 (full screening)")
    args = parser.parse_args()
    seeds = load_seeds(args.seeds)
    folder = Path(tempfile.mkdtemp())
    pool = build_pool(seeds, folder)
    pending = [pid for pid, row in pool.rows.items() if row["status"] == "pending"]
    missing = sorted({pool.label[i] for i in pending} - set(seeds.categories) - {LOOKALIKE})
    relevant = sum(pool.label[i] != LOOKALIKE for i in pending)
    print(
        f"pool: {len(pool.rows)} papers, {len(pool.seeds_decided)} seed papers accepted,"
        f" {len(pending)} pending ({relevant} relevant, {len(pending) - relevant} look-alikes);"
        f" found by the seed queries: {sum(1 for f in pool.features if f.found_by)}"
    )
    if missing:
        print(f"labels the seeds have no category for (relevant, uncategorised): {missing}")
    rankings: list[tuple[str, Callable[[], Ranking]]] = [
        (NewRanking.name, lambda: NewRanking(seeds, pool))
    ]
    best_wss = 1 - 0.95 * relevant / len(pending) - 0.05
    print()
    print(
        "| ranking | split | AUC cold | after 50, top first | after 50, uncertain first |"
        f" after 50 at random | WSS@95 (at best {best_wss:.3f}) | category cold |"
        " after 50, top first | dev decided |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, make in rankings:
        for mode in ("test", "all"):
            started = time.monotonic()
            f = measure(make, seeds, pool, mode, with_wss=args.wss)
            print(
                f"| {name} | {mode} | {f.cold:.3f} | {f.top:.3f} | {f.uncertain:.3f} |"
                f" {f.random:.3f} | {'' if f.wss is None else f'{f.wss:.3f}'} |"
                f" {f.category_cold:.0%} | {f.category_top:.0%} |"
                f" {'' if f.category_dev_decided is None else f'{f.category_dev_decided:.0%}'} |"
                f"  <!-- {time.monotonic() - started:.0f} s -->"
            )
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
