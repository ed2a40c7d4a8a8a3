"""The store: schema, one row per paper, what a re-harvest may and may not change."""

from __future__ import annotations

import dataclasses
import json
import sqlite3

import pytest
from sqlite_utils import Database

from harvester import clock, ingest, review, store
from harvester.errors import StoreError
from harvester.records import PaperRecord
from harvester.rules import Rules
from harvester.sources.semantic_scholar import to_record, venue_claim
from harvester.store import migrations
from tests.conftest import ROOT


def record(
    arxiv_id="1703.09844", version=1, title="Multi-Scale Dense Networks", **kw
) -> PaperRecord:
    defaults = dict(
        source="arxiv",
        title=title,
        abstract="We study early exits with intermediate classifiers.",
        authors=["Gao Huang", "Danlu Chen"],
        arxiv_id=arxiv_id,
        arxiv_version=version,
        published="2017-03-29",
        updated="2017-03-29",
        year=2017,
        primary_category="cs.LG",
        categories=["cs.LG"],
    )
    return PaperRecord(**(defaults | kw))


def save(db, seeds, records, run_id=None, category="early_exit", query="q1"):
    run_id = run_id or store.start_run(db, {})
    return ingest.save_records(
        db, Rules(seeds), records, run_id=run_id, category=category, query=query
    )


def paper(db, arxiv_id="1703.09844"):
    return next(db.query("SELECT * FROM papers WHERE arxiv_id = ?", [arxiv_id]))


def test_schema_has_the_public_tables_and_columns(db):
    assert {
        "papers",
        "runs",
        "citation_history",
        "query_hits",
        "authors",
        "paper_authors",
        "paper_categories",
        "papers_fts",
    } <= set(db.table_names()) | set(db.view_names())
    columns = set(db.table("papers").columns_dict)
    assert {
        "id",
        "title",
        "abstract",
        "authors",
        "year",
        "venue",
        "venue_year",
        "arxiv_id",
        "doi",
        "s2_id",
        "citation_count",
        "category",
        "status",
        "milestone",
        "award",
        "focus",
        "notes",
        "first_seen",
        "last_seen",
    } <= columns
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_new_paper_is_pending_unpublished_with_authors_as_json(db, seeds):
    result = save(db, seeds, [record()])
    row = paper(db)
    assert result.new == [row["id"]]
    assert row["status"] == "pending"
    assert row["venue"] == "arXiv" and row["venue_year"] == 2017 and row["year"] == 2017
    assert json.loads(row["authors"]) == ["Gao Huang", "Danlu Chen"]
    assert row["category"] == "early_exit" and row["score"] > 0
    names = [
        r["name"]
        for r in db.query(
            "SELECT a.name FROM paper_authors pa JOIN authors a ON a.id = pa.author_id"
            " WHERE pa.paper_id = ? ORDER BY position",
            [row["id"]],
        )
    ]
    assert names == ["Gao Huang", "Danlu Chen"]


def test_rerun_stores_each_paper_once_keeps_first_seen_moves_last_seen(db, seeds, monkeypatch):
    run = store.start_run(db, {})
    times = iter(["2026-01-01T00:00:00Z", "2026-01-08T00:00:00Z"])
    monkeypatch.setattr(clock, "now_iso", lambda: next(times))
    save(db, seeds, [record()], run_id=run)
    again = save(db, seeds, [record()], run_id=run)
    assert again.new == [] and again.updated == []
    assert db.table("papers").count == 1
    row = paper(db)
    assert row["first_seen"] == "2026-01-01T00:00:00Z"
    assert row["last_seen"] == "2026-01-08T00:00:00Z"


def test_newest_version_title_and_abstract_win(db, seeds):
    save(db, seeds, [record(version=2, title="MSDNet v2", abstract="second")])
    save(db, seeds, [record(version=1, title="MSDNet v1", abstract="first")])
    assert paper(db)["title"] == "MSDNet v2"
    result = save(db, seeds, [record(version=3, title="MSDNet v3", abstract="third")])
    assert result.updated and paper(db)["title"] == "MSDNet v3"
    assert paper(db)["arxiv_version"] == 3
    # Full-text search follows the update.
    hits = list(db.query("SELECT rowid FROM papers_fts WHERE papers_fts MATCH 'third'"))
    assert [h["rowid"] for h in hits] == [paper(db)["id"]]


