"""Keeping secrets out of text: every message, log record and stored error goes through here.

The Semantic Scholar key travels in a header, but its value can come back in text we did not
write: an HTTP library's complaint about a header, a server that echoes the header into its
error page, a traceback. So instead of trusting every place that builds a message, the key is
registered once (when a ``Config`` holding it is made) and ``scrub`` replaces it wherever
text leaves the process: the errors the library raises (``HarvesterError``), the log
handlers, the lines the CLI prints and the errors a run stores.
"""

from __future__ import annotations

import threading
from urllib.parse import quote

REDACTED = "[redacted]"

_lock = threading.Lock()
_secrets: set[str] = set()


def register(secret: str | None) -> None:
    """From now on, ``scrub`` hides ``secret`` (and the forms it takes when quoted)."""
    if not secret:
        return
    # repr() and URL quoting change a value containing quotes, backslashes or '%': hide
    # those spellings too.
    forms = {secret, repr(secret)[1:-1], quote(secret, safe="")}
    with _lock:
        _secrets.update(form for form in forms if form)


def forget() -> None:
    """Drop every registered secret (tests: one process runs many configurations)."""
    with _lock:
        _secrets.clear()


def scrub(text: str) -> str:
    """``text`` with every registered secret replaced by ``[redacted]``."""
    with _lock:
        # Longest first: a secret that contains another must be hidden whole.
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text
