"""Paper ids as people paste them: addresses of arXiv, doi.org and Semantic Scholar pages."""

from __future__ import annotations

import pytest

from harvester import review
from harvester.paper_ids import PaperId, PaperIdError, parse_paper_id
from tests.conftest import synthetic_entries
from tests.test_review import db_of, env, run  # noqa: F401 (env is a fixture)

S2 = "83d066f73ec6377c2f7ebceb931591ac7c38583a"


@pytest.mark.parametrize(
    "text, kind, value",
    [
        # papers.id
        ("12", "id", "12"),
        ("#12", "id", "12"),
        (" 12 \n", "id", "12"),
        ("99999999999999999999999", "id", "99999999999999999999999"),
        # arXiv ids, new style and old
        ("2104.10461", "arxiv", "2104.10461"),
        ("2104.10461v2", "arxiv", "2104.10461"),
        ("1608.06993v5.pdf", "arxiv", "1608.06993"),
        ("arXiv:2104.10461", "arxiv", "2104.10461"),
        ("arxiv: 2104.10461v3", "arxiv", "2104.10461"),
        ("0704.0001", "arxiv", "0704.0001"),
        ("cs/0601001", "arxiv", "cs/0601001"),
        ("hep-th/9901001v2", "arxiv", "hep-th/9901001"),
        ("math.GT/0309136", "arxiv", "math.GT/0309136"),
        ("Math.gt/0309136", "arxiv", "math.GT/0309136"),
        # arXiv addresses
        ("https://arxiv.org/abs/2104.10461", "arxiv", "2104.10461"),
        ("http://arxiv.org/abs/2104.10461v1", "arxiv", "2104.10461"),
        ("https://arxiv.org/pdf/2104.10461v2", "arxiv", "2104.10461"),
        ("https://arxiv.org/pdf/2104.10461.pdf", "arxiv", "2104.10461"),
        ("https://arxiv.org/pdf/2104.10461v2.pdf", "arxiv", "2104.10461"),
        ("arxiv.org/abs/2104.10461", "arxiv", "2104.10461"),
        ("www.arxiv.org/abs/2104.10461", "arxiv", "2104.10461"),
        ("https://export.arxiv.org/abs/2104.10461", "arxiv", "2104.10461"),
        ("https://arxiv.org/abs/2104.10461?context=cs.LG#section", "arxiv", "2104.10461"),
        ("https://arxiv.org/html/2104.10461v2/", "arxiv", "2104.10461"),
        ("https://arxiv.org/abs/cs/0601001v1", "arxiv", "cs/0601001"),
        ("https://arxiv.org/pdf/math.GT/0309136.pdf", "arxiv", "math.GT/0309136"),
        ("<https://arxiv.org/abs/2104.10461>", "arxiv", "2104.10461"),
        # DOIs and their addresses
        ("10.1109/CVPR.2017.243", "doi", "10.1109/cvpr.2017.243"),
        ("doi:10.1109/CVPR.2017.243", "doi", "10.1109/cvpr.2017.243"),
        ("DOI: 10.1109/CVPR.2017.243", "doi", "10.1109/cvpr.2017.243"),
        ("https://doi.org/10.1109/CVPR.2017.243", "doi", "10.1109/cvpr.2017.243"),
        ("http://dx.doi.org/10.1109/CVPR.2017.243", "doi", "10.1109/cvpr.2017.243"),
        ("doi.org/10.1145/3341301.3359630", "doi", "10.1145/3341301.3359630"),
        ("https://doi.org/10.1145%2F3341301.3359630", "doi", "10.1145/3341301.3359630"),
        ("10.48550/arXiv.2104.10461", "arxiv", "2104.10461"),
        ("https://doi.org/10.48550/arXiv.2104.10461", "arxiv", "2104.10461"),
        # Semantic Scholar ids and pages
        (S2, "s2", S2),
        (S2.upper(), "s2", S2),
        (f"https://www.semanticscholar.org/paper/Densely-Connected-Networks/{S2}", "s2", S2),
        (f"https://www.semanticscholar.org/paper/{S2}", "s2", S2),
        (f"semanticscholar.org/paper/Title-Words/{S2}?utm_source=x", "s2", S2),
        (f"https://api.semanticscholar.org/graph/v1/paper/{S2}", "s2", S2),
        # Everything else is a title
        ("Dynamic Networks: a Survey", "title", "Dynamic Networks: a Survey"),
        ("Early exit, 2104.10461 revisited", "title", "Early exit, 2104.10461 revisited"),
        ("arxiv.org", "title", "arxiv.org"),
        # Digits of another script look like an id but name no arXiv paper.
        (
            "\u0662\u0661\u0660\u0664.\u0661\u0660\u0664\u0666\u0661",
            "title",
            "\u0662\u0661\u0660\u0664.\u0661\u0660\u0664\u0666\u0661",
        ),
    ],
)
def test_every_pasted_form_names_the_paper(text, kind, value):
    assert parse_paper_id(text) == PaperId(kind, value)


