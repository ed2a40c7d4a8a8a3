"""The layers keep to their jobs: the store only stores, merging and derivation are pure, and
SQL is written in the store package only."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import ROOT


def modules_loaded_by(*modules: str) -> set[str]:
    """What importing ``modules`` (in a fresh interpreter) loads."""
    code = f"import sys\nimport {', '.join(modules)}\nprint('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_the_store_imports_nothing_from_the_sources():
    loaded = modules_loaded_by("harvester.store")
    assert not {m for m in loaded if m.startswith("harvester.sources")}
    assert not {m for m in loaded if m in ("harvester.merge", "harvester.derive")}


def test_merge_and_derive_touch_neither_a_database_nor_the_network():
    loaded = modules_loaded_by("harvester.merge", "harvester.derive")
    assert not loaded & {"sqlite3", "sqlite_utils", "httpx", "harvester.http"}
    assert not {m for m in loaded if m.startswith(("harvester.store", "harvester.sources"))}


SQL = re.compile(
    r"\.execute\(|\.executemany\(|\.query\(|\bdb\.table\(|\b(SELECT|INSERT INTO|UPDATE \w+ SET|"
    r"DELETE FROM|CREATE TABLE)\b"
)


def test_no_sql_outside_the_store_package():
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted((ROOT / "harvester").rglob("*.py"))
        if "store" not in path.relative_to(ROOT / "harvester").parts[:1]
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if SQL.search(line)
    ]
    assert offenders == []
