"""Code links: the repository a paper names in its abstract, arXiv comment or journal ref.

Authors write "Code is available at github.com/owner/repo." in many forms (with or without
``https://``, ``www.``, ``.git``, a path into the tree, a full stop after it); the list shows
one normalised link, ``https://github.com/owner/repo``, built only from the owner and the
repository name, so nothing but those two names reaches the page.
"""

from __future__ import annotations

import re

_HOSTS = {"github.com": "github.com", "gitlab.com": "gitlab.com"}
# Owner and repository as the hosts allow them: letters, digits, "-", "_" and "." (GitHub's
# owner names take no "." or "_", GitLab's do).
_REPO_RE = re.compile(
    r"(?<![\w.@-])(?:https?://)?(?:www\.)?(github\.com|gitlab\.com)/"
    r"([A-Za-z0-9](?:[A-Za-z0-9_.-]{0,38}[A-Za-z0-9])?)/([A-Za-z0-9_.-]{1,100})",
    re.I,
)
# First path parts that are the host's own pages, not an owner.
_NOT_OWNERS = frozenset(
    {
        *("about", "explore", "features", "marketplace", "orgs", "pricing", "settings"),
        *("sponsors", "topics", "trending", "users", "login", "join", "search", "collections"),
        *("apps", "site", "security", "enterprise", "events", "help", "dashboard"),
    }
)


def code_link(*texts: str | None) -> str | None:
    """The first GitHub or GitLab repository named in ``texts``, as an https URL, or None.

    >>> code_link("Code: https://github.com/kalviny/MSDNet-PyTorch.")
    'https://github.com/kalviny/MSDNet-PyTorch'
    """
    for text in texts:
        for match in _REPO_RE.finditer(text or ""):
            host, owner, repo = match.group(1).lower(), match.group(2), match.group(3)
            repo = repo.rstrip(".")
            repo = repo.removesuffix(".git").rstrip(".")
            if owner.lower() in _NOT_OWNERS or not repo or repo in {".", ".."}:
                continue
            return f"https://{_HOSTS[host]}/{owner}/{repo}"
    return None
