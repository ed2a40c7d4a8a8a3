"""Venue short names and years, and best-paper awards, from what the services say."""

from __future__ import annotations

import pytest

from harvester.errors import SeedError
from harvester.venues import (
    MAX_SHORT,
    UNKNOWN,
    Venue,
    VenueEvidence,
    Venues,
    initials,
    is_acronym,
    load_venues,
    shorten_unknown,
)


@pytest.fixture(scope="module")
def venues(seeds):
    return seeds.venues


@pytest.mark.parametrize(
    "evidence, expected",
    [
        # MSDNet: S2 gives the preprint's year; the DBLP key carries the venue's.
        (
            VenueEvidence(
                ("International Conference on Learning Representations",),
                "conf/iclr/HuangCLWMW18",
                2017,
            ),
            ("ICLR", 2018),
        ),
        (
            VenueEvidence(
                ("Annual Meeting of the Association for Computational Linguistics", "ACL"),
                None,
                2020,
            ),
            ("ACL", 2020),
        ),
        (
            VenueEvidence(("European Conference on Computer Vision",), "conf/eccv/VeitB18", 2017),
            ("ECCV", 2018),
        ),
        (
            VenueEvidence(
                ("USENIX Annual Technical Conference",), "conf/usenix/XuZNDKDHYX18", 2018
            ),
            ("USENIX ATC", 2018),
        ),
        (VenueEvidence(("Neural Information Processing Systems",), None, 2020), ("NeurIPS", 2020)),
        (VenueEvidence(("Micro",), None, 2019), ("MICRO", 2019)),
        # An arXiv comment names the venue when S2 only knows the preprint.
        (
            VenueEvidence(
                ("arXiv.org",), "journals/corr/abs-1703-09844", 2017, ("Accepted at ICLR 2018",)
            ),
            ("ICLR", 2018),
        ),
        (VenueEvidence((), None, None, ("NeurIPS'20 camera ready",)), ("NeurIPS", 2020)),
        (
            VenueEvidence((), None, None, ("Published in Proceedings of EMNLP 2021, long paper",)),
            ("EMNLP", 2021),
        ),
        (
            VenueEvidence(("arXiv.org", "ArXiv"), "journals/corr/abs-2301-00001", 2023),
            ("arXiv", None),
        ),
        (VenueEvidence((), None, None, ("20 pages, 3 figures",)), None),
    ],
)
def test_venue_and_its_year(venues, evidence, expected):
    assert venues.resolve(evidence) == expected


def test_venue_names_match_without_case_or_punctuation(venues):
    assert (
        venues.by_name("IEEE/CVF Conference on Computer Vision and Pattern Recognition") == "CVPR"
    )
    assert venues.by_name("computer vision and pattern recognition") == "CVPR"
    assert venues.by_name("A Workshop Nobody Lists") is None


def test_curator_can_add_a_venue(tmp_path):
    (tmp_path / "venues.toml").write_text(
        '[SEC]\nnames = ["ACM/IEEE Symposium on Edge Computing"]\ndblp = ["conf/edge"]\n'
    )
    venues = load_venues(tmp_path)
    assert venues.resolve(VenueEvidence(("ACM/IEEE Symposium on Edge Computing",), None, 2020)) == (
        "SEC",
        2020,
    )


def test_bad_venue_table_names_file_and_line(tmp_path):
    (tmp_path / "venues.toml").write_text('[ICLR]\nnames = "International Conference"\n')
    with pytest.raises(SeedError, match=r"venues\.toml:1: \[ICLR\] names must be a list"):
        load_venues(tmp_path)


def test_awards_are_loaded_with_their_source(seeds):
    assert len(seeds.awards) > 1500


def test_award_matches_on_title_regardless_of_case_and_punctuation(seeds):
    award = seeds.awards.match("Deep residual learning for image recognition.")
    assert award.label == "CVPR 2016 Best Paper"
    assert "CSBestPaperAwards" in award.source
    assert (
        seeds.awards.match("Multi-Scale Dense Networks for Resource Efficient Image Classification")
        is None
    )


def test_award_ties_are_broken_by_venue_and_year(tmp_path):
    from harvester.awards import load_awards

    (tmp_path / "awards.csv").write_text(
        "venue,year,title,source,award,url\n"
        "ICML,2020,Same Title,test,Outstanding Paper,\n"
        "NeurIPS,2021,Same Title,test,Best Paper,\n"
    )
    awards = load_awards(tmp_path)
    assert awards.match("Same Title", "NeurIPS", 2021).label == "NeurIPS 2021 Best Paper"
    assert awards.match("Same Title", "ICML", 2020).label == "ICML 2020 Outstanding Paper"


