"""arXiv: search queries paged newest first, and seed papers looked up by id.

We use arxiv.py for what it does well, its ``Search`` and ``Result`` model and the reading of
its Atom parser (both layouts the API has served), and replace its ``Client`` transport: that
one retries without backoff, cannot resume a query from the offset reached, and reads a
cut-off body as a short page. Requests go through ``harvester.http.Service`` instead. Its
parser's per-field path lookups cost more than the rest of a 2,000-entry page, so
``_read_feed`` reads the same tree in one pass per entry into the same ``Result``s.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import arxiv
import httpx
from arxiv import _feed
from lxml import etree

from harvester.errors import RetryableSourceError
from harvester.http import Service
from harvester.records import PaperRecord, split_arxiv_id
from harvester.seeds import Category
from harvester.sources.pages import START, Cursor, Page, StopWhen
from harvester.sources.queries import Read, arxiv_reads

SOURCE = "arxiv"
# arXiv serves at most this many entries per call (its user manual).
MAX_PAGE_SIZE = 2000
# Requests are GETs; the combined query of a category stays within a URL length every
# proxy and server accepts.
MAX_URL = 2000
# ...and at most this many results per query, however it is paged.
MAX_RESULTS = 30_000

_SUMMARY_RE = re.compile(rb"<summary[^>]*>(.*?)</summary>", re.S)
_SPACES = re.compile(r"\s+")


def describe_error(response: httpx.Response) -> str:
    """arXiv explains a 400 in the summary of an error entry ("incorrect id format for abc")."""
    match = _SUMMARY_RE.search(response.content)
    if match:
        return html.unescape(match.group(1).decode("utf-8", "replace")).strip()
    return " ".join(response.text.split())[:120]


_ATOM = "{http://www.w3.org/2005/Atom}"
_ARXIV = "{http://arxiv.org/schemas/atom}"
_OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
_ENTRY, _ID, _UPDATED, _PUBLISHED, _TITLE, _SUMMARY, _AUTHOR, _NAME, _LINK, _CATEGORY = (
    f"{_ATOM}{tag}"
    for tag in (
        "entry",
        "id",
        "updated",
        "published",
        "title",
        "summary",
        "author",
        "name",
        "link",
        "category",
    )
)
_AFFILIATION, _PRIMARY, _COMMENT, _JOURNAL_REF, _DOI = (
    f"{_ARXIV}{tag}" for tag in ("affiliation", "primary_category", "comment", "journal_ref", "doi")
)
_TOTAL = f"{_OPENSEARCH}totalResults"
_HEADER = {
    f"{_OPENSEARCH}{tag}": name
    for tag, name in (
        ("totalResults", "total_results"),
        ("itemsPerPage", "items_per_page"),
        ("startIndex", "start_index"),
    )
}


def _author(elem: Any) -> arxiv.Result.Author:
    name: str | None = None
    named = False
    affiliations: list[str] = []
    for child in elem:
        tag = child.tag
        if tag == _NAME and not named:
            name, named = child.text, True
        elif tag == _AFFILIATION and child.text is not None:
            affiliations.append(child.text)
    return arxiv.Result.Author(name=name or "", affiliation=affiliations)


def _result(entry: Any) -> arxiv.Result | None:
    """One ``<entry>`` as arxiv.py's ``Result``, as ``_feed._build_result`` makes it, in one
    pass over the entry's children: its path lookups cost more than the rest of a page."""
    texts: dict[str, str | None] = {}
    primary: str | None = None
    authors: list[arxiv.Result.Author] = []
    links: list[arxiv.Result.Link] = []
    categories: list[str] = []
    for child in entry:
        tag = child.tag
        if tag == _AUTHOR:
            authors.append(_author(child))
        elif tag == _LINK:
            href = child.get("href")
            if href is not None:
                links.append(
                    arxiv.Result.Link(
                        href=href,
                        title=child.get("title"),
                        rel=child.get("rel") or "",
                        content_type=child.get("type"),
                    )
                )
        elif tag == _CATEGORY:
            term = child.get("term")
            if term is not None:
                categories.append(term)
        elif tag == _PRIMARY:
            if primary is None:
                primary = child.get("term") or ""
        elif isinstance(tag, str) and tag not in texts:
            texts[tag] = child.text
    entry_id = texts.get(_ID)
    updated = _feed._parse_datetime(texts.get(_UPDATED)) if entry_id else None
    published = _feed._parse_datetime(texts.get(_PUBLISHED)) if updated else None
    if published is None:
        return _feed._build_result(entry)  # skips the entry, saying why
    return arxiv.Result(
        entry_id=entry_id,
        updated=updated,
        published=published,
        title=_SPACES.sub(" ", texts.get(_TITLE) or ""),
        authors=authors,
        summary=texts.get(_SUMMARY) or "",
        comment=texts.get(_COMMENT),
        journal_ref=texts.get(_JOURNAL_REF),
        doi=texts.get(_DOI),
        primary_category=primary or "",
        categories=categories,
        links=links,
    )


