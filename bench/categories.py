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
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ranking import build_pool  # bench/ranking.py

from harvester.classify import score_paper
from harvester.features import PaperFeatures, keyword_category, vocabulary
from harvester.ranking import suggest_categories
from harvester.records import normalise_title
from harvester.seeds import Seeds, load_seeds
from tests import field_corpus

DEV = "dev"


def votes(seeds: Seeds, paper: PaperFeatures, own: dict[str, str | None]) -> dict[str, int]:
    """What the paper's citation neighbours in the pool are filed under (the vote)."""
    counted = Counter(own[ref] for ref in paper.cites | paper.cited_by if own.get(ref))
    return {str(k): n for k, n in counted.most_common() if k in seeds.categories}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=Path, default=ROOT / "seeds", help="seeds folder")
    parser.add_argument("--batch", type=int, help="only the dev papers of this tuning batch")
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
    shown = suggest_categories(seeds, pool.features, None, filed)
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