def test_malformed_awards_file_names_the_line(tmp_path):
    from harvester.awards import load_awards

    (tmp_path / "awards.csv").write_text(
        "venue,year,title,source,award,url\nCVPR,soon,T,s,Best Paper,\n"
    )
    with pytest.raises(SeedError, match=r"awards\.csv:2: year 'soon'"):
        load_awards(tmp_path)


# --- venues the table does not know, and papers with no venue at all ----------------------


@pytest.mark.parametrize(
    "names, expected",
    [
        (
            [
                "IEEE International Conference on Distributed Computing Systems",
                "ICDCS",
                "IEEE Int Conf Distrib Comput Syst",
            ],
            "ICDCS",
        ),
        (
            [
                "EMDL@MobiSys",
                "Proceedings of the 5th International Workshop on Embedded and Mobile Deep Learning",
            ],
            "EMDL",
        ),
        (["2021 IEEE Nordic Circuits and Systems Conference (NorCAS)"], "NorCAS"),
        (["2022 USENIX Annual Technical Conference (USENIX ATC 22)"], "USENIX ATC"),
        (["Cognitive Computation", "Cogn Comput"], "Cogn Comput"),
        (["IEEE Transactions on Wireless Communications", "IEEE Trans Wirel Commun"], "TWC"),
        (["IEEE International Solid-State Circuits Conference"], "ISSCC"),
        (["International Symposium on Low Power Electronics and Design"], "ISLPED"),
        (["IEEE Journal on Emerging and Selected Topics in Circuits and Systems"], "JESTCS"),
        (["Proceedings of the ACM on Management of Data"], "PACMMD"),
        (["Neural Networks: Tricks of the Trade"], "Neural Networks…"),
        (["A Very Long Name of Something Nobody Classifies As Anything"], "A Very Long Name…"),
        (["Nature"], "Nature"),
        ([], None),
        (["", "  "], None),
    ],
)
def test_an_unknown_venue_is_shortened_by_rule(names, expected):
    short = shorten_unknown(names)
    assert short == expected
    assert short is None or len(short) <= MAX_SHORT


def test_acronyms_and_initials():
    assert [is_acronym(n) for n in ("MobiSys", "ICDCS", "FCCM", "Micro", "IEEE", "ArXiv x")] == [
        True,
        True,
        True,
        False,
        False,
        False,
    ]
    assert initials("2020 IEEE/ACM International Conference On Computer Aided Design") == "ICCAD"
    assert initials("IEEE Symposium on Field-Programmable Custom Computing Machines") == "SFPCCM"


@pytest.fixture
def small():
    """A table of its own, so these rules do not depend on what curators add to seeds/."""
    return Venues(
        [
            Venue("arXiv", ("arXiv.org", "ArXiv"), dblp=("journals/corr",)),
            Venue(
                "MICRO",
                ("IEEE/ACM International Symposium on Microarchitecture", "Micro"),
                dblp=("conf/micro",),
            ),
            Venue(
                "ICPR", ("International Conference on Pattern Recognition",), dblp=("conf/icpr",)
            ),
            Venue(
                "MobiSys",
                ("International Conference on Mobile Systems, Applications, and Services",),
                dblp=("conf/mobisys",),
            ),
            Venue(
                "EMDL",
                ("International Workshop on Embedded and Mobile Deep Learning",),
                kind="conference",
            ),
        ],
        {"10.1109": "IEEE", "10.1145": "ACM"},
    )


