"""The field corpus: the old test corpus of tests/data/ plus the papers of tests/data/field/.

tests/data/ holds the first labelled corpus (arXiv entries, Semantic Scholar paper objects and
their citation graph) that many tests pin exact results on, so it is never edited. The field
corpus adds relevant papers of all eight categories (``papers.json``, with ``edges.json``) and,
when its author has delivered them, realistic look-alikes (``lookalikes.json``, with
``lookalike_edges.json``). New entries are written once per paper (README.md in that folder
gives the format); this module turns them into exactly what the loopback fakes serve, so the
benches and tests run the real client code over the combined corpus:

- ``arxiv_entries()`` for ``FakeArxiv`` (old entries first, then the new ones on arXiv),
- ``s2_papers()`` for ``FakeS2`` (paper objects with ``label``),
- ``edges()`` for ``FakeS2(edges=...)`` as (citing paperId, cited paperId),
- ``labels()`` and ``splits()`` by normalised title, for scoring.

A new paper's S2 ``paperId`` is the sha1 of its key, so it is stable across runs and never
collides with the old corpus's real-looking ids; other ids (CorpusId, author ids, venue ids)
are derived the same way.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from harvester.records import normalise_title
from tests.loopback import DATA, Entry, load_corpus, load_edges, load_s2_corpus

FIELD = DATA / "field"
PAPERS = FIELD / "papers.json"
EDGES = FIELD / "edges.json"
LOOKALIKES = FIELD / "lookalikes.json"
LOOKALIKE_EDGES = FIELD / "lookalike_edges.json"

LABELS = (
    "survey",
    "early_exit",
    "layer_skipping",
    "system",
    "compiler",
    "accelerator",
    "dynamic_width",
    "dynamic_parameters",
    "lookalike",
)
SPLITS = ("dev", "test")
TLDR_MODEL = "tldr@v2.0.0"

# Venues S2 names that the old corpus does not: their abbreviations, which the harvester's
# venue rules read from ``alternate_names`` as S2 gives them.
VENUE_ALIASES: dict[str, list[str]] = {
    "Neural Computation": ["Neural Comput"],
    "Trans. Mach. Learn. Res.": ["TMLR", "Transactions on Machine Learning Research"],
    "Proc. ACM Manag. Data": ["Proceedings of the ACM on Management of Data", "SIGMOD"],
    "IEEE Transactions on Neural Networks and Learning Systems": [
        "IEEE Trans Neural Netw Learn Syst"
    ],
    "International Journal of Computer Vision": ["Int J Comput Vis"],
    "ACM SIGPLAN Symposium on Principles & Practice of Parallel Programming": ["PPoPP"],
    "Conference on Applications, Technologies, Architectures, and Protocols for Computer "
    "Communication": ["SIGCOMM"],
    "IEEE Conference on Computer Communications": ["INFOCOM"],
    "IEEE International Parallel and Distributed Processing Symposium": ["IPDPS"],
    "International Conference on Supercomputing": ["ICS"],
    "Design Automation Conference": ["DAC"],
    "IEEE International Symposium on Circuits and Systems": ["ISCAS"],
    "ACM Multimedia": ["ACM MM"],
    "International Joint Conference on Artificial Intelligence": ["IJCAI"],
    "IEEE International Conference on Acoustics, Speech, and Signal Processing": ["ICASSP"],
    "IEEE International Joint Conference on Neural Network": ["IJCNN"],
    "Conference of the European Chapter of the Association for Computational Linguistics": ["EACL"],
    "ACM SIGMOBILE International Conference on Mobile Systems, Applications, and Services": [
        "MobiSys"
    ],
}


@dataclass(frozen=True)
class FieldPaper:
    """One entry of papers.json or lookalikes.json, as written (see the folder's README)."""

    key: str
    title: str
    authors: list[str]
    abstract: str
    arxiv: dict[str, Any] | None
    s2: dict[str, Any] | None
    label: str
    kind: str
    split: str
    plain_words: bool
    # Written after the stratified split, to tune the category rule on papers it had never
    # seen: all dev, so the split's balance is a property of the other papers.
    tuning: bool = False
    # Which tuning batch (1, 2, ...): a rule tuned on one batch is checked on another, which
    # it has not seen either.
    batch: int = 1

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FieldPaper:
        return cls(**data)

    @property
    def paper_id(self) -> str:
        return paper_id(self.key)

    @property
    def year(self) -> int:
        """S2's year when S2 knows the paper, else the year of the first arXiv version."""
        if self.s2 is not None:
            return int(self.s2["year"])
        assert self.arxiv is not None, self.key
        return int(self.arxiv["published"][:4])


def paper_id(key: str) -> str:
    """A new paper's S2 paperId: 40 hex digits, derived from its key alone."""
    return hashlib.sha1(key.encode("utf-8")).hexdigest()


def _number(*parts: str, digits: int = 9) -> int:
    return int(hashlib.sha1(":".join(parts).encode("utf-8")).hexdigest()[:digits], 16)


def corpus_id(key: str) -> int:
    """Above the old corpus's CorpusIds (all below 3e8) so the two never meet."""
    return 300_000_000 + _number("corpus", key, digits=7)


def _read(path: Path) -> list[FieldPaper]:
    if not path.exists():
        return []
    return [FieldPaper.from_json(item) for item in json.loads(path.read_text(encoding="utf-8"))]


@cache
def relevant_papers() -> tuple[FieldPaper, ...]:
    return tuple(_read(PAPERS))


@cache
def lookalike_papers() -> tuple[FieldPaper, ...]:
    """The look-alikes, or nothing while lookalikes.json has not been written."""
    return tuple(_read(LOOKALIKES))


def field_papers() -> list[FieldPaper]:
    """Every new paper: the relevant ones, then the look-alikes."""
    return [*relevant_papers(), *lookalike_papers()]


def has_lookalikes() -> bool:
    return LOOKALIKES.exists()


# --- arXiv --------------------------------------------------------------------------------------


def _timestamp(day: str) -> str:
    return f"{day}T00:00:00Z"


def to_entry(paper: FieldPaper) -> Entry:
    """The fake arXiv's entry for a new paper on arXiv."""
    ax = paper.arxiv
    assert ax is not None, paper.key
    return Entry(
        arxiv_id=ax["id"],
        title=paper.title,
        abstract=paper.abstract,
        authors=list(paper.authors),
        published=_timestamp(ax["published"]),
        updated=_timestamp(ax["updated"]),
        primary_category=ax["primary_category"],
        categories=list(ax["categories"]),
        version=ax["version"],
        comment=ax["comment"],
        journal_ref=ax["journal_ref"],
        doi=ax["doi"],
        label=paper.label,
    )


def arxiv_entries() -> list[Entry]:
    """What ``FakeArxiv`` serves: the old corpus, then every new paper on arXiv."""
    return [*load_corpus(), *(to_entry(p) for p in field_papers() if p.arxiv is not None)]


# --- Semantic Scholar -----------------------------------------------------------------------------


@cache
def _old_venues() -> dict[str, dict[str, Any]]:
    """The old corpus's publicationVenue objects by name, reused so one venue has one id."""
    venues: dict[str, dict[str, Any]] = {}
    for paper in load_s2_corpus():
        pv = paper.get("publicationVenue")
        if pv:
            venues.setdefault(pv["name"], pv)
    return venues


def _publication_venue(venue: str, venue_type: str | None) -> dict[str, Any] | None:
    if not venue:
        return None
    if venue in _old_venues():
        return dict(_old_venues()[venue])
    pv: dict[str, Any] = {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"s2-venue:{venue}")),
        "name": venue,
    }
    if venue_type is not None:
        pv["type"] = venue_type
    pv["alternate_names"] = list(VENUE_ALIASES.get(venue, []))
    return pv


