"""Harvest cost at scale: python bench/harvest.py [--papers N]

Serves a synthetic corpus of N papers (default 20,000; a third relevant, the rest look-alikes
that the seed queries still find; 10% on Semantic Scholar only) from the loopback server,
running in a process of its own so that its work competes neither for the harvester's GIL nor
for its memory. Each run below is a fresh process harvesting into a fresh database, so its
wall time and peak RSS are the harvester's alone:

- paced: ``run_harvest`` with the services' delays scaled down to 1/6 of the real rate limits
  (arXiv 0.5 s instead of 3 s, Semantic Scholar 1/6 s instead of 1 s). Why 1/6 and not less:
  at 1/60 (0.05 s) storing one 2,000-paper page takes far longer than the delay, so the bench
  would measure the CPU and not how well waiting on two services overlaps with local work; at
  1/6 the ratio of local work to waiting stays closer to a real run's.
- free: the same with zero delays, for the local throughput (papers stored per second).
- report: ``write_reports`` over the free run's database (N papers).
- naive baseline: the straightforward harvester written below (not the project's): every
  arXiv query in pages of 100, the bulk searches, then one Semantic Scholar request per
  stored paper. It runs at zero delay (paced, its 20,000-odd requests would take an hour);
  its paced wall time is computed as local time + Σ requests × delay, which is exact for a
  sequential client, and labelled as computed.

Prints the machine, then a Markdown table: requests per source and per 1,000 papers stored,
wall time against the rate-limit floor (max over sources of requests × delay) and against
their sum, local throughput, report time, peak memory, the naive baseline beside them, and
what both would cost at the real rate limits.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import multiprocessing
import platform
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harvester import ingest, store
from harvester.config import Config
from harvester.harvest import run_harvest
from harvester.report import write_reports
from harvester.rules import Rules
from harvester.seeds import Seeds, load_seeds
from harvester.sources import open_sources
from harvester.sources import semantic_scholar as s2_source
from harvester.sources.arxiv import ArxivSource
from harvester.sources.semantic_scholar import SemanticScholarSource
from tests.loopback import Entry, FakeArxiv, FakeS2, LoopbackServer
from tests.seeds_folder import frozen_seeds


def _bench_seeds() -> Path:
    """The tests' frozen seeds (tests/seeds) with the shipped venue table and award list.

    The synthetic corpus below is written query by query for those seeds' 16 arXiv and 7
    bulk queries, so curators' edits to seeds/ do not break it; what it measures (requests
    per page, storing, paging, the refresh) does not depend on the wording of the queries.
    """
    return frozen_seeds("harvester-bench-seeds-")


SEEDS = _bench_seeds()
# The services' documented limits: arXiv one request every 3 s, S2 (with a key) one a second.
REAL_DELAYS = {"arxiv": 3.0, "s2": 1.0}
SCALE = 6

# --- the synthetic corpus ----------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    """How to write a paper that one arXiv query of the seeds finds, and no other.

    Each query gets papers of its own, so every query reads about N/16 papers and each paper
    is read about once: a paper that several queries find costs several reads, which would
    blur what a request per paper costs. ``relevant`` is about the category's subject;
    ``lookalike`` uses the query's words about something else, with the negative phrases of
    tests/seeds/classify.toml ("early stopping", "temporal graph", "dynamical system").
    """

    category: str
    arxiv_categories: tuple[str, str]
    relevant: tuple[str, str]
    lookalike: tuple[str, str]


# One per arXiv query, in the order of tests/seeds/categories.toml. The texts were checked against
# the fake services' query evaluation: ``--papers 2000`` prints the papers each query finds.
TEMPLATES: list[Template] = [
    Template(
        "survey",
        ("cs.LG", "cs.CV"),
        (
            "A Survey of Dynamic Neural Networks for {subject}",
            "We review dynamic neural networks, which adapt their structure or parameters to "
            "each sample, and sort sparse expert models and gated designs into a taxonomy. "
            "Open challenges and future directions close the survey.",
        ),
        (
            "A Review of Dynamic Neural Networks for Chaotic Signals",
            "This review covers dynamic neural networks used to identify a dynamical system "
            "from measured signals, where early stopping of training decides how well the "
            "model generalises.",
        ),
    ),
    Template(
        "early_exit",
        ("cs.CV", "cs.LG"),
        (
            "Early Exits for Efficient {subject}",
            "We attach early exits to a deep network so that easy samples leave after a few "
            "stages. Confidence thresholds decide when to stop, saving latency with little "
            "loss of accuracy.",
        ),
        (
            "Early Exit Decisions of Venture Investors",
            "We model the early exit of investors from start-up markets as a dynamical system "
            "and estimate early stopping rules from deal data.",
        ),
    ),
    Template(
        "early_exit",
        ("cs.CL", "cs.LG"),
        (
            "Intermediate Classifiers for {subject}",
            "We train intermediate classifiers on a shared backbone and stop at the first "
            "confident one, halving the average latency on mobile phones.",
        ),
        (
            "Internal Classifiers for Fault Detection in Power Grids",
            "Internal classifiers monitor a temporal graph of grid sensors, and side branches "
            "of a feeder are isolated when a dynamical system model predicts a failure.",
        ),
    ),
    Template(
        "early_exit",
        ("cs.LG", "stat.ML"),
        (
            "Anytime Prediction for {subject}",
            "Networks for anytime prediction can be stopped at any moment and still answer. "
            "We study overthinking, where a shallow answer was already right and deeper "
            "stages change it.",
        ),
        (
            "Anytime Prediction of River Floods",
            "An anytime prediction scheme for hydrology refines the forecast of a dynamical "
            "system as gauges report, with early stopping of the solver.",
        ),
    ),
    Template(
        "early_exit",
        ("cs.CL", "cs.AI"),
        (
            "Learning When to Exit in {subject}",
            "Each BERT layer is followed by a small exit that ends inference once the "
            "prediction is confident enough, so easy sentences use a fraction of the model.",
        ),
        (
            "Exit Polls and Bayesian Inference in District Elections",
            "We combine exit polls with Bayesian inference over a temporal graph of voting "
            "districts to forecast turnout.",
        ),
    ),
    Template(
        "early_exit",
        ("eess.AS", "cs.SD"),
        (
            "Instance-Adaptive Networks for {subject}",
            "Sample-adaptive models spend less effort on clean utterances; adaptive inference "
            "picks a cheaper path for each utterance without retraining.",
        ),
        (
            "Adaptive Networks of Species Interactions",
            "Adaptive networks describe how species rewire their interactions; we study a "
            "dynamical system of population counts and its tipping points.",
        ),
    ),
    Template(
        "layer_skipping",
        ("cs.LG", "cs.CL"),
        (
            "Layer Skipping for {subject}",
            "A small gate decides for every token which blocks to run. Layer skipping keeps "
            "the accuracy of the full model while cutting latency by a third.",
        ),
        (
            "Fast Soil Moisture Simulation",
            "We skip layers of the soil column whose moisture is stable, a shortcut for the "
            "dynamical system of water transport, and compare it with residual learning of "
            "the error.",
        ),
    ),
    Template(
        "layer_skipping",
        ("cs.LG", "cs.CV"),
        (
            "Adaptive Computation Time for {subject}",
            "A halting score lets the network choose its own depth for every image, so the "
            "number of executed layers follows the difficulty of the input.",
        ),
        (
            "Dynamic Depth Control of Underwater Gliders",
            "Dynamic depth control of an underwater glider is modelled as a dynamical system "
            "with constraints given by a temporal graph of currents.",
        ),
    ),
    Template(
        "layer_skipping",
        ("cs.LG", "cs.NE"),
        (
            "Conditional Computation for {subject}",
            "Conditional computation with learned gates runs only the units a sample needs; "
            "selective execution of branches keeps the cost proportional to difficulty.",
        ),
        (
            "Dynamic Routing in Satellite Networks",
            "Dynamic routing of packets over a temporal graph of satellite links reduces "
            "delivery delays under intermittent contact.",
        ),
    ),
    Template(
        "system",
        ("cs.DC", "cs.PL"),
        (
            "Dynamic Batching of Define-by-Run Models for {subject}",
            "Dynamic batching groups the operations of many define-by-run programs at "
            "execution time, so models written with Python loops run at the speed of static "
            "ones.",
        ),
        (
            "Dynamic Batching of Chemical Reactor Runs",
            "Dynamic batching of reactor runs in a chemical plant is modelled as a dynamical "
            "system, and early stopping of a run saves feedstock.",
        ),
    ),
    Template(
        "system",
        ("cs.PL", "cs.LG"),
        (
            "Operation Batching for {subject} Programs",
            "Programs with dynamic control flow, such as tree-structured models, are grouped "
            "by operation batching while they execute, without any annotation from the user.",
        ),
        (
            "Dynamic Control Flow in Spreadsheet Macros",
            "We analyse dynamic control flow in spreadsheet macros written by accountants and "
            "how it relates to audit errors.",
        ),
    ),
    Template(
        "system",
        ("cs.DC", "cs.LG"),
        (
            "Serving Dynamic DNNs for {subject}",
            "A serving runtime for dynamic DNNs with progressive inference places requests "
            "across edge devices and the cloud to meet latency targets.",
        ),
        (
            "Dynamic Models of Cloud Spot Prices",
            "Dynamic models of cloud spot prices treat the market as a dynamical system, and "
            "early stopping of bids guides the scheduling of batch jobs.",
        ),
    ),
    Template(
        "system",
        ("cs.DC", "cs.LG"),
        (
            "Expert Parallelism for Mixture-of-Experts {subject} Models",
            "We shard mixture-of-experts models over hundreds of GPUs with expert parallelism "
            "and balance tokens across devices to train at scale.",
        ),
        (
            "A Mixture of Experts for Flood Forecasting Systems",
            "A mixture of experts combines the forecasts of regional hydrological systems, "
            "and early stopping regularises each expert.",
        ),
    ),
    Template(
        "compiler",
        ("cs.PL", "cs.LG"),
        (
            "Compiling Tensor Kernels with Dynamic Shapes for {subject}",
            "A compiler for dynamic shapes generates kernels specialised to symbolic shapes "
            "when the program runs, avoiding padding to the largest input.",
        ),
        (
            "Dynamic Shape Design of Ship Hulls",
            "Compilation of dynamic shape measurements for hull design, treated as a "
            "dynamical system under waves.",
        ),
    ),
    Template(
        "compiler",
        ("cs.PL", "cs.PF"),
        (
            "Compiling Ragged Tensor Programs for {subject}",
            "A compiler for ragged tensors lowers batches of variable-length sequences to "
            "dense kernels without padding.",
        ),
        (
            "Recursive Compilation of Legal Codes",
            "Recursive compilation of statutes into a searchable code base, with a temporal "
            "graph of amendments.",
        ),
    ),
    Template(
        "accelerator",
        ("cs.AR", "eess.SP"),
        (
            "An FPGA Accelerator for Token Pruning in {subject}",
            "An FPGA accelerator exploits dynamic sparsity and token pruning so that easy "
            "images use a fraction of the on-chip memory bandwidth.",
        ),
        (
            "Early Activation Hardware for Particle Triggers",
            "A hardware cascade of trigger stages filters collision events in a particle "
            "detector, with early activation of the readout.",
        ),
    ),
]

# Papers on Semantic Scholar only, one template per bulk query of the seeds, in their order:
# these texts match that bulk query too.
S2_TEMPLATES = [0, 1, 3, 6, 11, 13, 15]

SUBJECTS = [
    "Image Classification",
    "Speech Recognition",
    "Machine Translation",
    "Object Detection",
    "Question Answering",
    "Video Understanding",
    "Language Modelling",
    "Semantic Segmentation",
]

# Neutral sentences that bring abstracts to a realistic length (storing and classifying cost
# grows with the text) without words any seed query looks for.
FILLER = [
    "Experiments on three public benchmarks show consistent gains over strong baselines.",
    "We release our code and trained weights to support reproducibility.",
    "Results are averaged over five random seeds and reported with standard deviations.",
    "An ablation study isolates the contribution of each component.",
    "The method needs no extra labels and adds few parameters.",
    "We analyse failure cases and discuss the limits of our assumptions.",
    "Our analysis relates the observed behaviour to classical results from statistics.",
    "The approach is simple to implement and easy to tune.",
    "Compared with prior work, it reaches similar accuracy at a fraction of the cost.",
    "We also report energy measurements on a commodity laptop.",
    "Qualitative examples illustrate where the gains come from.",
    "A theoretical argument bounds the error of the proposed estimator.",
    "The study covers data from four countries collected over a decade.",
    "We compare against twelve published methods under identical settings.",
    "Sensitivity to the main hyperparameters is small across the tested range.",
    "The evaluation protocol follows the one used by earlier studies.",
    "Our findings suggest several directions for follow-up work.",
    "The dataset, annotations and scripts are publicly available.",
    "A user study with twenty participants confirms the quantitative results.",
    "We further show that the gains persist when the training set is halved.",
]

FIRST = "Ana Bo Chen Dana Eli Fay Gus Hana Ivo Jun Kai Lea Mo Nia Oto Pia Rui Sara Tom Uma"
LAST = (
    "Abe Berg Cruz Diaz Eng Fox Gray Hahn Ito Jain Kim Lund Mori Nagy Ortiz Park Quinn Rossi "
    "Sato Tan Ueda Vogel Wang Xu Yang Zhou Ahmed Bauer Costa Dubois Evans Fischer Garcia"
)
SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "te", "vo", "zi", "bo"]
SYLLABLES += ["da", "fe", "gu", "hi", "ja", "ko", "lu", "ma", "no", "pi"]

# (name, alternate names, DBLP prefix, kind) of venues that resolve through seeds/venues.toml.
VENUES: dict[str, list[tuple[str, list[str], str, str]]] = {
    "model": [
        ("International Conference on Learning Representations", ["ICLR"], "conf/iclr", "c"),
        ("Neural Information Processing Systems", ["NeurIPS"], "conf/nips", "c"),
        ("Computer Vision and Pattern Recognition", ["CVPR"], "conf/cvpr", "c"),
        (
            "Annual Meeting of the Association for Computational Linguistics",
            ["ACL"],
            "conf/acl",
            "c",
        ),
        (
            "IEEE Transactions on Pattern Analysis and Machine Intelligence",
            [],
            "journals/pami",
            "j",
        ),
    ],
    "system": [
        ("Conference on Machine Learning and Systems", ["MLSys"], "conf/mlsys", "c"),
        (
            "USENIX Symposium on Operating Systems Design and Implementation",
            ["OSDI"],
            "conf/osdi",
            "c",
        ),
        ("European Conference on Computer Systems", ["EuroSys"], "conf/eurosys", "c"),
    ],
    "compiler": [
        ("Programming Language Design and Implementation", ["PLDI"], "conf/pldi", "c"),
        ("International Symposium on Code Generation and Optimization", ["CGO"], "conf/cgo", "c"),
    ],
    "accelerator": [
        ("International Symposium on Computer Architecture", ["ISCA"], "conf/isca", "c"),
        ("Design Automation Conference", ["DAC"], "conf/dac", "c"),
        ("Symposium on Field Programmable Gate Arrays", ["FPGA"], "conf/fpga", "c"),
    ],
    "other": [
        ("Journal of Hydrology", [], "journals/jhydrol", "j"),
        ("Physical Review E", ["Phys Rev E"], "journals/pre", "j"),
        ("Journal of Finance", [], "journals/jfin", "j"),
    ],
}
VENUE_GROUP = {
    "survey": "model",
    "early_exit": "model",
    "layer_skipping": "model",
    "system": "system",
    "compiler": "compiler",
    "accelerator": "accelerator",
}
FIRST_DAY = date(2016, 1, 1)
DAYS = 3650  # papers from 2016 to 2025


def _sha(*parts: object) -> str:
    return hashlib.sha1("/".join(map(str, parts)).encode()).hexdigest()


def _codename(i: int) -> str:
    """A made-up method name, unique per paper: titles must differ, or the store, which
    matches papers without a shared id by title, would merge distinct papers."""
    digits = []
    i = (i * 7919 + 4321) % len(SYLLABLES) ** 4  # a bijection: 7919 is prime to 20
    for _ in range(4):
        i, digit = divmod(i, len(SYLLABLES))
        digits.append(SYLLABLES[digit])
    return "".join(digits).capitalize()


def _venue(rng: random.Random, group: str) -> dict[str, Any]:
    name, alternates, dblp, kind = rng.choice(VENUES[group])
    return {
        "venue": name,
        "publicationVenue": {
            "id": _sha("venue", name)[:32],
            "name": name,
            "type": "conference" if kind == "c" else "journal",
            "alternate_names": alternates,
        },
        "dblp": dblp,
    }


# References per synthetic paper: most papers cite 30 to 50, and in a harvest of one field
# about a quarter of them are papers the same harvest finds.
REFERENCES_INSIDE = 10
REFERENCES_OUTSIDE = 30


def synthetic_edges(papers: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """A citation graph over the synthetic corpus: each paper cites ``REFERENCES_INSIDE``
    others of the corpus and ``REFERENCES_OUTSIDE`` papers S2 knows beyond it (the batch
    answer lists those by id, as for any paper the database does not hold), drawn from a
    pool as large as the corpus. Deterministic: a seeded generator."""
    rng = random.Random(11)
    ids = [p["paperId"] for p in papers]
    outside = [_sha("outside", i) for i in range(len(ids))]
    edges: list[tuple[str, str]] = []
    for pid in ids:
        cited = {c for c in rng.sample(ids, min(REFERENCES_INSIDE + 1, len(ids))) if c != pid}
        edges += [(pid, c) for c in sorted(cited)[:REFERENCES_INSIDE]]
        edges += [(pid, c) for c in rng.sample(outside, min(REFERENCES_OUTSIDE, len(ids)))]
    return edges


def synthetic_corpus(n: int) -> tuple[list[Entry], list[dict[str, Any]]]:
    """``n`` papers that the seed queries all find: arXiv entries and S2 paper objects.

    Papers are dealt round-robin: 9 in 10 go to arXiv (an ``Entry``, and an S2 object with
    ``externalIds.ArXiv``), spread evenly over the 16 arXiv queries; 1 in 10 exists on S2
    only (a DOI and a venue), spread over the 7 bulk queries. Within each template every
    third paper is relevant, the others look-alikes. Dates spread over ten years, citation
    counts are heavy-tailed (a few percent above 100). Deterministic: a seeded generator.
    """
    rng = random.Random(9)
    first, last = FIRST.split(), LAST.split()
    entries: list[Entry] = []
    papers: list[dict[str, Any]] = []
    dealt = [0] * len(TEMPLATES)
    per_month: dict[str, int] = {}
    arxiv_papers = s2_only_papers = 0
    for i in range(n):
        s2_only = i % 10 == 9
        if s2_only:
            which = S2_TEMPLATES[s2_only_papers % len(S2_TEMPLATES)]
            s2_only_papers += 1
        else:
            which = arxiv_papers % len(TEMPLATES)
            arxiv_papers += 1
        template = TEMPLATES[which]
        relevant = dealt[which] % 3 == 0
        dealt[which] += 1
        title, sentence = template.relevant if relevant else template.lookalike
        title = f"{_codename(i)}: {title.format(subject=rng.choice(SUBJECTS))}"
        abstract = " ".join([sentence, *rng.sample(FILLER, rng.randint(4, 7))])
        day = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
        published = day.isoformat()
        authors = [f"{rng.choice(first)} {rng.choice(last)}" for _ in range(rng.randint(1, 6))]
        citations = int(rng.lognormvariate(2.0, 1.5))
        label = template.category if relevant else "lookalike"
        group = VENUE_GROUP[template.category] if relevant else "other"
        venue = _venue(rng, group) if s2_only or rng.random() < 0.3 else None
        external: dict[str, Any] = {"CorpusId": 100_000_000 + i}
        if s2_only:
            external["DOI"] = f"10.1145/{3_000_000 + i}"
        else:
            month = published[2:4] + published[5:7]
            per_month[month] = per_month.get(month, 0) + 1
            arxiv_id = f"{month}.{per_month[month]:05d}"
            external["ArXiv"] = arxiv_id
            revised = rng.random() < 0.3
            updated = day + timedelta(days=rng.randrange(30, 200)) if revised else day
            entries.append(
                Entry(
                    arxiv_id=arxiv_id,
                    title=title,
                    abstract=abstract,
                    authors=authors,
                    published=f"{published}T00:00:00Z",
                    updated=f"{updated.isoformat()}T00:00:00Z",
                    primary_category=template.arxiv_categories[0],
                    categories=list(template.arxiv_categories),
                    version=2 if revised else 1,
                    comment=f"{rng.randint(8, 14)} pages, {rng.randint(2, 9)} figures",
                    journal_ref=venue["venue"] if venue and rng.random() < 0.5 else None,
                    label=label,
                )
            )
        if venue:
            external["DBLP"] = f"{venue['dblp']}/{_codename(i)}{day.year % 100:02d}"
        tldr = sentence.split(". ")[0].rstrip(".") + "."
        papers.append(
            {
                "paperId": _sha("paper", i),
                "externalIds": external,
                "title": title,
                "abstract": abstract,
                "venue": venue["venue"] if venue else "arXiv.org",
                "publicationVenue": venue["publicationVenue"] if venue else None,
                "year": day.year,
                "publicationDate": published,
                "citationCount": citations,
                "influentialCitationCount": citations // 10,
                "authors": [
                    {"authorId": str(int(_sha("author", a)[:8], 16)), "name": a} for a in authors
                ],
                "journal": {"name": venue["venue"]} if venue else {"name": "ArXiv"},
                "tldr": {"model": "tldr@v2.0.0", "text": tldr} if rng.random() < 0.8 else None,
                "label": label,
            }
        )
    return entries, papers


# --- the server process ------------------------------------------------------------------


def _check_templates(seeds: Seeds) -> None:
    """The templates follow the seeds' queries one to one; say so plainly if they drift."""
    wanted = [key for key, c in seeds.categories.items() for _ in c.arxiv_queries]
    if wanted != [t.category for t in TEMPLATES]:
        raise SystemExit(
            "bench/harvest.py: TEMPLATES no longer follow the arXiv queries of "
            f"tests/seeds/categories.toml ({wanted}); update them"
        )
    bulk = [key for key, c in seeds.categories.items() for _ in c.s2_queries]
    if bulk != [TEMPLATES[i].category for i in S2_TEMPLATES]:
        raise SystemExit("bench/harvest.py: S2_TEMPLATES no longer follow the bulk queries")


