"""The scheduling examples ship working: a crontab line, systemd units, a GitHub workflow.

Each is checked for its own syntax and for the harvester commands it runs: those are parsed
by the real CLI (with ``--help``, so nothing runs), so an option renamed in the code cannot
leave an example behind.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from harvester.cli import cli
from tests.conftest import ROOT, SEEDS, synthetic_entries

EXAMPLES = ROOT / "examples"
SHELL_OPERATORS = {"&&", "||", ";", "|", "&"}
SHELL_KEYWORDS = {"if", "then", "else", "elif", "do", "!"}

# One cron time field: *, a number or range, lists of those, optional /step; names allowed
# for months and weekdays.
_CRON_ITEM = r"(\*|\d+(-\d+)?|[A-Za-z]{3}(-[A-Za-z]{3})?)(/\d+)?"
CRON_FIELD = re.compile(rf"^{_CRON_ITEM}(,{_CRON_ITEM})*$")
CRON_RANGES = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]


def check_cron(expression: str) -> None:
    """Five valid time fields (numbers in range), as cron and GitHub's schedule read them."""
    fields = expression.split()
    assert len(fields) == 5, expression
    for field, (low, high) in zip(fields, CRON_RANGES, strict=True):
        assert CRON_FIELD.match(field), field
        for number in re.findall(r"(?<![/\d])\d+", field):
            assert low <= int(number) <= high, (field, low, high)


def harvester_commands(script: str) -> list[list[str]]:
    """The arguments of every ``harvester …`` command in a shell script, one per call.

    Only words in command position count (``git config user.name harvester`` is no call).
    """
    commands = []
    for line in script.splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        words = shlex.split(line, posix=True)
        at_command = True
        for i, word in enumerate(words):
            if word in SHELL_OPERATORS or word in SHELL_KEYWORDS:
                at_command = True
                continue
            if at_command and (word == "harvester" or word.endswith("/harvester")):
                args = []
                for arg in words[i + 1 :]:
                    if arg in SHELL_OPERATORS or arg.startswith((">", "2>", "1>")):
                        break
                    args.append(arg)
                commands.append(args)
            if not (at_command and re.match(r"^[A-Z_]+=", word)):
                at_command = False
    return commands


def assert_cli_accepts(args: list[str], tmp_path: Path, monkeypatch) -> None:
    """The real CLI parses these arguments (``--help`` stops it before any work)."""
    monkeypatch.chdir(tmp_path)
    args = ["--full" if a == "$FULL" else a for a in args]
    result = CliRunner().invoke(cli, [*args, "--help"])
    assert result.exit_code == 0, (args, result.output)
    assert "Usage:" in result.output


# --- crontab --------------------------------------------------------------------------------


def cron_jobs() -> list[tuple[str, str]]:
    jobs = []
    for line in (EXAMPLES / "crontab").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or re.match(r"^[A-Z_]+=", line):
            continue
        fields = line.split(None, 5)
        jobs.append((" ".join(fields[:5]), fields[5]))
    return jobs


def test_crontab_line_has_five_time_fields_and_calls_harvester_harvest(tmp_path, monkeypatch):
    [(when, command)] = cron_jobs()
    check_cron(when)
    [args] = harvester_commands(command)
    subcommands = [a for a in args if not a.startswith("-")]
    assert "harvest" in subcommands
    assert_cli_accepts(args, tmp_path, monkeypatch)


# --- systemd ----------------------------------------------------------------------------------


