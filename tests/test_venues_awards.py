"""Venue short names and years, and best-paper awards, from what the services say."""

from __future__ import annotations

import pytest

from harvester.errors import SeedError
from harvester.venues import VenueEvidence, load_venues


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
