"""A loopback HTTP server that speaks the arXiv API, for running the real client code offline.

It answers ``/api/query`` like export.arxiv.org does: ``search_query`` is evaluated against an
in-memory corpus (field prefixes, quoted phrases, AND/OR/ANDNOT, parentheses), ``id_list``
looks papers up, results are sorted and paged by ``start``/``max_results``, and the Atom feed is
written in either layout arXiv has served. Faults are scripted per test: each request takes the
next fault from ``server.faults`` (429, 5xx with HTML or JSON bodies, cut-off bodies, dropped
connections, empty pages), then answers normally.

Answers are memoised per corpus (``_CorpusMemo``) so that a corpus of tens of thousands of
papers (bench/harvest.py) is served in milliseconds a page: a query's matches, and the id
indexes of the Semantic Scholar fake, are computed once and dropped when the corpus list is
replaced or grows or shrinks. A test that edits a paper in place without changing the
list's length must call ``forget()`` on the fake.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape, quoteattr

DATA = Path(__file__).parent / "data"


@dataclass
class Entry:
    """One paper as the fake arXiv stores it (the fields of tests/data/arxiv_corpus.json)."""

    arxiv_id: str
    title: str
    abstract: str
    authors: list[str]
    published: str
    updated: str
    primary_category: str
    categories: list[str]
    version: int = 1
    comment: str | None = None
    journal_ref: str | None = None
    doi: str | None = None
    label: str = ""

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Entry:
        return cls(**data)


def load_corpus(name: str = "arxiv_corpus.json") -> list[Entry]:
    data = json.loads((DATA / name).read_text(encoding="utf-8"))
    return [Entry.from_json(item) for item in data]


# --- the query language -------------------------------------------------------------------

_TOKEN_RE = re.compile(r'\s*(\(|\)|[A-Za-z]+:"[^"]*"|"[^"]*"|[^\s()]+)')


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


@lru_cache(maxsize=65536)
def _stems(text: str) -> tuple[str, ...]:
    """Words with a light stemming of plurals, as Lucene-like search engines match them."""
    return tuple(w.rstrip("s") for w in _words(text))


@lru_cache(maxsize=65536)
def _stem_line(text: str) -> str:
    """The stems joined by single spaces, with a space at each end.

    A phrase occurs in a text exactly when its own stem line is a substring of the text's:
    words hold no spaces, so the spaces line up with word boundaries. One ``in`` on a string
    is far cheaper than comparing tuple slices at every position, which matters when a query
    of thirty phrases is evaluated over a corpus of twenty thousand papers.
    """
    return f" {' '.join(_stems(text))} "


def _has_phrase(text: str, phrase: str) -> bool:
    """Whether the stemmed words of ``phrase`` occur consecutively in ``text``."""
    if not _stems(phrase):
        return False
    return _stem_line(phrase) in _stem_line(text)


class _CorpusMemo:
    """Answers derived from a corpus list, valid while that list is the same object with the
    same length.

    Tests replace a fake's corpus (``fake.corpus = [...]``), append to it, or have the
    ``insert`` fault add a paper at its head; each of these changes the list's identity or
    length, which drops every memoised answer. The lock keeps a handler thread from storing
    an answer computed from the old corpus after another thread saw the change.
    """

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.corpus: list[Any] | None = None
        self.size = -1
        self.values: dict[Any, Any] = {}

    def get(self, corpus: list[Any], key: Any, compute: Callable[[], Any]) -> Any:
        with self.lock:
            if corpus is not self.corpus or len(corpus) != self.size:
                self.corpus, self.size, self.values = corpus, len(corpus), {}
            if key not in self.values:
                self.values[key] = compute()
            return self.values[key]

    def clear(self) -> None:
        with self.lock:
            self.corpus, self.size, self.values = None, -1, {}


def _field_text(entry: Entry, name: str) -> str:
    if name == "ti":
        return entry.title
    if name == "abs":
        return entry.abstract
    if name == "au":
        return " ".join(entry.authors)
    if name == "co":
        return entry.comment or ""
    if name == "jr":
        return entry.journal_ref or ""
    return " ".join([entry.title, entry.abstract, " ".join(entry.authors), entry.comment or ""])


def _term_matches(entry: Entry, name: str, value: str) -> bool:
    if name == "cat":
        return value in entry.categories or (
            value.endswith("*") and any(c.startswith(value[:-1]) for c in entry.categories)
        )
    if name == "id":
        return entry.arxiv_id == value
    return _has_phrase(_field_text(entry, name), value)


class _TokenParser:
    """Recursive descent over a query's tokens; subclasses give the grammar (``expr``)."""

    token_re: re.Pattern[str]

    def __init__(self, query: str) -> None:
        self.tokens = [t for t in self.token_re.findall(query) if t.strip()]
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def parse(self) -> Any:
        node = self.expr()
        if self.peek() is not None:
            raise ValueError(f"unexpected {self.peek()!r}")
        return node

    def expr(self) -> Any:
        raise NotImplementedError


