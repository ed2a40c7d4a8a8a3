"""The source-neutral paper record every source yields and the store consumes."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

_VERSION_RE = re.compile(r"v(\d+)$")
_WORD_RE = re.compile(r"[a-z0-9]+")
# Each byte but a-z and 0-9 as a space (the translation ``words`` uses for ASCII text).
_NOT_WORD = bytes(c if chr(c) in "abcdefghijklmnopqrstuvwxyz0123456789" else 32 for c in range(256))


def words(text: str) -> list[str]:
    """The runs of a-z and 0-9 in the lower-cased text, in order: the words keyword
    phrases and query phrases are matched on.

    A harvest splits some 150,000 titles, abstracts and comments into words. An ASCII
    text (nearly every one) is split by byte translation and ``split``, both single C
    loops, in two thirds of the regular expression's time and with the same result;
    anything else by the expression itself, since lower-casing some non-ASCII letters gives
    ASCII ones (the Kelvin sign gives ``k``).
    """
    if text.isascii():
        return text.encode().lower().translate(_NOT_WORD).decode().split()
    return _WORD_RE.findall(text.lower())


@dataclass(frozen=True)
class VenueClaim:
    """Where one source says a paper appeared, in the source's own words, before any rule.

    ``names`` as the source gives them (most specific first), ``dblp`` the DBLP key (it
    carries the venue's year: ``conf/iclr/HuangCLWMW18``), ``year`` the year the source gives
    (often the preprint's), ``kind`` ``conference`` or ``journal`` when the source says.
    Converters in ``sources/`` fill it; ``derive`` and ``export`` read it, never a payload.
    """

    names: tuple[str, ...] = ()
    dblp: str | None = None
    year: int | None = None
    kind: str | None = None


@dataclass
class PaperRecord:
    """What one source said about one paper, before merging.

    Fields a source does not know stay None, so merging never overwrites a value with a gap.
    """

    source: str
    title: str
    abstract: str | None = None
    authors: list[str] = field(default_factory=list)
    arxiv_id: str | None = None
    arxiv_version: int | None = None
    doi: str | None = None
    s2_id: str | None = None
    published: str | None = None
    updated: str | None = None
    year: int | None = None
    citation_count: int | None = None
    primary_category: str | None = None
    categories: list[str] = field(default_factory=list)
    comment: str | None = None
    journal_ref: str | None = None
    # Where the source says it appeared (Semantic Scholar; arXiv's comment and journal
    # reference are the paper's own text), and the payload as received, kept in
    # ``paper_sources``.
    venue_claim: VenueClaim | None = None
    publication_date: str | None = None
    influential_citation_count: int | None = None
    tldr: str | None = None
    source_id: str | None = None
    raw: dict[str, Any] | None = None


def split_arxiv_id(raw: str) -> tuple[str, int | None]:
    """``1703.09844v5`` -> ``("1703.09844", 5)``; ids are stored bare, the version beside."""
    raw = raw.strip()
    for prefix in ("http://arxiv.org/abs/", "https://arxiv.org/abs/", "arXiv:", "arxiv:"):
        raw = raw.removeprefix(prefix)
    match = _VERSION_RE.search(raw)
    if match:
        return raw[: match.start()], int(match.group(1))
    return raw, None


@lru_cache(maxsize=65_536)  # a page asks for each of its titles several times
def normalise_title(title: str) -> str:
    """A key that survives case, accents, punctuation and spacing differences between sources.

    A publisher's typeset title (``Early‐Exit`` with U+2010, ``Don’t``, an em dash) keys as
    arXiv's ASCII one: punctuation, symbols and spaces outside ASCII part words as the
    ASCII ones do. Only what has no ASCII form at all (accents, other scripts) is dropped.
    """
    if title.isascii():
        return " ".join(words(title))
    text = "".join(
        " " if not c.isascii() and unicodedata.category(c)[0] in "PSZ" else c
        for c in unicodedata.normalize("NFKD", title)
    )
    return " ".join(words(text.encode("ascii", "ignore").decode("ascii")))
