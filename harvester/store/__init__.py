"""The SQLite store: table I/O only, one module per family of tables.

``database`` opens the file and is the one way to write (``write_transaction``); ``papers``
(papers, identity lookups, authors, sources and their venue claims, hits, category scores,
citation history, the full-text index), ``runs``, ``decisions``, ``graph`` (citations,
snowball state), ``recommendations`` (the last request per category), ``watermarks`` and
``lock`` read and write their tables; ``migrations`` is the schema. Nothing here merges,
derives or knows a service: that is ``harvester.merge``, ``harvester.derive`` and
``harvester.sources``, put together by ``harvester.ingest``. No SQL is written outside this
package.
"""

from __future__ import annotations

from harvester.store import (
    citation_keys,
    decisions,
    graph,
    lock,
    migrations,
    papers,
    recommendations,
    runs,
    watermarks,
)
from harvester.store.database import (
    Access,
    abandon_transaction,
    close_db,
    connect,
    fetched_pages,
    open_db,
    write_transaction,
)
from harvester.store.decisions import accepted_times
from harvester.store.graph import citation_links
from harvester.store.papers import (
    STATUSES,
    citation_key_inputs,
    counts_by_category,
    first_seen_between,
    latest_claims,
    mark_described,
    mark_refreshed,
    papers_by_id,
    papers_to_refresh,
    papers_with,
    queue_size,
)
from harvester.store.runs import (
    finish_run,
    finished_runs,
    has_completed_harvest,
    last_runs,
    start_run,
    update_run,
)

__all__ = [
    "STATUSES",
    "Access",
    "abandon_transaction",
    "accepted_times",
    "citation_key_inputs",
    "citation_keys",
    "citation_links",
    "close_db",
    "connect",
    "counts_by_category",
    "decisions",
    "fetched_pages",
    "finish_run",
    "finished_runs",
    "first_seen_between",
    "graph",
    "has_completed_harvest",
    "last_runs",
    "latest_claims",
    "lock",
    "mark_described",
    "mark_refreshed",
    "migrations",
    "open_db",
    "papers",
    "papers_by_id",
    "papers_to_refresh",
    "papers_with",
    "queue_size",
    "recommendations",
    "runs",
    "start_run",
    "update_run",
    "watermarks",
    "write_transaction",
]