@pytest.mark.parametrize(
    "evidence, preprint_year, year, expected",
    [
        # The table, by a name with a year, an ordinal and "Proceedings of the" around it…
        (
            VenueEvidence(
                (
                    "Proceedings of the 52nd Annual IEEE/ACM International Symposium on Microarchitecture",
                ),
                year=2019,
            ),
            None,
            2019,
            ("MICRO", 2019),
        ),
        # … or by the acronym it gives in brackets.
        (
            VenueEvidence(
                ("2016 23rd International Conference on Pattern Recognition (ICPR)",), year=2016
            ),
            None,
            2016,
            ("ICPR", 2016),
        ),
        # A workshop at a conference is the workshop, with the year DBLP's key gives.
        (
            VenueEvidence(("EMDL@MobiSys",), "conf/mobisys/LaskaridisKL21", 2021),
            2021,
            2021,
            ("EMDL", 2021),
        ),
        (VenueEvidence(("NewWS@MobiSys",), "conf/mobisys/X21", 2020), None, 2020, ("NewWS", 2021)),
        # A venue the table does not know beats the preprint, shortened.
        (
            VenueEvidence(("IEEE Transactions on Wireless Communications", "ArXiv"), year=2020),
            2019,
            2019,
            ("TWC", 2020),
        ),
        # Theses, named by S2 or the arXiv comment.
        (VenueEvidence(("PhD Thesis",), year=2021), None, 2021, ("Thesis", 2021)),
        (
            VenueEvidence(("ArXiv",), texts=("Master's thesis, 80 pages",), year=2022),
            2022,
            2022,
            ("Thesis", 2022),
        ),
        # Only a preprint.
        (
            VenueEvidence(("arXiv.org", "ArXiv"), "journals/corr/abs-2301-00001", 2023),
            2023,
            2023,
            ("arXiv", 2023),
        ),
        (VenueEvidence(), 2017, 2017, ("arXiv", 2017)),
        # No venue name at all: the DOI's publisher, else "Unknown", never blank.
        (VenueEvidence(doi="10.1109/jproc.2017.2761740", year=2017), None, 2017, ("IEEE", 2017)),
        (VenueEvidence(doi="10.1145/3079856.3080246"), 2017, 2017, ("ACM", 2017)),
        (VenueEvidence(doi="10.9999/unknown"), None, 2020, (UNKNOWN, 2020)),
        (VenueEvidence(), None, 2020, (UNKNOWN, 2020)),
    ],
)
def test_every_paper_gets_a_short_place_and_the_venues_year(
    small, evidence, preprint_year, year, expected
):
    assert small.place(evidence, preprint_year=preprint_year, year=year) == expected


def test_shipped_venues_know_the_forms_people_write(seeds):
    venues = seeds.venues
    assert len(venues.venues) >= 150
    for name, short in [
        ("IEEE International Solid-State Circuits Conference", "ISSCC"),
        ("Proceedings of the ACM on Management of Data", "SIGMOD"),
        ("SIGMOD Conference", "SIGMOD"),
        ("Proceedings of the VLDB Endowment", "PVLDB"),
        ("IEEE Transactions on Neural Networks and Learning Systems", "TNNLS"),
        (
            "ACM SIGMOBILE International Conference on Mobile Systems, Applications, and Services",
            "MobiSys",
        ),
        ("International Workshop on Embedded and Mobile Deep Learning", "EMDL"),
        ("2018 IEEE/CVF Conference on Computer Vision and Pattern Recognition", "CVPR"),
        ("MICRO-54: 54th Annual IEEE/ACM International Symposium on Microarchitecture", "MICRO"),
        ("2022 USENIX Annual Technical Conference (USENIX ATC 22)", "USENIX ATC"),
        ("Proceedings of the IEEE", "Proc. IEEE"),
        ("ACM Computing Surveys", "CSUR"),
    ]:
        assert venues.by_name(name) == short, name
    assert all(len(v.short) <= MAX_SHORT for v in venues.venues)
    assert all(v.venue_kind for v in venues.venues)
    assert venues.publisher("10.1109/TPAMI.2021.3117837") == "IEEE"


def test_every_venue_of_the_labelled_corpus_is_short(seeds):
    from harvester.sources.semantic_scholar import s2_venue_names
    from tests.loopback import load_s2_corpus

    for paper in load_s2_corpus():
        ids = paper.get("externalIds") or {}
        evidence = VenueEvidence(
            tuple(s2_venue_names(paper)), ids.get("DBLP"), paper.get("year"), doi=ids.get("DOI")
        )
        venue, _ = seeds.venues.place(
            evidence,
            preprint_year=paper.get("year") if ids.get("ArXiv") else None,
            year=paper.get("year"),
        )
        assert venue and len(venue) <= MAX_SHORT, (paper["title"], venue)


@pytest.mark.parametrize(
    "text, message",
    [
        (
            '["Much Too Long A Venue Name"]\nnames = ["x"]\n',
            r"\[Much Too Long A Venue Name\] is longer than 18",
        ),
        ('[X]\nkind = "book"\n', r"\[X\] kind must be one of conference, journal, preprint"),
        ('[publishers]\n"11.1" = "IEEE"\n', r"\[publishers\] '11.1': give a DOI prefix"),
    ],
)
def test_bad_venue_entries_are_refused(tmp_path, text, message):
    (tmp_path / "venues.toml").write_text(text)
    with pytest.raises(SeedError, match=message):
        load_venues(tmp_path)
