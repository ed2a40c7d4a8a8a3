"""Label spreading for the papers the category rule is unsure of, on the dev split only:
python bench/spreading.py [--seeds DIR] [--harvest]

The experiment behind README's "label spreading, measured and left out". It builds
`bench/categories.py`'s pool (the field corpus as one harvest stores it, the seed papers
accepted; look-alikes and off-topic papers included), fits the `Prior` on it and makes a
graph over its papers: each paper's `k` nearest neighbours by the prior's TF-IDF words
(cosine, sparse: the top `k` of each block of rows, never the whole square matrix) plus its
citation edges at weight `cite`. Labels spread over it (Zhou et al.'s iteration
F = alpha S F + (1 - alpha) Y, S the symmetrically normalised graph, each category's column
divided by its seed count so the large families do not drown the sections) from the accepted
papers' categories and the rule's confident picks (margin at least `margin`).
With `--harvest` the pool is what `bench/evaluate.py`'s first harvest stores instead (the
papers it found, the edges of the references it read).

A paper's margin is how far the rule's pick (`ranking.suggest_categories`, its citation vote
included) leads the best other category's score, as a share of the larger (negative for a
section that wins from behind; -1 for a paper nothing places). Where it is below `margin`
and the spread category's share is at least `clear`, the spread category replaces the rule's,
never for a person's decision, and never against a Survey (`guard` "survey") or any section
of higher priority (`guard` "all").

It prints the rule's figures per group of dev papers (the first dev papers, then each tuning
batch), then for three ways of choosing the settings (on the first groups, held out on
the later ones) the best settings' figures on the groups they were chosen on and on the
others, and the graph's own filing of each group with that group's seeds withheld (how good
a classifier the spread is by itself). Nothing of the test split is printed.
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.preprocessing import normalize

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from categories import votes  # bench/categories.py
from ranking import LOOKALIKE, Pool, build_pool, first_harvest  # bench/ranking.py

from harvester import store
from harvester.features import Decision, PaperFeatures, keyword_category, paper_features
from harvester.ranking import Prior, suggest_categories
from harvester.records import normalise_title
from harvester.seeds import Seeds, load_seeds
from tests import field_corpus

DEV = "dev"
BLOCK = 2000  # rows of the similarity computed at once (2000 x 20,000 floats: 320 MB at most)
ITERATIONS = 40
GUARDS = ("survey", "all")


def harvest_pool(seeds: Seeds, folder: Path) -> Pool:
    """The pool as `bench/evaluate.py`'s first harvest leaves it: the papers it found, the
    edges it stored (the references of the papers it stored), the seed papers accepted."""
    path = folder / "harvest.db"
    db = first_harvest(seeds, path)
    cites: dict[str, set[str]] = {}
    cited_by: dict[str, set[str]] = {}
    for citing, cited in store.graph.all_edges(db):
        cites.setdefault(citing, set()).add(cited)
        cited_by.setdefault(cited, set()).add(citing)
    hits = store.papers.all_hits(db)
    rows = {int(row["id"]): row for row in store.papers.feature_rows(db)}
    statuses = {
        int(r["id"]): r for r in db.query("SELECT id, status, title_key, is_seed FROM papers")
    }
    features = [
        paper_features(
            seeds,
            row,
            hits=hits.get(pid, []),
            cites=sorted(cites.get(row["s2_id"] or "", ())),
            cited_by=sorted(cited_by.get(row["s2_id"] or "", ())),
        )
        for pid, row in sorted(rows.items())
    ]
    decided = [
        Decision(pid, status == "accepted", category, seed=seed)
        for pid, status, category, seed in store.papers.decided(db)
    ]
    store.close_db(db)
    labels, splits = field_corpus.labels(), field_corpus.splits()
    keys = {pid: str(r["title_key"]) for pid, r in statuses.items()}
    return Pool(
        db_path=path,
        rows={pid: {**rows[pid], **statuses[pid]} for pid in rows},
        label={pid: labels.get(keys[pid], LOOKALIKE) for pid in rows},
        split={pid: splits.get(keys[pid], "") for pid in rows},
        features=features,
        seeds_decided=[d for d in decided if d.seed],
    )


def knn_graph(words: sparse.csr_matrix, k: int) -> sparse.csr_matrix:
    """Each row's ``k`` most similar other rows (cosine), symmetric (the larger of the two
    directions), as a sparse matrix: computed a block of rows at a time."""
    x = normalize(words)
    n = x.shape[0]
    k = min(k, n - 1)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    for start in range(0, n, BLOCK):
        block = (x[start : start + BLOCK] @ x.T).toarray()
        here = np.arange(block.shape[0])
        block[here, start + here] = 0.0
        top = np.argpartition(-block, k, axis=1)[:, :k]
        rows.append(np.repeat(start + here, k))
        cols.append(top.ravel())
        vals.append(np.maximum(block[np.repeat(here, k), top.ravel()], 0.0))
    graph = sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
    )
    return graph.maximum(graph.T).tocsr()


def citation_graph(papers: Sequence[PaperFeatures]) -> sparse.csr_matrix:
    """1 between two papers of the pool where one cites the other."""
    row_of = {p.s2_id: i for i, p in enumerate(papers) if p.s2_id}
    pairs = [(i, row_of[s2]) for i, p in enumerate(papers) for s2 in p.cites if s2 in row_of]
    n = len(papers)
    if not pairs:
        return sparse.csr_matrix((n, n))
    a, b = (np.array(side) for side in zip(*pairs, strict=True))
    edges = sparse.csr_matrix((np.ones(len(pairs)), (a, b)), shape=(n, n))
    return ((edges + edges.T) > 0).astype(float).tocsr()


def spread(graph: sparse.csr_matrix, seeded: np.ndarray, alpha: float) -> np.ndarray:
    """Each row's share of each category after spreading ``seeded`` (one-hot rows, zero for
    a paper without a seed label); a row nothing reaches is all zero."""
    degree = np.asarray(graph.sum(axis=1)).ravel()
    degree[degree == 0] = 1.0
    scale = sparse.diags(1 / np.sqrt(degree))
    s = (scale @ graph @ scale).tocsr()
    f = seeded.copy()
    for _ in range(ITERATIONS):
        f = alpha * (s @ f) + (1 - alpha) * seeded
    count = seeded.sum(axis=0)
    f = f / np.where(count > 0, count, 1.0)
    total = f.sum(axis=1, keepdims=True)
    return np.asarray(f / np.where(total > 0, total, 1.0))


@dataclass(frozen=True)
class Setting:
    k: int
    alpha: float
    margin: float
    clear: float
    cite: float
    guard: str


@dataclass
class Rule:
    """The rule's pick for every paper of the pool (in its order) and the pick's margin."""

    pick: list[str | None]
    margin: np.ndarray


def rule_of(seeds: Seeds, papers: Sequence[PaperFeatures], filed: dict[int, str]) -> Rule:
    picks = suggest_categories(seeds, papers, None, filed)
    words = {p.paper_id: keyword_category(seeds, p) for p in papers}
    own = {p.s2_id: filed.get(p.paper_id) or words[p.paper_id] for p in papers if p.s2_id}
    margins = []
    for paper in papers:
        pick = picks[paper.paper_id]
        scores = dict(paper.category_scores)
        for key, count in votes(seeds, paper, own).items():
            scores[key] = scores.get(key, 0.0) + seeds.rules.link * min(count, seeds.rules.link_cap)
        if pick is None:
            margins.append(-1.0)
            continue
        other = max((v for key, v in scores.items() if key != pick), default=0.0)
        top = max(scores.get(pick, 0.0), other)
        margins.append((scores.get(pick, 0.0) - other) / top if top > 0 else -1.0)
    return Rule([picks[p.paper_id] for p in papers], np.array(margins))


def seeded_matrix(
    keys: list[str], papers: Sequence[PaperFeatures], rule: Rule, filed: dict[int, str], m: float
) -> np.ndarray:
    y = np.zeros((len(papers), len(keys)))
    for i, paper in enumerate(papers):
        label = filed.get(paper.paper_id) or (rule.pick[i] if rule.margin[i] >= m else None)
        if label is not None:
            y[i, keys.index(label)] = 1.0
    return y


def filed_with_spread(
    seeds: Seeds,
    papers: Sequence[PaperFeatures],
    rule: Rule,
    filed: dict[int, str],
    shares: np.ndarray,
    setting: Setting,
) -> list[str | None]:
    keys = list(seeds.categories)
    out = list(rule.pick)
    for i, paper in enumerate(papers):
        if paper.paper_id in filed or rule.margin[i] >= setting.margin or not shares[i].any():
            continue
        best = keys[int(np.argmax(shares[i]))]
        if shares[i].max() < setting.clear or best == out[i]:
            continue
        had = seeds.categories[out[i]].priority if out[i] is not None else -1
        limit = seeds.categories[best].priority if setting.guard == "all" else 1
        if had <= limit:
            out[i] = best
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=Path, default=ROOT / "seeds", help="seeds folder")
    parser.add_argument(
        "--harvest", action="store_true", help="the pool of a first harvest (bench/evaluate.py)"
    )
    args = parser.parse_args()
    seeds = load_seeds(args.seeds)
    folder = Path(tempfile.mkdtemp())
    pool = harvest_pool(seeds, folder) if args.harvest else build_pool(seeds, folder)
    shutil.rmtree(folder, ignore_errors=True)
    papers = pool.features
    seed_papers = [p for p in papers if pool.rows[p.paper_id]["is_seed"]]
    prior = Prior.fit(seeds, papers, seed_papers)
    words = prior.words(papers)
    cites = citation_graph(papers)
    keys = list(seeds.categories)
    batch_of = {normalise_title(p.title): p.batch for p in field_corpus.field_papers() if p.tuning}
    filed = {d.paper_id: d.category for d in pool.seeds_decided if d.accepted and d.category}
    judged = [
        i
        for i, p in enumerate(papers)
        if pool.rows[p.paper_id]["status"] == "pending"
        and pool.split[p.paper_id] == DEV
        and pool.label[p.paper_id] in seeds.categories
    ]
    group = {i: batch_of.get(pool.rows[papers[i].paper_id]["title_key"], 0) for i in judged}
    label = {i: pool.label[papers[i].paper_id] for i in judged}
    # 0: the dev papers before the tuning batches; then each batch.
    groups = tuple(sorted(set(group.values())))
    rule = rule_of(seeds, papers, filed)

    def right(picks: Sequence[str | None]) -> dict[int, int]:
        return {g: sum(picks[i] == label[i] for i in judged if group[i] == g) for g in groups}

    sizes = {g: sum(group[i] == g for i in judged) for g in groups}
    by_rule = right(rule.pick)
    print(f"pool {len(papers)} papers; dev relevant pending {len(judged)}, per group {sizes}")
    print(f"rule: {sum(by_rule.values())}/{len(judged)}, per group {by_rule}")
    misses = sorted(
        (group[i], round(float(rule.margin[i]), 2)) for i in judged if rule.pick[i] != label[i]
    )
    print(f"rule's misses (group, margin): {misses}")

    graphs = {k: knn_graph(words, k) for k in (5, 10, 20)}
    results: list[tuple[Setting, dict[int, int], int]] = []
    grid = itertools.product(
        (5, 10, 20), (0.5, 0.8, 0.9), (0.1, 0.2, 0.35), (0.4, 0.5, 0.6), (0.0, 1.0), GUARDS
    )
    for k, alpha, m, clear, cite, guard in grid:
        setting = Setting(k, alpha, m, clear, cite, guard)
        seeded = seeded_matrix(keys, papers, rule, filed, m)
        shares = spread(graphs[k] + cite * cites, seeded, alpha)
        picks = filed_with_spread(seeds, papers, rule, filed, shares, setting)
        changed = sum(picks[i] != rule.pick[i] for i in judged)
        results.append((setting, right(picks), changed))
    totals = sorted(sum(r.values()) for _, r, _ in results)
    print(
        f"{len(results)} settings: dev total from {totals[0]} to {totals[-1]}"
        f" (median {totals[len(totals) // 2]}; the rule {sum(by_rule.values())})"
    )
    for tune in ((0,), (0, 1), (0, 1, 2)):
        held = tuple(g for g in groups if g not in tune)
        score = [sum(r[g] for g in tune) for _, r, _ in results]
        top = max(score)
        chosen = [(s, r, c) for (s, r, c), t in zip(results, score, strict=True) if t == top]
        kept = [sum(r[g] for g in held) for _, r, _ in chosen]
        print(
            f"chosen on groups {tune}: rule {sum(by_rule[g] for g in tune)}, best {top}"
            f" ({len(chosen)} settings, e.g. {chosen[0][0]}, moving {chosen[0][2]} dev papers);"
            f" held out on {held}: rule {sum(by_rule[g] for g in held)},"
            f" those settings {min(kept)}-{max(kept)}; the first, per group {chosen[0][1]}"
        )
    # The graph's own filing: each group's seeds withheld, the group filed by the spread.
    for setting in (Setting(10, 0.8, 0.2, 0.5, 1.0, "survey"), Setting(20, 0.5, 0.0, 0.0, 1.0, "")):
        seeded = seeded_matrix(keys, papers, rule, filed, setting.margin)
        graph = graphs[setting.k] + setting.cite * cites
        alone = {}
        for g in groups:
            ids = [i for i in judged if group[i] == g]
            withheld = seeded.copy()
            withheld[ids] = 0.0
            shares = spread(graph, withheld, setting.alpha)
            alone[g] = sum(keys[int(np.argmax(shares[i]))] == label[i] for i in ids)
        print(
            f"spread alone (k {setting.k}, alpha {setting.alpha}, seeds at margin"
            f" {setting.margin}, citations {setting.cite}): {sum(alone.values())}/{len(judged)},"
            f" per group {alone}"
        )


if __name__ == "__main__":
    main()
