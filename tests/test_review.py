"""The review queue: ranking, decisions that last, the loop, the checklist, add."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner
from sklearn.metrics import roc_auc_score as roc_auc

from harvester import review, screening, store
from harvester.cli import cli
from tests.conftest import SEEDS
from tests.loopback import load_corpus, load_s2_corpus

LABELS = {e.arxiv_id: e.label for e in load_corpus()}


@pytest.fixture
def env(corpus_db, tmp_path, monkeypatch, server, corpus, fake_arxiv, fake_s2):
    """A working directory with seeds and a copy of the harvested database; CLI env to match."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("USER", "tester")
    shutil.copytree(SEEDS, tmp_path / "seeds")
    (tmp_path / "db").mkdir()
    shutil.copy(corpus_db, tmp_path / "db" / "harvester.db")
    fake_arxiv.corpus = corpus
    fake_s2.corpus = load_s2_corpus()
    return {
        "HARVESTER_DB": str(tmp_path / "db" / "harvester.db"),
        "HARVESTER_ARXIV_URL": server.arxiv_url,
        "HARVESTER_S2_URL": server.s2_url,
        "HARVESTER_ARXIV_DELAY": "0",
        "HARVESTER_S2_DELAY": "0",
        "USER": "tester",
    }


def run(env, *args, input=None):
    return CliRunner().invoke(cli, list(args), env=env, input=input)


def db_of(env):
    return store.open_db(env["HARVESTER_DB"])