class _Parser(_TokenParser):
    """arXiv's syntax: OR binds loosest, then AND / ANDNOT."""

    token_re = _TOKEN_RE

    def expr(self) -> Any:
        node = self.conj()
        while self.peek() == "OR":
            self.take()
            node = ("or", node, self.conj())
        return node

    def conj(self) -> Any:
        node = self.atom()
        while self.peek() in ("AND", "ANDNOT"):
            op = self.take()
            node = ("and" if op == "AND" else "andnot", node, self.atom())
        return node

    def atom(self) -> Any:
        token = self.take()
        if token == "(":
            node = self.expr()
            if self.take() != ")":
                raise ValueError("missing )")
            return node
        name, _, value = (
            token.partition(":") if re.match(r"^[A-Za-z]+:", token) else ("all", "", token)
        )
        return ("term", name, value.strip('"'))


def _evaluate(node: Any, entry: Entry) -> bool:
    kind = node[0]
    if kind == "term":
        return _term_matches(entry, node[1], node[2])
    left = _evaluate(node[1], entry)
    if kind == "or":
        return left or _evaluate(node[2], entry)
    if kind == "and":
        return left and _evaluate(node[2], entry)
    return left and not _evaluate(node[2], entry)


def search(corpus: list[Entry], query: str) -> list[Entry]:
    """The entries a query matches, newest submission first (the harvester's sort)."""
    tree = _Parser(query).parse()
    found = [e for e in corpus if _evaluate(tree, e)]
    return sorted(found, key=lambda e: (e.published, e.arxiv_id), reverse=True)


# --- the Atom feed ----------------------------------------------------------------------------

_OS = "http://a9.com/-/spec/opensearch/1.1/"


def _entry_xml(entry: Entry, layout: str) -> str:
    arxiv_ns = "" if layout == "new" else ' xmlns:arxiv="http://arxiv.org/schemas/atom"'
    vid = f"{entry.arxiv_id}v{entry.version}"
    parts = [
        "  <entry>",
        f"    <id>http://arxiv.org/abs/{vid}</id>",
        f"    <title>{escape(entry.title)}</title>",
        f"    <updated>{entry.updated}</updated>",
        f'    <link href="https://arxiv.org/abs/{vid}" rel="alternate" type="text/html"/>',
        f'    <link href="https://arxiv.org/pdf/{vid}" rel="related" type="application/pdf" title="pdf"/>',
        f"    <summary>{escape(entry.abstract)}</summary>",
    ]
    parts += [
        f'    <category term={quoteattr(c)} scheme="http://arxiv.org/schemas/atom"/>'
        for c in entry.categories
    ]
    parts.append(f"    <published>{entry.published}</published>")
    if entry.comment:
        parts.append(f"    <arxiv:comment{arxiv_ns}>{escape(entry.comment)}</arxiv:comment>")
    if entry.journal_ref:
        parts.append(
            f"    <arxiv:journal_ref{arxiv_ns}>{escape(entry.journal_ref)}</arxiv:journal_ref>"
        )
    if entry.doi:
        parts.append(f"    <arxiv:doi{arxiv_ns}>{escape(entry.doi)}</arxiv:doi>")
    parts.append(
        f"    <arxiv:primary_category{arxiv_ns} term={quoteattr(entry.primary_category)}/>"
    )
    parts += [f"    <author>\n      <name>{escape(a)}</name>\n    </author>" for a in entry.authors]
    parts.append("  </entry>")
    return "\n".join(parts)


def render_feed(
    entries: list[Entry],
    total: int,
    start: int,
    per_page: int,
    layout: str = "new",
    rendered: dict[int, tuple[Entry, str]] | None = None,
) -> bytes:
    """An Atom page as arXiv writes it: ``new`` (namespaces on the root) or ``old``.

    ``rendered`` holds entries already written in this layout, by ``id(entry)``
    (``FakeArxiv.prepare``): the same text, made once instead of once a request.
    """
    if layout == "new":
        head = (
            f'<feed xmlns:opensearch="{_OS}" xmlns:arxiv="http://arxiv.org/schemas/atom"'
            ' xmlns="http://www.w3.org/2005/Atom">\n'
            "  <id>https://arxiv.org/api/loopback</id>\n  <title>arXiv Query</title>\n"
            "  <updated>2026-11-24T00:00:00Z</updated>\n"
            f"  <opensearch:itemsPerPage>{per_page}</opensearch:itemsPerPage>\n"
            f"  <opensearch:totalResults>{total}</opensearch:totalResults>\n"
            f"  <opensearch:startIndex>{start}</opensearch:startIndex>\n"
        )
    else:
        head = (
            '<feed xmlns="http://www.w3.org/2005/Atom">\n'
            '  <title type="html">ArXiv Query</title>\n  <id>http://arxiv.org/api/loopback</id>\n'
            "  <updated>2019-01-04T00:00:00-05:00</updated>\n"
            f'  <opensearch:totalResults xmlns:opensearch="{_OS}">{total}</opensearch:totalResults>\n'
            f'  <opensearch:startIndex xmlns:opensearch="{_OS}">{start}</opensearch:startIndex>\n'
            f'  <opensearch:itemsPerPage xmlns:opensearch="{_OS}">{per_page}</opensearch:itemsPerPage>\n'
        )
    if rendered is None:
        body = "\n".join(_entry_xml(e, layout) for e in entries)
    else:
        body = "\n".join(_prerendered(rendered, e) or _entry_xml(e, layout) for e in entries)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n{head}{body}\n</feed>\n').encode()


