"""Exports for citation managers, checked with real parsers: bibtexparser (BibTeX), the
CSL-JSON schema's rules (jsonschema), rispy (RIS)."""

from __future__ import annotations

import json

import bibtexparser
import jsonschema
import pytest
import rispy
from bibtexparser.middlewares import LatexDecodingMiddleware
from click.testing import CliRunner

from harvester import export
from harvester.cli import cli
from harvester.export import Name, assign_keys, key_base, split_name, to_citation
from harvester.sources.semantic_scholar import venue_claim
from harvester.venues import Venue, Venues
from tests.conftest import SEEDS
from tests.sample_db import NASTY_TITLE, build_file


@pytest.fixture
def sample(tmp_path, seeds):
    return build_file(tmp_path / "sample.db", seeds)


def accepted(db) -> dict[str, dict]:
    return {r["title"]: r for r in db.query("SELECT * FROM papers WHERE status = 'accepted'")}


@pytest.mark.parametrize(
    "name, expected",
    [
        ("Gao Huang", Name("Huang", "Gao")),
        ("Laurens van der Maaten", Name("van der Maaten", "Laurens")),
        ("Huang, Gao", Name("Huang", "Gao")),
        ("Martin Luther King Jr.", Name("King Jr.", "Martin Luther")),
        ("Jörg  Müller", Name("Müller", "Jörg")),
        ("Aristotle", Name("Aristotle")),
    ],
)
def test_names_split_into_family_and_given(name, expected):
    assert split_name(name) == expected


@pytest.mark.parametrize(
    "authors, year, title, expected",
    [
        (
            ["Gao Huang", "Danlu Chen"],
            2018,
            "Multi-Scale Dense Networks for Resource",
            "huang2018multi",
        ),
        (["Jörg Müller"], 2020, "The Über-Network", "muller2020uber"),
        (
            ["Laurens van der Maaten"],
            2008,
            "Visualizing Data using t-SNE",
            "vandermaaten2008visualizing",
        ),
        (["Wei Łukasz"], 2021, "On the Edge: a study", "lukasz2021edge"),
        (["张三"], 2020, "动态网络", "anon2020paper"),
        ([], None, "A", "anonndpaper"),
    ],
)
def test_citation_key_is_surname_year_and_first_significant_word(authors, year, title, expected):
    assert key_base(authors, year, title) == expected


def test_keys_are_unique_and_a_later_paper_never_changes_an_earlier_key():
    first = assign_keys([(1, "huang2018multi"), (5, "huang2018multi"), (3, "li2020fast")])
    assert first == {1: "huang2018multi", 3: "li2020fast", 5: "huang2018multib"}
    later = assign_keys(
        [(1, "huang2018multi"), (5, "huang2018multi"), (3, "li2020fast"), (7, "huang2018multi")]
    )
    assert later == first | {7: "huang2018multic"}
    # A suffixed key never takes another paper's own key.
    assert assign_keys([(1, "x"), (2, "x"), (3, "xb")]) == {1: "x", 2: "xc", 3: "xb"}


def parse(text: str):
    library = bibtexparser.parse_string(text, append_middleware=[LatexDecodingMiddleware()])
    assert library.failed_blocks == []
    return {e.key: e for e in library.entries}


def test_bibtex_of_the_list_reads_back_with_the_venue_year_and_kind(sample, seeds):
    entries = parse(export.render(sample, seeds, "bibtex"))
    rows = accepted(sample)
    assert len(entries) == len(rows) == 6
    msdnet = entries["author2018multi"]
    assert msdnet.entry_type == "inproceedings"
    assert msdnet["booktitle"] == "International Conference on Learning Representations (ICLR)"
    assert msdnet["year"] == "2018"  # the venue's year; the preprint is of 2017
    assert (msdnet["eprint"], msdnet["archivePrefix"], msdnet["primaryClass"]) == (
        "1703.09844",
        "arXiv",
        "cs.LG",
    )
    assert msdnet["url"] == "https://arxiv.org/abs/1703.09844"
    assert msdnet["author"] == "Author, A. and Author, B."
    cavs = entries["author2018cavs"]
    assert cavs.entry_type == "inproceedings" and "eprint" not in cavs.fields_dict
    assert cavs["booktitle"] == "USENIX Annual Technical Conference (USENIX ATC)"
    nasty = entries["author2023pipes"]
    assert nasty.entry_type == "misc" and nasty["archivePrefix"] == "arXiv"
    # Every title reads back as stored: LaTeX's special characters escaped, acronyms braced.
    for entry in entries.values():
        title = entry["title"].replace("{", "").replace("}", "").replace("ˆ", "^")
        assert title in rows, title
        year = rows[title]["venue_year"]
        assert entry["year"] == str(year)
    assert NASTY_TITLE in rows