def test_same_paper_found_by_two_categories_is_one_row_with_both_hits(db, seeds):
    run = store.start_run(db, {})
    save(db, seeds, [record()], run_id=run, category="early_exit", query="q1")
    save(db, seeds, [record()], run_id=run, category="system", query="q2")
    assert db.table("papers").count == 1
    hits = {(h["category"], h["query"]) for h in db["query_hits"].rows}
    assert hits == {("early_exit", "q1"), ("system", "q2")}
    scores = {r["category"]: r["score"] for r in db.table("paper_categories").rows}
    assert scores["early_exit"] > scores["system"] > 0
    assert paper(db)["category"] == "early_exit"


def test_query_hit_keeps_first_and_last_run(db, seeds):
    first, second = store.start_run(db, {}), store.start_run(db, {})
    save(db, seeds, [record()], run_id=first)
    save(db, seeds, [record()], run_id=second)
    [hit] = db["query_hits"].rows
    assert (hit["first_run"], hit["last_run"]) == (first, second)


def test_seed_paper_is_accepted_in_its_category_and_keeps_its_focus(db, seeds):
    result = save(db, seeds, [record()], category="system")
    ingest.mark_seed(db, result.seen[0], "early_exit", "早退/单模型多退出通道", None)
    save(db, seeds, [record(version=2)], category="system", query="q3")
    row = paper(db)
    assert (row["status"], row["category"], row["is_seed"]) == ("accepted", "early_exit", 1)
    assert row["focus"] == "早退/单模型多退出通道"


def test_a_page_is_all_or_nothing(db, seeds, monkeypatch):
    run = store.start_run(db, {})

    def fail_after_the_rows_are_written(*args, **kwargs):
        assert db.execute("SELECT count(*) FROM papers").fetchone()[0] == 2
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(store.papers, "replace_categories", fail_after_the_rows_are_written)
    with pytest.raises(sqlite3.OperationalError):
        save(db, seeds, [record(arxiv_id="2001.00001"), record(arxiv_id="2001.00002")], run_id=run)
    assert db.table("papers").count == 0
    assert db["query_hits"].count == 0


def test_database_from_a_newer_harvester_is_refused(tmp_path):
    path = tmp_path / "h.db"
    db = store.open_db(path)
    db.table("_sqlite_migrations").insert(
        {"migration_set": "harvester", "name": "9999_future", "applied_at": "2030"}
    )
    db.close()
    with pytest.raises(StoreError, match="written by a newer harvester"):
        store.open_db(path)


def test_corrupted_database_file_is_one_clear_error(tmp_path):
    path = tmp_path / "h.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="cannot use this database"):
        store.open_db(path)


def test_reopening_applies_no_migration_twice(tmp_path):
    path = tmp_path / "h.db"
    store.open_db(path).close()
    db = store.open_db(path)
    assert db.table("_sqlite_migrations").count == len(
        store.migrations.MIGRATIONS.pending(Database(memory=True))
    )


# --- Semantic Scholar merges ------------------------------------------------------------------


def s2_record(
    title="Multi-Scale Dense Networks",
    arxiv_id="1703.09844",
    paper_id="5" * 40,
    year=2017,
    citation_count=860,
    venue="International Conference on Learning Representations",
    dblp="conf/iclr/HuangCLWMW18",
    doi=None,
    authors=("G. Huang",),
) -> PaperRecord:
    """A record made the way the source makes it: from an S2 paper object."""
    external = {"ArXiv": arxiv_id, "DBLP": dblp, "DOI": doi}
    return to_record(
        {
            "paperId": paper_id,
            "externalIds": {k: v for k, v in external.items() if v},
            "title": title,
            "abstract": "An S2 abstract.",
            "venue": venue,
            "publicationVenue": {"name": venue, "alternate_names": []} if venue else None,
            "year": year,
            "publicationDate": None,
            "citationCount": citation_count,
            "influentialCitationCount": 90,
            "authors": [{"authorId": str(i), "name": name} for i, name in enumerate(authors)],
            "journal": None,
            "tldr": {"model": "tldr@v2.0.0", "text": "A network with early exits."},
        }
    )