def _journal(paper: FieldPaper, s2: dict[str, Any]) -> dict[str, Any] | None:
    """S2's ``journal``: the arXiv abstract page for arXiv papers in conferences or preprints."""
    venue = s2["venue"]
    if s2["venue_type"] == "journal":
        return {"name": venue}
    if paper.arxiv is not None:
        return {"name": "ArXiv", "volume": f"abs/{paper.arxiv['id']}"}
    return {"name": venue} if venue else None


def to_s2_paper(paper: FieldPaper) -> dict[str, Any]:
    """The fake S2's paper object for a new paper, shaped like tests/data/s2_corpus.json."""
    s2 = paper.s2
    assert s2 is not None, paper.key
    external: dict[str, Any] = {}
    if s2.get("dblp"):
        external["DBLP"] = s2["dblp"]
    if paper.arxiv is not None:
        external["ArXiv"] = paper.arxiv["id"]
    if s2.get("doi"):
        external["DOI"] = s2["doi"]
    external["CorpusId"] = corpus_id(paper.key)
    tldr = {"model": TLDR_MODEL, "text": s2["tldr"]} if s2.get("tldr") else None
    return {
        "paperId": paper.paper_id,
        "externalIds": external,
        "title": paper.title,
        "abstract": paper.abstract,
        "venue": s2["venue"],
        "publicationVenue": _publication_venue(s2["venue"], s2["venue_type"]),
        "year": s2["year"],
        "publicationDate": s2["publication_date"],
        "citationCount": s2["citations"],
        "influentialCitationCount": s2["influential"],
        "authors": [
            {"authorId": str(_number("author", name)), "name": name} for name in paper.authors
        ],
        "journal": _journal(paper, s2),
        "tldr": tldr,
        "label": paper.label,
    }


