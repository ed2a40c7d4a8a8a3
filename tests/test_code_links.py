"""Code links in the Notes column: a GitHub or GitLab repository, normalised."""

from __future__ import annotations

import pytest

from harvester.code_links import code_link


@pytest.mark.parametrize(
    "texts, expected",
    [
        (
            ("Code is available at https://github.com/kalviny/MSDNet-PyTorch.",),
            "https://github.com/kalviny/MSDNet-PyTorch",
        ),
        (("code: http://github.com/ucbdrive/skipnet",), "https://github.com/ucbdrive/skipnet"),
        (("(see github.com/owner/repo)",), "https://github.com/owner/repo"),
        (("https://www.github.com/Owner/Repo.git, and more",), "https://github.com/Owner/Repo"),
        (("https://github.com/owner/repo/tree/main/src",), "https://github.com/owner/repo"),
        (
            ("Our code: https://gitlab.com/some.group/the_repo.",),
            "https://gitlab.com/some.group/the_repo",
        ),
        # The host's own pages and project sites are not repositories.
        (("https://github.com/orgs/foo/repositories", "https://kalviny.github.io/msdnet/"), None),
        (("mail me at me@github.com/x",), None),
        # The abstract first, then the comment, then the journal reference.
        ((None, "12 pages. Code: github.com/a/b", "github.com/c/d"), "https://github.com/a/b"),
        (("No code here.", None, None), None),
        # Markup cannot ride along: only owner and repository names are kept.
        (("https://github.com/a/b)](javascript:alert(1))",), "https://github.com/a/b"),
    ],
)
def test_code_link(texts, expected):
    assert code_link(*texts) == expected
