"""What ``report`` and ``review export`` leave on disk: whole files, and a reviewer's work kept.

A full disk in the middle of a write leaves the previous file whole (files are written beside
the target and renamed into place); a checklist someone ticked is never overwritten before it
is imported; a database no harvest has completed publishes nothing.
"""

from __future__ import annotations

import errno
import io
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from harvester import review, store
from harvester.cli import cli
from tests.conftest import SEEDS
from tests.sample_db import build_file

PENDING = "2302.00003"  # the sample database's one pending paper, #6


@pytest.fixture
def work(tmp_path, monkeypatch, seeds):
    """A folder with the sample database; the CLI environment that reports into it."""
    monkeypatch.chdir(tmp_path)
    build_file(tmp_path / "sample.db", seeds).close()
    return {
        "HARVESTER_DB": str(tmp_path / "sample.db"),
        "HARVESTER_REPORTS": str(tmp_path / "reports"),
        "HARVESTER_SEEDS": str(SEEDS),
        "USER": "tester",
    }


def run(env, *args):
    return CliRunner().invoke(cli, list(args), env=env)


def files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (temporary ones included) and its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def error_lines(result) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith("error:")]


class _DiskFillsUp:
    """A file being written that takes half of the text, then finds the disk full."""

    def __init__(self, handle):
        self._handle = handle

    def write(self, text):
        self._handle.write(text[: len(text) // 2])
        self._handle.flush()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name):
        return getattr(self._handle, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._handle.close()
        return False


@pytest.fixture
def full_disk(monkeypatch):
    """From now on every file opened for writing fills the disk half-way through."""
    real_open = io.open

    def open_on_a_full_disk(file, mode="r", *args, **kwargs):
        handle = real_open(file, mode, *args, **kwargs)
        if any(flag in mode for flag in "wxa+"):
            return _DiskFillsUp(handle)
        return handle

    def start():
        monkeypatch.setattr(io, "open", open_on_a_full_disk)

    return start


def accept_pending(env):
    """A decision that changes every report, so the next ``report`` rewrites them."""
    result = run(env, "review", "accept", PENDING, "--category", "early_exit")
    assert result.exit_code == 0, result.output


# --- atomic outputs -------------------------------------------------------------------------


def test_report_on_a_full_disk_leaves_the_previous_reports_whole(work, tmp_path, full_disk):
    assert run(work, "report").exit_code == 0
    before = files(tmp_path / "reports")
    accept_pending(work)
    full_disk()
    result = run(work, "report")
    assert result.exit_code == 1
    [line] = error_lines(result)
    assert line == (
        f"error: cannot write {tmp_path / 'reports' / 'README.md'}"
        " (No space left on device); what was there before is unchanged"
    )
    assert "Traceback" not in result.output
    assert files(tmp_path / "reports") == before  # whole, and no temporary file left


def test_review_export_on_a_full_disk_leaves_the_previous_checklist_whole(
    work, tmp_path, full_disk, seeds
):
    assert run(work, "review", "export").exit_code == 0
    before = files(tmp_path / "reports")
    db = store.open_db(tmp_path / "sample.db")
    review.undo(db, who="tester")  # the sample's last decision, a reject: the queue grows
    db.close()
    full_disk()
    result = run(work, "review", "export")
    assert result.exit_code == 1
    [line] = error_lines(result)
    assert line.startswith(f"error: cannot write {tmp_path / 'reports' / 'review-queue.md'}")
    assert files(tmp_path / "reports") == before


def test_a_replaced_file_keeps_its_permissions(tmp_path):
    from harvester.files import write_text

    path = tmp_path / "README.md"
    path.write_text("old\n", encoding="utf-8")
    path.chmod(0o640)
    write_text(path, "new\n")
    assert path.read_text(encoding="utf-8") == "new\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["README.md"]


def test_a_new_file_gets_the_usual_permissions(tmp_path):
    from harvester.files import write_text

    umask = os.umask(0o022)
    try:
        write_text(tmp_path / "out" / "README.md", "new\n")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "out" / "README.md").stat().st_mode) == 0o644


# --- report needs a completed harvest ---------------------------------------------------------


def test_report_after_a_failed_first_harvest_writes_nothing(tmp_path, monkeypatch):
    """The seed's own papers must not vanish from a published list because arXiv was down."""
    monkeypatch.chdir(tmp_path)
    env = {
        "HARVESTER_DB": str(tmp_path / "db" / "h.db"),
        "HARVESTER_SEEDS": str(SEEDS),
        "HARVESTER_REPORTS": str(tmp_path / "reports"),
        "HARVESTER_ARXIV_DELAY": "0",
        "HARVESTER_S2_DELAY": "0",
    }
    (tmp_path / "harvester.toml").write_text("backoff_max = 0\nretries = 1\n", encoding="utf-8")
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "README.md").write_text("the list as published\n", encoding="utf-8")
    harvest = run(env, "harvest")  # both services down: the autouse fixture's closed port
    assert harvest.exit_code == 1, harvest.output
    result = run(env, "report")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "error: no harvest has completed yet: nothing written (run 'harvester harvest';"
        " 'harvester status' shows how the last runs ended)"
    ]
    assert files(tmp_path / "reports") == {"README.md": b"the list as published\n"}


