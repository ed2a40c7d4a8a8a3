"""Markdown helpers shared by every generated file: paper data is text, never markup."""

from __future__ import annotations

import html
import re

# Inline Markdown that could change how a cell or list item renders: emphasis, code, links,
# tables, strike-through, GitHub's $math$. Line-start syntax cannot occur: we never start a
# line with paper data.
_SPECIAL = "\\`*_[]|~$"
# Those backslashed and HTML's three as ``html.escape(quote=False)`` writes them, in one pass
# (no entity contains a special character); most of the 20,000 titles a report escapes hold
# none of them, and are returned as they are.
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"} | {c: "\\" + c for c in _SPECIAL})
_NEEDS_ESCAPE = re.compile("[&<>" + re.escape(_SPECIAL) + "]")


def escape(text: str | None) -> str:
    """Text that renders as itself in GitHub Markdown, tables included.

    HTML is neutralised (``<script>`` shows as text), Markdown punctuation is backslashed, and
    line breaks become spaces so a title cannot break a table row or a list item.
    """
    if not text:
        return ""
    flat = " ".join(str(text).split())
    return flat.translate(_ESCAPES) if _NEEDS_ESCAPE.search(flat) else flat


def unescape(text: str) -> str:
    """Undo ``escape`` for text read back from a file a person edited."""
    return html.unescape(re.sub(r"\\(.)", r"\1", text))
