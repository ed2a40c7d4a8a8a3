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
from functools import cached_property
from typing import Any

from harvester.records import PaperRecord, words

_ARXIV_TOKEN = re.compile(r'\s*(\(|\)|[A-Za-z]+:"[^"]*"|"[^"]*"|[^\s()"]+)')
_BULK_TOKEN = re.compile(r'\s*(\(|\)|\||\+|-(?=\S)|"[^"]*"|[^\s()|+"]+)')
_WORD = re.compile(r"[a-z0-9]+")
# A word's trailing plural ``s`` in a line of words framed by spaces.
_TRAILING_S = re.compile(r"s+ ")
# arXiv's field prefixes this module evaluates (``rn``, report numbers, and date ranges are
# not on a record: queries with them are sent alone).
_ARXIV_PREFIXES = frozenset({"ti", "abs", "au", "co", "jr", "cat", "id", "all"})
_ARXIV_OPERATORS = frozenset({"AND", "OR", "ANDNOT"})


class QuerySyntaxError(ValueError):
    """A query this module cannot evaluate exactly."""


def _stem_line(text: str) -> str:
    """A text's words, each without a trailing plural ``s``, joined by single spaces and
    framed by spaces: a phrase occurs exactly when its own line is a substring."""
    return _TRAILING_S.sub(" ", " " + " ".join(words(text)) + " ")


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


_TEXT_FIELDS = ("ti", "abs", "au", "co", "jr")
# What a term's (field, value) stands for among a record's facts (``_Matcher.facts``).
_SPREAD = {"all": _TEXT_FIELDS, "tiabs": ("ti", "abs")}

Fact = tuple[str, str]
Test = Callable[[set[Fact]], bool]


def _text(record: PaperRecord, field: str) -> str:
    if field == "ti":
        return record.title
    if field == "abs":
        return record.abstract or ""
    if field == "au":
        return " ; ".join(record.authors)
    if field == "co":
        return record.comment or ""
    return record.journal_ref or ""


class _Matcher:
    """A combined read's parts compiled once: which of them a record matches.

    A record is matched against every part of its read, and the parts share most of their
    phrases, so a record's facts are gathered once, in one pass over each field's words
    (a phrase is looked for only where its first word occurs), and each part is a test of
    set membership over them.
    """

    def __init__(self, trees: Sequence[Node]) -> None:
        # field -> first word -> phrases. A line's words split at single spaces always
        # include "", so a phrase whose first word stems to nothing (``s``) is always tested.
        self._phrases: dict[str, dict[str, list[str]]] = {}
        self._prefixes: set[str] = set()
        self.tests = [self._compile(tree) for tree in trees]

    def _facts_of(self, kind: str, value: str) -> frozenset[Fact]:
        if kind == "cat" and value.endswith("*"):
            self._prefixes.add(value[:-1])
            return frozenset({("cat*", value[:-1])})
        if kind in ("cat", "id"):
            return frozenset({(kind, value)})
        fields = _SPREAD.get(kind, (kind,))
        first = value.split(" ")[1]  # "" when the first word stems to nothing
        for field in fields:
            self._phrases.setdefault(field, {}).setdefault(first, []).append(value)
        return frozenset((field, value) for field in fields)

    def _terms(self, node: Node) -> frozenset[Fact] | None:
        """The facts of an OR of terms (any of them matches it), or None for another tree."""
        if node[0] == "term":
            return self._facts_of(node[1], node[2])
        if node[0] == "or":
            left, right = self._terms(node[1]), self._terms(node[2])
            if left is not None and right is not None:
                return left | right
        return None

    def _compile(self, node: Node) -> Test:
        terms = self._terms(node)
        if terms is not None:
            return lambda facts: not terms.isdisjoint(facts)
        kind = node[0]
        if kind == "not":
            inner = self._compile(node[1])
            return lambda facts: not inner(facts)
        left, right = self._compile(node[1]), self._compile(node[2])
        if kind == "or":
            return lambda facts: left(facts) or right(facts)
        if kind == "and":
            return lambda facts: left(facts) and right(facts)
        return lambda facts: left(facts) and not right(facts)

    def facts(self, record: PaperRecord) -> set[Fact]:
        """The record's facts the parts ask about: (field, phrase) for each phrase found in
        that field, ("cat", class), ("cat*", prefix) and ("id", arXiv id)."""
        found: set[Fact] = set()
        for field, by_word in self._phrases.items():
            line = _stem_line(_text(record, field))
            for word in by_word.keys() & line.split(" "):
                found.update((field, p) for p in by_word[word] if p in line)
        cats = record.categories or [record.primary_category or ""]
        found.update(("cat", c) for c in cats)
        for prefix in self._prefixes:
            if any(c.startswith(prefix) for c in cats):
                found.add(("cat*", prefix))
        if record.arxiv_id is not None:
            found.add(("id", record.arxiv_id))
        return found


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
        facts = self._matcher.facts(record)
        found = [p for p, test in zip(self.parts, self._matcher.tests, strict=True) if test(facts)]
        return found or [self.parts[0]]

    @cached_property
    def _matcher(self) -> _Matcher:
        return _Matcher(self.trees)


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