def _warm(arxiv: FakeArxiv, s2: FakeS2, seeds: Seeds, urls: Urls | None = None) -> dict[str, Any]:
    """Evaluate every seed query once before any run, and count what each finds.

    The fake services memoise per query; warming here keeps the first (paced) run from
    paying for query evaluation, and for the recommendations' word sets, that the real
    services do on their own machines. With the services' ``urls``, also the combined
    queries a harvest sends (which of a category's queries combine depends on the URL's
    length), and every paper's answer text is written once, in the field lists a harvest
    asks for (``FakeArxiv.prepare``, ``FakeS2.prepare``): the server then spends its CPU
    time, on the two cores it shares with the harvest, on answering, not on evaluating
    and encoding the same things again. The answers are the same bytes.
    """
    arxiv_ids: dict[str, str] = {}
    for paper in s2.corpus:
        if paper["externalIds"].get("ArXiv"):
            arxiv_ids[paper["externalIds"]["ArXiv"]] = paper["paperId"]
    found: set[str] = set()
    arxiv_counts, s2_counts = [], []
    for category in seeds.categories.values():
        for query in category.arxiv_search_queries():
            entries = arxiv.found(query)
            arxiv_counts.append(len(entries))
            found.update(arxiv_ids[e.arxiv_id] for e in entries)
        for query in category.s2_queries:
            _, body = s2.answer("GET", "/graph/v1/paper/search/bulk", {"query": query}, b"")
            s2_counts.append(body["total"])
            token = body["token"]
            while token:
                params = {"query": query, "fields": "paperId", "token": token}
                _, page = s2.answer("GET", "/graph/v1/paper/search/bulk", params, b"")
                found.update(p["paperId"] for p in page["data"])
                token = page["token"]
            found.update(p["paperId"] for p in body["data"])
    if urls is not None:
        arxiv_side = ArxivSource(None, urls.arxiv)  # type: ignore[arg-type]  # reads() only
        s2_side = SemanticScholarSource(None, urls.s2)  # type: ignore[arg-type]
        for category in seeds.categories.values():
            for read in arxiv_side.reads(category):
                arxiv.found(read.query)
            for read in s2_side.reads(category):
                s2.answer("GET", "/graph/v1/paper/search/bulk", {"query": read.query}, b"")
    arxiv.by_id()
    s2.answer("POST", "/graph/v1/paper/batch", {}, json.dumps({"ids": ["warm"]}).encode())
    s2.answer("GET", "/graph/v1/paper/search/match", {"query": "warm"}, b"")
    if urls is None:
        s2.prepare()
    else:
        arxiv.prepare()
        s2.prepare((s2_source.SEARCH_FIELDS, s2_source.BATCH_FIELDS))
    return {"arxiv_per_query": arxiv_counts, "s2_per_query": s2_counts, "found": len(found)}