def test_bibtex_entry_kinds_and_escaping():
    venues = Venues(
        [
            Venue(
                "TPAMI",
                ("IEEE Transactions on Pattern Analysis and Machine Intelligence",),
                dblp=("journals/pami",),
            ),
            Venue(
                "ICLR",
                ("International Conference on Learning Representations",),
                dblp=("conf/iclr",),
            ),
        ],
        {"10.1109": "IEEE"},
    )
    base = {
        "authors": '["Yizeng Han", "Gao Huang"]',
        "abstract": None,
        "primary_category": None,
        "s2_id": None,
    }
    rows = {
        "journal": base
        | {
            "title": "Dynamic Neural Networks: A Survey",
            "venue": "TPAMI",
            "venue_year": 2022,
            "year": 2021,
            "doi": "10.1109/tpami.2021.3117837",
            "arxiv_id": "2102.04906",
        },
        "thesis": base
        | {
            "title": "Adaptive Inference & Early Exits",
            "venue": "Thesis",
            "venue_year": 2021,
            "year": 2021,
            "doi": None,
            "arxiv_id": None,
            "s2_id": "a" * 40,
        },
        "publisher": base
        | {
            "title": "A 100% Dynamic $Net$",
            "venue": "IEEE",
            "venue_year": 2019,
            "year": 2019,
            "doi": "10.1109/x_y",
            "arxiv_id": None,
        },
        "unknown": base
        | {
            "title": "Nothing Known",
            "venue": "Unknown",
            "venue_year": 2020,
            "year": 2020,
            "doi": None,
            "arxiv_id": None,
            "s2_id": "b" * 40,
        },
        "rule": base
        | {
            "title": "Wireless Exits",
            "venue": "TWC",
            "venue_year": 2020,
            "year": 2020,
            "doi": None,
            "arxiv_id": None,
            "s2_id": "c" * 40,
        },
    }
    s2 = {
        "rule": {
            "publicationVenue": {
                "name": "IEEE Transactions on Wireless Communications",
                "type": "journal",
            }
        }
    }
    claims = {key: venue_claim(answer) for key, answer in s2.items()}
    text = export.bibtex(
        [to_citation(row, key, venues, claims.get(key)) for key, row in rows.items()]
    )
    entries = parse(text)
    assert {k: e.entry_type for k, e in entries.items()} == {
        "journal": "article",
        "thesis": "misc",
        "publisher": "misc",
        "unknown": "misc",
        "rule": "article",
    }
    assert (
        entries["journal"]["journal"]
        == "IEEE Transactions on Pattern Analysis and Machine Intelligence"
    )
    assert entries["journal"]["doi"] == "10.1109/tpami.2021.3117837"
    assert entries["journal"]["year"] == "2022"
    assert entries["journal"]["author"] == "Han, Yizeng and Huang, Gao"
    assert entries["thesis"]["howpublished"] == "Thesis"
    assert entries["publisher"]["publisher"] == "IEEE"
    assert entries["publisher"]["title"] == "A 100% Dynamic $Net$"
    assert entries["rule"]["journal"] == "IEEE Transactions on Wireless Communications"
    assert r"{ICLR}" not in text and r"A 100\% Dynamic \$Net\$" in text