def enrich(db, seeds, records, milestone_citations=100, **kw):
    rules = Rules(seeds, milestone_citations=milestone_citations)
    return ingest.save_records(db, rules, records, run_id=store.start_run(db, {}), **kw)


def test_semantic_scholar_sets_venue_year_and_citations_arxiv_keeps_text(db, seeds):
    save(db, seeds, [record()])
    result = enrich(db, seeds, [s2_record(title="MULTI-SCALE dense networks")])
    row = paper(db)
    assert result.updated == [row["id"]]
    assert (row["venue"], row["venue_year"], row["year"]) == ("ICLR", 2018, 2017)
    assert row["citation_count"] == 860 and row["s2_id"] == "5" * 40
    assert row["title"] == "Multi-Scale Dense Networks"  # arXiv's text wins
    assert row["abstract"] == "We study early exits with intermediate classifiers."
    assert json.loads(row["authors"]) == ["Gao Huang", "Danlu Chen"]
    assert row["tldr"] == "A network with early exits."
    assert row["milestone"] == 1


def test_preprint_and_published_version_are_one_row(db, seeds):
    save(db, seeds, [record()])
    published = s2_record(arxiv_id=None, paper_id="6" * 40, year=2018, doi="10.1000/MSDNET")
    enrich(db, seeds, [published])
    assert db.table("papers").count == 1
    row = paper(db)
    assert row["doi"] == "10.1000/msdnet" and row["venue"] == "ICLR"
    sources = {(s["source"], s["source_id"]) for s in db.table("paper_sources").rows}
    assert sources == {("arxiv", "1703.09844"), ("s2", "6" * 40)}


def test_same_title_far_apart_in_time_is_another_paper(db, seeds):
    save(db, seeds, [record()])
    enrich(db, seeds, [s2_record(arxiv_id=None, paper_id="7" * 40, year=2024)])
    assert db.table("papers").count == 2


def test_manual_fields_outrank_every_source(db, seeds):
    save(db, seeds, [record()])
    db.execute(
        "UPDATE papers SET venue = 'ICML', venue_year = 2019, category = 'survey',"
        ' manual_fields = \'["venue", "venue_year", "category"]\''
    )
    enrich(db, seeds, [s2_record()])
    save(db, seeds, [record(version=2)], query="q9")
    row = paper(db)
    assert (row["venue"], row["venue_year"], row["category"]) == ("ICML", 2019, "survey")
    assert row["citation_count"] == 860  # what no person set still follows the sources


def test_citation_history_gets_a_row_only_when_the_count_changes(db, seeds, monkeypatch):
    save(db, seeds, [record()])
    for day, count in [(1, 10), (2, 10), (3, 12)]:
        monkeypatch.setattr(clock, "now_iso", lambda day=day: f"2026-01-0{day}T00:00:00Z")
        enrich(db, seeds, [s2_record(citation_count=count)])
    history = [
        (h["observed_at"][:10], h["citation_count"]) for h in db.table("citation_history").rows
    ]
    assert history == [("2026-01-01", 10), ("2026-01-03", 12)]


@pytest.mark.parametrize("count, milestone", [(100, 0), (101, 1)])
def test_milestone_is_strictly_more_than_the_threshold(db, seeds, count, milestone):
    save(db, seeds, [record()])
    enrich(db, seeds, [s2_record(citation_count=count)], milestone_citations=100)
    assert paper(db)["milestone"] == milestone


def test_best_paper_award_makes_a_milestone_whatever_the_citations(db, seeds):
    resnet = s2_record(
        title="Deep Residual Learning for Image Recognition",
        arxiv_id=None,
        paper_id="8" * 40,
        year=2016,
        citation_count=5,
        venue="Computer Vision and Pattern Recognition",
        dblp="conf/cvpr/HeZRS16",
    )
    enrich(db, seeds, [resnet], category="early_exit", query="q")
    row = next(db.query("SELECT * FROM papers"))
    assert row["award"] == "CVPR 2016 Best Paper" and row["milestone"] == 1
    assert (row["venue"], row["venue_year"]) == ("CVPR", 2016)


