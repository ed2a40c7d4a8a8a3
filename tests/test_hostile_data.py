"""Paper data is whatever a service sent: it never becomes a link target or a terminal command.

Ids reach a link only when they have the shape of an arXiv id, a DOI or a Semantic Scholar id,
percent-encoded; titles and abstracts reach a terminal without control characters (escape
sequences that set the window title or clear the screen, bidirectional overrides).
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from harvester import review, store
from harvester.cli import cli
from harvester.links import _ARXIV_ID, paper_links
from harvester.report import write_reports
from harvester.review_file import render
from harvester.rules import Rules
from tests.conftest import SEEDS
from tests.sample_db import build_file

MD = MarkdownIt("commonmark").enable("table").enable("strikethrough")
PENDING = 6  # the sample database's pending paper
ACCEPTED = 4  # Cavs: Semantic Scholar only, linked by its S2 id
HOSTILE_IDS = {
    "arxiv_id": "2302.00003) [pwned](https://evil.example/a",
    "doi": "10.1000/x) [pwned](https://evil.example/d",
    "s2_id": "x)](https://evil.example/s",
}
# What a link may look like: https, the service's page, an id of the right shape.
SAFE_HREF = re.compile(
    r"^(https://arxiv\.org/abs/(\d{4}\.\d{4,5}|[a-z-]+(\.[A-Z]{2})?/\d{7})"
    r"|https://doi\.org/10\.\d{4,9}/[A-Za-z0-9%._;:/-]+"
    r"|https://www\.semanticscholar\.org/paper/[0-9a-f]{40}"
    r"|https://git(hub|lab)\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+"
    r"|#[\w%-]*|[\w./-]+\.(md|svg|xml|bib)(#[\w-]+)?)$"
)


def hrefs(markdown: str) -> list[str]:
    return re.findall(r'href="([^"]*)"', MD.render(markdown))


@pytest.fixture
def sample(tmp_path, seeds):
    return build_file(tmp_path / "sample.db", seeds)


def test_hostile_ids_never_become_link_targets(sample, seeds, tmp_path):
    sample.table("papers").update(PENDING, HOSTILE_IDS)
    sample.table("papers").update(
        ACCEPTED,
        {
            "s2_id": "y)](https://evil.example/t",
            # A code link is built from the owner and repository names alone.
            "abstract": 'Code: https://github.com/a/b)](https://evil.example/c) "x" onclick',
        },
    )
    queue = render(sample, seeds)
    write_reports(sample, Rules(seeds), tmp_path / "reports")
    texts = [queue] + [p.read_text(encoding="utf-8") for p in (tmp_path / "reports").rglob("*.md")]
    for text in texts:
        for href in hrefs(text):
            assert SAFE_HREF.match(href), href
        assert "evil.example" not in "".join(hrefs(text))
    item = next(line for line in queue.splitlines() if line.endswith("`#6`"))
    assert "](" not in item  # no id of a known shape: no link at all


@given(st.from_regex(_ARXIV_ID, fullmatch=True))
def test_an_arxiv_id_of_the_right_shape_needs_no_percent_encoding(arxiv_id):
    """The links use a valid arXiv id as it is: percent-encoding would not change it."""
    [abstract, pdf] = paper_links({"arxiv_id": arxiv_id})
    assert abstract.url == f"https://arxiv.org/abs/{quote(arxiv_id, safe='/')}"
    assert pdf.url == f"https://arxiv.org/pdf/{quote(arxiv_id, safe='/')}"


def test_an_arxiv_id_in_another_scripts_digits_gets_no_link():
    assert (
        paper_links({"arxiv_id": "\u0662\u0661\u0660\u0664.\u0661\u0660\u0664\u0666\u0661"}) == []
    )


def test_a_doi_of_the_right_shape_is_linked_percent_encoded():
    from harvester import links

    paper = {"arxiv_id": None, "doi": "10.1000/a(b)c#d", "s2_id": None}
    assert links.paper_url(paper) == "https://doi.org/10.1000/a%28b%29c%23d"
    assert [link.url for link in links.paper_links(paper)] == [
        "https://doi.org/10.1000/a%28b%29c%23d"
    ]


def test_every_id_of_a_paper_gives_its_pages():
    from harvester import links

    paper = {"arxiv_id": "1703.09844", "doi": "10.1145/3-4", "s2_id": "a" * 40}
    assert [(link.label, link.url) for link in links.paper_links(paper)] == [
        ("arXiv", "https://arxiv.org/abs/1703.09844"),
        ("PDF", "https://arxiv.org/pdf/1703.09844"),
        ("DOI", "https://doi.org/10.1145/3-4"),
        ("Semantic Scholar", "https://www.semanticscholar.org/paper/" + "a" * 40),
    ]
    old_style = {"arxiv_id": "hep-th/9901001", "doi": None, "s2_id": None}
    assert links.paper_url(old_style) == "https://arxiv.org/abs/hep-th/9901001"


# --- the terminal -----------------------------------------------------------------------------

TITLE = (
    "Early \x1b]0;owned window\x07Exit \x1b[2J\x1b[H\u202eReversed\u202c Networks\r"
    "\x9b31m \x00\x08\u2066isolated\u2069"
)
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@pytest.fixture
def env(sample, tmp_path, monkeypatch):
    sample.table("papers").update(
        PENDING,
        {"title": TITLE, "tldr": "Short\x1b[31m red \x1bc reset", "venue": "ICLR\x1b[5m"},
    )
    sample.close()
    monkeypatch.chdir(tmp_path)
    return {
        "HARVESTER_DB": str(tmp_path / "sample.db"),
        "HARVESTER_SEEDS": str(SEEDS),
        "USER": "tester",
    }


@pytest.mark.parametrize(
    "args, keys",
    [
        (["review", "show", "2302.00003"], None),
        (["review", "list"], None),
        (["review"], None),
        (["review", "--interactive"], "q"),
        (["review", "accept", "2302.00003", "--category", "early_exit"], None),
    ],
    ids=["show", "list", "queue", "interactive", "accept"],
)
def test_paper_data_reaches_the_terminal_without_control_characters(env, args, keys):
    result = CliRunner().invoke(cli, args, env=env, input=keys)
    assert result.exit_code == 0, result.output
    assert "Reversed" in result.output
    assert not CONTROL.findall(result.output.replace("\n", "").replace("\t", "")), repr(
        result.output
    )


def test_printable_drops_escape_sequences_and_controls_and_keeps_the_text():
    from harvester.terminal import printable

    assert printable(TITLE) == "Early Exit Reversed Networks isolated"
    assert printable("早退/Bert模型 — ok  two\nlines\ttab") == "早退/Bert模型 — ok two lines tab"
    # Joiners that scripts and emoji need are not controls.
    joined = "\u0915\u094d\u200d\u0937 \U0001f469\u200d\U0001f4bb"
    assert printable(joined) == joined
    assert all(
        unicodedata.category(ch) != "Cc" for ch in printable("".join(map(chr, range(0x100))))
    )


def test_the_json_list_keeps_the_data_as_it_is(env):
    """Scripts get the stored text; JSON escapes the C0 controls itself."""
    result = CliRunner().invoke(cli, ["review", "list", "--json"], env=env)
    assert result.exit_code == 0
    db = store.open_db(env["HARVESTER_DB"])
    assert review.find(db, "2302.00003")["title"] == TITLE
    assert "\x1b" not in result.output