def _serve(n: int, conn: Connection) -> None:
    """The server process: build the corpus from ``n`` (nothing big crosses the pipe), serve
    it, and answer ``stats`` (requests and CPU seconds so far) until told to ``stop``."""
    seeds = load_seeds(SEEDS)
    _check_templates(seeds)
    entries, papers = synthetic_corpus(n)
    arxiv = FakeArxiv(entries)
    s2 = FakeS2(papers, bulk_page=s2_source.BULK_PAGE, edges=synthetic_edges(papers))
    with LoopbackServer(arxiv, s2) as server:
        counts = _warm(arxiv, s2, seeds, Urls(server.arxiv_url, server.s2_url))
        counts["relevant"] = sum(p["label"] != "lookalike" for p in papers)
        counts["s2_only"] = sum("ArXiv" not in p["externalIds"] for p in papers)
        conn.send({"base": server.base, **counts})
        while (message := conn.recv()) != "stop":
            assert message == "stats"
            usage = resource.getrusage(resource.RUSAGE_SELF)
            conn.send({"requests": server.request_count, "cpu": usage.ru_utime + usage.ru_stime})


@dataclass(frozen=True)
class Urls:
    """Where the runs find the two fake services (all a run process needs of the server)."""

    arxiv: str
    s2: str


@dataclass
class Server:
    """The loopback server's process, seen from the bench."""

    conn: Connection
    info: dict[str, Any]

    @property
    def urls(self) -> Urls:
        return Urls(f"{self.info['base']}/api/query", f"{self.info['base']}/graph/v1")

    def stats(self) -> dict[str, float]:
        self.conn.send("stats")
        return self.conn.recv()


