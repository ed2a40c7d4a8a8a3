"""The fakes' answers written ahead (``prepare``, what the bench's server does) are the very
bytes they write on demand: the bench measures the harvester against the same answers."""

from __future__ import annotations

import json

from harvester.sources import semantic_scholar as s2_source
from tests.loopback import FakeArxiv, FakeS2, load_corpus, load_edges, load_s2_corpus


def _s2_requests(papers: list[dict]) -> list[tuple[str, str, dict[str, str], bytes]]:
    ids = [p["paperId"] for p in papers[:40]] + ["ARXIV:1703.09844", "DOI:10.1/none", "nope"]
    search, batch = s2_source.SEARCH_FIELDS, s2_source.BATCH_FIELDS
    return [
        ("POST", "/graph/v1/paper/batch", {"fields": batch}, json.dumps({"ids": ids}).encode()),
        ("POST", "/graph/v1/paper/batch", {"fields": "paperId,title"}, b'{"ids": ["x"]}'),
        (
            "POST",
            "/graph/v1/paper/batch",
            {"fields": s2_source.GRAPH_FIELDS},
            json.dumps({"ids": ids[:5]}).encode(),
        ),
        ("GET", "/graph/v1/paper/search/bulk", {"query": "network", "fields": search}, b""),
        (
            "GET",
            "/graph/v1/paper/search/bulk",
            {"query": "dynamic | adaptive", "fields": search, "token": "2"},
            b"",
        ),
        (
            "GET",
            "/graph/v1/paper/search/match",
            {"query": papers[3]["title"], "fields": batch},
            b"",
        ),
        (
            "POST",
            "/recommendations/v1/papers/",
            {"fields": search, "limit": "20"},
            json.dumps({"positivePaperIds": ids[:3], "negativePaperIds": ids[3:4]}).encode(),
        ),
    ]


def test_prepared_s2_answers_are_the_bytes_written_on_demand() -> None:
    papers, edges = load_s2_corpus(), load_edges()
    plain = FakeS2(papers, bulk_page=5, edges=edges)
    prepared = FakeS2(papers, bulk_page=5, edges=edges)
    prepared.prepare((s2_source.SEARCH_FIELDS, s2_source.BATCH_FIELDS))
    for method, path, params, body in _s2_requests(papers):
        status, answer = plain.answer(method, path, params, body)
        again, made = prepared.answer(method, path, params, body)
        assert (again, prepared.encode(made)) == (status, json.dumps(answer).encode()), path


def test_prepared_arxiv_answers_are_the_bytes_written_on_demand() -> None:
    entries = load_corpus()
    for layout in ("new", "old"):
        plain = FakeArxiv(entries, layout=layout)
        prepared = FakeArxiv(entries, layout=layout)
        prepared.prepare()
        for params in (
            {"search_query": "all:network", "start": "0", "max_results": "7"},
            {"search_query": "all:network", "start": "7", "max_results": "100"},
            {"id_list": ",".join(e.arxiv_id for e in entries[:4]), "max_results": "10"},
        ):
            assert prepared.answer(params) == plain.answer(params)


def test_a_reference_batch_lists_each_papers_references_by_id_at_most_1000() -> None:
    """As the Graph API: ``references.paperId`` gives each paper's references in order, those
    beyond the corpus by id too (S2 knows more papers than the corpus holds), 1,000 at
    most per paper; more than 9,999 in one answer is refused."""
    corpus = [{"paperId": p, "title": p} for p in ("a", "b")]
    edges = [("a", "b")] + [("a", f"x{i}") for i in range(1200)] + [("b", "a")]
    s2 = FakeS2(corpus, edges=edges)
    body = json.dumps({"ids": ["a", "b", "missing"]}).encode()
    fields = {"fields": s2_source.REFERENCE_FIELDS}
    status, answer = s2.answer("POST", "/graph/v1/paper/batch", fields, body)
    assert status == 200
    assert answer[0] == {
        "paperId": "a",
        "references": [{"paperId": "b"}] + [{"paperId": f"x{i}"} for i in range(999)],
    }
    assert answer[1:] == [{"paperId": "b", "references": [{"paperId": "a"}]}, None]
    many = [{"paperId": f"p{i}", "title": ""} for i in range(10)]
    s2 = FakeS2(many, edges=[(p["paperId"], f"x{j}") for p in many for j in range(1000)])
    body = json.dumps({"ids": [p["paperId"] for p in many]}).encode()
    assert s2.answer("POST", "/graph/v1/paper/batch", fields, body) == (
        400,
        {"error": "Response would contain more than 9999 citations"},
    )
