"""A decision retrains the ranking from the features kept for every paper: only the linear
model is fitted again, no paper's features are read or made, and the order is the one a
training from scratch gives."""

from __future__ import annotations

import shutil
from pathlib import Path
from unittest import mock

from harvester import review, screening, store
from harvester.seeds import Seeds


def test_a_rejection_retrains_from_the_kept_features_without_reading_a_paper(
    queue_db: Path, seeds: Seeds
):
    db = store.open_db(queue_db)
    first = screening.order(db, seeds)
    pending = [int(row["id"]) for row in store.papers_with(db, "pending")]
    pending.sort(key=lambda pid: (-first.probability[pid], pid))
    for paper_id in pending[:2]:
        review.accept(db, seeds, str(paper_id), category="early_exit", who="test")
    before = screening.order(db, seeds)  # trained: features, prior and table kept
    for paper_id in pending[-12:]:  # the least likely: the learned model has both kinds
        review.reject(db, str(paper_id), who="test")
    screening.forget()  # a new process: only the cache folder
    # Neither made from the rows nor loaded from the cache folder (20,000 records: half a
    # second, more than the fit).
    no_features = mock.patch.object(
        screening, "_features", side_effect=AssertionError("the papers' features read")
    )
    no_rows = mock.patch.object(
        store.papers, "feature_rows", side_effect=AssertionError("the papers' rows read")
    )
    with no_features, no_rows:
        after = screening.order(db, seeds)
    assert after.key != before.key and after.trust is not None
    shutil.rmtree(screening.cache_folder(db))
    screening.forget()
    scratch = screening.order(db, seeds)  # everything trained again
    assert after.probability == scratch.probability
    assert after.prior == scratch.prior
    assert after.suggested == scratch.suggested
    db.close()