# CSL-JSON: the rules of the CSL data schema (csl-data.json) that our items use: an array of
# objects, each with a string id and a type from the schema's list, names as family/given (or
# literal) strings, dates as date-parts of one to three numbers, the text fields as strings,
# and nothing the schema does not define.
CSL_TYPES = [
    "article", "article-journal", "article-magazine", "article-newspaper", "bill", "book",
    "broadcast", "chapter", "classic", "collection", "dataset", "document", "entry",
    "entry-dictionary", "entry-encyclopedia", "event", "figure", "graphic", "hearing",
    "interview", "legal_case", "legislation", "manuscript", "map", "motion_picture",
    "musical_score", "pamphlet", "paper-conference", "patent", "performance", "periodical",
    "personal_communication", "post", "post-weblog", "regulation", "report", "review",
    "review-book", "software", "song", "speech", "standard", "thesis", "treaty", "webpage",
]  # fmt: skip
NAME = {
    "type": "object",
    "properties": {k: {"type": "string"} for k in ("family", "given", "literal")},
    "additionalProperties": False,
}
CSL_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["type", "id"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": ["string", "number"]},
            "type": {"type": "string", "enum": CSL_TYPES},
            "author": {"type": "array", "items": NAME},
            "issued": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "date-parts": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": 2,
                        "items": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": 3,
                            "items": {"type": ["string", "number"]},
                        },
                    }
                },
            },
            "number": {"type": ["string", "number"]},
            **{
                k: {"type": "string"}
                for k in (
                    "title",
                    "container-title",
                    "container-title-short",
                    "publisher",
                    "DOI",
                    "URL",
                    "abstract",
                    "keyword",
                )
            },
        },
    },
}


def test_csl_json_follows_the_schema_and_zotero_types(sample, seeds):
    items = json.loads(export.render(sample, seeds, "csl-json"))
    jsonschema.validate(items, CSL_SCHEMA)
    by_id = {item["id"]: item for item in items}
    msdnet = by_id["author2018multi"]
    assert msdnet["type"] == "paper-conference"
    assert msdnet["issued"] == {"date-parts": [[2018]]}
    assert msdnet["container-title"] == "International Conference on Learning Representations"
    assert msdnet["container-title-short"] == "ICLR"
    assert msdnet["author"] == [
        {"family": "Author", "given": "A."},
        {"family": "Author", "given": "B."},
    ]
    assert msdnet["URL"] == "https://arxiv.org/abs/1703.09844"
    preprint = by_id["author2023pipes"]
    assert (preprint["type"], preprint["publisher"], preprint["number"]) == (
        "article",
        "arXiv",
        "2301.00001",
    )
    assert preprint["title"] == NASTY_TITLE


def test_ris_reads_back_one_record_per_paper(sample, seeds):
    text = export.render(sample, seeds, "ris", status="all")
    records = rispy.loads(text)
    assert len(records) == sample.execute("SELECT count(*) FROM papers").fetchone()[0]
    by_id = {r["id"]: r for r in records}
    msdnet = by_id["author2018multi"]
    assert msdnet["type_of_reference"] == "CONF"
    assert msdnet["year"] == "2018"
    assert msdnet["secondary_title"] == "International Conference on Learning Representations"
    assert msdnet["authors"] == ["Author, A.", "Author, B."]
    assert by_id["author2023pipes"]["type_of_reference"] == "UNPB"
    assert text.count("\nER  - \n") + text.startswith("ER") == len(records)


def test_export_command_writes_stdout_or_a_file_and_filters(tmp_path, monkeypatch, seeds):
    monkeypatch.chdir(tmp_path)
    build_file(tmp_path / "sample.db", seeds).close()
    (tmp_path / "seeds").symlink_to(SEEDS)
    env = {"HARVESTER_DB": str(tmp_path / "sample.db")}
    runner = CliRunner()
    result = runner.invoke(cli, ["export"], env=env)
    assert result.exit_code == 0, result.output
    assert len(parse(result.output)) == 6
    out = tmp_path / "out" / "list.json"
    result = runner.invoke(
        cli,
        ["export", "--format", "csl-json", "--category", "compiler", "--out", str(out)],
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert [item["title"] for item in json.loads(out.read_text(encoding="utf-8"))] == [NASTY_TITLE]
    result = runner.invoke(cli, ["export", "--format", "ris", "--status", "pending"], env=env)
    assert [r["title"] for r in rispy.loads(result.output)] == ["Anytime Early Exits for Speech"]
    result = runner.invoke(cli, ["export", "--category", "nope"], env=env)
    assert result.exit_code == 2
    assert result.output.startswith("error: unknown category 'nope'")