@pytest.mark.parametrize(
    "status, papers_new, papers_updated, completed",
    [
        ("ok", 0, 0, True),
        ("failed", 12, 0, True),
        ("failed", 0, 3, True),
        ("failed", 0, 0, False),
        ("interrupted", 40, 0, False),
        ("running", 40, 0, False),
    ],
)
def test_a_completed_harvest_went_through_its_steps_and_stored_what_it_could(
    db, status, papers_new, papers_updated, completed
):
    run_id = store.start_run(db, {})
    # A run's counts grow with each page it stores (inside the page's transaction).
    db.table("runs").update(run_id, {"papers_new": papers_new, "papers_updated": papers_updated})
    if status != "running":
        store.finish_run(db, run_id, status=status, requests={}, errors=[])
    assert store.has_completed_harvest(db) is completed


# --- checklist safety -------------------------------------------------------------------------


def _queue(tmp_path: Path) -> Path:
    return tmp_path / "reports" / "review-queue.md"


def _edit_item(path: Path, edit) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    [number] = [i for i, line in enumerate(lines) if line.endswith("`#6`")]
    lines[number] = edit(lines[number])
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


MARKS = {
    "ticked": lambda line: line.replace("- [ ]", "- [x]"),
    "rejected": lambda line: line.replace("- [ ]", "- [-]"),
    "struck": lambda line: line.replace("- [ ] **", "- [ ] ~~**").replace(
        " · arXiv 2023", "~~ · arXiv 2023"
    ),
    "struck inside bold": lambda line: line.replace("**Anytime", "**~~Anytime").replace(
        "Speech**", "Speech~~**"
    ),
    "annotated": lambda line: line + "\n  - note: read the appendix",
}


@pytest.mark.parametrize("mark", list(MARKS))
def test_report_refuses_to_overwrite_a_checklist_with_unimported_marks(work, tmp_path, mark):
    assert run(work, "report").exit_code == 0
    _edit_item(_queue(tmp_path), MARKS[mark])
    run(work, "review", "set", "1703.09844", "--note", "changes README.md")
    before = files(tmp_path / "reports")
    result = run(work, "report")
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        f"error: {_queue(tmp_path)} has marks not imported yet: run 'harvester review import"
        f" {_queue(tmp_path)}' first (or give --force to overwrite them)"
    ]
    assert files(tmp_path / "reports") == before  # nothing written, README.md included


@pytest.mark.parametrize("mark", list(MARKS))
def test_an_imported_checklist_can_be_overwritten(work, tmp_path, mark):
    assert run(work, "report").exit_code == 0
    _edit_item(_queue(tmp_path), MARKS[mark])
    imported = run(work, "review", "import", str(_queue(tmp_path)))
    assert imported.exit_code == 0, imported.output
    result = run(work, "report")
    assert result.exit_code == 0, result.output
    assert "- [x]" not in _queue(tmp_path).read_text(encoding="utf-8")


def test_report_force_overwrites_the_marks(work, tmp_path):
    assert run(work, "report").exit_code == 0
    fresh = _queue(tmp_path).read_text(encoding="utf-8")
    _edit_item(_queue(tmp_path), MARKS["ticked"])
    result = run(work, "report", "--force")
    assert result.exit_code == 0, result.output
    assert _queue(tmp_path).read_text(encoding="utf-8") == fresh


def test_review_export_refuses_too_unless_forced(work, tmp_path):
    assert run(work, "review", "export").exit_code == 0
    _edit_item(_queue(tmp_path), MARKS["ticked"])
    ticked = _queue(tmp_path).read_bytes()
    result = run(work, "review", "export")
    assert result.exit_code == 2
    assert "run 'harvester review import" in result.output
    assert _queue(tmp_path).read_bytes() == ticked
    assert run(work, "review", "export", "--force").exit_code == 0
    assert _queue(tmp_path).read_bytes() != ticked


def test_marks_the_database_already_holds_are_not_unimported(work, tmp_path):
    """A tick on a paper someone accepted since (in the browser, say) loses nothing."""
    assert run(work, "report").exit_code == 0
    _edit_item(_queue(tmp_path), MARKS["ticked"])
    accept_pending(work)
    result = run(work, "report")
    assert result.exit_code == 0, result.output
    assert "#6" not in _queue(tmp_path).read_text(encoding="utf-8")
