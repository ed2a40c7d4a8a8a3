"""Semantic Scholar: the Graph API (batch enrichment, bulk search, title matching, citations)
and the Recommendations API (papers like a set of positives and unlike a set of negatives).

Requests go through ``harvester.http.Service`` (one shared httpx client, our pacing, our
retries), never through the ``semanticscholar`` package's client, whose traps DESIGN.md lists:
it retries 429 in a layer of its own and ignores Retry-After, turns 502/503 into an empty
``Paper``, drops the API key on citation endpoints and does not URL-escape queries. Nor do we
build its ``Paper`` model: ``to_record`` reads the few fields a record needs from the JSON.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

import httpx

from harvester.config import recommendations_url as _recommendations_url
from harvester.errors import RetryableSourceError, SourceError
from harvester.http import Service
from harvester.records import PaperRecord, VenueClaim, normalise_title, split_arxiv_id
from harvester.seeds import Category
from harvester.sources.pages import START, Cursor, Page, StopWhen
from harvester.sources.queries import Read, s2_reads

log = logging.getLogger(__name__)

SOURCE = "s2"
# The batch endpoint takes at most 500 ids per request.
BATCH_SIZE = 500
# The bulk search returns up to 1,000 papers per call, with a continuation token.
BULK_PAGE = 1000
# /citations and /references page up to 1,000 at a time.
NEIGHBOUR_PAGE = 1000
# Requests are GETs; a category's combined bulk query stays within a URL length every proxy
# and server accepts.
MAX_URL = 2000
# A batch answer lists at most 1,000 citations and 1,000 references of each paper, and at
# most 9,999 in all: the snowball packs its batches to stay under the second.
GRAPH_PER_PAPER = 1000
GRAPH_MAX = 9999
GRAPH_FIELDS = "citations.paperId,references.paperId"
# A harvest's own papers are linked by their references alone (every edge between two of them
# is in the citing paper's list), and a paper's references never change.
REFERENCE_FIELDS = "references.paperId"
# References a paper lists, as we guess them when packing batches (S2 gives no count we
# store): most papers cite 30 to 80; one that cites more only makes its batch a little big,
# and a batch S2 refuses as too big is split in two.
REFERENCES_GUESS = 80
# The recommendations endpoint answers at most 500 papers per request.
RECOMMEND_LIMIT = 500
# Its requests are counted apart in the run's request log (``runs.requests``).
RECOMMEND_ENDPOINT = "s2_recommendations"

_COMMON = (
    "paperId,externalIds,title,abstract,venue,publicationVenue,year,publicationDate,"
    "citationCount,influentialCitationCount,authors,journal"
)
BATCH_FIELDS = _COMMON + ",tldr"  # tldr: only the single-paper and batch endpoints give it
SEARCH_FIELDS = _COMMON
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def describe_error(response: httpx.Response) -> str:
    """S2 explains failures as ``{"error": …}`` or ``{"message": …}``."""
    try:
        body = response.json()
    except ValueError:
        return " ".join(response.text.split())[:120]
    if isinstance(body, dict):
        return str(body.get("error") or body.get("message") or body)[:200]
    return str(body)[:120]


def _json(response: httpx.Response) -> Any:
    """The body as JSON; anything else (an HTML page, a cut-off document) is retried."""
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError):
        size = len(response.content)
        raise RetryableSourceError(
            SOURCE,
            f"answer is not JSON ({size} bytes): {response.text[:60]!r}",
            url=str(response.url),
        ) from None


def _shape_error(response: httpx.Response, what: str) -> RetryableSourceError:
    return RetryableSourceError(SOURCE, f"unexpected answer: {what}", url=str(response.url))


def _data_object(response: httpx.Response) -> dict[str, Any]:
    """Search, match and neighbour answers: an object whose ``data`` is a list."""
    body = _json(response)
    if not isinstance(body, dict) or not isinstance(body.get("data", []), list):
        raise _shape_error(response, "expected an object with a data list")
    return body


def s2_venue_names(data: dict[str, Any]) -> list[str]:
    """Every name S2 gives the venue: publicationVenue and its alternates, venue, journal."""
    names: list[str] = []
    pv = data.get("publicationVenue")
    if isinstance(pv, dict):
        names += [pv.get("name") or "", *list(pv.get("alternate_names") or [])]
    names.append(data.get("venue") or "")
    journal = data.get("journal")
    if isinstance(journal, dict):
        names.append(journal.get("name") or "")
    return [n for n in names if isinstance(n, str) and n.strip()]


def s2_venue_kind(data: dict[str, Any]) -> str | None:
    """``conference`` or ``journal``: what publicationVenue says, else the DBLP key's kind."""
    pv = data.get("publicationVenue")
    kind = pv.get("type") if isinstance(pv, dict) else None
    if kind in ("conference", "journal"):
        return str(kind)
    ids = data.get("externalIds")
    dblp = ids.get("DBLP") if isinstance(ids, dict) else None
    if isinstance(dblp, str):
        if dblp.startswith("conf/"):
            return "conference"
        if dblp.startswith("journals/") and not dblp.startswith("journals/corr/"):
            return "journal"
    return None