def test_paper_only_on_semantic_scholar_keeps_its_own_title_and_authors(db, seeds):
    cavs = s2_record(
        title="Cavs: An Efficient Runtime System for Dynamic Neural Networks",
        arxiv_id=None,
        paper_id="9" * 40,
        year=2018,
        authors=("Shizhen Xu", "Hao Zhang"),
        venue="USENIX Annual Technical Conference",
        dblp=None,
    )
    enrich(db, seeds, [cavs], category="system", query="q")
    row = next(db.query("SELECT * FROM papers"))
    assert (row["venue"], row["venue_year"], row["arxiv_id"]) == ("USENIX ATC", 2018, None)
    assert json.loads(row["authors"]) == ["Shizhen Xu", "Hao Zhang"]


# --- migrations ---------------------------------------------------------------------------

FIXTURES = ROOT / "tests" / "fixtures" / "s2"


def recorded_papers() -> list[dict]:
    """Every paper object of the recorded Semantic Scholar answers, once each."""
    papers: dict[str, dict] = {}
    for path in sorted(FIXTURES.glob("*.json")):
        body = json.loads(path.read_text(encoding="utf-8"))
        items = body if isinstance(body, list) else body.get("data") or []
        for p in items:
            if isinstance(p, dict) and p.get("paperId") and p.get("title"):
                papers.setdefault(p["paperId"], p)
    return list(papers.values())


def test_a_database_of_the_first_schema_gets_its_venue_claims_and_keeps_its_search(tmp_path):
    path = tmp_path / "old.db"
    old = Database(path)
    migrations.MIGRATIONS.apply(old, stop_before="0002_venue_claims_bulk_fts")
    answers = recorded_papers()
    for i, answer in enumerate(answers, start=1):
        old.execute(
            "INSERT INTO papers (id, title, title_key, abstract, first_seen, last_seen)"
            " VALUES (?, ?, ?, ?, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
            [i, answer["title"], f"key {i}", answer.get("abstract")],
        )
        old.execute(
            "INSERT INTO paper_sources (paper_id, source, source_id, data, fetched_at)"
            " VALUES (?, 's2', ?, ?, '2026-01-01T00:00:00Z')",
            [i, answer["paperId"], json.dumps(answer)],
        )
    old.close()

    db = store.open_db(path)

    claims = store.papers.venue_claims(db, range(1, len(answers) + 1))
    assert {i: next(iter(c.values())) for i, c in claims.items()} == {
        i: venue_claim(answer) for i, answer in enumerate(answers, start=1)
    }
    # The full-text index's per-row triggers are gone (0002); the only triggers left are
    # the ones that drop a changed paper's citation-key base (0006).
    triggers = db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
    assert [name for (name,) in triggers] == [
        "papers_key_base_ad",
        "papers_key_base_ai",
        "papers_key_base_au",
    ]
    assert review.search(db, "Attention is All you Need")[:1] == [
        next(i for i, a in enumerate(answers, start=1) if a["title"] == "Attention is All you Need")
    ]


LONG_QUERY = (
    '(abs:"early exit" OR abs:"intermediate classifiers" OR ti:"anytime prediction")'
    " AND (cat:cs.LG OR cat:cs.CV OR cat:cs.CL OR cat:stat.ML)"
)
# (paper, source, category, query, first run, last run, reason), as the first four schemas
# stored them: each hit with its query's whole text.
OLD_HITS = [
    (1, "arxiv", "early_exit", LONG_QUERY, 1, 2, None),
    (1, "arxiv", "early_exit", "seed", 1, 1, None),
    (1, "s2", "early_exit", "early exit networks", 2, 2, None),
    (1, "s2", "system", "early exit networks", 2, 2, None),
    (2, "arxiv", "early_exit", LONG_QUERY, 2, 2, None),
    (2, "s2", "compiler", "recommendations", 2, 2, "recommended from 3 accepted Compiler papers"),
    (2, "s2", "system", "snowball", 1, 2, None),
]


