"""The review queue at the field's size: python bench/review.py [--papers N] [--decisions N]

Builds a database of 20,000 papers (bench/harvest.py's synthetic corpus, harvested through
the loopback services with no delays) and makes 500 decisions on it (the corpus labels: a
relevant paper accepted under its category, a look-alike rejected), then times what a
curator waits for, each in a fresh process through the CLI or over HTTP to the review app:

- ``harvester status`` (its start-up time is the yardstick), ``harvester review list
  --limit 20``, the same with ``--uncertain`` where the code has it, and ``harvester report``;
  each run twice, the first right after the decisions (what the first read after a decision
  or a harvest costs: it trains), the second warm; then decide, then publish: ``harvester
  review reject ID`` at the terminal and the ``harvester report`` right after it (which
  retrains the ranking on that decision first), each decision a different pending paper;
- ``GET /api/queue?limit=50``, ``GET /api/paper/ID`` and ``POST /api/decide`` (a reject, then
  the queue read the page makes after it, which waits for the training the decision
  started), on the app served by uvicorn on 127.0.0.1: first in a fresh app process, then
  again (a second decision) once the app holds the trained model.

Targets: ``review list --limit 20`` within 0.5 s of ``status``, the API calls at most 0.2 s,
``report`` at most 2 s. ``--repeat N`` runs each "again" measure (and each API call, in a
fresh app each time) N times and prints the median, for a machine other jobs share;
``--only cli,api,report`` runs some of the measures (with ``--keep``, on the kept database).
The same script runs against an older checkout (it uses only the CLI, the app and
``review.accept``/``reject``), which is how the "before" figures were made.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx
from harvest import SEEDS, harvest_run, in_child, machine, serving, synthetic_corpus

from harvester import export, review, screening, store
from harvester.records import normalise_title
from harvester.seeds import load_seeds
from tests.web_helpers import live_app

LOOKALIKE = "lookalike"
# CPU seconds (user + system) of each command ``cli_time`` ran, in order: steadier than the
# wall time on a machine other jobs share.
CPU: list[float] = []


def decide(db_path: Path, papers: int, decisions: int) -> dict[str, int]:
    """``decisions`` papers drawn at random (seeded) decided by their corpus label."""
    seeds = load_seeds(SEEDS)
    _, objects = synthetic_corpus(papers)
    label = {normalise_title(p["title"]): p["label"] for p in objects}
    db = store.open_db(db_path)
    rows = list(store.papers_with(db, "pending"))
    picked = random.Random(16).sample(rows, min(decisions, len(rows)))
    counts = {"accepted": 0, "rejected": 0}
    for row in picked:
        wanted = label.get(normalise_title(row["title"]), LOOKALIKE)
        if wanted == LOOKALIKE or wanted not in seeds.categories:
            review.reject(db, str(row["id"]), who="bench")
            counts["rejected"] += 1
        else:
            review.accept(db, seeds, str(row["id"]), category=wanted, who="bench")
            counts["accepted"] += 1
    db.close()
    return counts


def cli_time(db_path: Path, *args: str) -> float:
    """Wall time of one ``harvester`` command in a fresh interpreter."""
    env = os.environ | {"HARVESTER_SEEDS": str(SEEDS), "HARVESTER_DB": str(db_path)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "harvester", *args],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    if done.returncode not in (0, 1):
        raise SystemExit(f"harvester {' '.join(args)} failed: {done.stderr.strip()[-500:]}")
    return wall


def supports(db_path: Path, *args: str) -> bool:
    env = os.environ | {"HARVESTER_SEEDS": str(SEEDS), "HARVESTER_DB": str(db_path)}
    done = subprocess.run(
        [sys.executable, "-m", "harvester", *args, "--help"], env=env, capture_output=True, cwd=ROOT
    )
    return done.returncode == 0 and b"--uncertain" in done.stdout


def timed(fn: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def api_times(db_path: Path) -> dict[str, float]:
    """The API calls the page makes, first and warm, against a live app in this process."""
    seeds = load_seeds(SEEDS)
    out: dict[str, float] = {}
    with live_app(db_path, seeds) as base, httpx.Client(base_url=base, timeout=600) as client:
        csrf = client.get("/api/session").json()["csrf"]
        client.post("/reviewer", data={"name": "bench", "csrf": csrf})
        out["queue first"], answer = timed(lambda: client.get("/api/queue?limit=50"))
        out["queue"], answer = timed(lambda: client.get("/api/queue?limit=50"))
        body = answer.json()
        out["queue bytes"] = len(answer.content)
        items = body["items"]
        out["paper"], paper = timed(lambda: client.get(f"/api/paper/{items[1]['id']}"))
        version = paper.json()["version"]
        decision = {"paper_id": items[1]["id"], "version": version, "action": "reject"}
        out["decide"], answer = timed(
            lambda: client.post("/api/decide", json=decision, headers={"X-CSRF-Token": csrf})
        )
        if answer.status_code != 200:
            raise SystemExit(f"/api/decide answered {answer.status_code}: {answer.text[:300]}")
        out["queue after decide"], answer = timed(lambda: client.get("/api/queue?limit=50"))
        out["stale after decide"] = float(answer.json().get("stale", False))
        out["training"], _ = timed(screening_wait)
        out["paper after decide"], _ = timed(lambda: client.get(f"/api/paper/{items[2]['id']}"))
        # A second decision: the app now holds everything a training needs.
        version = client.get(f"/api/paper/{items[2]['id']}").json()["version"]
        decision = {"paper_id": items[2]["id"], "version": version, "action": "reject"}
        out["decide 2"], _ = timed(
            lambda: client.post("/api/decide", json=decision, headers={"X-CSRF-Token": csrf})
        )
        out["queue after decide 2"], _ = timed(lambda: client.get("/api/queue?limit=50"))
        out["training 2"], _ = timed(screening_wait)
        out["paper 2"], _ = timed(lambda: client.get(f"/api/paper/{items[3]['id']}"))
        out["page"], _ = timed(lambda: client.get("/"))
    screening_wait()
    getattr(screening, "forget", lambda: None)()  # the next run is a fresh app process
    return out


def screening_wait() -> None:
    """Wait for the trainings the app started in the background (code before them trained
    on the next read, which the row before this one then waited for)."""
    wait = getattr(screening, "wait_for_training", None)
    if wait is not None:
        wait()


def median(times: list[float]) -> float:
    return statistics.median(times)


def main() -> None:
    logging.disable(logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=20_000)
    parser.add_argument("--decisions", type=int, default=500)
    parser.add_argument("--keep", type=Path, help="keep the database here (or reuse it)")
    parser.add_argument("--repeat", type=int, default=1, help="median of N runs")
    parser.add_argument("--only", default="cli,api,report", help="cli, api, report")
    args = parser.parse_args()
    only = set(args.only.split(","))
    print(f"Machine: {machine()}\n")
    tmp = Path(tempfile.mkdtemp(prefix="bench-review-"))
    try:
        db_path = tmp / "review.db"
        if args.keep and args.keep.exists():
            shutil.copy2(args.keep, db_path)
            db = store.open_db(db_path)  # brought up to the code's schema, untimed
            # What the next harvest would store (code before it derived every key each time).
            keep = getattr(export, "keep_key_bases", None)
            if keep is not None:
                keep(db)
            db.close()
        else:
            with serving(args.papers) as srv:
                run = in_child(srv, harvest_run, srv.urls, db_path, 0.0, 0.0)
            print(f"harvested {run['stored']} papers in {run['wall']:.1f} s")
            counts = decide(db_path, args.papers, args.decisions)
            print(f"decided: {counts}")
            if args.keep:
                shutil.copy2(db_path, args.keep)
        rows: list[tuple[str, str, str]] = []
        n = args.repeat
        if "cli" in only:
            for name, argv in (
                ("harvester status", ["status"]),
                ("harvester review list --limit 20", ["review", "list", "--limit", "20"]),
            ):
                first = cli_time(db_path, *argv)
                warm = median([cli_time(db_path, *argv) for _ in range(n)])
                cpu = median(CPU[-n:])
                rows.append((name, f"{first:.2f} s", f"{warm:.2f} s (CPU {cpu:.2f} s)"))
            if supports(db_path, "review", "list"):
                argv = ["review", "list", "--uncertain", "--limit", "20"]
                warm = median([cli_time(db_path, *argv) for _ in range(n)])
                cpu = median(CPU[-n:])
                rows.append(
                    (
                        "harvester review list --uncertain --limit 20",
                        "",
                        f"{warm:.2f} s (CPU {cpu:.2f} s)",
                    )
                )
        if "api" in only:
            runs = [api_times(db_path) for _ in range(n)]
            api = {k: median([r[k] for r in runs]) for k in runs[0]}
            rows += [
                ("GET /api/queue?limit=50", f"{api['queue first']:.2f} s", f"{api['queue']:.2f} s"),
                ("/api/queue?limit=50 size", "", f"{api['queue bytes'] / 1000:.0f} kB"),
                ("GET /api/paper/ID", f"{api['paper']:.2f} s", f"{api['paper 2']:.2f} s"),
                ("POST /api/decide", f"{api['decide']:.2f} s", f"{api['decide 2']:.2f} s"),
                (
                    "GET /api/queue?limit=50 right after the decision"
                    + (" (stale: the order before it)" if api["stale after decide"] else ""),
                    f"{api['queue after decide']:.2f} s",
                    f"{api['queue after decide 2']:.2f} s",
                ),
                (
                    "the decision's training, after that read",
                    f"{api['training']:.2f} s",
                    f"{api['training 2']:.2f} s",
                ),
                ("GET / (the page)", "", f"{api['page']:.2f} s"),
            ]
        if "report" in only:
            out = tmp / "reports"
            first = cli_time(db_path, "report", "--out", str(out), "--force")
            warm = median(
                [cli_time(db_path, "report", "--out", str(out), "--force") for _ in range(n)]
            )
            cpu = median(CPU[-n:])
            rows.append(("harvester report", f"{first:.2f} s", f"{warm:.2f} s (CPU {cpu:.2f} s)"))
            # Decide, then publish: a rejection at the terminal, then the report, which
            # first retrains the ranking on the new decision.
            db = store.open_db(db_path, access="read")
            pending = [int(r["id"]) for r in store.papers_with(db, "pending")]
            db.close()
            decided = random.Random(17).sample(pending, n)
            decide_times: list[float] = []
            decide_cpu: list[float] = []
            after: list[float] = []
            after_cpu: list[float] = []
            for paper_id in decided:
                decide_times.append(cli_time(db_path, "review", "reject", str(paper_id)))
                decide_cpu.append(CPU[-1])
                after.append(cli_time(db_path, "report", "--out", str(out), "--force"))
                after_cpu.append(CPU[-1])
            cpu_decide, cpu_after = median(decide_cpu), median(after_cpu)
            rows.append(
                (
                    "harvester review reject ID (at the terminal)",
                    "",
                    f"{median(decide_times):.2f} s (CPU {cpu_decide:.2f} s)",
                )
            )
            rows.append(
                (
                    "harvester report right after that decision",
                    "",
                    f"{median(after):.2f} s (CPU {cpu_after:.2f} s)",
                )
            )
        if n > 1:
            print(f"again: the median of {n} runs; the API rows: medians of {n} fresh apps")
        print("| measure | first | again |")
        print("| --- | --- | --- |")
        for name, a, b in rows:
            print(f"| {name} | {a} | {b} |")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
