"""What a person typed or pasted to name a paper, as one kind of id and its stored form.

People copy a paper from wherever they met it: the address bar of arXiv (an abstract page, a
PDF, with or without ``https://`` and a version), doi.org, a Semantic Scholar page whose path
holds the title, or the bare id. One pure function reads all of them, and every command that
takes a paper from a person goes through it, so each form works everywhere alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote, urlsplit

from harvester.errors import HarvesterError

Kind = Literal["id", "arxiv", "doi", "s2", "title"]

# New-style (2104.10461) and old-style (cs/0601001, math.GT/0309136, hep-th/9901001) ids, in
# ASCII digits (re.ASCII: Python's \d also takes other scripts' digits).
_ARXIV = r"(?P<arxiv>\d{4}\.\d{4,5}|[a-z][a-z-]*(?:\.[a-z]{2})?/\d{7})(?:v\d+)?"
_ARXIV_RE = re.compile(rf"^(?:arxiv:\s*)?{_ARXIV}(?:\.pdf)?$", re.I | re.ASCII)
_DOI_RE = re.compile(r"^(?:doi:\s*)?(?P<doi>10\.\d{4,9}/\S+)$", re.I)
# arXiv mints a DOI for every preprint: it names the arXiv paper.
_ARXIV_DOI_RE = re.compile(rf"^10\.48550/arxiv\.{_ARXIV}$", re.I | re.ASCII)
_S2_RE = re.compile(r"^[0-9a-f]{40}$", re.I)
_INTERNAL_RE = re.compile(r"^#?(?P<id>\d+)$")

_ARXIV_HOSTS = {"arxiv.org", "www.arxiv.org", "export.arxiv.org"}
_DOI_HOSTS = {"doi.org", "dx.doi.org", "www.doi.org"}
_S2_HOSTS = {"semanticscholar.org", "www.semanticscholar.org", "api.semanticscholar.org"}
_KNOWN_HOSTS = _ARXIV_HOSTS | _DOI_HOSTS | _S2_HOSTS
# The arXiv pages that name one paper in their path.
_ARXIV_PAGES = ("abs", "pdf", "html", "format")


class PaperIdError(HarvesterError):
    """An address that names no paper we can look up: nothing was done."""


@dataclass(frozen=True)
class PaperId:
    """A paper as a person named it: ``kind`` and the value as the database stores it
    (arXiv ids bare, DOIs and S2 ids lower case)."""

    kind: Kind
    value: str


def parse_paper_id(text: str) -> PaperId:
    """Read ``papers.id`` (``12`` or ``#12``), an arXiv id or address, a DOI or doi.org
    address, a Semantic Scholar id or page; anything else is a title.

    >>> parse_paper_id("https://arxiv.org/pdf/2104.10461v2")
    PaperId(kind='arxiv', value='2104.10461')
    """
    raw = text.strip().strip("<>").strip()
    if match := _INTERNAL_RE.match(raw):
        return PaperId("id", match["id"])
    url = _as_url(raw)
    if url is not None:
        return _from_url(raw, url)
    return _from_id(raw) or PaperId("title", raw)


def _from_id(text: str) -> PaperId | None:
    """A bare arXiv id, DOI or S2 id, or None."""
    if match := _ARXIV_RE.match(text):
        return PaperId("arxiv", _arxiv(match["arxiv"]))
    if match := _DOI_RE.match(text):
        doi = match["doi"]
        if arxiv := _ARXIV_DOI_RE.match(doi):
            return PaperId("arxiv", _arxiv(arxiv["arxiv"]))
        return PaperId("doi", doi.lower())
    if _S2_RE.match(text):
        return PaperId("s2", text.lower())
    return None


def _arxiv(ident: str) -> str:
    # Old-style archives are lower case, their subject classes upper case: math.GT/0309136.
    archive, slash, number = ident.rpartition("/")
    if not slash:
        return ident
    name, dot, subject = archive.partition(".")
    return f"{name.lower()}{dot}{subject.upper()}/{number}"


def _as_url(text: str) -> tuple[str, str] | None:
    """``(host, path)`` of a web address, with or without its scheme, else None."""
    has_scheme = re.match(r"^https?://", text, re.I) is not None
    if not has_scheme:
        host = text.split("/", 1)[0].lower()
        if host not in _KNOWN_HOSTS or "/" not in text:
            return None
        text = "https://" + text
    parts = urlsplit(text)
    return (parts.hostname or "").lower(), parts.path


def _from_url(text: str, url: tuple[str, str]) -> PaperId:
    host, path = url
    segments = [unquote(s) for s in path.split("/") if s]
    found: PaperId | None = None
    if host in _ARXIV_HOSTS and len(segments) >= 2 and segments[0] in _ARXIV_PAGES:
        match = _ARXIV_RE.match("/".join(segments[1:]))
        found = PaperId("arxiv", _arxiv(match["arxiv"])) if match else None
    elif host in _DOI_HOSTS and segments:
        found = _from_id("/".join(segments))
        found = found if found is not None and found.kind in ("doi", "arxiv") else None
    elif host in _S2_HOSTS and "paper" in segments and _S2_RE.match(segments[-1]):
        found = PaperId("s2", segments[-1].lower())
    if found is None:
        raise PaperIdError(
            f"{text!r}: not the address of a paper (give an arXiv, doi.org or Semantic"
            " Scholar paper address, an id, or the exact title)"
        )
    return found