def s2_papers() -> list[dict[str, Any]]:
    """What ``FakeS2`` serves: the old corpus, then every new paper S2 knows."""
    return [*load_s2_corpus(), *(to_s2_paper(p) for p in field_papers() if p.s2 is not None)]


# --- the citation graph --------------------------------------------------------------------------


def raw_edges() -> list[tuple[str, str]]:
    """The new edges as written: refs are keys, ``arxiv:ID`` or ``s2:paperId`` of old papers."""
    pairs: list[tuple[str, str]] = []
    for path in (EDGES, LOOKALIKE_EDGES):
        if path.exists():
            data = json.loads(path.read_text(encoding="utf-8"))
            pairs += [(a, b) for a, b in data["edges"]]
    return pairs


@cache
def _old_by_arxiv() -> dict[str, str]:
    return {
        p["externalIds"]["ArXiv"]: p["paperId"]
        for p in load_s2_corpus()
        if (p.get("externalIds") or {}).get("ArXiv")
    }


def resolve(ref: str) -> str | None:
    """The S2 paperId a ref names, or None when S2 does not know that paper."""
    if ref.startswith("arxiv:"):
        return _old_by_arxiv().get(ref.removeprefix("arxiv:"))
    if ref.startswith("s2:"):
        return ref.removeprefix("s2:")
    known = {p.key: p for p in field_papers()}
    paper = known.get(ref)
    return paper.paper_id if paper is not None and paper.s2 is not None else None


def edges() -> list[tuple[str, str]]:
    """The whole graph as ``FakeS2`` takes it: old edges, then new ones between papers S2
    knows (an edge touching a paper S2 has never seen cannot be in S2's graph)."""
    combined = list(load_edges())
    seen = set(combined)
    for citing, cited in raw_edges():
        a, b = resolve(citing), resolve(cited)
        if a is not None and b is not None and (a, b) not in seen:
            seen.add((a, b))
            combined.append((a, b))
    return combined


# --- labels and splits ---------------------------------------------------------------------------


def old_split(title: str) -> str:
    """Old papers have no split of their own: a hash of the normalised title gives one, the
    same on every machine, about half of them dev."""
    digest = hashlib.sha1(normalise_title(title).encode("utf-8")).digest()
    return SPLITS[digest[0] % 2]


