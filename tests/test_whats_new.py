"""What's new: ``reports/new.md`` and the Atom feed ``reports/feed.xml``, from the database alone."""

from __future__ import annotations

import itertools
from unittest import mock

import feedparser
import pytest

import harvester.clock as harvester_clock
from harvester import ingest, review, store
from harvester.report import write_reports
from harvester.report.awesome import TITLE
from harvester.report.feed import render_feed
from harvester.report.new import render_new
from harvester.rules import Rules
from tests.sample_db import NASTY_TITLE, _arxiv, build_file


@pytest.fixture
def sample(tmp_path, seeds):
    return build_file(tmp_path / "sample.db", seeds)


def accepted_rows(db):
    return list(db.query("SELECT * FROM papers WHERE status = 'accepted' ORDER BY id"))


def test_feed_is_valid_atom_newest_acceptance_first_with_stable_ids(sample, seeds, tmp_path):
    write_reports(sample, Rules(seeds), tmp_path / "out")
    text = (tmp_path / "out" / "feed.xml").read_text(encoding="utf-8")
    feed = feedparser.parse(text)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.title == f"{TITLE}: accepted papers"
    titles = [e.title for e in feed.entries]
    # sample_db accepts MSDNet first and the nasty title last.
    assert titles[0] == NASTY_TITLE
    assert titles[-1] == "Multi-Scale Dense Networks for Resource Efficient Image Classification"
    assert len(titles) == len(accepted_rows(sample)) == 6
    assert feed.entries[-1].id == "https://arxiv.org/abs/1703.09844"
    assert feed.entries[-1].link == "https://arxiv.org/abs/1703.09844"
    cavs = next(e for e in feed.entries if e.title.startswith("Cavs"))
    assert cavs.id == "https://www.semanticscholar.org/paper/" + "d" * 40
    # Times are the acceptances', not the clock's: the feed's is the newest of them.
    updated = [e.updated for e in feed.entries]
    assert updated == sorted(updated, reverse=True)
    assert feed.feed.updated == updated[0] == max(store.accepted_times(sample).values())
    assert "2018 ICLR" in feed.entries[-1].summary
    assert render_feed(sample, seeds, accepted_rows(sample), TITLE) == text


def test_feed_drops_characters_xml_cannot_carry(sample, seeds):
    papers = accepted_rows(sample)
    papers[0] = papers[0] | {"title": "Bell\x07 and\x0b tab\x00 title"}
    feed = feedparser.parse(render_feed(sample, seeds, papers, TITLE))
    assert not feed.bozo
    assert "Bell and tab title" in [e.title for e in feed.entries]


def test_new_lists_what_was_accepted_since_the_previous_harvest_and_the_last_runs_candidates(
    sample, seeds
):
    clock = (f"2026-12-{day:02d}T06:00:00Z" for day in itertools.count(1))
    with (
        mock.patch.object(harvester_clock, "now_iso", lambda: next(clock)),
    ):
        run = store.start_run(sample, {})
        store.finish_run(sample, run, status="ok", requests={}, errors=[])
        # Decided between two harvests (on the page, or a checklist imported before the next).
        review.accept(sample, seeds, "2302.00003", category="early_exit", who="t")
        run = store.start_run(sample, {})
        ingest.save_records(
            sample,
            Rules(seeds),
            [
                _arxiv(
                    "2401.00001",
                    "Early Exit Transformers",
                    2024,
                    "We propose EETNet, an early exit model.",
                ),
                _arxiv(
                    "2401.00002", "Skipping Layers in Speech", 2024, "Layer skipping for speech."
                ),
            ],
            run_id=run,
            category="early_exit",
            query="sample",
        )
        store.finish_run(sample, run, status="ok", requests={}, errors=[])
    papers = accepted_rows(sample)
    text = render_new(sample, seeds, papers)
    accepted = text.split("## Accepted since", 1)[1].split("## New candidates", 1)[0]
    candidates = text.split("## New candidates", 1)[1]
    assert "Anytime Early Exits for Speech" in accepted
    assert "FastBERT" not in accepted  # accepted before the previous harvest: old news
    assert accepted.count("](https://") == 1
    latest, previous = store.finished_runs(sample)[:2]
    assert (
        f"Since the harvest of {previous['ended'][:10]}: 1 paper accepted."
        f" The harvest of {latest['ended'][:10]} found 2 new candidates."
    ) in text
    listed = [line.split("](")[0][4:] for line in candidates.splitlines() if line.startswith("1. ")]
    best_first = [item.title for item in review.queue(sample, seeds) if item.title in listed]
    assert listed == best_first and len(listed) == 2
    # The same database gives the same page.
    assert render_new(sample, seeds, papers) == text


def test_new_before_any_harvest_says_so(db, seeds):
    assert render_new(db, seeds, []).endswith("No harvest yet.\n")
