"""Links to a paper's pages, built from its ids: the one place any output makes a paper URL.

Ids come from the services and are not trusted: an id reaches a link only when it has the
shape of its kind (arXiv, DOI, Semantic Scholar), and it is percent-encoded even then, so a
stored value such as ``x) [y](https://elsewhere`` can never end or redirect a Markdown or
HTML link. A paper whose ids all fail gets no link rather than a wrong one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

# New-style (1703.09844) and old-style (hep-th/9901001, math.GT/0309136) arXiv ids, bare;
# ASCII digits only (Python's \d also takes other scripts' digits, which no arXiv id has).
_ARXIV_ID = re.compile(r"\d{4}\.\d{4,5}|[a-z][a-z-]*(?:\.[A-Z]{2})?/\d{7}", re.ASCII)
# A DOI: the 10. directory prefix, a registrant, a suffix of visible characters.
_DOI = re.compile(r"10\.\d{4,9}/[^\s\x00-\x1f\x7f-\x9f]+")
# Semantic Scholar's paper ids are SHA-1 hex digests.
_S2_ID = re.compile(r"[0-9a-f]{40}")


@dataclass(frozen=True)
class Link:
    """One page of a paper: what to call it, the id it was built from, its https URL."""

    label: str
    id: str
    url: str


def _valid(pattern: re.Pattern[str], value: Any) -> str | None:
    return value if isinstance(value, str) and pattern.fullmatch(value) else None


def _each_link(paper: Mapping[str, Any]) -> Iterator[Link]:
    if arxiv := _valid(_ARXIV_ID, paper.get("arxiv_id")):
        # The pattern admits only letters, digits, ".", "-" and "/", which percent-encoding
        # leaves as they are (tests/test_hostile_data.py checks it): no quoting to pay for
        # each of the checklist's 20,000 links.
        yield Link("arXiv", arxiv, f"https://arxiv.org/abs/{arxiv}")
        yield Link("PDF", arxiv, f"https://arxiv.org/pdf/{arxiv}")
    if doi := _valid(_DOI, paper.get("doi")):
        yield Link("DOI", doi, f"https://doi.org/{quote(doi, safe='/;:')}")
    if s2 := _valid(_S2_ID, paper.get("s2_id")):
        yield Link("Semantic Scholar", s2, f"https://www.semanticscholar.org/paper/{s2}")


def paper_links(paper: Mapping[str, Any]) -> list[Link]:
    """Every page the paper's valid ids give: arXiv abstract and PDF, DOI, Semantic Scholar."""
    return list(_each_link(paper))


def primary_link(paper: Mapping[str, Any]) -> Link | None:
    """The page a report links a title to: arXiv's abstract, else the DOI, else S2 (made
    alone: the checklist links each of 20,000 papers)."""
    return next(_each_link(paper), None)


def paper_url(paper: Mapping[str, Any]) -> str | None:
    link = primary_link(paper)
    return link.url if link else None
