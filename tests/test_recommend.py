"""The recommendations channel in a harvest: per category, its accepted papers as positives and
its rejected ones as negatives, asked once when the decisions changed; what comes back waits
as pending with the reason, scored as usual; a failure is one line and the run goes on."""

from __future__ import annotations

import dataclasses

import pytest
from click.testing import CliRunner

from harvester import recommend, review, store
from harvester.cli import cli
from harvester.config import Config
from harvester.harvest import run_harvest
from harvester.ingest import save_records
from harvester.rules import Rules
from harvester.sources.semantic_scholar import RECOMMEND_ENDPOINT, to_record
from harvester.web.data import paper as paper_view
from tests.conftest import SEEDS
from tests.loopback import s2_paper

KEY = "test-key-not-a-secret"
A, B, C = "a" * 40, "b" * 40, "c" * 40
PLAIN, LOOKALIKE, FAR = "d" * 40, "e" * 40, "f" * 40
REASON = "recommended from 2 accepted Compiler papers"


def paper(pid: str, title: str, abstract: str, cites: int = 10) -> dict:
    return s2_paper(
        pid,
        title,
        abstract,
        year=2022,
        publicationDate="2022-03-01",
        citationCount=cites,
        authors=[{"authorId": "1", "name": "Ada Author"}],
    )


CORPUS = [
    paper(A, "Nimble: compiling dynamic neural networks", "A compiler for dynamic models.", 300),
    paper(B, "DietCode: dynamic shape code generation", "Compiling for dynamic shapes.", 90),
    paper(C, "A static compiler for image kernels", "A compiler for fixed image pipelines."),
    # Its words are plain: only its links to the accepted papers lead to it.
    paper(PLAIN, "Lowering variable-length programs", "Kernels for programs of varying length."),
    # Shares the accepted papers' neighbourhood, and says "early stopping".
    paper(LOOKALIKE, "Early stopping of autotuning", "Early stopping for a search of kernels."),
    paper(FAR, "Protein folding at scale", "Structures of proteins."),
]
EDGES = [(PLAIN, A), (PLAIN, B), (LOOKALIKE, A), (LOOKALIKE, B)]


@pytest.fixture
def decided(db, seeds, fake_s2):
    """Two accepted compiler papers and a rejected one, all known to Semantic Scholar."""
    fake_s2.corpus = [dict(p) for p in CORPUS]
    fake_s2.edges = list(EDGES)
    ids = {}
    for pid in (A, B, C):
        [ids[pid]] = save_records(
            db, Rules(seeds), [to_record(next(p for p in CORPUS if p["paperId"] == pid))]
        ).seen
    for pid in (A, B):
        review.accept(db, seeds, str(ids[pid]), category="compiler", who="t")
    review.reject(db, str(ids[C]), who="t")
    return ids


@pytest.fixture
def quiet(config: Config) -> Config:
    """Only the channel under test: no snowballing."""
    return dataclasses.replace(config, snowball_depth=0)


def recommendation_requests(fake_s2) -> list[dict]:
    return [r for r in fake_s2.requests if "/recommendations/" in r["path"]]


def by_s2(db) -> dict[str, dict]:
    return {row["s2_id"]: row for row in db.query("SELECT * FROM papers")}


def test_recommended_papers_are_queued_pending_with_their_reason(
    db, seeds, quiet, fake_s2, server, decided
):
    result = run_harvest(db, seeds, quiet, categories=["compiler"])
    assert result.status == "ok", result.errors
    [request] = recommendation_requests(fake_s2)
    # The most cited accepted paper first; the rejected one as the negative.
    assert request["body"] == {"positivePaperIds": [A, B], "negativePaperIds": [C]}
    assert request["params"]["limit"] == str(quiet.recommend_limit)
    rows = by_s2(db)
    assert {pid: rows[pid]["status"] for pid in (PLAIN, LOOKALIKE)} == {
        PLAIN: "pending",
        LOOKALIKE: "pending",
    }
    assert FAR not in rows
    assert result.requests[RECOMMEND_ENDPOINT] == 1
    assert store.runs.last_runs(db, 1)[0]["requests"][RECOMMEND_ENDPOINT] == 1
    hits = db.execute(
        "SELECT source, category, query, reason FROM query_hits WHERE paper_id = ?",
        [rows[PLAIN]["id"]],
    ).fetchall()
    assert hits == [("s2", "compiler", "recommendations", REASON)]
    assert rows[PLAIN]["category"] == "compiler"


def test_the_reason_is_shown_on_the_page_and_by_review_show(
    db, seeds, quiet, fake_s2, server, decided
):
    run_harvest(db, seeds, quiet, categories=["compiler"])
    row = by_s2(db)[PLAIN]
    assert REASON in review.why(db, seeds, row)
    assert REASON in paper_view(db, seeds, row)["why"]
    shown = CliRunner().invoke(
        cli,
        ["review", "show", str(row["id"])],
        env={"HARVESTER_DB": str(quiet.db), "HARVESTER_SEEDS": str(SEEDS)},
    )
    assert shown.exit_code == 0, shown.output
    assert REASON in shown.output