def labels() -> dict[str, str]:
    """Label by normalised title, over old and new papers (arXiv-only and S2-only alike)."""
    found: dict[str, str] = {}
    for entry in load_corpus():
        found[normalise_title(entry.title)] = entry.label
    for paper in load_s2_corpus():
        found.setdefault(normalise_title(paper["title"]), paper["label"])
    for new in field_papers():
        found[normalise_title(new.title)] = new.label
    return found


def splits() -> dict[str, str]:
    """Split (``dev`` or ``test``) by normalised title, over old and new papers."""
    found = {title: old_split(title) for title in labels()}
    for new in field_papers():
        found[normalise_title(new.title)] = new.split
    return found


def split_of(title: str) -> str | None:
    return splits().get(normalise_title(title))


# --- the counts the folder's README shows -----------------------------------------------------

README = FIELD / "README.md"
COUNTS_START, COUNTS_END = (
    "<!-- counts: python -m tests.field_corpus --readme -->",
    "<!-- /counts -->",
)
YEAR_BUCKETS = (
    ("before 2020", 0, 2019),
    ("2020-2022", 2020, 2022),
    ("2023", 2023, 2023),
    ("2024", 2024, 2024),
    ("2025", 2025, 2025),
    ("2026", 2026, 2026),
)


def _table(header: list[str], rows: list[list[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines


def summary() -> str:
    """Markdown tables of the new papers by label, year and split, and of the old corpus."""
    new = field_papers()
    used = [label for label in LABELS if any(p.label == label for p in new)]
    rows = []
    for label in used:
        group = [p for p in new if p.label == label]
        rows.append(
            [
                f"`{label}`",
                len(group),
                sum(p.year >= 2023 for p in group),
                sum(p.arxiv is None for p in group),
                sum(p.s2 is None for p in group),
                sum(p.plain_words for p in group),
                sum(p.split == "dev" for p in group),
                sum(p.split == "test" for p in group),
            ]
        )
    rows.append(
        [
            "all",
            len(new),
            sum(p.year >= 2023 for p in new),
            sum(p.arxiv is None for p in new),
            sum(p.s2 is None for p in new),
            sum(p.plain_words for p in new),
            sum(p.split == "dev" for p in new),
            sum(p.split == "test" for p in new),
        ]
    )
    lines = _table(
        ["label", "papers", "2023-2026", "S2-only", "arXiv-only", "plain words", "dev", "test"],
        rows,
    )
    years = [
        [name] + [sum(p.label == label and lo <= p.year <= hi for p in new) for label in used]
        for name, lo, hi in YEAR_BUCKETS
    ]
    lines += ["", *_table(["year"] + [f"`{label}`" for label in used], years)]
    old = labels()
    new_titles = {normalise_title(p.title) for p in new}
    old_counts = Counter(label for title, label in old.items() if title not in new_titles)
    old_splits = Counter(old_split(t) for t in old if t not in new_titles)
    lines += [
        "",
        f"Old corpus (tests/data/): {sum(old_counts.values())} papers by title, "
        + ", ".join(f"{n} `{label}`" for label, n in sorted(old_counts.items()))
        + f"; split by title hash: {old_splits['dev']} dev, {old_splits['test']} test.",
        "",
        f"Edges: {len(raw_edges())} written ({sum(1 for e in raw_edges() if ':' in e[0] + e[1])} "
        f"touch the old corpus); {len(edges())} in the combined graph the fake S2 serves "
        f"({len(load_edges())} of them old).",
    ]
    return "\n".join(lines)


def readme_block() -> str:
    return f"{COUNTS_START}\n{summary()}\n{COUNTS_END}"


def _rewrite_readme() -> None:
    text = README.read_text(encoding="utf-8")
    start, end = text.index(COUNTS_START), text.index(COUNTS_END) + len(COUNTS_END)
    README.write_text(text[:start] + readme_block() + text[end:], encoding="utf-8")


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["--readme"]:
        _rewrite_readme()
    else:
        print(summary())
