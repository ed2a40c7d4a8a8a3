"""The arXiv feed parser on real recorded responses, in both Atom layouts arXiv has served."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from harvester.errors import RetryableSourceError
from harvester.sources.arxiv import _read_feed, describe_error, parse_feed, read_page, to_record

FIXTURES = Path(__file__).parent / "fixtures" / "arxiv"


def records(name: str):
    feed = parse_feed((FIXTURES / name).read_bytes())
    return feed, [to_record(r) for r in feed.results]


def test_new_layout_entry_becomes_a_whole_record():
    feed, [paper] = records("axpy_004_id_1605.08386_s0_m100_199195aa31ad.xml")
    assert feed.header.total_results == 1
    assert paper.arxiv_id == "1605.08386"
    assert paper.arxiv_version == 1
    assert paper.title == "Heat-bath random walks with Markov bases"
    assert paper.authors == ["Caprice Stanley", "Tobias Windisch"]
    assert paper.published == "2016-05-26"
    assert paper.year == 2016
    assert paper.primary_category == "math.CO"
    assert paper.categories == ["math.CO", "math.ST"]
    assert paper.comment == "20 pages, 3 figures"
    assert paper.abstract.startswith("Graphs on lattice points are studied")


def test_old_layout_with_namespaces_on_each_element_parses_too():
    _, [paper] = records("pubs_023_id_1312.2021_200.xml")
    assert paper.arxiv_id == "1312.2021"
    assert paper.title == "Living with the Wrong Sign"
    # Whitespace and line breaks inside the abstract are folded.
    assert "\n" not in paper.abstract and "  " not in paper.abstract


def test_old_style_ids_keep_their_archive_prefix():
    _, [paper] = records("axpy_008_id_astro-ph_0601001_s0_m100_3150dca9dc76.xml")
    assert paper.arxiv_id == "astro-ph/0601001"
    assert paper.arxiv_version is not None


def test_lookup_of_two_ids_with_one_missing_returns_the_one():
    feed, papers = records("axpy_002_id_0808.05394_1707.08567_s0_m100_42e5aa0ec3af.xml")
    assert [p.arxiv_id for p in papers] == ["1707.08567"]
    assert feed.header.total_results == 1


def test_unknown_id_is_an_empty_feed_not_an_error():
    feed, papers = records("axpy_001_id_0000.0000_s0_m100_8b51d9633a68.xml")
    assert papers == [] and feed.header.total_results == 0


def test_search_page_reports_offset_and_total():
    feed, papers = records("axpy_013_q_testing_s10_m10_34e56e15aaac.xml")
    assert feed.header.start_index == 10
    assert len(papers) == 10
    assert feed.header.total_results > 10
    assert all(p.arxiv_id and p.arxiv_version for p in papers)


def test_old_layout_search_page_parses():
    feed, papers = records("orij_029_q_deep_dream_start0_m10_200.xml")
    assert len(papers) == 10 and feed.header.total_results >= 10


@pytest.mark.parametrize(
    "name, message",
    [
        ("axpy_007_id_abc_s0_m100_b79c8dcf6bc3.xml", "incorrect id format for abc"),
        ("pubs_025_id_INVALIDID_400.xml", "incorrect id format for INVALIDID"),
    ],
)
def test_error_entry_of_a_400_is_the_message(name, message):
    response = httpx.Response(400, content=(FIXTURES / name).read_bytes())
    assert describe_error(response) == message


@pytest.mark.parametrize("cut", [0.3, 0.6, 0.95])
def test_truncated_feed_is_refused_not_read_as_a_short_page(cut):
    body = (FIXTURES / "axpy_013_q_testing_s10_m10_34e56e15aaac.xml").read_bytes()
    with pytest.raises(RetryableSourceError, match="truncated"):
        parse_feed(body[: int(len(body) * cut)])


def test_html_error_page_with_status_200_is_refused():
    with pytest.raises(RetryableSourceError, match="not an Atom feed"):
        parse_feed(b"<html><body>Service temporarily unavailable</body></html>")


@pytest.mark.parametrize(
    "name",
    [
        *sorted(p.name for p in FIXTURES.glob("*.xml")),
        "awkward entries",
        "loopback new",
        "loopback old",
        "other time zones",
    ],
)
def test_pages_read_straight_into_records_as_from_arxiv_py_results(name):
    """``read_page`` (the tree straight to records) gives the records and total that
    ``to_record`` makes of the ``Result``s of ``parse_feed``."""
    from tests.loopback import load_corpus, render_feed

    if name == "awkward entries":
        body = AWKWARD_ENTRIES
    elif name == "other time zones":
        body = AWKWARD_ENTRIES.replace(b"-02:00", b"+09:30").replace(b"23:30", b"01:30")
    elif name.startswith("loopback"):
        entries = load_corpus()[:300]
        body = render_feed(entries, len(entries), 0, len(entries), layout=name.split()[1])
    else:
        body = (FIXTURES / name).read_bytes()
    feed = parse_feed(body)
    assert read_page(body) == (feed.header.total_results, [to_record(r) for r in feed.results])


@pytest.mark.parametrize("body", [b"<feed><a></feed>", b"x" * 100, b"<feed>totalResults"])
def test_pages_read_straight_refuse_what_parse_feed_refuses(body):
    with pytest.raises(RetryableSourceError) as expected:
        parse_feed(body)
    with pytest.raises(RetryableSourceError) as got:
        read_page(body)
    assert str(got.value) == str(expected.value)


def _as_arxiv_py_reads(feed) -> tuple:
    def result(r) -> dict:
        fields = dict(vars(r))
        fields["authors"] = [(a.name, a.affiliation) for a in r.authors]
        fields["links"] = [vars(link) for link in r.links]
        return fields

    return feed.malformed, vars(feed.header), [result(r) for r in feed.results]


AWKWARD_ENTRIES = b"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom"
      xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">
  <opensearch:totalResults> 4 </opensearch:totalResults>
  <opensearch:totalResults>9</opensearch:totalResults>
  <opensearch:startIndex>x</opensearch:startIndex>
  <entry>
    <id>http://arxiv.org/abs/2101.00001v1</id><id>http://arxiv.org/abs/other</id>
    <updated>2021-01-01T00:00:00Z</updated><published>2021-01-01T23:30:00-02:00</published>
    <title>Two
      lines<!-- a comment --> and a tail</title>
    <author><name>  Ada  </name><arxiv:affiliation>Lab</arxiv:affiliation><name>B</name></author>
    <author><arxiv:affiliation/></author>
    <link title="pdf" href="https://arxiv.org/pdf/2101.00001v1"/><link rel="x"/>
    <category term="cs.LG"/><category/>
    <arxiv:primary_category/><arxiv:primary_category term="cs.CV"/>
    <arxiv:doi> 10.1/x </arxiv:doi><arxiv:comment></arxiv:comment>
  </entry>
  <entry><updated>2021-01-01T00:00:00Z</updated><title>no id</title></entry>
  <entry><id>http://arxiv.org/abs/2101.00002v1</id><title>no dates</title></entry>
</feed>
"""


@pytest.mark.parametrize(
    "name",
    [
        *sorted(p.name for p in FIXTURES.glob("*.xml")),
        "awkward entries",
        "loopback new",
        "loopback old",
    ],
)
def test_feeds_read_into_the_results_arxiv_py_makes_of_them(name):
    """One pass per entry (``_read_feed``) gives what the package's own parser gives."""
    from arxiv import _feed

    from tests.loopback import load_corpus, render_feed

    if name == "awkward entries":
        body = AWKWARD_ENTRIES
    elif name.startswith("loopback"):
        entries = load_corpus()[:300]
        body = render_feed(entries, len(entries), 0, len(entries), layout=name.split()[1])
    else:
        body = (FIXTURES / name).read_bytes()
    assert _as_arxiv_py_reads(_read_feed(body)) == _as_arxiv_py_reads(_feed.parse(body))
