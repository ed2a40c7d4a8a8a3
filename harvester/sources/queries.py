"""The services' query languages, locally: parse, match a record, combine queries.

A category's arXiv queries are ORs of phrases; sent one by one they cost a request each on
every run. ``arxiv_reads`` and ``s2_reads`` OR-combine them into as few requests as the
services' URL length allows (``Read``), and ``Read.found_by`` tells which of the seed queries
a returned record matches, so query hits, and the scores that count them, are what the
queries sent one by one would have given. Pure: no network, no database.

Matching follows what both services do with a quoted phrase: the words in order, case,
punctuation and a trailing plural ``s`` ignored. A query this module cannot read exactly
(a syntax it does not know) is never combined: it is sent alone and its hits need no
matching.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from harvester.records import PaperRecord

_ARXIV_TOKEN = re.compile(r'\s*(\(|\)|[A-Za-z]+:"[^"]*"|"[^"]*"|[^\s()"]+)')
_BULK_TOKEN = re.compile(r'\s*(\(|\)|\||\+|-(?=\S)|"[^"]*"|[^\s()|+"]+)')
_WORD = re.compile(r"[a-z0-9]+")
# arXiv's field prefixes this module evaluates (``rn``, report numbers, and date ranges are
# not on a record: queries with them are sent alone).
_ARXIV_PREFIXES = frozenset({"ti", "abs", "au", "co", "jr", "cat", "id", "all"})
_ARXIV_OPERATORS = frozenset({"AND", "OR", "ANDNOT"})


class QuerySyntaxError(ValueError):
    """A query this module cannot evaluate exactly."""


def _stem_line(text: str) -> str:
    """A text's words, each without a trailing plural ``s``, joined by single spaces and
    framed by spaces: a phrase occurs exactly when its own line is a substring."""
    return " " + " ".join(w.rstrip("s") for w in _WORD.findall(text.lower())) + " "


# A query as a tree: ("term", field, phrase line) | ("and"|"or"|"andnot", a, b) | ("not", a)
Node = tuple[Any, ...]


class _Tokens:
    def __init__(self, pattern: re.Pattern[str], text: str) -> None:
        self.items = [t for t in pattern.findall(text) if t.strip()]
        if "".join(self.items).replace(" ", "") != re.sub(r"\s", "", text):
            raise QuerySyntaxError(f"cannot read {text!r}")
        self.pos = 0

    def peek(self) -> str | None:
        return self.items[self.pos] if self.pos < len(self.items) else None

    def take(self) -> str:
        if self.pos >= len(self.items):
            raise QuerySyntaxError("the query ends too early")
        self.pos += 1
        return self.items[self.pos - 1]


def _phrase(value: str) -> str:
    value = value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value
    if "*" in value or "?" in value or not _WORD.search(value.lower()):
        raise QuerySyntaxError(f"wildcards or empty phrases: {value!r}")
    return _stem_line(value)


def parse_arxiv(text: str) -> Node:
    """An arXiv ``search_query``: OR binds loosest, then AND and ANDNOT, left to right."""
    tokens = _Tokens(_ARXIV_TOKEN, text)

    def expr() -> Node:
        node = conj()
        while tokens.peek() == "OR":
            tokens.take()
            node = ("or", node, conj())
        return node

    def conj() -> Node:
        node = atom()
        while tokens.peek() in ("AND", "ANDNOT"):
            op = tokens.take()
            node = ("and" if op == "AND" else "andnot", node, atom())
        return node

    def atom() -> Node:
        token = tokens.take()
        if token == "(":
            node = expr()
            if tokens.take() != ")":
                raise QuerySyntaxError("'(' without ')'")
            return node
        if token in _ARXIV_OPERATORS or token == ")":
            raise QuerySyntaxError(f"unexpected {token!r}")
        field, colon, value = token.partition(":")
        if not colon:
            field, value = "all", token
        if field not in _ARXIV_PREFIXES:
            raise QuerySyntaxError(f"field {field!r}")
        if field in ("cat", "id"):
            return ("term", field, value.strip('"'))
        return ("term", field, _phrase(value))

    node = expr()
    if tokens.peek() is not None:
        raise QuerySyntaxError(f"unexpected {tokens.peek()!r}")
    return node


def parse_bulk(text: str) -> Node:
    """A Semantic Scholar bulk-search query: ``|`` or, ``+`` or juxtaposition and, ``-``
    not, quoted phrases, parentheses."""
    tokens = _Tokens(_BULK_TOKEN, text)

    def expr() -> Node:
        node = conj()
        while tokens.peek() == "|":
            tokens.take()
            node = ("or", node, conj())
        return node

    def conj() -> Node:
        node = unary()
        while tokens.peek() not in (None, "|", ")"):
            if tokens.peek() == "+":
                tokens.take()
            node = ("and", node, unary())
        return node

    def unary() -> Node:
        token = tokens.take()
        if token == "-":
            return ("not", unary())
        if token == "(":
            node = expr()
            if tokens.take() != ")":
                raise QuerySyntaxError("'(' without ')'")
            return node
        if token in ("|", "+", ")"):
            raise QuerySyntaxError(f"unexpected {token!r}")
        return ("term", "tiabs", _phrase(token))

    node = expr()
    if tokens.peek() is not None:
        raise QuerySyntaxError(f"unexpected {tokens.peek()!r}")
    return node


def _is_or_chain(node: Node) -> bool:
    """Whether a query is terms joined by OR only (it then needs no parentheses in an OR)."""
    if node[0] == "term":
        return True
    return node[0] == "or" and _is_or_chain(node[1]) and _is_or_chain(node[2])


class _Fields:
    """A record's texts as stem lines, each made once, when a query first asks for it."""

    def __init__(self, record: PaperRecord) -> None:
        self.record = record
        self._lines: dict[str, str] = {}
        # The parts of a combined query share most of their terms: each is tested once.
        self._has: dict[tuple[str, str], bool] = {}

    def line(self, field: str) -> str:
        cached = self._lines.get(field)
        if cached is None:
            r = self.record
            text = {
                "ti": r.title,
                "abs": r.abstract or "",
                "au": " ; ".join(r.authors),
                "co": r.comment or "",
                "jr": r.journal_ref or "",
            }.get(field)
            cached = self._lines[field] = _stem_line(text or "")
        return cached

    def has(self, field: str, phrase: str) -> bool:
        found = self._has.get((field, phrase))
        if found is None:
            found = self._has[(field, phrase)] = self._test(field, phrase)
        return found

    def _test(self, field: str, phrase: str) -> bool:
        if field == "cat":
            cats = self.record.categories or [self.record.primary_category or ""]
            if phrase.endswith("*"):
                return any(c.startswith(phrase[:-1]) for c in cats)
            return phrase in cats
        if field == "id":
            return self.record.arxiv_id == phrase
        if field == "all":
            return any(self.has(f, phrase) for f in ("ti", "abs", "au", "co", "jr"))
        if field == "tiabs":
            return self.has("ti", phrase) or self.has("abs", phrase)
        return phrase in self.line(field)


