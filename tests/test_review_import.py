"""Importing a checklist: an export is a version, and every mark is read the way it looks.

A checklist is a snapshot of the queue; a paper decided after it was exported (at the terminal,
in the browser) keeps its newer decision unless the import is forced. A file that says two
things about one paper, or names an id no database can hold, stops at its line.
"""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

from harvester import review, store
from harvester.cli import cli
from tests.conftest import SEEDS


@pytest.fixture
def env(corpus_db, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "db").mkdir()
    shutil.copy(corpus_db, tmp_path / "db" / "harvester.db")
    return {
        "HARVESTER_DB": str(tmp_path / "db" / "harvester.db"),
        "HARVESTER_SEEDS": str(SEEDS),
        "HARVESTER_REPORTS": str(tmp_path / "reports"),
        "USER": "tester",
    }


def run(env, *args):
    return CliRunner().invoke(cli, list(args), env=env)


def db_of(env):
    return store.open_db(env["HARVESTER_DB"])


@pytest.fixture
def checklist(env, tmp_path):
    """The exported queue, and the ids of its first three items."""
    assert run(env, "review", "export").exit_code == 0
    path = tmp_path / "reports" / "review-queue.md"
    ids = [
        int(line.rsplit("`#", 1)[1].rstrip("`"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith("- [ ] ")
    ]
    return path, ids[:3]


def mark(path, paper_id, edit, extra: str = "") -> int:
    """Edit the item of ``paper_id``; returns its line number."""
    lines = path.read_text(encoding="utf-8").splitlines()
    [index] = [i for i, line in enumerate(lines) if line.endswith(f"`#{paper_id}`")]
    lines[index] = edit(lines[index]) + extra
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return index + 1


def tick(line: str) -> str:
    return line.replace("- [ ]", "- [x]", 1)


def reject(line: str) -> str:
    return line.replace("- [ ]", "- [-]", 1)


def status(env, paper_id):
    return db_of(env).table("papers").get(paper_id)["status"]


def test_a_paper_decided_since_the_export_keeps_its_newer_decision(env, checklist):
    path, (a, b, _) = checklist
    line_a = mark(path, a, tick)
    mark(path, b, tick)
    later = run(env, "review", "reject", str(a), "--reason", "decided in the browser")
    assert later.exit_code == 0
    db = db_of(env)
    last = db.execute("SELECT who, at FROM decisions ORDER BY id DESC LIMIT 1").fetchone()
    result = run(env, "review", "import", str(path))
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"conflict: {path}:{line_a}: #{a} was decided after this checklist was exported"
        f" ({last[0]}: reject at {last[1]}); skipped (--force applies the checklist)",
        f"{path}: accepted 1, rejected 0, annotated 0, unchanged 0, skipped 1 (conflicts)",
    ]
    assert (status(env, a), status(env, b)) == ("rejected", "accepted")
    forced = run(env, "review", "import", "--force", str(path))
    assert forced.exit_code == 0, forced.output
    assert forced.output.splitlines() == [
        f"{path}: accepted 1, rejected 0, annotated 0, unchanged 1"
    ]
    assert status(env, a) == "accepted"


def test_an_annotation_over_a_newer_decision_is_a_conflict_too(env, checklist):
    path, (a, _, _) = checklist
    mark(path, a, lambda line: line, "\n  - category: compiler")
    assert run(env, "review", "set", str(a), "--category", "system").exit_code == 0
    result = run(env, "review", "import", str(path))
    assert result.exit_code == 1
    assert result.output.startswith(f"conflict: {path}:")
    assert db_of(env).table("papers").get(a)["category"] == "system"


def test_importing_the_same_checklist_again_changes_nothing(env, checklist):
    path, (a, b, c) = checklist
    mark(path, a, tick)
    mark(path, b, reject)
    mark(path, c, lambda line: line, "\n  - note: read later")
    first = run(env, "review", "import", str(path))
    assert first.exit_code == 0, first.output
    decisions = db_of(env).table("decisions").count
    again = run(env, "review", "import", str(path))
    assert again.exit_code == 0, again.output
    assert again.output.splitlines() == [
        f"{path}: accepted 0, rejected 0, annotated 0, unchanged 3"
    ]
    assert db_of(env).table("decisions").count == decisions


def test_a_checklist_from_before_versions_treats_every_decided_paper_as_newer(env, checklist):
    path, (a, b, _) = checklist
    text = path.read_text(encoding="utf-8")
    old = text.replace(text.split("\n")[2], "<!-- harvester:review-queue v1 -->")
    path.write_text(old, encoding="utf-8")
    run(env, "review", "reject", str(a))
    run(env, "review", "undo")  # pending again, but decided on: the file cannot say when
    mark(path, a, tick)
    mark(path, b, tick)
    result = run(env, "review", "import", str(path))
    assert result.exit_code == 1
    assert (status(env, a), status(env, b)) == ("pending", "accepted")


def test_one_paper_both_ticked_and_rejected_is_an_error_at_its_line(env, checklist):
    path, (a, b, _) = checklist
    mark(path, b, tick)
    first = mark(path, a, tick)
    text = path.read_text(encoding="utf-8").splitlines()
    duplicate = reject(text[first - 1].replace("- [x]", "- [ ]"))
    path.write_text("\n".join([*text, duplicate]) + "\n", encoding="utf-8")
    result = run(env, "review", "import", str(path))
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        f"error: {path}:{len(text) + 1}: #{a} is rejected here but accepted at line {first}:"
        " nothing imported"
    ]
    assert db_of(env).table("decisions").count == 0