def s2_year(data: dict[str, Any]) -> int | None:
    year = data.get("year")
    return year if isinstance(year, int) else None


def venue_claim(data: dict[str, Any]) -> VenueClaim:
    """Where S2 says the paper appeared: its names, the DBLP key, its year, the kind."""
    ids = data.get("externalIds")
    dblp = ids.get("DBLP") if isinstance(ids, dict) else None
    return VenueClaim(
        names=tuple(s2_venue_names(data)),
        dblp=dblp if isinstance(dblp, str) else None,
        year=s2_year(data),
        kind=s2_venue_kind(data),
    )


def _object(data: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = data.get(key)
    if value is not None and not isinstance(value, dict):
        raise ValueError(f"{key} is not an object")
    return value


def _publication_date(value: Any) -> str | None:
    """S2's ``publicationDate`` (``YYYY-MM-DD``) checked as a calendar date."""
    if value is None:
        return None
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        date.fromisoformat(value)  # a ValueError for 2020-02-30, as strptime gives
        return value
    return datetime.strptime(value, "%Y-%m-%d").date().isoformat()


def to_record(data: dict[str, Any]) -> PaperRecord:
    """One S2 paper object as our record; raises ``SourceError`` on a malformed object.

    Read from the JSON itself: a ``semanticscholar.Paper`` for every row cost as much as all
    the rest of the S2 side of a harvest. Authors, journal, venue and TLDR must be objects
    (or null), as the API gives them.
    """
    try:
        if not isinstance(data, dict):
            raise ValueError("not an object")
        ids = data.get("externalIds") or {}
        paper_id = data.get("paperId")
        if not paper_id or not isinstance(paper_id, str):
            raise ValueError("no paperId")
        title = data.get("title")
        if not isinstance(title, str) or not title.strip():
            raise ValueError("no title")
        arxiv_id = split_arxiv_id(ids["ArXiv"])[0] if ids.get("ArXiv") else None
        citations = data.get("citationCount")
        influential = data.get("influentialCitationCount")
        if citations is not None and not isinstance(citations, int):
            raise ValueError("citationCount is not a number")
        authors = data.get("authors") or []
        if not all(isinstance(a, dict) for a in authors):
            raise ValueError("an author is not an object")
        _object(data, "journal")
        _object(data, "publicationVenue")
        tldr = _object(data, "tldr") or {}
        abstract = data.get("abstract")
        year = data.get("year")
        return PaperRecord(
            source=SOURCE,
            title=" ".join(title.split()),
            abstract=" ".join(abstract.split()) if abstract else None,
            authors=[a["name"] for a in authors if a.get("name")],
            arxiv_id=arxiv_id,
            doi=ids.get("DOI"),
            s2_id=paper_id,
            year=year if isinstance(year, int) else None,
            citation_count=citations,
            influential_citation_count=influential if isinstance(influential, int) else None,
            venue_claim=venue_claim(data),
            publication_date=_publication_date(data.get("publicationDate")),
            tldr=tldr.get("text") or None,
            source_id=paper_id,
            raw=data,
        )
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise SourceError(SOURCE, f"malformed paper object ({exc})") from None


def _records(items: list[Any]) -> tuple[list[PaperRecord], int]:
    """The page's papers; an object without id or title cannot be stored and is skipped."""
    records: list[PaperRecord] = []
    skipped = 0
    for item in items:
        try:
            records.append(to_record(item))
        except SourceError as exc:
            skipped += 1
            log.warning("%s", exc)
    return records, skipped


class SemanticScholarSource:
    """The Graph API and Recommendations API calls the harvester makes, each as few requests
    as the API allows, all through one ``Service``: one pace, one retry layer, the key on
    every endpoint.

    ``recommendations_url`` defaults to the recommendations API beside ``url``
    (``config.recommendations_url``).
    """

    name = SOURCE
    # A search answer carries the same citations, venue and ids as a refresh batch.
    describes = True

    def __init__(self, service: Service, url: str, recommendations_url: str | None = None) -> None:
        self.service = service
        self.url = url.rstrip("/")
        self.recommendations_url = (recommendations_url or _recommendations_url(url)).rstrip("/")

    def batch(self, ids: list[str]) -> list[PaperRecord | None]:
        """Papers by id (``ARXIV:…``, ``DOI:…``, S2 ids), 500 per request, in order.

        Unknown ids come back as None, in their place.
        """
        out: list[PaperRecord | None] = []
        for i in range(0, len(ids), BATCH_SIZE):
            body = self._post_batch(ids[i : i + BATCH_SIZE], BATCH_FIELDS)
            out += [to_record(item) if item is not None else None for item in body]
        return out

    def links(self, ids: Sequence[str], fields: str = GRAPH_FIELDS) -> list[Links | None]:
        """Who cites and who is cited by each paper (ids only), in one batch request.

        At most 500 ids, and few enough citations and references in all that the answer
        stays within ``GRAPH_MAX`` (the caller packs them: ``snowball``, ``references``); S2
        lists at most ``GRAPH_PER_PAPER`` of each per paper. ``fields`` ``REFERENCE_FIELDS``
        asks for the references alone (``citing`` is then empty). Unknown ids come back as
        None, in place.
        """
        if len(ids) > BATCH_SIZE:
            raise ValueError(f"at most {BATCH_SIZE} ids, not {len(ids)}")
        return [_links(item) for item in self._post_batch(ids, fields)]

    def _post_batch(self, ids: Sequence[str], fields: str) -> list[Any]:
        """One batch request: the answer, one item (or None) per id, in the ids' order."""

        def parse(response: httpx.Response) -> list[Any]:
            body = _json(response)
            if not isinstance(body, list) or len(body) != len(ids):
                raise _shape_error(response, f"expected a list of {len(ids)} papers")
            return body

        return self.service.request(
            "POST",
            f"{self.url}/paper/batch",
            parse,
            params={"fields": fields},
            json={"ids": list(ids)},
        )

    def search_pages(
        self,
        query: str,
        *,
        max_results: int,
        cursor: Cursor = START,
        first_page: int | None = None,
        stop_when: StopWhen | None = None,
    ) -> Iterator[Page]:
        """Bulk search, newest publications first, following the continuation token.

        The query uses S2's bulk syntax (``"phrase"``, ``|`` or, ``+`` and, ``-`` not). The
        bulk endpoint has no page size, so ``first_page`` changes nothing; a read ends at
        the last page, ``max_results``, or the first page ``stop_when`` says ends it. To
        resume an unfinished read, pass the last page's ``cursor``.
        """
        seen, token = cursor.offset, cursor.token
        while seen < max_results:
            params = {"query": query, "fields": SEARCH_FIELDS, "sort": "publicationDate:desc"}
            if token:
                params["token"] = token

            body = self.service.request(
                "GET", f"{self.url}/paper/search/bulk", _data_object, params=params
            )
            items = body.get("data") or []
            records, skipped = _records(items[: max_results - seen])
            seen += len(records) + skipped
            token = body.get("token") or None
            reported = body.get("total")
            page = Page(
                records,
                reported if isinstance(reported, int) else seen,
                Cursor(seen, token),
                dates=[r.publication_date for r in records if r.publication_date],
                last=not token or not items or seen >= max_results,
                skipped=skipped,
            )
            page.last = page.last or (stop_when is not None and stop_when(page))
            yield page
            if page.last:
                return

    def can_resume(self, cursor: Cursor) -> bool:
        """A bulk search resumes from a continuation token only."""
        return cursor.token is not None

    def fits(self, query: str) -> bool:
        """Whether a bulk search for ``query`` stays within ``MAX_URL`` characters."""
        params = {"query": query, "fields": SEARCH_FIELDS, "sort": "publicationDate:desc"}
        return len(str(httpx.URL(f"{self.url}/paper/search/bulk", params=params))) <= MAX_URL

    def reads(self, category: Category) -> list[Read]:
        """The category's bulk searches as few requests as fit (``queries.s2_reads``)."""
        return s2_reads(category.key, category.s2_queries, self.fits)

    def neighbours(self, s2_id: str, direction: str, *, max_results: int) -> Iterator[Page]:
        """Papers citing (``citations``) or cited by (``references``) a paper, 1,000 a page.

        The key is sent here as on every endpoint (the ``semanticscholar`` package forgets it
        on these two).
        """
        if direction not in ("citations", "references"):
            raise ValueError(direction)
        inner = "citingPaper" if direction == "citations" else "citedPaper"
        offset = 0
        while offset < max_results:
            limit = min(NEIGHBOUR_PAGE, max_results - offset)

            body = self.service.request(
                "GET",
                f"{self.url}/paper/{quote(s2_id, safe=':')}/{direction}",
                _data_object,
                params={"fields": SEARCH_FIELDS, "offset": offset, "limit": limit},
            )
            items = [
                entry.get(inner) for entry in body.get("data") or [] if isinstance(entry, dict)
            ]
            # S2 lists a neighbour it cannot resolve as {"paperId": null, ...}: not storable.
            records, skipped = _records([i for i in items if isinstance(i, dict)])
            nxt = body.get("next")
            yield Page(records, offset + len(items), Cursor(offset + len(items)), skipped=skipped)
            if not isinstance(nxt, int) or nxt <= offset or not items:
                return
            offset = nxt

    def recommend(
        self,
        positive_ids: Sequence[str],
        negative_ids: Sequence[str] = (),
        *,
        limit: int = 100,
    ) -> list[PaperRecord]:
        """Papers like the positives and unlike the negatives, best first, in one request.

        Ids are S2 ids or prefixed ones (``ARXIV:…``, ``DOI:…``, ``CorpusId:…``); ``limit``
        is 1 to 500. Without positives there is nothing to recommend from and nothing is
        asked. A 404 (the service knows none of the papers, or has no recommendations for
        them: new papers often have none) is an empty answer, not a failure; a 400 (a
        malformed id or request) raises ``QueryError``; 429 and 5xx are retried like every
        request. The papers asked about are left out of the answer, which for a single
        paper can include the paper itself. Requests count as ``s2_recommendations``.
        """
        if not 1 <= limit <= RECOMMEND_LIMIT:
            raise ValueError(f"limit must be 1 to {RECOMMEND_LIMIT}, not {limit}")
        if not positive_ids:
            return []
        items = self.service.request(
            "POST",
            f"{self.recommendations_url}/papers/",
            _recommended,
            params={"fields": SEARCH_FIELDS, "limit": limit},
            json={"positivePaperIds": list(positive_ids), "negativePaperIds": list(negative_ids)},
            accept=frozenset({200, 404}),
            count_as=RECOMMEND_ENDPOINT,
        )
        records, _ = _records([item for item in items or [] if isinstance(item, dict)])
        asked = {_id_key(i) for i in [*positive_ids, *negative_ids]}
        return [r for r in records if _keys(r).isdisjoint(asked)]

    def match_title(self, title: str) -> PaperRecord | None:
        """The paper with this exact title, or None; S2 answers a miss as 404 or empty data."""

        def parse(response: httpx.Response) -> Any:
            return None if response.status_code == 404 else _data_object(response)

        body = self.service.request(
            "GET",
            f"{self.url}/paper/search/match",
            parse,
            params={"query": title, "fields": BATCH_FIELDS},
            accept=frozenset({200, 404}),
        )
        if not body or not body.get("data"):
            return None
        record = to_record(body["data"][0])
        # The match endpoint returns its best guess; only an equal title is the paper asked for.
        if normalise_title(record.title) != normalise_title(title):
            return None
        return record


@dataclass(frozen=True)
class Links:
    """A paper's neighbours in the citation graph, by Semantic Scholar id."""

    s2_id: str
    citing: tuple[str, ...]
    cited: tuple[str, ...]


def _neighbour_ids(items: Any) -> tuple[str, ...]:
    # S2 lists a neighbour it cannot resolve as {"paperId": null}: there is no edge to keep.
    if not isinstance(items, list):
        return ()
    ids = (i.get("paperId") for i in items if isinstance(i, dict))
    return tuple(i for i in ids if isinstance(i, str) and i)


def _links(item: Any) -> Links | None:
    if not isinstance(item, dict) or not isinstance(item.get("paperId"), str):
        return None
    return Links(
        item["paperId"],
        _neighbour_ids(item.get("citations")),
        _neighbour_ids(item.get("references")),
    )


def _recommended(response: httpx.Response) -> list[Any] | None:
    """The ``recommendedPapers`` list; None for a 404 (see ``recommend``)."""
    if response.status_code == 404:
        log.info("s2: no recommendations (%s)", describe_error(response))
        return None
    body = _json(response)
    if not isinstance(body, dict) or not isinstance(body.get("recommendedPapers", []), list):
        raise _shape_error(response, "expected an object with a recommendedPapers list")
    return body.get("recommendedPapers") or []


def _id_key(ident: str) -> str:
    """An id as S2 compares it: the prefix in capitals, the value in lower case."""
    kind, colon, value = ident.partition(":")
    return f"{kind.upper()}:{value.lower()}" if colon else ident.lower()


def _keys(record: PaperRecord) -> set[str]:
    """Every id a request may have named this paper by."""
    keys = {record.s2_id.lower()} if record.s2_id else set()
    if record.arxiv_id:
        keys.add(_id_key(f"ARXIV:{record.arxiv_id}"))
    if record.doi:
        keys.add(_id_key(f"DOI:{record.doi}"))
    return keys


def batch_id(row: dict[str, Any]) -> str:
    """The id to ask the batch endpoint for: S2's own, else arXiv, else DOI."""
    if row.get("s2_id"):
        return str(row["s2_id"])
    if row.get("arxiv_id"):
        return f"ARXIV:{row['arxiv_id']}"
    return f"DOI:{row['doi']}"