@contextmanager
def serving(n: int) -> Iterator[Server]:
    """Start the server process and wait for its address; stop it (or kill it) at the end."""
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=_serve, args=(n, theirs), daemon=True)
    process.start()
    try:
        while not ours.poll(0.1):
            if not process.is_alive():
                raise SystemExit(
                    f"bench/harvest.py: the server process exited ({process.exitcode})"
                )
        yield Server(ours, ours.recv())
        ours.send("stop")
        process.join(10)
    finally:
        if process.is_alive():
            process.terminate()
            process.join(10)


# --- the runs, each in a process of its own ----------------------------------------------


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _config(urls: Urls, db_path: Path, **overrides: Any) -> Config:
    return Config(
        db=db_path,
        arxiv_url=urls.arxiv,
        s2_url=urls.s2,
        backoff_max=0,
        max_per_query=30_000,
        **overrides,
    )


class WriteLockClock:
    """The longest a write transaction holds SQLite's write lock (``BEGIN IMMEDIATE`` to the
    end of its ``COMMIT``): how long a reviewer deciding during the harvest may have to wait
    (the busy timeout is 30 s).

    It wraps ``store.write_transaction``, which every writer of a harvest enters through the
    package (an SQLite trace callback would be called for every row of every bulk insert
    with the values written out, and cost the harvest seconds of CPU it does not spend).
    """

    def __init__(self) -> None:
        self.longest = 0.0

    @contextmanager
    def install(self) -> Iterator[None]:
        inner = store.write_transaction

        @contextmanager
        def timed(db: Any) -> Iterator[Any]:
            if db.conn.in_transaction:  # a savepoint: the outer transaction is timed
                with inner(db) as same:
                    yield same
                return
            began = time.perf_counter()
            try:
                with inner(db) as same:
                    yield same
            finally:
                self.longest = max(self.longest, time.perf_counter() - began)

        store.write_transaction = timed  # type: ignore[assignment]
        try:
            yield
        finally:
            store.write_transaction = inner  # type: ignore[assignment]


