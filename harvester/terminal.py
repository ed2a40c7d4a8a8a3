"""Paper data on a terminal: the text shows, its control sequences do not run.

Titles, abstracts and venues come from the services and may carry escape sequences (one sets
the window title, another clears the screen or recolours what follows), a carriage return
that lets later text overwrite the line, or a right-to-left override that makes a title read
backwards. Everything the CLI prints from the database goes through ``printable``.
"""

from __future__ import annotations

import re

# Whole sequences, so their parameters do not show as litter: CSI (colours, cursor, clear),
# terminated strings (OSC window titles and hyperlinks, DCS, SOS, PM, APC), two-byte escapes.
_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)"
    r"|\x1b[ -/]*[0-~]"
)
# Bidirectional embeddings, overrides, isolates and marks: they reorder what follows.
_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_CONTROLS = [*range(0x20), *range(0x7F, 0xA0)]
# Control characters that move the cursor become a space, the others go; joiners stay (the
# scripts and emoji that need them are text).
_TABLE = {c: (" " if chr(c).isspace() else None) for c in _CONTROLS} | dict.fromkeys(
    map(ord, _BIDI)
)


def printable(text: object) -> str:
    """``text`` as one line of plain text: control sequences and characters removed, runs of
    white space (line breaks included) folded into one space."""
    if text is None:
        return ""
    return " ".join(_SEQUENCE.sub("", str(text)).translate(_TABLE).split())
