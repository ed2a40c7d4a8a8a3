"""The review app on a real loopback socket, the test databases, and Debian's chromium.

Tests talk to the app the way people and scripts do: over HTTP on 127.0.0.1 (httpx for the
API, chromium for the page). The server runs in a thread on an ephemeral port; starting and
stopping wait on events with timeouts, never on sleeps.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from harvester import store
from harvester.config import Config
from harvester.harvest import run_harvest
from harvester.rules import Rules
from harvester.seeds import Seeds
from harvester.web.app import create_app
from harvester.web.server import bind, make_server
from tests.loopback import FakeArxiv, FakeS2, LoopbackServer, load_corpus, load_s2_corpus

CHROMIUM = Path(os.environ.get("HARVESTER_CHROMIUM", "/usr/bin/chromium"))
# Debian's chromium, as quiet as it can be: no network of its own, no first-run work.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
START_TIMEOUT = 10.0


def harvest_corpus(path: Path, seeds: Seeds) -> None:
    """A database harvested from the labelled corpora (real papers: 4 seed, 92 pending)."""
    with LoopbackServer(FakeArxiv(load_corpus()), FakeS2(load_s2_corpus())) as srv:
        config = Config(
            db=path,
            arxiv_url=srv.arxiv_url,
            s2_url=srv.s2_url,
            arxiv_delay=0,
            s2_delay=0,
            backoff_max=0,
        )
        db = store.open_db(path)
        run_harvest(db, seeds, config)
        db.close()


def copy_db(source: Path, target: Path) -> Path:
    """A private copy of a finished database (no WAL left behind in ``source``)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, target)
    return target


@contextmanager
def live_app(db_path: Path, seeds: Seeds, **options: Any) -> Iterator[str]:
    """The review app serving ``db_path`` on 127.0.0.1; yields its base URL."""
    app = create_app(db_path, Rules(seeds), **options)
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    server = make_server(app, "127.0.0.1", port, quiet=True)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        if not server.started_event.wait(START_TIMEOUT):
            raise RuntimeError("the review app did not start listening")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(START_TIMEOUT)
        sock.close()


def decision_rows(db: Database) -> list[tuple[Any, ...]]:
    """Every audit row but its time: what two equal sessions must have written alike."""
    return [
        tuple(row)
        for row in db.execute(
            "SELECT action, paper_id, who, kind, field, old, new, reason, undone"
            " FROM decisions ORDER BY id"
        )
    ]


def chromium_or_skip() -> Path:
    """Debian's chromium, or a skip with the reason (a failure in CI, which installs it)."""
    missing = None
    if not CHROMIUM.exists():
        missing = f"{CHROMIUM} is missing (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            missing = "playwright is not installed (pip install -e '.[test]')"
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests must run in CI: {missing}")
        pytest.skip(f"browser tests need chromium: {missing}")
    return CHROMIUM