@pytest.mark.parametrize(
    "text",
    [
        "https://example.org/paper/2104.10461",
        "https://arxiv.org/list/cs.LG/recent",
        "https://arxiv.org/abs/not-an-id",
        "https://doi.org/",
        "https://doi.org/11.1234/x",
        "https://www.semanticscholar.org/author/Gao-Huang/3201598",
        "https://www.semanticscholar.org/paper/Title/abc123",
    ],
)
def test_an_address_that_names_no_paper_is_refused(text):
    with pytest.raises(PaperIdError, match=r"not the address of a paper"):
        parse_paper_id(text)


@pytest.mark.parametrize(
    "pasted",
    [
        "https://arxiv.org/abs/1608.06993",
        "https://arxiv.org/pdf/1608.06993v5",
        "arxiv.org/pdf/1608.06993.pdf",
        "https://doi.org/10.1109/CVPR.2017.243",
        "doi:10.1109/CVPR.2017.243",
        f"https://www.semanticscholar.org/paper/Densely-Connected-Convolutional-Networks/{S2}",
    ],
)
def test_review_add_takes_a_pasted_address(env, pasted):  # noqa: F811
    result = run(env, "review", "add", pasted)
    assert result.exit_code == 0, result.output
    densenet = review.find(db_of(env), "1608.06993")
    assert (densenet["status"], densenet["s2_id"]) == ("accepted", S2)
    assert densenet["title"] == "Densely Connected Convolutional Networks"
    # The same address finds it for every other command.
    shown = run(env, "review", "show", pasted)
    assert shown.exit_code == 0 and "Densely Connected Convolutional Networks" in shown.output
    rejected = run(env, "review", "reject", pasted, "--reason", "not dynamic")
    assert rejected.exit_code == 0, rejected.output
    assert review.find(db_of(env), pasted)["status"] == "rejected"


def test_review_add_takes_an_old_style_arxiv_address(env, fake_arxiv):  # noqa: F811
    entry = synthetic_entries(1)[0]
    entry.arxiv_id = "cs/0601001"
    fake_arxiv.corpus = [*fake_arxiv.corpus, entry]
    result = run(
        env, "review", "add", "https://arxiv.org/abs/cs/0601001v1", "--category", "early_exit"
    )
    assert result.exit_code == 0, result.output
    row = review.find(db_of(env), "cs/0601001")
    assert (row["status"], row["category"], row["title"]) == (
        "accepted",
        "early_exit",
        entry.title,
    )


def test_review_add_refuses_an_address_that_names_no_paper(env, fake_arxiv, fake_s2):  # noqa: F811
    result = run(env, "review", "add", "https://example.org/papers/2104.10461")
    assert result.exit_code == 2
    assert result.output == (
        "error: 'https://example.org/papers/2104.10461': not the address of a paper (give an"
        " arXiv, doi.org or Semantic Scholar paper address, an id, or the exact title)\n"
    )
    assert fake_arxiv.requests == [] and fake_s2.requests == []