def _matches(node: Node, fields: _Fields) -> bool:
    kind = node[0]
    if kind == "term":
        return fields.has(node[1], node[2])
    if kind == "not":
        return not _matches(node[1], fields)
    left = _matches(node[1], fields)
    if kind == "or":
        return left or _matches(node[2], fields)
    if kind == "and":
        return left and _matches(node[2], fields)
    return left and not _matches(node[2], fields)


@dataclass(frozen=True)
class Read:
    """One query as sent for a category, and the seed queries it stands for.

    ``parts`` are the seed queries as they were sent alone (what query hits record);
    ``trees`` their parsed forms, when there is more than one part to tell apart.
    """

    category: str
    query: str
    parts: tuple[str, ...]
    trees: tuple[Node, ...] = ()

    def found_by(self, record: PaperRecord) -> list[str]:
        """The seed queries this returned record matches. The service found it by one of
        them: when none matches here (its search reads a word differently), the first."""
        if len(self.parts) == 1:
            return [self.parts[0]]
        fields = _Fields(record)
        found = [
            p for p, tree in zip(self.parts, self.trees, strict=True) if _matches(tree, fields)
        ]
        return found or [self.parts[0]]


def _combine(
    category: str,
    parts: Sequence[str],
    alone: Sequence[str],
    parse: Callable[[str], Node],
    join: Callable[[Sequence[str]], str],
    fits: Callable[[str], bool],
) -> list[Read]:
    """Group ``parts`` in order into as few queries as ``fits``; a part that cannot be
    parsed goes alone. ``alone[i]`` is part ``i`` as sent by itself."""
    reads: list[Read] = []
    group: list[tuple[str, str, Node]] = []

    def flush() -> None:
        if len(group) == 1:
            reads.append(Read(category, group[0][1], (group[0][1],)))
        elif group:
            query = join([text for text, _, _ in group])
            reads.append(
                Read(category, query, tuple(a for _, a, _ in group), tuple(t for *_, t in group))
            )
        group.clear()

    for text, sent in zip(parts, alone, strict=True):
        try:
            tree = parse(sent)
            parse(text)
        except QuerySyntaxError:
            flush()
            reads.append(Read(category, sent, (sent,)))
            continue
        if group and not fits(join([*(t for t, _, _ in group), text])):
            flush()
        group.append((text, sent, tree))
    flush()
    return reads


def _or_part(text: str, parse: Callable[[str], Node]) -> str:
    return text if _is_or_chain(parse(text)) else f"({text})"


def arxiv_reads(
    category: str,
    queries: Sequence[str],
    subject_classes: Sequence[str],
    fits: Callable[[str], bool],
) -> list[Read]:
    """A category's arXiv queries as few requests: ``(q1 OR q2 …) AND (cat:… OR …)``.

    Each part keeps the form it had alone, ``(q) AND (cat:…)`` (``Category.
    arxiv_search_queries``): hits, and the watermarks of single reads, are recorded under it.
    """
    cats = " OR ".join(f"cat:{c}" for c in subject_classes)

    def restrict(query: str) -> str:
        return f"({query}) AND ({cats})" if cats else query

    def join(group: Sequence[str]) -> str:
        either = " OR ".join(_or_part(q, parse_arxiv) for q in group)
        return f"({either}) AND ({cats})" if cats else either

    return _combine(category, queries, [restrict(q) for q in queries], parse_arxiv, join, fits)


def s2_reads(category: str, queries: Sequence[str], fits: Callable[[str], bool]) -> list[Read]:
    """A category's bulk-search queries as few requests: ``q1 | (q2) | …``."""

    def join(group: Sequence[str]) -> str:
        return " | ".join(_or_part(q, parse_bulk) for q in group)

    return _combine(category, queries, list(queries), parse_bulk, join, fits)