def listed(env, *args) -> list[dict]:
    result = run(env, "review", "list", "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_list_json_is_exactly_the_pending_papers_best_first(env):
    items = listed(env)
    pending = {r["id"] for r in db_of(env).query("SELECT id FROM papers WHERE status = 'pending'")}
    assert {i["id"] for i in items} == pending
    for key in (
        "id",
        "title",
        "category",
        "score",
        "status",
        "venue",
        "venue_year",
        "citation_count",
    ):
        assert all(key in i for i in items)
    ranks = [i["rank"] for i in items]
    assert ranks == sorted(ranks, reverse=True)
    assert all(i["why"] for i in items)


def test_relevant_papers_rank_above_lookalikes_from_the_start(env):
    items = [i for i in listed(env) if i["arxiv_id"] in LABELS]
    labels = [int(LABELS[i["arxiv_id"]] != "lookalike") for i in items]
    assert 0 < sum(labels) < len(labels)
    assert roc_auc(labels, [i["rank"] for i in items]) >= 0.8


def test_accept_reject_set_undo_and_the_audit_trail(env):
    assert (
        run(
            env,
            "review",
            "accept",
            "2010.05300",
            "--category",
            "early_exit",
            "--focus",
            "Glance, then focus",
        ).exit_code
        == 0
    )
    assert (
        run(
            env, "review", "reject", "1710.09829", "--reason", "capsule routing, not dynamic depth"
        ).exit_code
        == 0
    )
    assert (
        run(
            env, "review", "set", "2010.05300", "--note", "RL-based patches", "--milestone", "no"
        ).exit_code
        == 0
    )
    db = db_of(env)
    glance = review.find(db, "2010.05300")
    assert (
        glance["status"],
        glance["category"],
        glance["focus"],
        glance["notes"],
        glance["milestone"],
    ) == ("accepted", "early_exit", "Glance, then focus", "RL-based patches", 0)
    assert set(json.loads(glance["manual_fields"])) == {
        "status",
        "category",
        "focus",
        "notes",
        "milestone",
    }
    assert review.find(db, "1710.09829")["status"] == "rejected"
    trail = list(db.query("SELECT who, kind, field, old, new, reason FROM decisions ORDER BY id"))
    assert {r["who"] for r in trail} == {"tester"}
    assert {
        "kind": "reject",
        "field": "status",
        "old": "pending",
        "new": "rejected",
    }.items() <= next(r for r in trail if r["kind"] == "reject").items()
    # Undo the set, then the reject.
    assert "undid set of" in run(env, "review", "undo").output
    assert "undid reject of" in run(env, "review", "undo").output
    db = db_of(env)
    assert review.find(db, "1710.09829")["status"] == "pending"
    glance = review.find(db, "2010.05300")
    assert glance["notes"] is None and glance["status"] == "accepted"
    assert set(json.loads(glance["manual_fields"])) == {"status", "category", "focus"}


def test_reharvest_after_decisions_keeps_every_one(env, seeds, server, tmp_path):
    run(
        env,
        "review",
        "accept",
        "1910.10073",
        "--category",
        "layer_skipping",
        "--focus",
        "f",
        "--note",
        "n",
    )
    run(env, "review", "reject", "1703.09844")  # even a seed paper's rejection stands
    run(env, "review", "set", "2004.02178", "--category", "survey", "--milestone", "no")
    before = {
        r["id"]: r for r in db_of(env).query("SELECT * FROM papers WHERE manual_fields != '[]'")
    }
    result = run(env, "harvest")
    assert result.exit_code == 0, result.output
    after = {
        r["id"]: r for r in db_of(env).query("SELECT * FROM papers WHERE manual_fields != '[]'")
    }
    assert after.keys() == before.keys()
    for paper_id, row in after.items():
        for key in ("status", "category", "focus", "notes", "milestone"):
            assert row[key] == before[paper_id][key], key


def test_interactive_loop_driven_by_keys(env):
    items = listed(env)
    first, second, third = items[0]["id"], items[1]["id"], items[2]["id"]
    # accept the first; on the second: category 3 (layer_skipping), focus line, reject;
    # skip the third; undo the reject; quit.
    keys = "a" + "c3" + "f" + "a focus line\n" + "r" + "s" + "u" + "q"
    result = run(env, "review", "--interactive", input=keys)
    assert result.exit_code == 0, result.output
    db = db_of(env)
    assert db.table("papers").get(first)["status"] == "accepted"
    second_row = db.table("papers").get(second)
    assert second_row["status"] == "pending"  # the reject was undone
    assert second_row["category"] == "layer_skipping"
    assert second_row["focus"] == "a focus line"
    assert db.table("papers").get(third)["status"] == "pending"
    assert "accepted 1, rejected 0, skipped 1, undone 1" in result.output


def _next_command_trains_nothing(env, monkeypatch) -> None:
    """What another process would find: only the cache folder, no training allowed."""
    screening.forget()

    def no_training(*args, **kwargs):
        raise AssertionError("the ranking was trained again")

    monkeypatch.setattr(screening, "_train", no_training)
    result = run(env, "review", "list", "--limit", "5")
    assert result.exit_code == 0, result.output


def test_an_interactive_session_leaves_the_ranking_current_for_the_next_command(env, monkeypatch):
    listed(env)  # the order before the session, as the page or a report would have it
    result = run(env, "review", "--interactive", input="r" + "a" + "q")
    assert result.exit_code == 0, result.output
    assert "accepted 1, rejected 1" in result.output
    _next_command_trains_nothing(env, monkeypatch)


def test_an_imported_checklist_leaves_the_ranking_current_for_the_next_command(
    env, tmp_path, monkeypatch
):
    assert run(env, "review", "export").exit_code == 0
    path = tmp_path / "reports" / "review-queue.md"
    first = listed(env)[0]["id"]
    text = path.read_text(encoding="utf-8")
    path.write_text(
        "\n".join(
            line.replace("- [ ]", "- [x]") if line.endswith(f"`#{first}`") else line
            for line in text.splitlines()
        )
        + "\n",
        encoding="utf-8",
    )
    result = run(env, "review", "import", str(path))
    assert result.exit_code == 0, result.output
    assert "accepted 1" in result.output
    _next_command_trains_nothing(env, monkeypatch)


def test_export_edit_import_round_trip(env, tmp_path):
    result = run(env, "review", "export")
    assert result.exit_code == 0, result.output
    path = tmp_path / "reports" / "review-queue.md"
    text = path.read_text(encoding="utf-8")
    assert "## 早退 — Early exit (`early_exit`)" in text
    items = listed(env)
    a, b, c = items[0]["id"], items[1]["id"], items[2]["id"]
    lines = []
    for line in text.splitlines():
        if line.endswith(f"`#{a}`"):
            line = line.replace("- [ ]", "- [x]") + "\n  - category: system\n  - focus: serving"
        elif line.endswith(f"`#{b}`"):
            line = (
                line.replace("- [ ] **", "- [ ] ~~**").replace(f" `#{b}`", f"~~ `#{b}`")
                + "\n  - reason: off topic"
            )
        elif line.endswith(f"`#{c}`"):
            line += "\n  - note: read later"
        lines.append(line)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run(env, "review", "import", str(path))
    assert result.exit_code == 0, result.output
    assert "accepted 1, rejected 1, annotated 1, unchanged 0" in result.output
    db = db_of(env)
    assert (db.table("papers").get(a)["status"], db.table("papers").get(a)["category"]) == (
        "accepted",
        "system",
    )
    assert db.table("papers").get(b)["status"] == "rejected"
    assert db.table("papers").get(c)["notes"] == "read later"
    assert (
        db.execute("SELECT reason FROM decisions WHERE kind = 'reject'").fetchone()[0]
        == "off topic"
    )


def test_import_with_a_line_matching_nothing_changes_nothing(env, tmp_path):
    run(env, "review", "export")
    path = tmp_path / "reports" / "review-queue.md"
    first = listed(env)[0]["id"]
    text = path.read_text(encoding="utf-8").replace("- [ ] ", "- [x] ", 1)
    path.write_text(text + "- [x] **A paper that is not there** `#999999`\n", encoding="utf-8")
    result = run(env, "review", "import", str(path))
    assert result.exit_code == 2
    assert result.output.strip().endswith("no paper #999999")
    assert db_of(env).table("papers").get(first)["status"] == "pending"
    assert db_of(env).table("decisions").count == 0


def test_add_densenet_accepted_with_its_award_and_milestone(env):
    result = run(env, "review", "add", "1608.06993")
    assert result.exit_code == 0, result.output
    densenet = review.find(db_of(env), "1608.06993")
    assert densenet["status"] == "accepted"
    assert densenet["award"] == "CVPR 2017 Best Paper" and densenet["milestone"] == 1
    assert (densenet["venue"], densenet["venue_year"]) == ("CVPR", 2017)
    assert "CVPR 2017 Best Paper" in result.output


def test_add_by_exact_title_finds_a_paper_not_on_arxiv(env):
    result = run(
        env,
        "review",
        "add",
        "Eyeriss: A Spatial Architecture for Energy-Efficient Dataflow for Convolutional Neural Networks",
        "--category",
        "accelerator",
    )
    assert result.exit_code == 0, result.output
    # Exactly this title: the harvest's recommendations brought Eyeriss v2 (on arXiv).
    row = next(db_of(env).query("SELECT * FROM papers WHERE title LIKE 'Eyeriss: A Spatial%'"))
    assert (row["status"], row["category"], row["arxiv_id"]) == ("accepted", "accelerator", None)


@pytest.mark.parametrize(
    "args, message",
    [
        (["review", "accept", "9999.99999"], "no paper with id '9999.99999'"),
        (["review", "show", "424242"], "no paper with id '424242'"),
        (["review", "accept", "1703.09844", "--category", "early"], "unknown category 'early'"),
        (
            ["review", "set", "1703.09844", "--milestone", "maybe"],
            "Invalid value for '--milestone'",
        ),
        (["review", "list", "--status", "done"], "Invalid value for '--status'"),
        (["review", "add", "2301.99999"], "arXiv has no paper 2301.99999"),
    ],
)
def test_bad_ids_categories_and_options_exit_2_changing_nothing(env, args, message):
    result = run(env, *args)
    assert result.exit_code == 2
    assert message in result.output
    assert db_of(env).table("decisions").count == 0


def test_undo_with_nothing_to_undo_is_an_error(env):
    result = run(env, "review", "undo")
    assert result.exit_code == 2 and "nothing to undo" in result.output


def test_show_gives_the_paper_and_why(env):
    result = run(env, "review", "show", "1703.09844")
    assert result.exit_code == 0
    assert "ICLR" in result.output and "seed paper" in result.output


def test_review_alone_off_a_terminal_lists_the_queue(env):
    result = run(env, "review")
    assert result.exit_code == 0
    assert len(result.output.strip().splitlines()) == len(listed(env))
