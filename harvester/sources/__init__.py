"""Sources: one module per service, each turning API answers into ``PaperRecord``s.

``open_sources`` gives both services over one HTTP client and one request log; the harvest,
``review add`` and snowballing use the same bundle.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from harvester.config import Config
from harvester.http import RequestLog, Service, make_client
from harvester.sources import arxiv as arxiv_source
from harvester.sources import semantic_scholar as s2_source


def _services(
    config: Config,
    client: httpx.Client,
    requests: RequestLog,
    sleep: Callable[[float], None],
) -> tuple[arxiv_source.ArxivSource, s2_source.SemanticScholarSource]:
    arxiv = arxiv_source.ArxivSource(
        Service(
            arxiv_source.SOURCE,
            client,
            delay=config.arxiv_delay,
            retries=config.retries,
            backoff_max=config.backoff_max,
            # arXiv answers 429 even below its documented rate: wait longer than 3 s.
            backoff_initial=max(4.0, config.arxiv_delay),
            requests=requests,
            sleep=sleep,
            describe_error=arxiv_source.describe_error,
        ),
        config.arxiv_url,
        config.arxiv_page_size,
    )
    s2 = s2_source.SemanticScholarSource(
        Service(
            s2_source.SOURCE,
            client,
            delay=config.s2_delay,
            retries=config.retries,
            backoff_max=config.backoff_max,
            backoff_initial=max(2.0, config.s2_delay),
            requests=requests,
            # Sent on every endpoint; never logged (headers are not).
            headers={"x-api-key": config.s2_api_key} if config.s2_api_key else None,
            sleep=sleep,
            describe_error=s2_source.describe_error,
        ),
        config.s2_url,
        recommendations_url=config.s2_recommendations_url,
    )
    return arxiv, s2


@dataclass
class Sources:
    """The run's two services over one HTTP client, and the requests they made."""

    arxiv: arxiv_source.ArxivSource
    s2: s2_source.SemanticScholarSource
    requests: RequestLog


@contextmanager
def open_sources(
    config: Config,
    *,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Sources]:
    """Both sources, sharing one HTTP client and one request log, closed on exit."""
    requests = RequestLog()
    with make_client(config, transport) as client:
        arxiv, s2 = _services(config, client, requests, sleep)
        yield Sources(arxiv, s2, requests)
