"""Reports: golden files over a small fixed database, and the rules every report keeps."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from markdown_it import MarkdownIt

from harvester import ingest
from harvester.cli import cli
from harvester.report import write_reports
from harvester.rules import Rules
from tests.conftest import ROOT, SEEDS
from tests.sample_db import NASTY_TITLE, build_file

GOLDEN = Path(__file__).parent / "golden"
MD = MarkdownIt("commonmark").enable("table").enable("strikethrough")


@pytest.fixture
def sample(tmp_path, seeds):
    return build_file(tmp_path / "sample.db", seeds)


@pytest.fixture
def written(sample, seeds, tmp_path) -> Path:
    out = tmp_path / "reports"
    write_reports(sample, Rules(seeds), out)
    return out


def files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_reports_match_the_golden_files(written):
    assert files(written) == files(GOLDEN)


def test_running_report_twice_changes_nothing(sample, seeds, written):
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in written.rglob("*") if p.is_file()}
    write_reports(sample, Rules(seeds), written)
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in written.rglob("*") if p.is_file()}
    assert after == before


def tables(text: str) -> list[tuple[int, list[int]]]:
    """(header columns, columns of each body row) for every table markdown-it finds."""
    found, header, rows, cells, in_head = [], 0, [], 0, False
    for token in MD.parse(text):
        if token.type == "table_open":
            header, rows = 0, []
        elif token.type == "thead_open":
            in_head = True
        elif token.type == "thead_close":
            in_head = False
        elif token.type == "tr_open":
            cells = 0
        elif token.type in ("th_open", "td_open"):
            cells += 1
        elif token.type == "tr_close":
            if in_head:
                header = cells
            else:
                rows.append(cells)
        elif token.type == "table_close":
            found.append((header, rows))
    return found


def test_every_table_has_its_headers_column_count(written):
    for path in written.rglob("*.md"):
        text = path.read_text(encoding="utf-8")
        raw_rows = [line for line in text.splitlines() if line.startswith("|")]
        for header, rows in tables(text):
            assert rows == [header] * len(rows), path
        assert sum(1 + len(rows) + 1 for _, rows in tables(text)) == len(raw_rows), path


def sections(text: str) -> dict[str, str]:
    """Level-2 sections of the Papers part: title -> body."""
    papers = text.split("\n# Papers\n", 1)[1]
    parts = re.split(r"^## (.+)$", papers, flags=re.M)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}


def test_num_lines_equal_their_tables_and_papers_appear_once_in_their_section(
    written, sample, seeds
):
    text = (written / "README.md").read_text(encoding="utf-8")
    by_title = sections(text)
    for key, category in seeds.categories.items():
        body = by_title[category.title]
        rows = [
            line
            for line in body.splitlines()
            if line.startswith("| ") and not line.startswith("| **") and "---" not in line
        ]
        num = next(line for line in body.splitlines() if line.startswith("(num)"))
        counted = {int(y): int(n) for y, n in re.findall(r"(\d{4}) = (\d+)", num)}
        years = [int(row.split("|")[1].split()[0]) for row in rows]
        assert counted == {y: years.count(y) for y in set(years)}
        accepted = list(
            sample.query("SELECT * FROM papers WHERE status = 'accepted' AND category = ?", [key])
        )
        assert len(rows) == len(accepted)
        for paper in accepted:
            url = (
                f"https://arxiv.org/abs/{paper['arxiv_id']}"
                if paper["arxiv_id"]
                else f"https://www.semanticscholar.org/paper/{paper['s2_id']}"
            )
            assert text.count(f"]({url})") == 1 + paper["milestone"], paper[
                "title"
            ]  # table + timeline
            assert sum(url in row for row in rows) == 1


def test_every_accepted_milestone_is_in_the_timeline(written, sample):
    text = (written / "README.md").read_text(encoding="utf-8")
    timeline = text.split("# Big Event Timeline", 1)[1].split("# Papers", 1)[0]
    milestones = list(
        sample.query("SELECT * FROM papers WHERE status = 'accepted' AND milestone = 1")
    )
    assert len(milestones) == 4
    for paper in milestones:
        assert (paper["arxiv_id"] or paper["s2_id"]) in timeline


def test_rejected_and_pending_papers_appear_only_in_the_queue(written):
    for path in written.rglob("*"):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        assert "Early Stopping Without a Validation Set" not in text  # rejected
        if path.name == "new.md":  # the last harvest's candidates are news
            text = text.split("## New candidates", 1)[0]
        if path.name != "review-queue.md":
            assert "Anytime Early Exits for Speech" not in text, path  # pending
    for name in ("review-queue.md", "new.md"):
        assert "Anytime Early Exits for Speech" in (written / name).read_text(encoding="utf-8")


def test_a_title_full_of_markdown_and_html_renders_as_text(written):
    for path in written.rglob("*.md"):
        html = MD.render(path.read_text(encoding="utf-8"))
        assert "<script" not in html and "<b>" not in html
        assert not re.search(r'href="(?!https://|#|[\w./-]+\.(?:md|xml|bib)(?:#[\w-]+)?")', html), (
            path
        )
    html = MD.render((written / "README.md").read_text(encoding="utf-8"))
    visible = re.sub(r"<[^>]+>", "", html)
    import html as html_lib

    assert NASTY_TITLE in html_lib.unescape(visible)


def test_report_command_writes_into_reports_and_one_year_on_request(tmp_path, monkeypatch, seeds):
    monkeypatch.chdir(tmp_path)
    build_file(tmp_path / "sample.db", seeds).close()
    (tmp_path / "seeds").symlink_to(SEEDS)
    env = {"HARVESTER_DB": str(tmp_path / "sample.db"), "HARVESTER_REPORTS": str(tmp_path / "out")}
    result = CliRunner().invoke(cli, ["report"], env=env)
    assert result.exit_code == 0, result.output
    assert files(tmp_path / "out") == files(GOLDEN)
    result = CliRunner().invoke(
        cli, ["report", "--out", str(tmp_path / "one"), "--year", "2018"], env=env
    )
    assert result.exit_code == 0
    assert list(files(tmp_path / "one")) == ["years/2018.md"]


def test_readme_sample_is_the_generated_output():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    sample = readme.split("<!-- sample:start -->", 1)[1].split("<!-- sample:end -->", 1)[0]
    blocks = re.findall(r"```markdown\n(.*?)```", sample, re.S)
    golden = (GOLDEN / "README.md").read_text(encoding="utf-8")
    assert all(block in golden for block in blocks)
    assert "# Big Event Timeline" in blocks[0] and "## 早退" in blocks[1]
    [entry] = re.findall(r"```bibtex\n(.*?)```", sample, re.S)
    assert entry in (GOLDEN / "papers.bib").read_text(encoding="utf-8")


def test_chart_is_well_formed_svg_with_a_legend(written, seeds):
    import xml.etree.ElementTree as ET

    root = ET.fromstring((written / "years" / "papers-per-year.svg").read_text(encoding="utf-8"))
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert all(c.title in texts for c in seeds.categories.values())
    assert {"2015", "2018", "2023"} <= set(texts)


def test_date_cells_are_short_for_every_venue_and_never_a_bare_year(db, seeds, tmp_path):
    from harvester import review, store
    from tests.sample_db import _s2

    papers = [
        (
            "Exits on Imaginary Chips",
            "2024 IEEE International Conference on Imaginary Circuits and Systems (ICICS)",
            None,
        ),
        ("Exits Nobody Placed", "", "10.1109/jssc.2099.1"),
        ("Exits Without Any Trace", "", None),
    ]
    records = [
        _s2(f"{i}" + "a" * 39, title, arxiv=None, venue=venue, dblp=None, year=2024, cites=1)
        for i, (title, venue, _) in enumerate(papers, 1)
    ]
    for record, (_, _, doi) in zip(records, papers, strict=True):
        record.doi = doi
    run = store.start_run(db, {})
    ingest.save_records(db, Rules(seeds), records, run_id=run)
    store.finish_run(db, run, status="ok", requests={}, errors=[])
    for record in records:
        review.accept(db, seeds, record.s2_id, category="accelerator", who="t")
    write_reports(db, Rules(seeds), tmp_path / "out")
    text = (tmp_path / "out" / "README.md").read_text(encoding="utf-8")
    cells = {
        line.split(" | ")[1].split("](")[0].strip("["): line.split(" | ")[0].strip("| ")
        for line in text.splitlines()
        if line.startswith("| 2024")
    }
    assert cells == {
        "Exits on Imaginary Chips": "2024 ICICS",
        "Exits Nobody Placed": "2024 IEEE",
        "Exits Without Any Trace": "2024 Unknown",
    }


def test_every_listed_paper_has_a_focused_on(written):
    # The sample's 2015 ACL paper has no focus, no TL;DR and no abstract.
    text = (written / "README.md").read_text(encoding="utf-8")
    rows = [
        re.split(r"(?<!\\)\|", line)[1:-1]
        for line in text.split("\n# Papers\n", 1)[1].splitlines()
        if line.startswith("| ") and not line.startswith("| **") and "---" not in line
    ]
    assert len(rows) == 6
    assert all(cells[2].strip() for cells in rows), rows


def test_a_timeline_cell_holds_a_handful_of_short_names(db, seeds, tmp_path):
    from harvester import review, store
    from tests.sample_db import _arxiv, _s2

    run = store.start_run(db, {})
    names = [f"Exit{chr(65 + i)}Net" for i in range(7)]
    ingest.save_records(
        db,
        Rules(seeds),
        [
            _arxiv(f"2001.0000{i}", f"{name}: Early Exits Number {i}", 2020, f"We propose {name}.")
            for i, name in enumerate(names)
        ],
        run_id=run,
    )
    ingest.save_records(
        db,
        Rules(seeds),
        [
            _s2(
                f"{i}" + "b" * 39,
                f"{name}: Early Exits Number {i}",
                arxiv=f"2001.0000{i}",
                venue="",
                dblp=None,
                year=2020,
                cites=200 + i,
            )
            for i, name in enumerate(names)
        ],
        run_id=run,
    )
    store.finish_run(db, run, status="ok", requests={}, errors=[])
    for i in range(7):
        review.accept(db, seeds, f"2001.0000{i}", category="early_exit", who="t")
    write_reports(db, Rules(seeds), tmp_path / "out")
    text = (tmp_path / "out" / "README.md").read_text(encoding="utf-8")
    model = next(
        line
        for line in text.split("# Big Event Timeline", 1)[1].splitlines()
        if line.startswith("| Model")
    )
    assert model == (
        "| Model | [ExitGNet](https://arxiv.org/abs/2001.00006) (206)<br>"
        "[ExitFNet](https://arxiv.org/abs/2001.00005) (205)<br>"
        "[ExitENet](https://arxiv.org/abs/2001.00004) (204)<br>"
        "[ExitDNet](https://arxiv.org/abs/2001.00003) (203)<br>"
        "[+3 more](years/2020.md#milestones-and-awards) |"
    )
    # The year's report lists every milestone, those the cell counts too.
    year = (tmp_path / "out" / "years" / "2020.md").read_text(encoding="utf-8")
    milestones = year.split("## Milestones and awards", 1)[1].split("\n## ", 1)[0]
    assert all(f"(https://arxiv.org/abs/2001.0000{i})" in milestones for i in range(7))
