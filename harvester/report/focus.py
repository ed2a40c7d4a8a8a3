"""The "Focused On" line: what a reader of the list learns about a paper at a glance.

The reviewer's own words come first; then Semantic Scholar's TL;DR; then one short sentence
taken from the abstract, preferably the one that says what the paper proposes. An accepted
paper always has one of them, or at least its section's name: the column is never empty.
"""

from __future__ import annotations

import re

# Where a sentence may not end although a full stop and a capital follow.
_ABBREVIATIONS = frozenset(
    {
        *("e.g", "i.e", "cf", "vs", "al", "etc", "approx", "resp", "fig", "figs", "eq"),
        *("eqs", "sec", "no", "nos", "dr", "prof", "mr", "ms", "st", "jr", "inc", "ltd"),
        *("co", "corp", "ref", "refs", "vol", "ch", "ca", "viz", "incl", "esp", "tab"),
    }
)
# "etc." often does end a sentence, the rest never do.
_MAY_END = frozenset({"etc"})
# A candidate end: . ! or ? (and closing quotes or brackets), then space, then what may start
# a sentence (a capital, a digit, a quote or a bracket).
_END_RE = re.compile(r"[.!?][\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")
# What a paper says it contributes: that sentence describes it better than the background
# most abstracts open with.
_CLAIM_RE = re.compile(
    r"\b(?:we|this (?:paper|work|article|survey|thesis)|our (?:method|approach|system|work))\s+"
    r"(?:\w+ly\s+)?(?:propose|present|introduce|develop|design|describe|build|devise|"
    r"implement|show|demonstrate|study|explore|investigate|survey|review|formulate)\w*\b",
    re.I,
)
_LEAD_RE = re.compile(
    r"^(?:in (?:this|the present) (?:paper|work|article|letter|study|survey|review)|here|"
    r"to this end|to address (?:this|these) (?:issues?|problems?|challenges?|limitations?)|"
    r"in response|instead|therefore|thus|hence)\b\s*,?\s*",
    re.I,
)

SENTENCE_LIMIT = 160


def sentences(text: str) -> list[str]:
    """The sentences of an abstract, not broken at "e.g.", "et al.", initials or decimals.

    >>> sentences("We use e.g. MSDNet. It exits early.")
    ['We use e.g. MSDNet.', 'It exits early.']
    """
    flat = " ".join(text.split())
    out: list[str] = []
    start = 0
    for match in _END_RE.finditer(flat):
        before = flat[start : match.start() + 1]
        word = before.rsplit(" ", 1)[-1].rstrip(".!?").lower()
        if flat[match.start()] == ".":
            last = word.rsplit("(", 1)[-1]
            # "J. Smith", "U.S." and "e.g." end in a letter standing alone before the stop.
            if last in _ABBREVIATIONS and last not in _MAY_END:
                continue
            if re.fullmatch(r"(?:[a-z]\.)*[a-z]", last):
                continue
        out.append(flat[start : match.end()].strip())
        start = match.end()
    if flat[start:].strip():
        out.append(flat[start:].strip())
    return out


def shorten(text: str, limit: int) -> str:
    """``text`` cut at a word so that it fits ``limit`` characters, with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut and text[limit - 1] not in " ,;:.":
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-—–(") + "…"


def abstract_sentence(abstract: str | None, limit: int = SENTENCE_LIMIT) -> str:
    """One short sentence of an abstract: the first that says what the paper does, else the
    first; openers such as "In this paper," dropped, at most ``limit`` characters."""
    if not abstract or not abstract.strip():
        return ""
    found = sentences(abstract)
    chosen = next((s for s in found if _CLAIM_RE.search(s)), found[0])
    stripped = _LEAD_RE.sub("", chosen)
    if stripped != chosen and stripped:
        chosen = stripped[0].upper() + stripped[1:]
    return shorten(chosen, limit)


def focused_on(
    focus: str | None,
    tldr: str | None,
    abstract: str | None,
    fallback: str = "",
    limit: int = 200,
) -> str:
    """The reviewer's focus, else the TL;DR, else a sentence of the abstract, else
    ``fallback`` (the paper's section), as plain text of at most ``limit`` characters."""
    for text in (focus, tldr):
        if text and text.strip():
            return shorten(text, limit)
    return abstract_sentence(abstract, min(limit, SENTENCE_LIMIT)) or fallback