def _root(content: bytes) -> Any:
    """The document's root element as arxiv.py's parser reads it, or None."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=True)
    try:
        return etree.fromstring(content, parser=parser)
    except etree.XMLSyntaxError:
        return None


def _number(value: str | None) -> int:
    try:
        return int(value.strip()) if value is not None else 0
    except ValueError:
        return 0


def _read_feed(content: bytes) -> _feed.ParsedFeed:
    """``_feed.parse``, reading each entry with ``_result``."""
    root = _root(content)
    if root is None:
        return _feed.parse(content)  # says why it is malformed
    header: dict[str, str | None] = {}
    results: list[arxiv.Result] = []
    for child in root:
        tag = child.tag
        if tag == _ENTRY:
            result = _result(child)
            if result is not None:
                results.append(result)
        elif tag in _HEADER and tag not in header:
            header[tag] = child.text

    return _feed.ParsedFeed(
        header=_feed.FeedHeader(
            **{name: _number(header.get(tag)) for tag, name in _HEADER.items()}
        ),
        results=results,
        malformed=False,
    )


def _check_whole(content: bytes, url: str) -> None:
    body = content.rstrip()
    if not body.endswith(b"</feed>") or b"totalResults" not in body:
        what = "truncated feed" if b"<feed" in body[:2000] else "not an Atom feed"
        raise RetryableSourceError(SOURCE, f"{what} ({len(content)} bytes)", url=url)


def parse_feed(content: bytes, url: str = "") -> _feed.ParsedFeed:
    """Parse a page, refusing anything that is not a whole arXiv feed.

    arxiv.py parses in recovery mode, so a truncated document or an HTML error page would
    come back as a short or empty page; we check the document is complete first.
    """
    _check_whole(content, url)
    feed = _read_feed(content)
    if feed.malformed:
        raise RetryableSourceError(SOURCE, f"malformed feed: {feed.error}", url=url)
    return feed


def _date(value: object) -> str | None:
    return value.date().isoformat() if hasattr(value, "date") else None


@lru_cache(maxsize=8192)  # a page's entries share their days, and their timestamps often
def _day(text: str) -> str | None:
    """An Atom timestamp's UTC day, as ``to_record`` stores it (``_date`` of arxiv.py's
    datetime); a malformed one raises as arxiv.py's reading does."""
    return _date(_feed._parse_datetime(text))


def _folded(text: str | None) -> str | None:
    return " ".join((text or "").split()) or None


def _entry_record(entry: Any) -> PaperRecord | None:
    """One ``<entry>`` as the record ``to_record(_result(entry))`` makes, without arxiv.py's
    ``Result``, its authors' and links' objects and its datetimes, which a search page
    makes two thousand of only to read a few strings from; in one pass over its children.
    An entry arxiv.py skips is skipped, saying why, as there."""
    texts: dict[str, str | None] = {}
    primary: str | None = None
    authors: list[str] = []
    categories: list[str] = []
    for child in entry:
        tag = child.tag
        if tag == _AUTHOR:
            for part in child:
                if part.tag == _NAME:
                    if part.text:
                        authors.append(part.text)
                    break
        elif tag == _CATEGORY:
            term = child.get("term")
            if term is not None:
                categories.append(term)
        elif tag == _PRIMARY:
            if primary is None:
                primary = child.get("term") or ""
        elif tag == _LINK:
            continue
        elif isinstance(tag, str) and tag not in texts:
            texts[tag] = child.text
    entry_id = texts.get(_ID)
    updated = texts.get(_UPDATED)
    published_at = texts.get(_PUBLISHED)
    if not entry_id or updated is None or published_at is None:
        result = _feed._build_result(entry)  # skips the entry, saying why
        return to_record(result) if result is not None else None
    updated_day = _day(updated)
    published = _day(published_at)
    arxiv_id, version = split_arxiv_id(entry_id)
    return PaperRecord(
        source=SOURCE,
        title=" ".join((texts.get(_TITLE) or "").split()),
        abstract=_folded(texts.get(_SUMMARY)),
        authors=authors,
        arxiv_id=arxiv_id,
        arxiv_version=version,
        doi=(texts.get(_DOI) or "").strip() or None,
        published=published,
        updated=updated_day,
        year=int(published[:4]) if published else None,
        primary_category=primary or None,
        categories=categories,
        comment=_folded(texts.get(_COMMENT)),
        journal_ref=_folded(texts.get(_JOURNAL_REF)),
    )


def read_page(content: bytes, url: str = "") -> tuple[int, list[PaperRecord]]:
    """A page's ``totalResults`` and records, as ``parse_feed`` and ``to_record`` give them,
    read straight from the tree (``_entry_record``); refuses what ``parse_feed`` refuses."""
    _check_whole(content, url)
    root = _root(content)
    if root is None:
        feed = parse_feed(content, url)  # says why it is malformed
        return feed.header.total_results, [to_record(r) for r in feed.results]
    total: str | None = None
    seen_total = False
    records: list[PaperRecord] = []
    for child in root:
        tag = child.tag
        if tag == _ENTRY:
            record = _entry_record(child)
            if record is not None:
                records.append(record)
        elif tag == _TOTAL and not seen_total:
            total, seen_total = child.text, True
    return _number(total), records


