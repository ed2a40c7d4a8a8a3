"""A small fixed database for the report tests and the README's sample output.

Built through the library (records merged by the store, decisions made by ``review``) with a
fixed clock, so every build is identical.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from unittest import mock

from sqlite_utils import Database

import harvester.clock as harvester_clock
from harvester import ingest, review, store
from harvester.records import PaperRecord
from harvester.rules import Rules
from harvester.seeds import Seeds
from harvester.sources.semantic_scholar import to_record

NASTY_TITLE = (
    "Pipes | and *stars* <script>alert(1)</script> `code` _under_ [x](javascript:alert(1)) $x$"
)


def _arxiv(
    arxiv_id: str, title: str, year: int, abstract: str, comment: str | None = None
) -> PaperRecord:
    return PaperRecord(
        source="arxiv",
        title=title,
        abstract=abstract,
        authors=["A. Author", "B. Author"],
        arxiv_id=arxiv_id,
        arxiv_version=1,
        published=f"{year}-03-01",
        updated=f"{year}-03-01",
        year=year,
        primary_category="cs.LG",
        categories=["cs.LG"],
        comment=comment,
    )


def _s2(
    paper_id: str,
    title: str,
    *,
    arxiv: str | None,
    venue: str,
    dblp: str | None,
    year: int,
    cites: int,
    tldr: str | None = None,
) -> PaperRecord:
    ids = {k: v for k, v in {"ArXiv": arxiv, "DBLP": dblp}.items() if v}
    return to_record(
        {
            "paperId": paper_id,
            "externalIds": ids,
            "title": title,
            "abstract": None,
            "venue": venue,
            "publicationVenue": {"name": venue} if venue else None,
            "year": year,
            "publicationDate": None,
            "citationCount": cites,
            "influentialCitationCount": cites // 10,
            "authors": [{"authorId": "1", "name": "A. Author"}],
            "journal": None,
            "tldr": {"model": "tldr@v2.0.0", "text": tldr} if tldr else None,
        }
    )


def build(db: Database, seeds: Seeds) -> None:
    """Fill ``db`` with eight papers: six accepted, one rejected, one pending."""
    clock = (f"2026-11-{day:02d}T06:00:00Z" for day in itertools.count(1))
    with (
        mock.patch.object(harvester_clock, "now_iso", lambda: next(clock)),
    ):
        run = store.start_run(db, {"categories": list(seeds.categories)})
        hit = {"run_id": run, "category": "early_exit", "query": "sample"}
        ingest.save_records(
            db,
            Rules(seeds),
            [
                _arxiv(
                    "1703.09844",
                    "Multi-Scale Dense Networks for Resource Efficient Image Classification",
                    2017,
                    "We study image classification under a budget at test time. We propose"
                    " multi-scale dense networks (MSDNets) with early exits on easy images.",
                    comment="Code: https://github.com/gaohuang/MSDNet.",
                ),
                _arxiv(
                    "2004.02178",
                    "FastBERT: a Self-distilling BERT with Adaptive Inference Time",
                    2020,
                    "BERT with early exiting.",
                ),
                _arxiv(
                    "1711.11503",
                    "Convolutional Networks with Adaptive Inference Graphs",
                    2017,
                    "Do networks need a fixed structure? In this work, we propose convolutional"
                    " networks with adaptive inference graphs (ConvNet-AIG), e.g. gates that"
                    " skip layers per input.",
                ),
                _arxiv(
                    "2301.00001",
                    NASTY_TITLE,
                    2023,
                    "A compiler for dynamic shapes.\nWith a newline.",
                ),
                _arxiv(
                    "2301.00002",
                    "Early Stopping Without a Validation Set",
                    2023,
                    "We stop training early.",
                ),
                _arxiv(
                    "2302.00003",
                    "Anytime Early Exits for Speech",
                    2023,
                    "Early exit for speech recognition.",
                ),
            ],
            **hit,
        )
        ingest.save_records(
            db,
            Rules(seeds),
            [
                _s2(
                    "a" * 40,
                    "Multi-Scale Dense Networks for Resource Efficient Image Classification",
                    arxiv="1703.09844",
                    venue="International Conference on Learning Representations",
                    dblp="conf/iclr/HuangCLWMW18",
                    year=2017,
                    cites=800,
                    tldr="Networks that exit early on easy images.",
                ),
                _s2(
                    "b" * 40,
                    "FastBERT: a Self-distilling BERT with Adaptive Inference Time",
                    arxiv="2004.02178",
                    venue="Annual Meeting of the Association for Computational Linguistics",
                    dblp="conf/acl/LiuZWZDJ20",
                    year=2020,
                    cites=390,
                ),
                _s2(
                    "c" * 40,
                    "Convolutional Networks with Adaptive Inference Graphs",
                    arxiv="1711.11503",
                    venue="European Conference on Computer Vision",
                    dblp="conf/eccv/VeitB18",
                    year=2017,
                    cites=410,
                ),
                _s2(
                    "d" * 40,
                    "Cavs: An Efficient Runtime System for Dynamic Neural Networks",
                    arxiv=None,
                    venue="USENIX Annual Technical Conference",
                    dblp="conf/usenix/XuZNDKDHYX18",
                    year=2018,
                    cites=60,
                    tldr="A runtime for dynamic networks.",
                ),
                _s2(
                    "e" * 40,
                    "Learning Dynamic Feature Selection for Fast Sequential Prediction",
                    arxiv=None,
                    venue="Annual Meeting of the Association for Computational Linguistics",
                    dblp="conf/acl/StrubellVBM15",
                    year=2015,
                    cites=40,
                ),
                _s2(
                    "f" * 40,
                    NASTY_TITLE,
                    arxiv="2301.00001",
                    venue="arXiv.org",
                    dblp=None,
                    year=2023,
                    cites=3,
                    tldr="Compiles | dynamic <b>shapes</b>.",
                ),
            ],
            run_id=run,
        )
        # A later observation: MSDNet's citations rose.
        ingest.save_records(
            db,
            Rules(seeds),
            [
                _s2(
                    "a" * 40,
                    "Multi-Scale Dense Networks for Resource Efficient Image Classification",
                    arxiv="1703.09844",
                    venue="International Conference on Learning Representations",
                    dblp="conf/iclr/HuangCLWMW18",
                    year=2017,
                    cites=860,
                    tldr="Networks that exit early on easy images.",
                ),
            ],
            run_id=run,
        )
        store.finish_run(
            db,
            run,
            status="ok",
            requests={"arxiv": 2, "s2": 2},
            errors=[],
        )
        who = "sample"
        review.accept(
            db,
            seeds,
            "1703.09844",
            category="early_exit",
            focus="早退/单模型多退出通道，多Scala",
            who=who,
        )
        review.accept(
            db, seeds, "2004.02178", category="early_exit", focus="早退/Bert模型第一个早退", who=who
        )
        review.accept(
            db,
            seeds,
            "1711.11503",
            category="layer_skipping",
            focus="Gating function，减少20%~30%计算",
            who=who,
        )
        review.accept(db, seeds, "d" * 40, category="system", who=who)
        review.accept(
            db,
            seeds,
            "e" * 40,
            category="early_exit",
            note="An early adaptive-computation paper.",
            who=who,
        )
        review.accept(
            db,
            seeds,
            "2301.00001",
            category="compiler",
            note="notes | with *markup*\nand a newline",
            who=who,
        )
        review.reject(db, "2301.00002", reason="early stopping, not early exit", who=who)
        # 2302.00003 stays pending.


def build_file(path: Path, seeds: Seeds) -> Database:
    db = store.open_db(path)
    build(db, seeds)
    return db
