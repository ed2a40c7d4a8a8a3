"""Ranking quality on the labelled corpus: python bench/ranking.py

Loads every paper of tests/data/arxiv_corpus.json (relevant papers of the six categories and
look-alikes) into a throwaway database, decides one half as a reviewer would (accept the
relevant ones in their category, reject the look-alikes), and prints, for the other half,
the ROC AUC of relevant over look-alike and the share of relevant papers whose suggested
category is right: cold start (keyword score) against the learned model.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harvester import store
from harvester.evaluate import measure
from harvester.seeds import load_seeds
from harvester.sources.arxiv import parse_feed, to_record
from tests.loopback import load_corpus, render_feed


def main() -> None:
    seeds = load_seeds(ROOT / "seeds")
    corpus = load_corpus()
    feed = parse_feed(render_feed(corpus, len(corpus), 0, len(corpus)))
    records = {r.arxiv_id: r for r in (to_record(x) for x in feed.results)}
    labelled = [(records[e.arxiv_id], e.label) for e in corpus]
    quality = measure(store.open_db(":memory:"), seeds, labelled)
    print(f"papers: {quality.train} decided (training half), {quality.test} held out")
    print("| ranking | ROC AUC relevant > look-alike | suggested category right |")
    print("| --- | --- | --- |")
    print(f"| cold start (keywords) | {quality.auc_cold:.3f} | {quality.category_cold:.0%} |")
    print(
        f"| learned from decisions | {quality.auc_learned:.3f} | {quality.category_learned:.0%} |"
    )


if __name__ == "__main__":
    main()
