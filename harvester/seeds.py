"""Seeds: the curator's taxonomy, queries, keyword rules and seed papers, read from ``seeds/``.

Seeds are data a curator edits without touching code, so every mistake in them must come back
as one line naming the file, the line and what is wrong, before any request is made.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harvester.awards import Awards, load_awards
from harvester.errors import SeedError
from harvester.venues import Venues, load_venues

DOMAINS = ("Model", "System", "Compiler", "Accelerator")
SECTIONS = ("book", "people", "course", "conference", "company")

CATEGORIES_FILE = "categories.toml"
PAPERS_FILE = "papers.toml"
CLASSIFY_FILE = "classify.toml"
CLASSIFICATION_FILE = "classification.md"

_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_ARXIV_CAT_RE = re.compile(r"^[a-z-]+(\.[A-Za-z-]+)?$")
# arXiv's archives (its category taxonomy); a subject class is ARCHIVE or ARCHIVE.CLASS.
ARXIV_ARCHIVES = frozenset(
    {
        *("astro-ph", "cond-mat", "cs", "econ", "eess", "gr-qc", "hep-ex", "hep-lat", "hep-ph"),
        *("hep-th", "math", "math-ph", "nlin", "nucl-ex", "nucl-th", "physics", "q-bio"),
        *("q-fin", "quant-ph", "stat"),
    }
)
_ARXIV_ID_RE = re.compile(r"^(\d{4}\.\d{4,5}|[a-z-]+(\.[A-Z]{2})?/\d{7})$", re.ASCII)
_DOI_RE = re.compile(r"^10\.\d{4,9}/\S+$")
# Field prefixes the arXiv API understands (its user manual, "query construction").
ARXIV_FIELDS = frozenset({"ti", "au", "abs", "co", "jr", "cat", "rn", "id", "all", "submittedDate"})
_FIELD_RE = re.compile(r"(?<![\w\"])([A-Za-z]+):")


@dataclass(frozen=True)
class Category:
    """One section of the awesome list and the queries that fill it."""

    key: str
    title: str
    name: str
    domain: str
    arxiv_queries: tuple[str, ...]
    arxiv_categories: tuple[str, ...] = ()
    s2_queries: tuple[str, ...] = ()
    keywords: dict[str, float] = field(default_factory=dict)
    description: str = ""
    focus_header: str = "Focused On"
    # A more specific section (a survey, a system) wins over a model category when its score
    # comes close to the best: an early-exit serving system belongs under System.
    priority: int = 0
    # arXiv primary subject classes that are this section's own (cs.AR for Accelerator): a
    # paper filed there breaks a near-tie towards it (``classify.best_category``).
    primary_classes: tuple[str, ...] = ()
    # This section's own ``priority_margin`` (classify.toml's when None): a survey of early
    # exits is mostly early-exit words, so Survey may win from further behind.
    priority_margin: float | None = None

    def arxiv_search_queries(self) -> list[str]:
        """The queries as sent: each restricted to the category's arXiv subject classes."""
        if not self.arxiv_categories:
            return list(self.arxiv_queries)
        cats = " OR ".join(f"cat:{c}" for c in self.arxiv_categories)
        return [f"({q}) AND ({cats})" for q in self.arxiv_queries]


@dataclass(frozen=True)
class SeedPaper:
    """A paper the seed document already names: identified here, described by the services."""

    category: str
    arxiv_id: str | None = None
    doi: str | None = None
    title: str | None = None
    focus: str | None = None
    notes: str | None = None


@dataclass(frozen=True)
class ClassifyRules:
    """Weights of the keyword classifier (see ``harvester.classify``)."""

    title_weight: float = 2.0
    abstract_weight: float = 1.0
    query_hit: float = 2.0
    # Per accepted paper of a category that the paper cites or is cited by (at most link_cap).
    link: float = 1.5
    link_cap: int = 4
    # A higher-priority category wins when its score is at least this share of the best.
    priority_margin: float = 0.6
    # ...and when its own score is at least this: a model paper that says "kernels" and
    # "framework" once has no System evidence to be filed under System for.
    priority_min_score: float = 0.0
    # Query hits count for a category only when the paper has one of its phrases.
    hits_need_keywords: bool = False
    negative: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Seeds:
    """Everything read from the seeds folder, validated."""

    root: Path
    categories: dict[str, Category]
    papers: tuple[SeedPaper, ...]
    rules: ClassifyRules
    classification: str
    sections: dict[str, str]
    venues: Venues
    awards: Awards

    def category(self, key: str) -> Category:
        try:
            return self.categories[key]
        except KeyError:
            known = ", ".join(self.categories)
            raise SeedError(f"unknown category {key!r} (known: {known})") from None


def _line_of(text: str, *needles: str) -> int:
    """The 1-based line where the needles first appear in order, for messages; 1 if absent."""
    pos = 0
    for needle in needles:
        found = text.find(needle, pos)
        if found < 0:
            break
        pos = found
    return text.count("\n", 0, pos) + 1


