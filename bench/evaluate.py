"""Recall, precision and category accuracy on the labelled corpus: python bench/evaluate.py

Starts the loopback server over tests/data/ (124 arXiv papers and 17 Semantic Scholar-only
ones, labelled by category or as look-alikes, with their citation graph), harvests with
snowballing off and on, and prints per category: recall (relevant papers found), precision
(of the papers filed under the category, the share that belong there) and the overall
category accuracy, plus how many look-alikes were found and accepted.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harvester import review, store
from harvester.config import Config
from harvester.evaluate_harvest import HarvestQuality, measure_harvest
from harvester.harvest import run_harvest
from harvester.records import normalise_title
from harvester.seeds import load_seeds
from tests.loopback import (
    FakeArxiv,
    FakeS2,
    LoopbackServer,
    load_corpus,
    load_edges,
    load_s2_corpus,
)


def run(depth: int, reviewed: bool = False) -> HarvestQuality:
    seeds = load_seeds(ROOT / "seeds")
    s2 = load_s2_corpus()
    labels = {normalise_title(p["title"]): p["label"] for p in s2}
    with LoopbackServer(FakeArxiv(load_corpus()), FakeS2(s2, edges=load_edges())) as srv:
        path = Path(tempfile.mkdtemp()) / "eval.db"
        config = Config(
            db=path,
            arxiv_url=srv.arxiv_url,
            s2_url=srv.s2_url,
            arxiv_delay=0,
            s2_delay=0,
            backoff_max=0,
            snowball_depth=depth,
        )
        db = store.open_db(path)
        run_harvest(db, seeds, config)
        if reviewed:
            # A reviewer works through the queue (by the labels), then the next harvest
            # snowballs from everything accepted.
            for row in db.query("SELECT id, title_key FROM papers WHERE status = 'pending'"):
                label = labels.get(row["title_key"], "lookalike")
                if label == "lookalike":
                    review.reject(db, str(row["id"]), who="bench")
                else:
                    review.accept(db, seeds, str(row["id"]), category=label, who="bench")
            run_harvest(db, seeds, config, full=True)
        return measure_harvest(db, labels, list(seeds.categories))


def main() -> None:
    results = {
        "off": run(0),
        "on (depth 1)": run(1),
        "on (depth 2)": run(2),
        "off, after review": run(0, reviewed=True),
        "on (depth 1), after review": run(1, reviewed=True),
    }
    keys = list(next(iter(results.values())).per_category)
    print(
        "| snowballing | "
        + " | ".join(keys)
        + " | all | category accuracy | look-alikes found / accepted |"
    )
    print("| --- " * (len(keys) + 4) + "|")
    for name, q in results.items():
        cells = [f"{q.per_category[k].found}/{q.per_category[k].relevant}" for k in keys]
        print(
            f"| {name} | " + " | ".join(cells) + f" | {q.recall:.0%} | {q.category_accuracy:.0%} |"
            f" {q.lookalikes_found}/{q.lookalikes} / {q.lookalikes_accepted} |"
        )
    q = results["on (depth 1)"]
    print()
    print("| category | recall | precision |")
    print("| --- | --- | --- |")
    for k in keys:
        print(f"| {k} | {q.per_category[k].recall:.0%} | {q.per_category[k].precision:.0%} |")


if __name__ == "__main__":
    main()
