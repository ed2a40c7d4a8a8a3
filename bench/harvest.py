"""Harvest cost at scale: python bench/harvest.py [--papers N]

Serves a synthetic corpus of N papers (a third about early exits, the rest unrelated) from
the loopback server, harvests it twice into fresh databases, with the services' delays scaled
down (0.05 s arXiv, 0.02 s Semantic Scholar) and with no delays, then writes the reports, and
prints: requests per source and per 1,000 papers stored, wall time against the rate-limit
floor (max over sources of requests × delay) and against their sum, local throughput with no
delays, report time and peak memory.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harvester import store
from harvester.config import Config
from harvester.harvest import run_harvest
from harvester.report import write_reports
from harvester.seeds import load_seeds
from tests.loopback import Entry, FakeArxiv, FakeS2, LoopbackServer

WORDS = ["graph", "protein", "market", "galaxy", "soil", "river", "language", "vision"]


def corpus(n: int) -> tuple[list[Entry], list[dict]]:
    entries, papers = [], []
    for i in range(n):
        relevant = i % 3 == 0
        topic = (
            "early exit networks" if relevant else f"{WORDS[i % 8]} {WORDS[(i // 10) % 8]} models"
        )
        arxiv_id = f"{2000 + i // 99999:04d}.{i % 99999:05d}"
        day = 1 + i % 28
        entries.append(
            Entry(
                arxiv_id=arxiv_id,
                title=f"Paper {i} on {topic}",
                abstract=f"We study {topic} with intermediate classifiers."
                if relevant
                else f"We study {topic}.",
                authors=[f"Author {i % 500}", f"Author {(i * 7) % 500}"],
                published=f"2023-{1 + i % 12:02d}-{day:02d}T00:00:00Z",
                updated=f"2023-{1 + i % 12:02d}-{day:02d}T00:00:00Z",
                primary_category="cs.LG",
                categories=["cs.LG"],
            )
        )
        papers.append(
            {
                "paperId": hashlib.sha1(arxiv_id.encode()).hexdigest(),
                "externalIds": {"ArXiv": arxiv_id},
                "title": entries[-1].title,
                "abstract": entries[-1].abstract,
                "venue": "arXiv.org",
                "publicationVenue": None,
                "year": 2023,
                "publicationDate": None,
                "citationCount": i % 150,
                "influentialCitationCount": 0,
                "authors": [{"authorId": "1", "name": a} for a in entries[-1].authors],
                "journal": None,
                "tldr": None,
            }
        )
    return entries, papers


def harvest(n: int, arxiv_delay: float, s2_delay: float) -> dict:
    entries, papers = corpus(n)
    seeds = load_seeds(ROOT / "seeds")
    with LoopbackServer(FakeArxiv(entries), FakeS2(papers)) as srv:
        path = Path(tempfile.mkdtemp()) / "bench.db"
        config = Config(
            db=path,
            arxiv_url=srv.arxiv_url,
            s2_url=srv.s2_url,
            arxiv_delay=arxiv_delay,
            s2_delay=s2_delay,
            backoff_max=0,
            max_per_query=30_000,
        )
        db = store.open_db(path)
        started = time.perf_counter()
        result = run_harvest(db, seeds, config)
        wall = time.perf_counter() - started
        stored = db.table("papers").count
        started = time.perf_counter()
        write_reports(db, seeds, path.parent / "reports")
        report = time.perf_counter() - started
    return {"requests": result.requests, "wall": wall, "stored": stored, "report": report}


def main() -> None:
    logging.disable(logging.ERROR)  # the synthetic corpus has no seed papers: not news
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=20_000)
    args = parser.parse_args()
    paced = harvest(args.papers, 0.05, 0.02)
    free = harvest(args.papers, 0.0, 0.0)
    req = paced["requests"]
    floor = max(req.get("arxiv", 0) * 0.05, req.get("s2", 0) * 0.02)
    total = req.get("arxiv", 0) * 0.05 + req.get("s2", 0) * 0.02
    per_1000 = sum(req.values()) / max(paced["stored"], 1) * 1000
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = [
        ("corpus", f"{args.papers} papers, {paced['stored']} stored"),
        ("requests", f"arXiv {req.get('arxiv', 0)}, S2 {req.get('s2', 0)}"),
        ("requests per 1,000 papers stored", f"{per_1000:.1f}"),
        ("wall time, paced", f"{paced['wall']:.1f} s"),
        ("rate-limit floor (max) / sum", f"{floor:.1f} s / {total:.1f} s"),
        ("wall time / floor", f"{paced['wall'] / floor:.1f}×"),
        ("local throughput, no delays", f"{free['stored'] / free['wall']:.0f} papers/s"),
        ("report", f"{free['report']:.2f} s"),
        ("peak memory (this process, server included)", f"{rss:.0f} MB"),
    ]
    print("| measure | value |")
    print("| --- | --- |")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