def _prerendered(rendered: dict[int, tuple[Entry, str]], entry: Entry) -> str | None:
    made = rendered.get(id(entry))
    return made[1] if made is not None and made[0] is entry else None


def error_feed(message: str) -> bytes:
    """arXiv's answer to a malformed id: HTTP 400 with one error entry."""
    anchor = "https://arxiv.org/api/errors#" + message.replace(" ", "_")
    return (
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        f'<feed xmlns:opensearch="{_OS}" xmlns="http://www.w3.org/2005/Atom">\n'
        "  <opensearch:totalResults>1</opensearch:totalResults>\n"
        f"  <entry>\n    <id>{anchor}</id>\n    <title>Error</title>\n"
        f"    <summary>{escape(message)}</summary>\n  </entry>\n</feed>\n"
    ).encode()


# --- Semantic Scholar ------------------------------------------------------------------------

_BULK_TOKEN_RE = re.compile(r'\s*(\(|\)|\||\+|-(?=\S)|"[^"]*"|[^\s()|+"]+)')


class _BulkParser(_TokenParser):
    """S2 bulk search syntax: ``|`` or, ``+`` (or juxtaposition) and, ``-`` not, quotes."""

    token_re = _BULK_TOKEN_RE

    def expr(self) -> Any:
        node = self.conj()
        while self.peek() == "|":
            self.take()
            node = ("or", node, self.conj())
        return node

    def conj(self) -> Any:
        node = self.unary()
        while self.peek() not in (None, "|", ")"):
            if self.peek() == "+":
                self.take()
            node = ("and", node, self.unary())
        return node

    def unary(self) -> Any:
        token = self.take()
        if token == "-":
            return ("not", self.unary())
        if token == "(":
            node = self.expr()
            self.take()
            return node
        return ("term", "tiabs", token.strip('"'))


def _bulk_matches(node: Any, paper: dict[str, Any]) -> bool:
    kind = node[0]
    if kind == "term":
        return _has_phrase(f"{paper.get('title') or ''} . {paper.get('abstract') or ''}", node[2])
    if kind == "not":
        return not _bulk_matches(node[1], paper)
    left = _bulk_matches(node[1], paper)
    if kind == "or":
        return left or _bulk_matches(node[2], paper)
    return left and _bulk_matches(node[2], paper)


def s2_paper(paper_id: str, title: str, abstract: str | None = "", **fields: Any) -> dict[str, Any]:
    """A paper as Semantic Scholar's API writes one, every field a search asks for present,
    empty unless ``fields`` sets it: a test names only what its behaviour depends on."""
    paper: dict[str, Any] = {
        "paperId": paper_id,
        "externalIds": {},
        "title": title,
        "abstract": abstract,
        "venue": "",
        "publicationVenue": None,
        "year": None,
        "publicationDate": None,
        "citationCount": 0,
        "influentialCitationCount": 0,
        "authors": [],
        "journal": None,
    }
    paper.update(fields)
    return paper


def load_s2_corpus(name: str = "s2_corpus.json") -> list[dict[str, Any]]:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def load_edges(name: str = "citations.json") -> list[tuple[str, str]]:
    """The citation graph between corpus papers: (citing paperId, cited paperId)."""
    data = json.loads((DATA / name).read_text(encoding="utf-8"))
    return [(a, b) for a, b in data["edges"]]


_STOPWORDS = frozenset(
    [
        "that",
        "this",
        "with",
        "from",
        "these",
        "their",
        "which",
        "while",
        "each",
        "than",
        "into",
        "only",
        "when",
        "more",
        "most",
        "such",
        "them",
        "they",
        "have",
        "been",
        "also",
        "over",
        "both",
        "where",
        "other",
        "same",
        "some",
        "what",
        "your",
        "ours",
    ]
)


def _norm(title: str) -> str:
    return " ".join(_words(title))


class _Written(dict):  # type: ignore[type-arg]
    """A paper object of an answer with its JSON text, written once (``FakeS2.prepare``)."""

    text: str = ""


