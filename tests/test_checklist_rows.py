"""The checklist reads the pending papers straight from their rows (no queue records, no
``why``), and lists them as the queue does: its order, its categories, its columns."""

from __future__ import annotations

import shutil
from pathlib import Path

from harvester import review, review_file, screening, store
from harvester.rules import Rules
from harvester.seeds import Seeds


def test_the_checklist_lists_the_queue_in_its_order_under_its_categories(
    tmp_path: Path, corpus_db: Path, seeds: Seeds
):
    path = tmp_path / "harvester.db"
    shutil.copy(corpus_db, path)
    screening.forget()
    db = store.open_db(path)
    pending = [int(row["id"]) for row in store.papers_with(db, "pending")]
    review.accept(db, seeds, str(pending[0]), category="early_exit", who="test")
    for paper_id in pending[-12:]:
        review.reject(db, str(paper_id), who="test")
    review.set_fields(db, Rules(seeds), str(pending[1]), category="survey", who="test")
    queue = review.queue(db, seeds, explain=False)
    version, rows = review_file.queue_as_of(db, seeds)
    assert version == review.last_decision(db)
    assert len(rows) == len(pending) - 13
    assert [tuple(row) for row in rows] == [
        (
            item.id,
            item.title,
            item.category,
            item.score,
            item.venue,
            item.venue_year,
            item.citation_count,
            item.arxiv_id,
            item.doi,
            item.s2_id,
        )
        for item in queue
    ]
    assert next(row for row in rows if row.id == pending[1]).category == "survey"
    db.close()
    screening.forget()