def harvest_run(urls: Urls, db_path: Path, arxiv_delay: float, s2_delay: float) -> dict:
    """One ``run_harvest`` into a fresh database (in a child process)."""
    logging.disable(logging.ERROR)  # the synthetic corpus has no seed papers: not news
    seeds = load_seeds(SEEDS)
    config = _config(urls, db_path, arxiv_delay=arxiv_delay, s2_delay=s2_delay)
    db = store.open_db(db_path)
    clock = WriteLockClock()
    with clock.install():
        started, cpu = time.perf_counter(), time.process_time()
        result = run_harvest(db, seeds, config)
        wall = time.perf_counter() - started
    return {
        "requests": result.requests,
        "wall": wall,
        # All threads' CPU time: on a machine other jobs share, wall time also counts theirs.
        "cpu": time.process_time() - cpu,
        "stored": db.table("papers").count,
        "errors": [e for e in result.errors if "seed paper" not in e],
        "rss": _peak_rss_mb(),
        "longest_write": clock.longest,
    }


def report_run(db_path: Path, out: Path) -> dict:
    """``write_reports`` over a harvested database (in a child process)."""
    logging.disable(logging.ERROR)
    seeds = load_seeds(SEEDS)
    db = store.open_db(db_path)
    started = time.perf_counter()
    write_reports(db, Rules(seeds), out)
    return {"wall": time.perf_counter() - started, "rss": _peak_rss_mb()}