def test_a_database_with_hits_by_query_text_migrates_and_reads_the_same(tmp_path, seeds):
    path = tmp_path / "old.db"
    old = Database(path)
    migrations.MIGRATIONS.apply(old, stop_before="0005_query_ids")
    for run in (1, 2):
        old.execute(
            "INSERT INTO runs (id, started, status) VALUES (?, '2026-01-01T00:00:00Z', 'ok')",
            [run],
        )
    for paper_id, title in ((1, "Multi-Scale Dense Networks"), (2, "BranchyNet")):
        old.execute(
            "INSERT INTO papers (id, title, title_key, arxiv_id, first_seen, last_seen)"
            " VALUES (?, ?, ?, ?, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
            [paper_id, title, title.lower(), f"1703.0984{paper_id}"],
        )
        old.execute("INSERT INTO papers_fts (rowid, title) VALUES (?, ?)", [paper_id, title])
    old.conn.executemany(
        "INSERT INTO query_hits (paper_id, source, category, query, first_run, last_run, reason)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        OLD_HITS,
    )
    old.conn.commit()
    old.close()

    db = store.open_db(path)

    assert db.execute("SELECT * FROM query_hits ORDER BY 1, 2, 3, 4").fetchall() == sorted(
        OLD_HITS, key=lambda h: h[:4]
    )
    assert db.execute("SELECT text FROM queries ORDER BY text").fetchall() == [
        (LONG_QUERY,),
        ("early exit networks",),
        ("recommendations",),
        ("seed",),
        ("snowball",),
    ]
    assert store.papers.query_hits(db, [1, 2]) == {
        1: {
            ("arxiv", "early_exit", LONG_QUERY),
            ("arxiv", "early_exit", "seed"),
            ("s2", "early_exit", "early exit networks"),
            ("s2", "system", "early exit networks"),
        },
        2: {
            ("arxiv", "early_exit", LONG_QUERY),
            ("s2", "compiler", "recommendations"),
            ("s2", "system", "snowball"),
        },
    }
    assert store.papers.explanations(db, [1, 2])[1] == {
        1: [
            f"arxiv query: {LONG_QUERY}",
            "arxiv query: seed",
            "s2 query: early exit networks",
        ],
        2: [
            f"arxiv query: {LONG_QUERY}",
            "recommended from 3 accepted Compiler papers",
            "s2 query: snowball",
        ],
    }
    assert store.papers.has_hit(db, 1, "arxiv", "early_exit", "seed")
    assert not store.papers.has_hit(db, 2, "arxiv", "early_exit", "seed")
    # A later page finding a paper by a known query adds to that query's hits.
    run = store.start_run(db, {})
    save(db, seeds, [record(arxiv_id="1703.09841")], run_id=run, query=LONG_QUERY)
    assert db.execute("SELECT count(*) FROM queries").fetchone()[0] == 5
    assert db.execute(
        "SELECT paper_id, first_run, last_run FROM query_hits WHERE query = ? ORDER BY 1",
        [LONG_QUERY],
    ).fetchall() == [(1, 1, run), (2, 2, 2)]


def test_the_full_text_index_follows_new_and_changed_papers(db, seeds):
    save(db, seeds, [record(version=1, abstract="An alpha abstract.")])
    save(db, seeds, [record(version=2, abstract="A beta abstract.")])
    save(db, seeds, [record(arxiv_id="2001.00001", title="Gamma", abstract="gamma text")])
    assert review.search(db, "alpha") == []
    assert review.search(db, "beta") == [paper(db)["id"]]
    assert review.search(db, "gamma") == [paper(db, "2001.00001")["id"]]
    # FTS5 compares the index with the papers it was made from.
    db.execute("INSERT INTO papers_fts (papers_fts) VALUES ('integrity-check')")