def test_a_lookalike_recommendation_is_scored_down_by_the_negative_phrases(
    db, seeds, quiet, fake_s2, server, decided
):
    run_harvest(db, seeds, quiet, categories=["compiler"])
    rows = by_s2(db)
    [reasons] = db.execute(
        "SELECT reasons FROM paper_categories WHERE paper_id = ? AND category = 'compiler'",
        [rows[LOOKALIKE]["id"]],
    ).fetchone()
    assert "early stopping" in reasons
    assert rows[LOOKALIKE]["score"] < rows[PLAIN]["score"]
    assert rows[LOOKALIKE]["status"] == "pending"


def test_the_key_is_sent_on_the_recommendations_endpoint(
    db, seeds, quiet, fake_s2, server, decided
):
    keyed = dataclasses.replace(quiet, s2_api_key=KEY)
    run_harvest(db, seeds, keyed, categories=["compiler"])
    [request] = recommendation_requests(fake_s2)
    assert request["api_key"] == KEY


def test_not_asked_again_until_the_decisions_change(db, seeds, quiet, fake_s2, server, decided):
    run_harvest(db, seeds, quiet, categories=["compiler"])
    second = run_harvest(db, seeds, quiet, categories=["compiler"])
    assert len(recommendation_requests(fake_s2)) == 1
    assert RECOMMEND_ENDPOINT not in second.requests
    review.reject(db, str(by_s2(db)[LOOKALIKE]["id"]), who="t")
    third = run_harvest(db, seeds, quiet, categories=["compiler"])
    assert third.requests[RECOMMEND_ENDPOINT] == 1
    assert recommendation_requests(fake_s2)[-1]["body"] == {
        "positivePaperIds": [A, B],
        "negativePaperIds": [C, LOOKALIKE],
    }


def test_no_recommendations_is_an_answer_not_a_failure(db, seeds, quiet, fake_s2, server, decided):
    # S2 answers 404 when it has nothing to recommend (here: it no longer knows a positive).
    fake_s2.corpus = [p for p in fake_s2.corpus if p["paperId"] != A]
    first = run_harvest(db, seeds, quiet, categories=["compiler"])
    assert first.status == "ok", first.errors
    assert first.requests[RECOMMEND_ENDPOINT] == 1
    assert PLAIN not in by_s2(db)
    second = run_harvest(db, seeds, quiet, categories=["compiler"])
    assert RECOMMEND_ENDPOINT not in second.requests


def test_a_failing_recommendations_call_is_one_failed_line_and_the_run_goes_on(
    db, seeds, config, fake_s2, server, decided
):
    # Nothing listens on port 9: every attempt is refused.
    env = {
        "HARVESTER_DB": str(config.db),
        "HARVESTER_ARXIV_URL": config.arxiv_url,
        "HARVESTER_S2_URL": config.s2_url,
        "HARVESTER_S2_RECS_URL": "http://127.0.0.1:9/recommendations/v1",
        "HARVESTER_ARXIV_DELAY": "0",
        "HARVESTER_S2_DELAY": "0",
        "HARVESTER_SEEDS": str(SEEDS),
    }
    toml = config.db.parent / "harvester.toml"
    toml.write_text("backoff_max = 0\nretries = 1\nsnowball_min_links = 2\n", encoding="utf-8")
    out = CliRunner().invoke(
        cli, ["--config", str(toml), "harvest", "--category", "compiler"], env=env
    )
    failed = [line for line in out.output.splitlines() if line.startswith("failed:")]
    assert out.exit_code == 1, out.output
    assert len(failed) == 1, out.output
    assert "[compiler] recommendations from 2 accepted papers" in failed[0]
    # Snowballing ran after it, and queued the plainly worded paper citing both.
    assert by_s2(db)[PLAIN]["status"] == "pending"
    assert store.papers.explanations(db, [by_s2(db)[PLAIN]["id"]])[1] == {
        by_s2(db)[PLAIN]["id"]: ["s2 query: snowball"]
    }
    # Nothing was answered: the next run asks again.
    assert store.recommendations.last_digests(db) == {}