def naive_run(urls: Urls, db_path: Path, papers: int) -> dict:
    """The baseline: what a first, straightforward harvester does (in a child process).

    Sequential, pages of 100 on arXiv (the API's documented example size), the bulk
    searches as they come, then one Semantic Scholar request per stored paper to enrich it,
    each page or answer saved through the project's own store.
    """
    logging.disable(logging.ERROR)
    seeds = load_seeds(SEEDS)
    config = _config(urls, db_path, arxiv_delay=0, s2_delay=0, arxiv_page_size=100)
    db = store.open_db(db_path)
    run_id = store.start_run(db, {"naive": True})
    rules = Rules(seeds)
    started = time.perf_counter()
    with open_sources(config) as sources:
        for key, category in seeds.categories.items():
            for query in category.arxiv_search_queries():
                for page in sources.arxiv.search_pages(query, max_results=config.max_per_query):
                    ingest.save_records(
                        db, rules, page.records, run_id=run_id, category=key, query=query
                    )
            for query in category.s2_queries:
                for s2_page in sources.s2.search_pages(query, max_results=config.max_per_query):
                    ingest.save_records(
                        db, rules, s2_page.records, run_id=run_id, category=key, query=query
                    )
        for row in store.papers_to_refresh(db):
            [record] = sources.s2.batch([s2_source.batch_id(row)])
            if record is not None:
                ingest.save_records(db, rules, [record], run_id=run_id, targets=[row["id"]])
        requests = sources.requests.as_dict()
    wall = time.perf_counter() - started
    store.finish_run(db, run_id, status="ok", requests=requests, errors=[])
    return {
        "requests": requests,
        "wall": wall,
        "stored": db.table("papers").count,
        "papers": papers,
        "errors": [],
        "rss": _peak_rss_mb(),
    }