def test_a_page_that_changes_nothing_derivation_reads_is_not_derived_again(
    tmp_path, rules, monkeypatch
):
    """With the writer's memo, a refresh bringing only a TL;DR derives nothing; a page that
    changes what derivation reads derives the paper again; the database ends as without it."""
    from harvester import derive
    from tests.conftest import snapshot

    arxiv = PaperRecord(
        source="arxiv",
        title="Adaptive Early Exit Networks for Efficient Inference",
        abstract="Early exits let easy inputs leave a deep network after a few layers.",
        arxiv_id="2101.00001",
        arxiv_version=1,
        published="2021-01-01",
        year=2021,
    )
    s2 = PaperRecord(
        source="s2",
        title=arxiv.title,
        arxiv_id=arxiv.arxiv_id,
        s2_id="a" * 40,
        year=2021,
        citation_count=40,
        source_id="a" * 40,
    )
    pages = [
        [arxiv],
        [s2],
        [dataclasses.replace(s2, tldr="Exits early on easy inputs.")],  # only a TL;DR
        [dataclasses.replace(s2, citation_count=140)],  # a milestone now
    ]
    derived: list[int] = []
    real = derive.derive

    def counting(*args, **kwargs):
        derived.append(args[1]["id"])
        return real(*args, **kwargs)

    monkeypatch.setattr(derive, "derive", counting)
    databases = {}
    for name, memo in (("memo", ingest.Memo()), ("none", None)):
        db = store.open_db(tmp_path / f"{name}.db")
        counts = []
        for second, page in enumerate(pages):
            # Each page a second apart, as in a harvest: the citation history then keeps
            # both counts whichever second the test runs in.
            stamp = f"2026-01-01T00:00:0{second}Z"
            monkeypatch.setattr(clock, "now_iso", lambda stamp=stamp: stamp)
            before = len(derived)
            ingest.save_records(db, rules, page, category="early_exit", query="q", memo=memo)
            counts.append(len(derived) - before)
        databases[name] = (snapshot(db), counts)
    assert databases["memo"][1] == [1, 1, 0, 1]
    assert databases["none"][1] == [1, 1, 1, 1]
    assert databases["memo"][0] == databases["none"][0]
    assert databases["memo"][0]["citations"] == [("2101.00001", 40), ("2101.00001", 140)]
    memo_db = store.open_db(tmp_path / "memo.db")
    [paper] = store.papers.papers_where(memo_db, "arxiv_id", "2101.00001")
    assert (paper["tldr"], paper["citation_count"], paper["milestone"]) == (
        "Exits early on easy inputs.",
        140,
        1,
    )


def test_papers_looked_up_together_are_the_papers_each_finds_on_its_own(db, seeds):
    save(db, seeds, [record(), record("1807.00001", title="Adaptive Computation Time")])
    save(db, seeds, [record("1909.00002", title="Adaptive Computation Time", year=2019)])
    asked = [
        record(),  # by its arXiv id
        record(None, title="Multi-scale dense networks!"),  # by its title, within a year
        record(None, title="Adaptive computation time", year=2019),  # the later of two titles
        record(None, title="Adaptive computation time", year=2012),  # too far from both
        record("2001.99999", title="Something else"),  # not stored
    ]
    alone = [ingest.find_paper(db, r) for r in asked]
    assert [row and row["arxiv_id"] for row in alone] == [
        "1703.09844",
        "1703.09844",
        "1909.00002",
        None,
        None,
    ]
    assert ingest.find_papers(db, asked) == alone


def test_a_typeset_title_from_semantic_scholar_merges_into_the_arxiv_paper(db, seeds):
    save(db, seeds, [record(title="Early-Exit Networks for Fast Inference")])
    typeset = record(
        arxiv_id=None,
        source="s2",
        s2_id="abc123",
        title="Early\u2010Exit Networks for Fast Inference",
    )
    save(db, seeds, [typeset])
    assert db.execute("SELECT arxiv_id, s2_id FROM papers").fetchall() == [("1703.09844", "abc123")]


def test_title_keys_of_typeset_titles_are_made_again_on_upgrade(tmp_path):
    path = tmp_path / "old.db"
    old = Database(path)
    migrations.MIGRATIONS.apply(old, stop_before="0007_typeset_title_keys")
    for paper_id, title, key in (
        (1, "Early\u2010Exit Networks", "earlyexit networks"),  # the old rule's key
        (2, "Multi-Scale Dense Networks", "multi scale dense networks"),
        (3, "Caf\u00e9 Nets", "cafe nets"),
    ):
        old.execute(
            "INSERT INTO papers (id, title, title_key, first_seen, last_seen)"
            " VALUES (?, ?, ?, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
            [paper_id, title, key],
        )
    old.conn.commit()
    old.close()

    db = store.open_db(path)

    assert db.execute("SELECT id, title_key FROM papers ORDER BY id").fetchall() == [
        (1, "early exit networks"),
        (2, "multi scale dense networks"),
        (3, "cafe nets"),
    ]