def to_record(result: arxiv.Result) -> PaperRecord:
    """Convert arxiv.py's Result into our record; the id is stored bare, version beside it."""
    arxiv_id, version = split_arxiv_id(result.entry_id)
    published = _date(result.published)
    return PaperRecord(
        source=SOURCE,
        title=" ".join(result.title.split()),
        abstract=" ".join(result.summary.split()) or None,
        authors=[a.name for a in result.authors if a.name],
        arxiv_id=arxiv_id,
        arxiv_version=version,
        doi=(result.doi or "").strip() or None,
        published=published,
        updated=_date(result.updated),
        year=int(published[:4]) if published else None,
        primary_category=result.primary_category or None,
        categories=list(result.categories),
        comment=" ".join((result.comment or "").split()) or None,
        journal_ref=" ".join((result.journal_ref or "").split()) or None,
    )


class ArxivSource:
    """Pages through arXiv queries with our transport; yields whole pages for the store."""

    name = SOURCE
    # A search answer says nothing of citations or venues: it is no refresh.
    describes = False

    def __init__(self, service: Service, url: str, page_size: int = MAX_PAGE_SIZE) -> None:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}")
        self.service = service
        self.url = url
        self.page_size = page_size

    @staticmethod
    def _search(query: str) -> arxiv.Search:
        return arxiv.Search(
            query=query,
            sort_by=arxiv.SortCriterion.SubmittedDate,
            sort_order=arxiv.SortOrder.Descending,
        )

    @staticmethod
    def _params(search: arxiv.Search, start: int, size: int) -> dict[str, str]:
        return dict(search._url_args()) | {"start": str(start), "max_results": str(size)}

    def _get(self, search: arxiv.Search, start: int, size: int) -> tuple[int, list[PaperRecord]]:
        """One page: arXiv's ``totalResults`` and the page's records."""
        params = self._params(search, start, size)

        def parse(response: httpx.Response) -> tuple[int, list[PaperRecord]]:
            total, records = read_page(response.content, str(response.url))
            if not records and start < min(total, MAX_RESULTS):
                # arXiv sometimes serves an empty page in the middle of a result set.
                raise RetryableSourceError(
                    SOURCE, f"empty page at start={start} of {total} results", url=str(response.url)
                )
            return total, records

        return self.service.request("GET", self.url, parse, params=params)

    def search_pages(
        self,
        query: str,
        *,
        max_results: int,
        cursor: Cursor = START,
        first_page: int | None = None,
        stop_when: StopWhen | None = None,
    ) -> Iterator[Page]:
        """Yield the query's pages, newest submissions first, from ``cursor`` to the end.

        Ends at arXiv's ``totalResults`` (or ``max_results``), never at an empty page: those
        are retried; or at the first page ``stop_when`` says ends the read. The first
        request asks for ``first_page`` entries when given, the others for a full page. To
        resume after a failure, call again with the last page's ``cursor``.
        """
        search = self._search(query)
        limit = min(max_results, MAX_RESULTS)
        start = cursor.offset
        size = min(first_page or self.page_size, self.page_size)
        while start < limit:
            total, records = self._get(search, start, min(size, limit - start))
            end = start + len(records)
            page = Page(
                records,
                total,
                Cursor(end),
                dates=[r.published for r in records if r.published],
                last=not records or end >= min(total, limit),
            )
            page.last = page.last or (stop_when is not None and stop_when(page))
            yield page
            if page.last:
                return
            start, size = end, self.page_size

    def can_resume(self, cursor: Cursor) -> bool:
        """A read resumes from any offset."""
        return True

    def fits(self, query: str) -> bool:
        """Whether a search for ``query`` stays within ``MAX_URL`` characters."""
        params = self._params(self._search(query), 0, self.page_size)
        return len(str(httpx.URL(self.url, params=params))) <= MAX_URL

    def reads(self, category: Category) -> list[Read]:
        """The category's queries as few requests as fit (``queries.arxiv_reads``)."""
        return arxiv_reads(
            category.key, category.arxiv_queries, category.arxiv_categories, self.fits
        )

    def fetch_ids(self, ids: list[str]) -> list[PaperRecord]:
        """Look papers up by arXiv id, as many per request as a page holds.

        Unknown ids are simply absent from the answer; a malformed id fails the request
        (arXiv answers 400), which is raised as ``QueryError``.
        """
        records: list[PaperRecord] = []
        for i in range(0, len(ids), self.page_size):
            chunk = ids[i : i + self.page_size]
            search = arxiv.Search(id_list=chunk)
            records.extend(self._get(search, 0, len(chunk))[1])
        return records