def in_child(server: Server, fn: Callable[..., dict], *args: Any) -> dict:
    """Run ``fn`` in a fresh process: its peak RSS is then the run's own, and no run warms
    caches (imports, SQLite pages) for the next. Adds what the server did meanwhile."""
    before = server.stats()
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        result = pool.submit(fn, *args).result()
    after = server.stats()
    result["server_cpu"] = after["cpu"] - before["cpu"]
    result["server_requests"] = after["requests"] - before["requests"]
    return result


# --- the table ----------------------------------------------------------------------------


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = multiprocessing.cpu_count()
    return f"{model}, {cores} cores, Python {platform.python_version()} ({platform.system()})"


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _cost(requests: dict[str, int], delays: dict[str, float]) -> tuple[float, float]:
    """The rate-limit floor (max over sources of requests × delay) and the sum."""
    each = [requests.get(source, 0) * delay for source, delay in delays.items()]
    return max(each), sum(each)


def _per_1000(requests: dict[str, int], stored: int) -> str:
    return f"{sum(requests.values()) / max(stored, 1) * 1000:.1f}"


def _spread(counts: list[int]) -> str:
    each = f"{min(counts)}" if min(counts) == max(counts) else f"{min(counts)}–{max(counts)}"
    return f"{each} each ({len(counts)} queries)"


def _reqs(requests: dict[str, int]) -> str:
    return f"arXiv {requests.get('arxiv', 0)}, S2 {requests.get('s2', 0)}"


