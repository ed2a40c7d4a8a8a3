"""The ``citation_key_bases`` table: each paper's citation-key base, as a rule version made it.

The triggers of migration 0006 drop a paper's row when its title, authors or years change,
so a row that is here is the base of the paper as it is now (for the ``rule`` that made it).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlite_utils import Database

from harvester.store._sql import chunks, in_list

# (id, first author, year (the venue's, else the first), title): what a base is made of.
KeyInputs = tuple[int, str | None, int | None, str]

_INPUTS = "SELECT id, json_extract(authors, '$[0]'), coalesce(venue_year, year), title FROM papers"


def stored_bases(db: Database, rule: int) -> tuple[dict[int, str], list[KeyInputs]]:
    """The bases stored by ``rule`` of every paper that has one, and what the bases of the
    others are made of (in id order), in a few reads: the ids from an index, the inputs only
    of the papers without a base."""
    bases = {
        int(pid): str(base)
        for pid, base in db.execute(
            "SELECT paper_id, base FROM citation_key_bases WHERE rule = ?", [rule]
        )
    }
    # Every index holds the ids: no read of the table's pages (and abstracts).
    missing = [int(pid) for (pid,) in db.execute("SELECT id FROM papers") if pid not in bases]
    if len(missing) > len(bases):
        # Mostly missing (a database no writer has filled yet): one scan beats the lists.
        wanted = set(missing)
        inputs = [row for row in db.execute(_INPUTS + " ORDER BY id") if row[0] in wanted]
        return bases, inputs
    inputs = []
    for chunk in chunks(missing):
        inputs += db.execute(_INPUTS + " WHERE " + in_list("id", chunk), list(chunk)).fetchall()
    inputs.sort()
    return bases, inputs


def store_bases(db: Database, rule: int, bases: Sequence[tuple[int, str]]) -> None:
    """Keep these papers' bases (inside the caller's write transaction)."""
    db.conn.executemany(
        "INSERT OR REPLACE INTO citation_key_bases (paper_id, base, rule) VALUES (?, ?, ?)",
        [(pid, base, rule) for pid, base in bases],
    )


def clear_other_rules(db: Database, rule: int) -> None:
    """Drop the bases another version of the rule made (they will be made again)."""
    db.execute("DELETE FROM citation_key_bases WHERE rule != ?", [rule])