def test_due_asks_categories_with_accepted_papers_whose_request_changed(seeds):
    decided = {
        "early_exit": recommend.Decided(("x",), ("y",)),
        "compiler": recommend.Decided(("p", "q"), ()),
        "system": recommend.Decided((), ("r",)),
    }
    last = {"compiler": recommend.digest(("p", "q"), (), 50)}
    asks = recommend.due(seeds, list(seeds.categories), decided, last, 50)
    assert asks == [
        recommend.Ask(
            "early_exit",
            ("x",),
            ("y",),
            50,
            recommend.digest(("x",), ("y",), 50),
            "recommended from 1 accepted Early exit paper",
        )
    ]
    assert recommend.due(seeds, list(seeds.categories), decided, {}, 0) == []
    # With no accepted paper, its best keyword matches, never a rejected one.
    matched = {"system": recommend.Decided((), ("r",), ("r", "s", "t"))}
    assert recommend.due(seeds, ["system"], matched, {}, 50) == [
        recommend.Ask(
            "system",
            ("s", "t"),
            ("r",),
            50,
            recommend.digest(("s", "t"), ("r",), 50),
            "recommended from the 2 best keyword matches for System (none accepted yet)",
            "best keyword matches",
        )
    ]
    # Another limit is another request.
    assert [a.category for a in recommend.due(seeds, ["compiler"], decided, last, 60)] == [
        "compiler"
    ]


# --- a category nobody has accepted a paper of yet: its best keyword matches ----------------

M1, M2, M3, WEAK, NEAR, REJ = "1" * 40, "2" * 40, "3" * 40, "4" * 40, "5" * 40, "6" * 40
COLD_REASON = "recommended from the 2 best keyword matches for Accelerator (none accepted yet)"
ACCELERATORS = [
    paper(M1, "An FPGA accelerator for early-exit networks", "FPGA hardware for early exits.", 80),
    paper(M2, "An ASIC accelerator for dynamic neural networks", "Hardware for gated models.", 40),
    # A match, but below the best two.
    paper(M3, "A hardware architecture for dynamic inference", "Hardware for dynamic inference."),
    # Found by the query, but its words barely say accelerator: below the score floor.
    paper(WEAK, "Early exit on a new architecture", "Early exit networks, a new design."),
    # Plain words: only its links to the best matches lead to it.
    paper(
        NEAR,
        "Exiting early on a systolic array",
        "A systolic array that stops at confident layers.",
    ),
]
COLD_EDGES = [(NEAR, M1), (NEAR, M2)]


@pytest.fixture
def cold(quiet: Config) -> Config:
    """The two best keyword matches scoring 12 or more stand in for accepted papers."""
    return dataclasses.replace(quiet, recommend_matches=2, recommend_match_score=12.0)


@pytest.fixture
def accelerators(fake_s2):
    """Accelerator papers the S2 query finds; the tests' seeds have no accelerator paper."""
    fake_s2.corpus = [dict(p) for p in ACCELERATORS]
    fake_s2.edges = list(COLD_EDGES)


def test_a_category_with_no_accepted_paper_asks_with_its_best_keyword_matches(
    db, seeds, cold, fake_s2, server, accelerators
):
    result = run_harvest(db, seeds, cold, categories=["accelerator"])
    assert result.status == "ok", result.errors
    [request] = recommendation_requests(fake_s2)
    assert request["body"] == {"positivePaperIds": [M1, M2], "negativePaperIds": []}
    rows = by_s2(db)
    assert {pid: rows[pid]["status"] for pid in (M1, M2, M3, WEAK, NEAR)} == dict.fromkeys(
        (M1, M2, M3, WEAK, NEAR), "pending"
    )
    hits = db.execute(
        "SELECT source, category, query, reason FROM query_hits WHERE paper_id = ?",
        [rows[NEAR]["id"]],
    ).fetchall()
    assert hits == [("s2", "accelerator", "recommendations", COLD_REASON)]
    assert COLD_REASON in review.why(db, seeds, rows[NEAR])


def test_best_keyword_matches_are_not_asked_again_when_nothing_is_new(
    db, seeds, cold, fake_s2, server, accelerators
):
    run_harvest(db, seeds, cold, categories=["accelerator"])
    second = run_harvest(db, seeds, cold, categories=["accelerator"])
    assert second.status == "ok", second.errors
    assert RECOMMEND_ENDPOINT not in second.requests
    assert len(recommendation_requests(fake_s2)) == 1


def test_a_rejected_paper_is_never_a_positive(db, seeds, cold, fake_s2, server, accelerators):
    [rejected] = save_records(db, Rules(seeds), [to_record(ACCELERATORS[0])]).seen
    review.reject(db, str(rejected), who="t")
    run_harvest(db, seeds, cold, categories=["accelerator"])
    [request] = recommendation_requests(fake_s2)
    assert request["body"] == {"positivePaperIds": [M2, M3], "negativePaperIds": [M1]}


def test_a_category_with_an_accepted_paper_asks_with_its_accepted_papers_only(
    db, seeds, cold, fake_s2, server, decided
):
    # A strong keyword match of the compiler queries, pending: not a positive.
    fake_s2.corpus.append(
        paper(REJ, "A compiler for dynamic shapes", "Compiling dynamic shape tensor programs.")
    )
    run_harvest(db, seeds, cold, categories=["compiler"])
    assert by_s2(db)[REJ]["status"] == "pending"
    [request] = recommendation_requests(fake_s2)
    assert request["body"] == {"positivePaperIds": [A, B], "negativePaperIds": [C]}
