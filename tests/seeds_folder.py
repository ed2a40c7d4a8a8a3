"""The seeds folder tests and benches run with, made once per process."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def frozen_seeds(prefix: str) -> Path:
    """``tests/seeds`` (categories, queries, keywords, seed papers, frozen so that curators
    can improve the shipped ``seeds/`` without breaking tests of behaviour or the benches'
    synthetic corpus) with the shipped venue table and award list, which only grow."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    shutil.copytree(ROOT / "tests" / "seeds", folder, dirs_exist_ok=True)
    for name in ("venues.toml", "awards.csv"):
        shutil.copy2(ROOT / "seeds" / name, folder / name)
    return folder