def _read_toml(path: Path) -> tuple[dict[str, Any], str]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SeedError(f"{path}: seeds file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SeedError(f"{path}: cannot read ({exc})") from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message already ends with "(at line N, column M)".
        raise SeedError(f"{path}: {exc}") from None


def _balance_problem(query: str) -> str | None:
    """Unbalanced quotes or parentheses: the services would misread the query silently."""
    if not query.strip():
        return "empty query"
    if query.count('"') % 2:
        return "unbalanced double quote"
    depth = 0
    for ch in re.sub(r'"[^"]*"', "", query):
        depth += ch == "("
        depth -= ch == ")"
        if depth < 0:
            return "')' without '('"
    return "'(' without ')'" if depth else None


def check_arxiv_query(query: str) -> str | None:
    """Why an arXiv query would be rejected or silently misread, or None if it looks sound."""
    problem = _balance_problem(query)
    if problem:
        return problem
    unquoted = re.sub(r'"[^"]*"', '""', query)
    for name in _FIELD_RE.findall(unquoted):
        if name not in ARXIV_FIELDS:
            known = ", ".join(sorted(ARXIV_FIELDS))
            return f"unknown field prefix {name + ':'!r} (arXiv knows {known})"
    return None


def check_s2_query(query: str) -> str | None:
    """Why a Semantic Scholar bulk-search query would be misread, or None."""
    return _balance_problem(query)


def _str_list(value: Any, where: str, *, required: bool) -> tuple[str, ...]:
    if value is None and not required:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise SeedError(f"{where} must be a list of non-empty strings")
    if required and not value:
        raise SeedError(f"{where} must not be empty")
    return tuple(v.strip() for v in value)


def _weights(value: Any, where: str) -> dict[str, float]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise SeedError(f'{where} must be a table of "phrase" = weight')
    out: dict[str, float] = {}
    for phrase, weight in value.items():
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            raise SeedError(f"{where}: weight of {phrase!r} must be a number")
        if not phrase.strip():
            raise SeedError(f"{where}: empty phrase")
        out[phrase] = float(weight)
    return out


_CATEGORY_KEYS = {
    "title",
    "name",
    "domain",
    "description",
    "arxiv_queries",
    "arxiv_categories",
    "s2_queries",
    "keywords",
    "focus_header",
    "priority",
    "primary_classes",
    "priority_margin",
}


def _load_categories(path: Path) -> dict[str, Category]:
    data, text = _read_toml(path)
    if not data:
        raise SeedError(f"{path}:1: no categories defined")
    categories: dict[str, Category] = {}
    for key, table in data.items():
        line = _line_of(text, f"[{key}")
        where = f"{path}:{line}: [{key}]"
        if not _KEY_RE.match(key):
            raise SeedError(f"{where}: category key must be lower_snake_case")
        if not isinstance(table, dict):
            raise SeedError(f"{where}: expected a table")
        unknown = set(table) - _CATEGORY_KEYS
        if unknown:
            raise SeedError(f"{where}: unknown field {sorted(unknown)[0]!r}")
        for required in ("title", "name", "domain"):
            if not isinstance(table.get(required), str) or not table[required].strip():
                raise SeedError(f"{where}: {required} must be a non-empty string")
        if table["domain"] not in DOMAINS:
            raise SeedError(
                f"{where}: domain {table['domain']!r} is not one of {', '.join(DOMAINS)}"
            )
        queries = _str_list(table.get("arxiv_queries"), f"{where} arxiv_queries", required=True)
        for query in queries:
            problem = check_arxiv_query(query)
            if problem:
                qline = _line_of(text, f"[{key}", query)
                raise SeedError(f"{path}:{qline}: [{key}] arXiv query {query!r}: {problem}")
        s2_queries = _str_list(table.get("s2_queries"), f"{where} s2_queries", required=False)
        for query in s2_queries:
            problem = check_s2_query(query)
            if problem:
                qline = _line_of(text, f"[{key}", query)
                raise SeedError(
                    f"{path}:{qline}: [{key}] Semantic Scholar query {query!r}: {problem}"
                )
        cats = _str_list(table.get("arxiv_categories"), f"{where} arxiv_categories", required=False)
        primary = _str_list(
            table.get("primary_classes"), f"{where} primary_classes", required=False
        )
        for cat in (*cats, *primary):
            if not _ARXIV_CAT_RE.match(cat) or cat.split(".")[0] not in ARXIV_ARCHIVES:
                raise SeedError(f"{where}: {cat!r} is not an arXiv category like cs.LG")
        categories[key] = Category(
            key=key,
            title=table["title"].strip(),
            name=table["name"].strip(),
            domain=table["domain"],
            description=str(table.get("description", "")).strip(),
            arxiv_queries=queries,
            arxiv_categories=cats,
            s2_queries=s2_queries,
            keywords=_weights(table.get("keywords"), f"{where} keywords"),
            focus_header=str(table.get("focus_header", "Focused On")).strip() or "Focused On",
            priority=_priority(table.get("priority", 0), where),
            primary_classes=primary,
            priority_margin=_margin(table.get("priority_margin"), where),
        )
    return categories


def _margin(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise SeedError(f"{where}: priority_margin must be a number above 0 and at most 1")
    return float(value)


def _priority(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SeedError(f"{where}: priority must be an integer")
    return value


def _load_papers(path: Path, categories: dict[str, Category]) -> tuple[SeedPaper, ...]:
    data, text = _read_toml(path)
    entries = data.get("paper", [])
    if set(data) - {"paper"} or not isinstance(entries, list):
        raise SeedError(f"{path}:1: expected only [[paper]] tables")
    papers: list[SeedPaper] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        line = _line_of(text, *(["[[paper]]"] * (i + 1)))
        where = f"{path}:{line}: paper {i + 1}"
        unknown = set(entry) - {"arxiv_id", "doi", "title", "category", "focus", "notes"}
        if unknown:
            raise SeedError(f"{where}: unknown field {sorted(unknown)[0]!r}")
        ids = [k for k in ("arxiv_id", "doi", "title") if entry.get(k)]
        if len(ids) != 1:
            raise SeedError(f"{where}: give exactly one of arxiv_id, doi or title")
        for k in ("arxiv_id", "doi", "title", "category", "focus", "notes"):
            if k in entry and not isinstance(entry[k], str):
                raise SeedError(f"{where}: {k} must be a string")
        arxiv_id, doi = entry.get("arxiv_id"), entry.get("doi")
        if arxiv_id and not _ARXIV_ID_RE.match(arxiv_id):
            raise SeedError(f"{where}: {arxiv_id!r} is not a bare arXiv id like 1703.09844")
        if doi and not _DOI_RE.match(doi):
            raise SeedError(f"{where}: {doi!r} is not a DOI like 10.1145/3341301")
        category = entry.get("category")
        if category not in categories:
            raise SeedError(f"{where}: unknown category {category!r}")
        ident = (arxiv_id or doi or entry["title"]).lower()
        if ident in seen:
            raise SeedError(f"{where}: {ident!r} listed twice")
        seen.add(ident)
        papers.append(
            SeedPaper(
                category=category,
                arxiv_id=arxiv_id,
                doi=doi,
                title=entry.get("title"),
                focus=entry.get("focus"),
                notes=entry.get("notes"),
            )
        )
    return tuple(papers)


def _load_rules(path: Path) -> ClassifyRules:
    if not path.exists():
        return ClassifyRules()
    data, text = _read_toml(path)
    known = {
        *("title_weight", "abstract_weight", "query_hit", "link", "link_cap"),
        *("priority_margin", "priority_min_score", "hits_need_keywords", "negative"),
    }
    for key, value in data.items():
        where = f"{path}:{_line_of(text, key)}"
        if key not in known:
            raise SeedError(f"{where}: unknown field {key!r}")
        if key == "hits_need_keywords":
            if not isinstance(value, bool):
                raise SeedError(f"{where}: {key} must be true or false")
        elif key != "negative" and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise SeedError(f"{where}: {key} must be a number")
    return ClassifyRules(
        title_weight=float(data.get("title_weight", 2.0)),
        abstract_weight=float(data.get("abstract_weight", 1.0)),
        query_hit=float(data.get("query_hit", 2.0)),
        link=float(data.get("link", 1.5)),
        link_cap=int(data.get("link_cap", 4)),
        priority_margin=float(data.get("priority_margin", 0.6)),
        priority_min_score=float(data.get("priority_min_score", 0.0)),
        hits_need_keywords=bool(data.get("hits_need_keywords", False)),
        negative=_weights(data.get("negative"), f"{path}: negative"),
    )


def _read_markdown(path: Path, *, required: bool) -> str:
    if not path.exists():
        if required:
            raise SeedError(f"{path}: seeds file not found")
        return ""
    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise SeedError(f"{path}: cannot read ({exc})") from None


def _check_tree(path: Path, text: str) -> None:
    """The classification tree is a nested list; a bad indent would flatten it silently."""
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip(" "))
        if not line.lstrip().startswith(("* ", "- ")) or indent % 2:
            raise SeedError(f"{path}:{number}: expected a list item ('* ') indented by 2 spaces")


def load_seeds(root: Path) -> Seeds:
    """Read and validate the whole seeds folder."""
    if not root.is_dir():
        raise SeedError(
            f"{root}: seeds folder not found (set HARVESTER_SEEDS or 'seeds' in harvester.toml)"
        )
    categories = _load_categories(root / CATEGORIES_FILE)
    papers = _load_papers(root / PAPERS_FILE, categories)
    rules = _load_rules(root / CLASSIFY_FILE)
    tree_path = root / CLASSIFICATION_FILE
    classification = _read_markdown(tree_path, required=True)
    _check_tree(tree_path, classification)
    sections = {
        name: _read_markdown(root / "sections" / f"{name}.md", required=False) for name in SECTIONS
    }
    return Seeds(
        root=root,
        categories=categories,
        papers=papers,
        rules=rules,
        classification=classification,
        sections=sections,
        venues=load_venues(root),
        awards=load_awards(root),
    )