def _dumps(value: Any) -> str:
    """``json.dumps(value)`` (its default separators compose: a list's text is its items'
    texts joined), with a ``_Written`` paper's text taken as it is."""
    if isinstance(value, _Written):
        return value.text
    if type(value) is list:
        return "[" + ", ".join(_dumps(v) for v in value) + "]"
    if type(value) is dict:
        return "{" + ", ".join(f"{json.dumps(k)}: {_dumps(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)


# A batch answer's nested lists: at most 1,000 citations or references per paper, and at most
# 9,999 in all (the Graph API's documented limits on ``POST /paper/batch``).
NESTED = ("citations", "references")
NESTED_PER_PAPER = 1000
NESTED_MAX = 9999


@dataclass
class FakeS2:
    """A Semantic Scholar Graph API over a corpus of paper objects (with a ``label`` key), and
    its Recommendations API (``POST /recommendations/v1/papers/``: papers near the positives
    in the citation graph ``edges`` and in their words, away from the negatives). A batch
    asking for ``citations``/``references`` (or their subfields, ``citations.paperId``) lists
    each paper's neighbours from ``edges``, 1,000 of each at most (one the corpus does not
    hold by its id alone: S2 knows more papers than the corpus), and refuses with 400 an
    answer that would hold more than 9,999 in all, as the Graph API does.

    ``canned`` replays recorded answers, one per request, before the corpus is consulted;
    ``faults`` scripts failures as for arXiv; ``match_miss_as_empty`` answers a title-match
    miss as 200 with empty data instead of 404 (the service does both).
    """

    corpus: list[dict[str, Any]] = field(default_factory=list)
    faults: list[str | None] = field(default_factory=list)
    canned: list[tuple[int, bytes]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    match_miss_as_empty: bool = False
    bulk_page: int = 1000
    edges: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Set when a batch request arrives: a test can wait for one while the other API is held.
    batch_seen: threading.Event = field(default_factory=threading.Event)
    memo: _CorpusMemo = field(default_factory=_CorpusMemo, repr=False, compare=False)
    # Field lists whose paper objects ``prepare`` wrote out once (see there).
    rendered: frozenset[str] = frozenset()

    def forget(self) -> None:
        """Drop memoised answers: needed only after editing a paper of the corpus in place."""
        self.memo.clear()

    def prepare(self, fields: tuple[str, ...] = ()) -> None:
        """Build the word sets and the citation graph the recommendations read, now rather
        than in the first recommendation request (a bench's server does it before any run).

        With ``fields`` (lists of top-level fields, as a request's ``fields``), also write
        every paper's JSON for each of them once, and answer from it (``encode``: the same
        bytes): a bench's server would otherwise spend on encoding the same papers, request
        after request, CPU time the harvester it measures shares the machine with.
        """
        if any("." in f or f in NESTED for fs in fields for f in fs.split(",")):
            raise ValueError("only top-level fields are written ahead")
        self.memo.get(self.corpus, "words", self._word_sets)
        self.memo.get(self.corpus, ("neighbours", len(self.edges)), self._neighbours)
        self.rendered = frozenset(fields)
        for wanted in fields:
            self._written(wanted)

    def _written(self, fields: str) -> dict[int, tuple[dict[str, Any], _Written]]:
        def write() -> dict[int, tuple[dict[str, Any], _Written]]:
            out = {}
            for paper in self.corpus:
                selected = _Written(self._select(paper, fields))
                selected.text = json.dumps(selected)
                out[id(paper)] = (paper, selected)
            return out

        return self.memo.get(self.corpus, ("json", fields), write)

    def _fields(self, paper: dict[str, Any], fields: str) -> dict[str, Any]:
        if fields in self.rendered:
            made = self._written(fields).get(id(paper))
            if made is not None and made[0] is paper:
                return made[1]
        return self._select(paper, fields)

    @staticmethod
    def _select(paper: dict[str, Any], fields: str) -> dict[str, Any]:
        wanted = {f for f in fields.split(",") if f} | {"paperId"}
        return {k: v for k, v in paper.items() if k in wanted}

    def encode(self, answer: Any) -> bytes:
        """An answer as the service sends it: ``json.dumps``, byte for byte, taking the papers
        ``prepare`` wrote out as they were written."""
        if not self.rendered:
            return json.dumps(answer).encode()
        return _dumps(answer).encode()

    def _index(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Papers by each kind of id, the first paper winning as in a scan of the corpus.

        A batch of 500 ids over 20,000 papers would otherwise be ten million comparisons.
        """
        index: dict[str, dict[str, dict[str, Any]]] = {
            "": {},
            "ARXIV": {},
            "DOI": {},
            "CORPUSID": {},
        }
        for paper in self.corpus:
            ids = paper.get("externalIds") or {}
            if paper.get("paperId") is not None:
                index[""].setdefault(paper["paperId"], paper)
            if ids.get("ArXiv") is not None:
                index["ARXIV"].setdefault(ids["ArXiv"], paper)
            index["DOI"].setdefault((ids.get("DOI") or "").lower(), paper)
            index["CORPUSID"].setdefault(str(ids.get("CorpusId")), paper)
        return index

    def _lookup(self, ident: str) -> dict[str, Any] | None:
        kind, _, value = ident.partition(":") if ":" in ident else ("", "", ident)
        kind = kind.upper()
        by_kind = self.memo.get(self.corpus, "index", self._index).get(kind)
        if by_kind is None:
            return None
        return by_kind.get(value.lower() if kind == "DOI" else value)

    def _edges_by_paper(self) -> dict[str, tuple[list[str], list[str]]]:
        """Each paper's (citing, cited) ids, in the order of ``edges``."""
        out: dict[str, tuple[list[str], list[str]]] = {}
        for citing, cited in self.edges:
            out.setdefault(cited, ([], []))[0].append(citing)
            out.setdefault(citing, ([], []))[1].append(cited)
        return out

    def _nested(self, pid: str, fields: str) -> dict[str, Any]:
        """A batch answer's ``citations`` and ``references`` lists (``citations.title`` and
        the like name their papers' fields), at most ``NESTED_PER_PAPER`` each, as S2 does."""
        graph = self.memo.get(self.corpus, ("edges", len(self.edges)), self._edges_by_paper)
        by_id = self.memo.get(self.corpus, "by_id", lambda: self._index()[""])
        citing, cited = graph.get(pid, ([], []))
        out: dict[str, Any] = {}
        for key, ids in (("citations", citing), ("references", cited)):
            inner = [f.split(".", 1)[1] for f in fields.split(",") if f.startswith(key + ".")]
            if key not in fields.split(",") and not inner:
                continue
            wanted = ",".join(inner) or "paperId,title"
            out[key] = [
                self._fields(by_id[i], wanted) if i in by_id else {"paperId": i}
                for i in ids[:NESTED_PER_PAPER]
            ]
        return out

    def _bulk_search(self, query: str) -> list[dict[str, Any]]:
        """The papers a bulk query matches, newest publication first."""
        tree = _BulkParser(query).parse()
        found = [p for p in self.corpus if _bulk_matches(tree, p)]
        found.sort(key=lambda p: (p.get("publicationDate") or "", p["paperId"]), reverse=True)
        return found

    def _by_title(self) -> dict[str, dict[str, Any]]:
        titles: dict[str, dict[str, Any]] = {}
        for paper in self.corpus:
            titles.setdefault(_norm(paper["title"]), paper)
        return titles

    def _neighbours(self) -> dict[str, set[str]]:
        """Each paper's neighbours in the citation graph (what it cites and what cites it)."""
        graph: dict[str, set[str]] = {}
        for citing, cited in self.edges:
            graph.setdefault(citing, set()).add(cited)
            graph.setdefault(cited, set()).add(citing)
        return graph

    def _word_sets(self) -> dict[str, frozenset[str]]:
        """Each paper's content words (title and abstract, four letters or more)."""
        return {
            p["paperId"]: frozenset(
                w
                for w in _words(f"{p.get('title') or ''} {p.get('abstract') or ''}")
                if len(w) >= 4 and w not in _STOPWORDS
            )
            for p in self.corpus
            if p.get("paperId")
        }

    def _similar(self, positives: tuple[str, ...], negatives: tuple[str, ...]) -> list[Any]:
        """Corpus papers more like the positives than like the negatives, most alike first.

        A paper's affinity to a group is its mean, over the group's papers, of 3 for a
        citation between the two, 1 per neighbour they share in the citation graph, and 10
        times the overlap (Jaccard) of their words. Deterministic: ties go by paperId.
        """
        graph = self.memo.get(self.corpus, ("neighbours", len(self.edges)), self._neighbours)
        words = self.memo.get(self.corpus, "words", self._word_sets)
        asked = set(positives) | set(negatives)
        no_links: set[str] = set()
        no_words: frozenset[str] = frozenset()

        def members(group: tuple[str, ...]) -> list[tuple[str, set[str], frozenset[str], int]]:
            texts = [words.get(other, no_words) for other in group]
            return [
                (other, graph.get(other, no_links), text, len(text))
                for other, text in zip(group, texts, strict=True)
            ]

        def affinity(
            mine: set[str],
            text: frozenset[str],
            group: list[tuple[str, set[str], frozenset[str], int]],
        ) -> float:
            # The same sums in the same order as the definition above (so the same floats),
            # with the union's size counted rather than built: a request scores every paper.
            if not group:
                return 0.0
            size = len(text)
            total = 0.0
            for other, theirs, other_text, other_size in group:
                total += 3 * (other in mine) + len(mine & theirs)
                shared = len(text & other_text)
                union = size + other_size - shared
                total += 10 * shared / union if union else 0.0
            return total / len(group)

        liked, disliked = members(positives), members(negatives)
        ranked = []
        for paper in self.corpus:
            pid = paper.get("paperId")
            if not pid or pid in asked:
                continue
            mine, text = graph.get(pid, no_links), words.get(pid, no_words)
            like, unlike = affinity(mine, text, liked), affinity(mine, text, disliked)
            if like >= 1.0 and like > unlike:
                ranked.append((-(like - unlike), pid, paper))
        return [paper for *_, paper in sorted(ranked, key=lambda r: (r[0], r[1]))]

    def _recommend(self, params: dict[str, str], body: bytes, fields: str) -> tuple[int, Any]:
        """``POST /recommendations/v1/papers/``: errors as S2 writes them, ``{"error": …}``."""
        try:
            request = json.loads(body or b"{}")
            limit = int(params.get("limit", "100"))
        except ValueError:
            return 400, {"error": "Unacceptable request body or limit"}
        if not 1 <= limit <= 500:
            return 400, {"error": "limit must be between 1 and 500"}
        positives = request.get("positivePaperIds") if isinstance(request, dict) else None
        negatives = request.get("negativePaperIds") or [] if isinstance(request, dict) else []
        if not positives or not isinstance(positives, list) or not isinstance(negatives, list):
            return 400, {"error": "positivePaperIds must be a non-empty list of paper ids"}
        found = {i: self._lookup(str(i)) for i in [*positives, *negatives]}
        unknown = [str(i) for i, paper in found.items() if paper is None]
        if unknown:
            return 404, {"error": f"Paper(s) not found: {', '.join(unknown)}"}
        pos = tuple(found[i]["paperId"] for i in positives)
        neg = tuple(found[i]["paperId"] for i in negatives)
        ranked = self.memo.get(
            self.corpus, ("recommend", pos, neg, len(self.edges)), lambda: self._similar(pos, neg)
        )
        return 200, {"recommendedPapers": [self._fields(p, fields) for p in ranked[:limit]]}

    def answer(
        self, method: str, path: str, params: dict[str, str], body: bytes
    ) -> tuple[int, Any]:
        fields = params.get("fields", "paperId,title")
        if method == "POST" and re.search(r"/recommendations/v1/papers/?$", path):
            return self._recommend(params, body, fields)
        if method == "POST" and path.endswith("/paper/batch"):
            self.batch_seen.set()
            ids = json.loads(body or b"{}").get("ids", [])
            if len(ids) > 500:
                return 400, {"error": "-- number of ids must be at most 500"}
            papers = [self._lookup(i) for i in ids]
            answer = [self._fields(p, fields) if p else None for p in papers]
            if any(f.split(".")[0] in NESTED for f in fields.split(",")):
                for paper, out in zip(papers, answer, strict=True):
                    if out is not None and paper is not None:
                        out.update(self._nested(paper["paperId"], fields))
                total = sum(len(o.get(k) or []) for o in answer if o for k in NESTED)
                if total > NESTED_MAX:
                    return 400, {
                        "error": f"Response would contain more than {NESTED_MAX} citations"
                    }
            return 200, answer
        if path.endswith("/paper/search/bulk"):
            query = params.get("query", "")
            found = self.memo.get(self.corpus, ("bulk", query), lambda: self._bulk_search(query))
            try:
                start = int(params.get("token") or 0)
            except ValueError:
                return 400, {"error": "Invalid continuation token"}
            page = found[start : start + self.bulk_page]
            more = start + self.bulk_page < len(found)
            return 200, {
                "total": len(found),
                "token": str(start + self.bulk_page) if more else None,
                "data": [self._fields(p, fields) for p in page],
            }
        route = re.match(r".*/paper/([^/]+)/(citations|references)$", path)
        if route:
            ident, direction = route.groups()
            paper = self._lookup(ident)
            if paper is None:
                return 404, {"error": f"Paper with id {ident} not found"}
            pid = paper["paperId"]
            if direction == "citations":
                ids, inner = [a for a, b in self.edges if b == pid], "citingPaper"
            else:
                ids, inner = [b for a, b in self.edges if a == pid], "citedPaper"
            by_id = {p["paperId"]: p for p in self.corpus}
            offset, limit = int(params.get("offset", 0)), int(params.get("limit", 100))
            page = ids[offset : offset + limit]
            body: dict[str, Any] = {
                "offset": offset,
                "data": [{inner: self._fields(by_id[i], fields)} for i in page if i in by_id],
            }
            if offset + limit < len(ids):
                body["next"] = offset + limit
            return 200, body
        if path.endswith("/paper/search/match"):
            wanted = _norm(params.get("query", ""))
            paper = self.memo.get(self.corpus, "titles", self._by_title).get(wanted)
            if paper is not None:
                return 200, {"data": [self._fields(paper, fields) | {"matchScore": 250.0}]}
            if self.match_miss_as_empty:
                return 200, {"data": []}
            return 404, {"error": "Title match not found"}
        return 404, {"error": f"no route {path}"}


# --- the server -------------------------------------------------------------------------------

_ID_RE = re.compile(r"^(\d{4}\.\d{4,5}|[a-z-]+(\.[A-Z]{2})?/\d{7})(v\d+)?$")


@dataclass
class FakeArxiv:
    """State shared by the handler threads: corpus, scripted faults, requests received."""

    corpus: list[Entry] = field(default_factory=list)
    layout: str = "new"
    faults: list[str | None] = field(default_factory=list)
    requests: list[dict[str, str]] = field(default_factory=list)
    inserted: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    memo: _CorpusMemo = field(default_factory=_CorpusMemo, repr=False, compare=False)
    prepared: bool = False

    def prepare(self) -> None:
        """Write every entry's XML now and answer from it (the same bytes): a bench's server
        would otherwise spend on writing the same entries, request after request, CPU time
        the harvester it measures shares the machine with. Entries edited in place afterwards
        need ``forget``, as for the memoised searches."""
        self.prepared = True
        self._rendered()

    def _rendered(self) -> dict[int, tuple[Entry, str]]:
        return self.memo.get(
            self.corpus,
            ("xml", self.layout),
            lambda: {id(e): (e, _entry_xml(e, self.layout)) for e in self.corpus},
        )

    def next_fault(self) -> str | None:
        with self.lock:
            return self.faults.pop(0) if self.faults else None

    def forget(self) -> None:
        """Drop memoised answers: needed only after editing an entry of the corpus in place."""
        self.memo.clear()

    def found(self, query: str) -> list[Entry]:
        """``search`` over the corpus, once per query while the corpus is unchanged: the
        harvester asks for the same query once a page, and each evaluation reads every paper.
        """
        return self.memo.get(self.corpus, ("search", query), lambda: search(self.corpus, query))

    def by_id(self) -> dict[str, Entry]:
        """The corpus by arXiv id (the last entry winning, as a dict built from it would)."""
        return self.memo.get(self.corpus, "ids", lambda: {e.arxiv_id: e for e in self.corpus})

    def answer(self, params: dict[str, str]) -> tuple[int, bytes]:
        start = int(params.get("start", "0"))
        per_page = int(params.get("max_results", "10"))
        ids = [i for i in params.get("id_list", "").split(",") if i]
        query = params.get("search_query", "")
        if ids:
            for raw in ids:
                if not _ID_RE.match(raw):
                    return 400, error_feed(f"incorrect id format for {raw}")
            by_id = self.by_id()
            found = [by_id[i.split("v")[0]] for i in ids if i.split("v")[0] in by_id]
            if query:
                matched = self.found(query)
                found = [e for e in found if e in matched]
        elif query:
            try:
                found = self.found(query)
            except (ValueError, IndexError):
                return 400, error_feed("malformed query")
        else:
            found = []
        page = found[start : start + per_page]
        rendered = self._rendered() if self.prepared else None
        return 200, render_feed(page, len(found), start, per_page, self.layout, rendered)


@dataclass
class Gate:
    """Counts every request to either API and can stop the world at the ``trip_at``-th.

    The count is of every request, or of one API's (``api``): a harvest asks both services at
    once, so only each one's own order is fixed. With ``hold`` the tripping request gets no
    answer until ``release`` is set (the client waits inside that request: a test can kill it
    there, or start a second harvest), and neither does any request after it (of that API,
    with ``api``); with ``hold_every`` nor does any before it. Without ``hold``, ``reached`` is set only after
    the answer was sent, so a kill lands somewhere in what the client does next (parsing,
    storing, the next request).
    """

    count: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    trip_at: int | None = None
    api: str | None = None
    hold: bool = True
    hold_every: bool = False
    reached: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def arrive(self, api: str) -> bool:
        with self.lock:
            self.count += 1
            self.counts[api] = self.counts.get(api, 0) + 1
            if self.api is not None and self.api != api:
                return False
            return (self.counts[api] if self.api else self.count) == self.trip_at

    def holding(self, api: str) -> bool:
        """Whether this API's requests now wait for ``release`` (with ``api`` set, the other
        service goes on)."""
        if self.release.is_set() or not self.hold or self.api not in (None, api):
            return False
        return self.hold_every or self.reached.is_set()


SLOW_SECONDS = 1.0


def _fresh_entry(n: int) -> Entry:
    """A paper newer than any in the corpus, about early exits so the queries find it."""
    return Entry(
        arxiv_id=f"2611.{n:05d}",
        title=f"Fresh early exit paper {n}",
        abstract="Early exit networks with intermediate classifiers, submitted just now.",
        authors=["New Author"],
        published="2026-11-24T00:00:00Z",
        updated="2026-11-24T00:00:00Z",
        primary_category="cs.LG",
        categories=["cs.LG"],
    )


_HTML_ERROR = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
_S2_429 = (
    b'{"message": "Too Many Requests. Please wait and try again or apply for a key for higher '
    b'rate limits. https://www.semanticscholar.org/product/api#api-key-form", "code": "429"}'
)


def _handler(arxiv: FakeArxiv, s2: FakeS2, gate: Gate) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes; with Nagle's algorithm the body waits for
        # the client's delayed ACK of the headers (40 ms a response on Linux).
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(
            self,
            status: int,
            body: bytes,
            ctype: str,
            headers: dict[str, str] | None = None,
            length: int | None = None,
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body) if length is None else length))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def _fault(self, fault: str, body: bytes, ctype: str, api: str) -> None:
            """Answer with a scripted failure instead of ``body``."""
            if fault == "429":
                # The real services send no Retry-After; S2 explains in JSON.
                self._send(429, _S2_429 if api == "s2" else b"Rate exceeded.", "application/json")
            elif fault.startswith("429:"):
                self._send(429, b"Rate exceeded.", "text/plain", {"Retry-After": fault[4:]})
            elif fault in ("500", "502", "503", "504"):
                self._send(int(fault), _HTML_ERROR, "text/html")
            elif fault in ("500-json", "504-json"):
                self._send(
                    int(fault[:3]), b'{"message": "Endpoint request timed out"}', "application/json"
                )
            elif fault == "403":
                self._send(403, b'{"message":"Forbidden"}', "application/json")
            elif fault.startswith("echo-key:"):
                # A server that quotes the request's key back in its error ("echo-key:403").
                key = self.headers.get("x-api-key", "")
                error = json.dumps({"error": f"key {key} refused", "message": f"x-api-key: {key}"})
                self._send(int(fault[9:]), error.encode(), "application/json")
            elif fault == "200-html":
                self._send(200, b"<html><body>Maintenance</body></html>", "text/html")
            elif fault == "truncate":
                # Cut off mid-document, with a length header that agrees with what is sent.
                self._send(200, body[: len(body) // 2], ctype)
            elif fault == "short":
                # The connection drops before Content-Length bytes arrive.
                self._send(200, body[: len(body) // 2], ctype, length=len(body))
                self.close_connection = True
            elif fault == "reset":
                self.close_connection = True
                self.connection.close()
            elif fault == "slow":
                # Slower than the client's timeout (tests set it well under this).
                threading.Event().wait(SLOW_SECONDS)
                self._send(200, body, ctype)
            else:
                raise AssertionError(f"unknown fault {fault!r}")

        def _arxiv(self, params: dict[str, str]) -> None:
            with arxiv.lock:
                arxiv.requests.append(
                    params | {"_path": self.path, "_ua": self.headers.get("User-Agent", "")}
                )
            fault = arxiv.next_fault()
            if fault == "insert":
                # A paper submitted while we page: everything after it shifts one place, so
                # the next page starts with the last paper of the one before.
                with arxiv.lock:
                    arxiv.inserted += 1
                    arxiv.corpus.insert(0, _fresh_entry(arxiv.inserted))
                fault = None
            status, body = arxiv.answer(params)
            ctype = "application/atom+xml; charset=utf-8"
            if fault == "empty":
                start = int(params.get("start", "0"))
                query = params.get("search_query")
                ids = [i for i in params.get("id_list", "").split(",") if i]
                known = {e.arxiv_id for e in arxiv.corpus}
                # The glitch: totalResults counts what exists, but no entry comes with it.
                total = len(arxiv.found(query)) if query else len(set(ids) & known)
                self._send(200, render_feed([], total, start, 0, arxiv.layout), ctype)
            elif fault:
                self._fault(fault, body, ctype, "arxiv")
            else:
                self._send(status, body, ctype)

        def _s2(self, method: str, path: str, params: dict[str, str]) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            with s2.lock:
                s2.requests.append(
                    {
                        "method": method,
                        "path": path,
                        "params": params,
                        "body": json.loads(body) if body else None,
                        "api_key": self.headers.get("x-api-key"),
                        "ua": self.headers.get("User-Agent", ""),
                    }
                )
                fault = s2.faults.pop(0) if s2.faults else None
                canned = s2.canned.pop(0) if s2.canned and not fault else None
            if canned:
                self._send(canned[0], canned[1], "application/json")
                return
            status, answer = s2.answer(method, path, params, body)
            if fault == "nulls" and isinstance(answer, list):
                # The batch endpoint, for once, knows none of the ids it is asked about.
                answer, fault = [None] * len(answer), None
            payload = s2.encode(answer)
            if fault:
                self._fault(fault, payload, "application/json", "s2")
            else:
                self._send(status, payload, "application/json")

        def _route(self, method: str) -> None:
            url = urlsplit(self.path)
            api = "s2" if url.path.startswith(("/graph/v1/", "/recommendations/v1/")) else "arxiv"
            tripped = gate.arrive(api)
            if tripped and gate.hold:
                gate.reached.set()
            if gate.holding(api):
                gate.release.wait(60)
            params = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
            try:
                if api == "s2":
                    self._s2(method, url.path, params)
                else:
                    self._arxiv(params)
            except OSError:
                self.close_connection = True  # the client is gone (killed by the test)
            if tripped and not gate.hold:
                gate.reached.set()

        def do_GET(self) -> None:
            self._route("GET")

        def do_POST(self) -> None:
            self._route("POST")

    return Handler


class LoopbackServer:
    """Runs a FakeArxiv and a FakeS2 on 127.0.0.1 in a background thread (a context manager)."""

    def __init__(self, arxiv: FakeArxiv | None = None, s2: FakeS2 | None = None) -> None:
        self.arxiv = arxiv or FakeArxiv()
        self.s2 = s2 or FakeS2()
        self.gate = Gate()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.arxiv, self.s2, self.gate))
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def base(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def arxiv_url(self) -> str:
        return f"{self.base}/api/query"

    @property
    def s2_url(self) -> str:
        return f"{self.base}/graph/v1"

    def __enter__(self) -> LoopbackServer:
        self.thread.start()
        return self

    def trip_at(
        self, n: int, *, hold: bool = True, api: str | None = None, hold_every: bool = False
    ) -> Gate:
        """Stop the world at the ``n``-th request from now on, of ``api`` if given (see
        ``Gate``)."""
        with self.gate.lock:
            self.gate.api = api
            self.gate.trip_at = (self.gate.counts.get(api, 0) if api else self.gate.count) + n
            self.gate.hold = hold
            self.gate.hold_every = hold_every
            self.gate.reached.clear()
            self.gate.release.clear()
        return self.gate

    @property
    def request_count(self) -> int:
        """Requests received by either API so far."""
        with self.gate.lock:
            return self.gate.count

    def __exit__(self, *exc: object) -> None:
        self.gate.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def search_requests(self) -> Iterator[dict[str, str]]:
        return (r for r in self.arxiv.requests if r.get("search_query"))
