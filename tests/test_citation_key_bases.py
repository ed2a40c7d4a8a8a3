"""Citation-key bases are stored per paper (migration 0006): a report or export reads them
instead of deriving every paper's key each time, and gets the same keys."""

from __future__ import annotations

import pytest

from harvester import export, store
from harvester.export import assign_keys, key_base
from tests.sample_db import build_file


def derived_keys(db) -> dict[int, str]:
    """Every key as made from the papers themselves, with nothing stored."""
    return assign_keys(
        [
            (pid, key_base([first] if first else [], year, title))
            for pid, first, year, title in store.citation_key_inputs(db)
        ]
    )


def stored(db) -> dict[int, str]:
    return dict(db.execute("SELECT paper_id, base FROM citation_key_bases").fetchall())


@pytest.fixture
def sample(tmp_path, seeds):
    return build_file(tmp_path / "sample.db", seeds)


def test_keys_from_stored_bases_are_the_keys_made_from_the_papers(sample):
    assert stored(sample) == {}
    assert export.citation_keys(sample) == derived_keys(sample)  # nothing stored yet
    papers = sample.execute("SELECT count(*) FROM papers").fetchone()[0]
    assert export.keep_key_bases(sample) == papers
    assert len(stored(sample)) == papers
    assert export.citation_keys(sample) == derived_keys(sample)
    assert export.keep_key_bases(sample) == 0  # all kept: nothing to make again


def test_a_changed_title_or_author_drops_its_base_and_the_key_follows(sample):
    export.keep_key_bases(sample)
    first, second, third = (pid for (pid,) in sample.execute("SELECT id FROM papers LIMIT 3"))
    sample.execute("UPDATE papers SET title = 'Zebra crossings' WHERE id = ?", [first])
    sample.execute("UPDATE papers SET authors = '[\"Ada Lovelace\"]' WHERE id = ?", [second])
    # Columns a key is not made of, or a title set to itself, leave the base stored.
    sample.execute("UPDATE papers SET score = score + 1, title = title WHERE id = ?", [third])
    assert first not in stored(sample) and second not in stored(sample)
    assert third in stored(sample)
    keys = export.citation_keys(sample)
    assert keys == derived_keys(sample)
    assert "zebra" in keys[first] and keys[second].startswith("lovelace")


def test_a_removed_paper_takes_its_base_along_and_a_new_one_has_none(sample):
    export.keep_key_bases(sample)
    (last,) = sample.execute("SELECT max(id) FROM papers").fetchone()
    sample.execute("DELETE FROM paper_authors WHERE paper_id = ?", [last])
    sample.execute("DELETE FROM papers WHERE id = ?", [last])
    assert last not in stored(sample)
    sample.execute(
        "INSERT INTO papers (id, title, title_key, authors, year, first_seen, last_seen)"
        " VALUES (?, 'Yet another paper', 'yet another paper', '[\"Grace Hopper\"]', 2020,"
        " '2024-01-01', '2024-01-01')",
        [last],
    )
    assert last not in stored(sample)
    assert export.citation_keys(sample) == derived_keys(sample)
    assert export.citation_keys(sample)[last] == "hopper2020yet"


def test_bases_of_an_earlier_rule_are_made_again_not_used(sample):
    export.keep_key_bases(sample)
    sample.execute("UPDATE citation_key_bases SET base = 'stale', rule = ?", [export.KEY_RULE - 1])
    assert export.citation_keys(sample) == derived_keys(sample)
    assert export.keep_key_bases(sample) == len(derived_keys(sample))
    assert "stale" not in stored(sample).values()


def test_a_harvest_stores_the_bases_of_the_papers_it_found(corpus_db):
    db = store.open_db(corpus_db, access="read")
    papers = db.execute("SELECT count(*) FROM papers").fetchone()[0]
    assert papers and len(stored(db)) == papers
    assert export.citation_keys(db) == derived_keys(db)
    db.close()