def read_unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """A systemd unit file: sections of keys, each key with all its values (keys repeat)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            assert line.endswith("]"), f"{path.name}:{number}: {raw}"
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"{path.name}:{number}: key before any section"
        key, sep, value = line.partition("=")
        assert sep and re.match(r"^[A-Za-z][A-Za-z0-9]*$", key.strip()), f"{path.name}:{number}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def test_systemd_service_runs_a_oneshot_harvest(tmp_path, monkeypatch):
    unit = read_unit(EXAMPLES / "systemd" / "harvester.service")
    assert set(unit) == {"Unit", "Service"}
    assert unit["Unit"]["Description"] and "network-online.target" in unit["Unit"]["After"]
    service = unit["Service"]
    assert service["Type"] == ["oneshot"]
    assert service["WorkingDirectory"] and service["User"]
    [exec_start] = service["ExecStart"]
    assert exec_start.startswith("/")  # systemd wants an absolute path
    [args] = harvester_commands(exec_start)
    assert "harvest" in args
    assert_cli_accepts(args, tmp_path, monkeypatch)
    # The key comes from an environment file, never from the unit itself.
    assert not [v for v in service.get("Environment", []) if "S2_API_KEY" in v]


def test_systemd_timer_starts_the_service_on_a_calendar():
    timer = read_unit(EXAMPLES / "systemd" / "harvester.timer")
    assert set(timer) == {"Unit", "Timer", "Install"}
    assert timer["Timer"]["Unit"] == ["harvester.service"]
    assert timer["Timer"]["Persistent"] == ["true"]
    assert timer["Install"]["WantedBy"] == ["timers.target"]
    [calendar] = timer["Timer"]["OnCalendar"]
    assert calendar


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_systemd_analyze_accepts_the_units(tmp_path):
    """Where systemd's own checker is at hand, it has the last word."""
    service = (EXAMPLES / "systemd" / "harvester.service").read_text(encoding="utf-8")
    # verify wants the ExecStart binary to exist: point it at this environment's.
    here = Path(sys.executable).parent / "harvester"
    (tmp_path / "harvester.service").write_text(
        service.replace("/srv/harvester/.venv/bin/harvester", str(here)), encoding="utf-8"
    )
    shutil.copy(EXAMPLES / "systemd" / "harvester.timer", tmp_path / "harvester.timer")
    verify = subprocess.run(
        ["systemd-analyze", "verify", "harvester.service", "harvester.timer"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert verify.returncode == 0, verify.stderr
    [calendar] = read_unit(tmp_path / "harvester.timer")["Timer"]["OnCalendar"]
    check = subprocess.run(
        ["systemd-analyze", "calendar", calendar], capture_output=True, text=True, timeout=60
    )
    assert check.returncode == 0, check.stderr


# --- GitHub Actions ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def workflow() -> dict:
    data = yaml.safe_load((EXAMPLES / "github-actions" / "harvest.yml").read_text("utf-8"))
    # YAML 1.1 reads the key `on` as the boolean true.
    data["on"] = data.pop(True, data.get("on"))
    return data


def steps(workflow: dict) -> list[dict]:
    [job] = workflow["jobs"].values()
    return job["steps"]


def test_workflow_runs_on_a_schedule_one_at_a_time(workflow):
    [schedule] = workflow["on"]["schedule"]
    check_cron(schedule["cron"])
    assert "workflow_dispatch" in workflow["on"]
    assert workflow["permissions"] == {"contents": "write"}  # it pushes commits
    assert workflow["concurrency"]["cancel-in-progress"] is False
    [job] = workflow["jobs"].values()
    assert job["timeout-minutes"] > 0
    assert job["env"]["S2_API_KEY"] == "${{ secrets.S2_API_KEY }}"


def test_workflow_steps_are_well_formed(workflow):
    for step in steps(workflow):
        assert ("uses" in step) != ("run" in step), step
        if "uses" in step:
            assert re.match(r"^[\w-]+/[\w-]+@v\d+$", step["uses"]), step["uses"]


def test_workflow_harvests_reports_and_commits_reports_and_the_database(
    workflow, tmp_path, monkeypatch
):
    scripts = [step["run"] for step in steps(workflow) if "run" in step]
    commands = [args for script in scripts for args in harvester_commands(script)]
    subcommands = [
        next(a for a in args if a in ("harvest", "status", "report")) for args in commands
    ]
    assert {"harvest", "status", "report"} <= set(subcommands)
    for args in commands:
        assert_cli_accepts(args, tmp_path, monkeypatch)
    # The database is kept on its branch, reports/ on the branch that ran the workflow.
    assert any("git add db/harvester.db" in s and "harvester-data" in s for s in scripts)
    assert any("git add reports" in s and "git push" in s for s in scripts)
    [job] = workflow["jobs"].values()
    assert job["env"]["HARVESTER_DB"].startswith("data/")


def step(workflow: dict, name: str) -> dict:
    return next(s for s in steps(workflow) if s.get("name") == name)


@pytest.fixture
def harvest_step(workflow, server, tmp_path):
    """Runs the workflow's Harvest step in bash -e, as a runner does, against the loopback
    services; returns its exit code and what it wrote to ``$GITHUB_OUTPUT``."""
    spec = step(workflow, "Harvest")
    (tmp_path / "harvester.toml").write_text("backoff_max = 0\nretries = 1\n", encoding="utf-8")
    (tmp_path / "data" / "db").mkdir(parents=True)
    outputs = tmp_path / "github-output"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HARVESTER_")}
    env |= {k: v for k, v in spec["env"].items() if "${{" not in v}
    env |= {
        "FULL": "",
        "GITHUB_OUTPUT": str(outputs),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}",
        "HARVESTER_DB": str(tmp_path / "data" / "db" / "harvester.db"),
        "HARVESTER_SEEDS": str(SEEDS),
        "HARVESTER_ARXIV_URL": server.arxiv_url,
        "HARVESTER_S2_URL": server.s2_url,
        "HARVESTER_ARXIV_DELAY": "0",
        "HARVESTER_S2_DELAY": "0",
    }

    def run(**extra: str) -> tuple[int, dict[str, str]]:
        outputs.write_text("", encoding="utf-8")
        proc = subprocess.run(
            ["bash", "-e", "-c", spec["run"]],
            cwd=tmp_path,
            env=env | extra,
            capture_output=True,
            text=True,
            timeout=300,
        )
        said = dict(line.split("=", 1) for line in outputs.read_text(encoding="utf-8").splitlines())
        return proc.returncode, said

    return run


def test_workflow_commits_nothing_when_the_harvest_failed_outright(
    workflow, harvest_step, fake_arxiv
):
    # Both services down on a new database: exit 1, and nothing stored.
    down = {"HARVESTER_ARXIV_URL": "http://127.0.0.1:9/api/query"}
    down["HARVESTER_S2_URL"] = "http://127.0.0.1:9/graph/v1"
    code, said = harvest_step(**down)
    assert (code, said) == (1, {"code": "1", "stored": "false"})
    # A bad configuration: exit 2 before anything is fetched.
    code, said = harvest_step(HARVESTER_ARXIV_DELAY="fast")
    assert (code, said) == (2, {"code": "2", "stored": "false"})
    # What the step says decides every step that commits.
    assert step(workflow, "Report")["if"] == "steps.harvest.outputs.stored == 'true'"
    assert step(workflow, "Commit reports")["if"] == "steps.harvest.outputs.stored == 'true'"
    keep = step(workflow, "Keep the database on the data branch")["if"]
    assert "steps.harvest.outputs.stored != 'false'" in keep  # cancelled mid-way: keep pages


def test_workflow_commits_what_a_partly_failed_harvest_stored(harvest_step, fake_arxiv):
    fake_arxiv.corpus = synthetic_entries(30)  # the seed papers are not in it: exit 1
    code, said = harvest_step()
    assert (code, said) == (0, {"code": "1", "stored": "true"})
    code, said = harvest_step()  # again: the same papers, nothing new but the failure
    assert (code, said) == (1, {"code": "1", "stored": "false"})
    fake_arxiv.corpus = synthetic_entries(31)  # one new paper
    code, said = harvest_step()
    assert (code, said) == (0, {"code": "1", "stored": "true"})