def table(
    args: argparse.Namespace,
    info: dict[str, Any],
    paced: dict,
    free: dict,
    report: dict,
    naive: dict,
) -> list[tuple[str, str]]:
    delays = {"arxiv": args.arxiv_delay, "s2": args.s2_delay}
    req = paced["requests"]
    floor, total = _cost(req, delays)
    real_floor, real_total = _cost(req, REAL_DELAYS)
    naive_req = naive["requests"]
    naive_paced = naive["wall"] + _cost(naive_req, delays)[1]
    naive_real = naive["wall"] + _cost(naive_req, REAL_DELAYS)[1]
    # A naive run over a smaller corpus (--naive-papers) is scaled to N: its cost is linear.
    scale = paced["stored"] / max(naive["stored"], 1)
    at = f", {naive['stored']} papers scaled ×{scale:.1f}" if naive["papers"] != args.papers else ""
    a, s = info["arxiv_per_query"], info["s2_per_query"]
    return [
        (
            "corpus",
            f"{args.papers} papers ({info['relevant']} relevant, {info['s2_only']} on S2 only;"
            f" {info['found']} found by some query), {paced['stored']} stored",
        ),
        ("papers per query", f"arXiv {_spread(a)}, S2 bulk {_spread(s)}"),
        ("requests, paced run", _reqs(req)),
        ("requests per 1,000 papers stored", _per_1000(req, paced["stored"])),
        (
            f"wall time, paced (arXiv {args.arxiv_delay:g} s, S2 {args.s2_delay:.3g} s)",
            f"{paced['wall']:.1f} s",
        ),
        ("rate-limit floor (max) / sum", f"{floor:.1f} s / {total:.1f} s"),
        (
            "wall / floor, wall / sum",
            f"{paced['wall'] / floor:.2f}× / {paced['wall'] / total:.2f}×",
        ),
        (
            "local throughput, zero delays",
            f"{free['stored'] / free['wall']:.0f} papers/s ({free['wall']:.1f} s;"
            f" {free['cpu']:.1f} s of CPU time, {free['stored'] / free['cpu']:.0f} papers per"
            " CPU second)",
        ),
        (f"report at {free['stored']} papers", f"{report['wall']:.2f} s"),
        (
            "longest hold of the write lock, paced / free (a decision waits at most this)",
            f"{paced['longest_write']:.2f} / {free['longest_write']:.2f} s",
        ),
        (
            "peak RSS, paced run / free run / report",
            f"{paced['rss']:.0f} / {free['rss']:.0f} / {report['rss']:.0f} MB",
        ),
        (
            "fake server CPU, paced / free / naive",
            f"{paced['server_cpu']:.1f} / {free['server_cpu']:.1f} / {naive['server_cpu']:.1f} s",
        ),
        (
            "at the real rate limits (3 s, 1 s): floor / sum",
            f"{_duration(real_floor)} / {_duration(real_total)}",
        ),
        ("naive: requests (arXiv pages of 100, one S2 request a paper)", _reqs(naive_req)),
        ("naive: requests per 1,000 papers stored", _per_1000(naive_req, naive["stored"])),
        (
            "naive: wall time, zero delays (measured)",
            f"{naive['wall']:.1f} s ({naive['stored']} stored)",
        ),
        (
            f"naive: wall time, paced (computed: local + Σ requests × delay{at})",
            f"{_duration(naive_paced * scale)}"
            f" ({naive_paced * scale / paced['wall']:.0f}× the paced run)",
        ),
        (
            f"naive: at the real rate limits (computed, sequential{at})",
            _duration(naive_real * scale),
        ),
    ]


def main() -> None:
    logging.disable(logging.ERROR)  # the synthetic corpus has no seed papers: not news
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=20_000, help="corpus size (default 20000)")
    parser.add_argument(
        "--arxiv-delay",
        type=float,
        default=REAL_DELAYS["arxiv"] / SCALE,
        help="seconds between arXiv requests in the paced run (default 0.5, 1/6 of 3 s)",
    )
    parser.add_argument(
        "--s2-delay",
        type=float,
        default=REAL_DELAYS["s2"] / SCALE,
        help="seconds between S2 requests in the paced run (default 1/6 s, 1/6 of 1 s)",
    )
    parser.add_argument(
        "--naive-papers",
        type=int,
        help="corpus size for the naive baseline, scaled to --papers in the table (default:"
        " the same corpus; smaller saves about 5 ms a paper on slow machines)",
    )
    args = parser.parse_args()
    naive_papers = args.naive_papers or args.papers
    for n in (args.papers, naive_papers):
        if not 1 <= n <= len(SYLLABLES) ** 4:
            parser.error(f"corpus sizes must be 1 to {len(SYLLABLES) ** 4} (unique titles)")
    started = time.perf_counter()
    print(f"Machine: {machine()}\n")
    with tempfile.TemporaryDirectory(prefix="bench-harvest-") as tmp:
        work = Path(tmp)
        naive = None
        with serving(args.papers) as srv:
            delays = (args.arxiv_delay, args.s2_delay)
            paced = in_child(srv, harvest_run, srv.urls, work / "paced.db", *delays)
            free = in_child(srv, harvest_run, srv.urls, work / "free.db", 0.0, 0.0)
            report = in_child(srv, report_run, work / "free.db", work / "reports")
            if naive_papers == args.papers:
                naive = in_child(srv, naive_run, srv.urls, work / "naive.db", naive_papers)
            info = srv.info
        if naive is None:
            with serving(naive_papers) as srv:
                naive = in_child(srv, naive_run, srv.urls, work / "naive.db", naive_papers)
    rows = table(args, info, paced, free, report, naive)
    print("| measure | value |")
    print("| --- | --- |")
    for name, value in rows:
        print(f"| {name} | {value} |")
    for name, run in (("paced", paced), ("free", free)):
        for error in run["errors"]:
            print(f"\n{name} run failed a step: {error}")
    print(f"\nbench wall time: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