def test_a_ticked_and_struck_item_is_an_error_at_its_line(env, checklist):
    path, (a, b, _) = checklist
    mark(path, b, tick)
    line = mark(path, a, lambda text: tick(text).replace("- [x] **", "- [x] ~~**", 1))
    path.write_text(
        path.read_text(encoding="utf-8").replace(f"`#{a}`", f"~~ `#{a}`"), encoding="utf-8"
    )
    result = run(env, "review", "import", str(path))
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        f"error: {path}:{line}: #{a} is both ticked and struck: nothing imported"
    ]
    assert db_of(env).table("decisions").count == 0


@pytest.mark.parametrize(
    "strike",
    [
        lambda line: line.replace("- [ ] **", "- [ ] ~~**", 1).replace(" · ", "~~ · ", 1),
        lambda line: line.replace("- [ ] **", "- [ ] **~~", 1).replace("** · ", "~~** · ", 1),
    ],
    ids=["bold inside strike", "strike inside bold"],
)
def test_a_struck_title_rejects_however_the_strike_and_bold_nest(env, checklist, strike):
    path, (a, _, _) = checklist
    mark(path, a, strike)
    result = run(env, "review", "import", str(path))
    assert result.exit_code == 0, result.output
    assert status(env, a) == "rejected"


def test_a_huge_id_is_an_error_at_its_line_not_a_crash(env, checklist):
    path, (a, _, _) = checklist
    mark(path, a, tick)
    text = path.read_text(encoding="utf-8")
    path.write_text(text + "- [x] **Too big** `#9223372036854775808`\n", encoding="utf-8")
    result = run(env, "review", "import", str(path))
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        f"error: {path}:{len(text.splitlines()) + 1}: no paper #9223372036854775808"
    ]
    assert db_of(env).table("decisions").count == 0


def test_the_export_records_the_version_it_was_made_at(env, checklist, seeds):
    path, (a, _, _) = checklist
    db = db_of(env)
    review.reject(db, str(a), who="tester")
    version = review.last_decision(db)
    assert version > 0
    assert run(env, "review", "export", "--force").exit_code == 0
    assert f"<!-- harvester:review-queue v2 as of decision {version} -->" in path.read_text(
        encoding="utf-8"
    )
