"""The one transport layer: a shared httpx client, per-service pacing, and the only retries.

Both services rate-limit and fail in the same ways (429, 5xx pages that may be HTML, dropped
connections, bodies cut off mid-way), so both go through ``Service.request``. Retrying lives
here and nowhere else: the arXiv package's own retry loop is not used, and nothing above this
module retries a request.
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exception

from harvester.config import Config
from harvester.errors import QueryError, RetryableSourceError, SourceError

log = logging.getLogger(__name__)

T = TypeVar("T")
Sleep = Callable[[float], None]


def make_client(config: Config, transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """The run's single HTTP client: explicit timeouts, a User-Agent that names us.

    Tests pass ``transport`` to swap the network out without touching the client code.
    """
    return httpx.Client(
        headers={"User-Agent": config.user_agent},
        timeout=httpx.Timeout(config.timeout, connect=min(config.timeout, 15.0)),
        transport=transport,
        follow_redirects=True,
    )


class Throttle:
    """At most one request per ``delay`` seconds, measured from the previous request's start."""

    def __init__(self, delay: float, sleep: Sleep = time.sleep) -> None:
        self.delay = delay
        self._sleep = sleep
        self._last: float | None = None
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            if self._last is not None and self.delay > 0:
                remaining = self._last + self.delay - now
                if remaining > 0:
                    self._sleep(remaining)
                    now = time.monotonic()
            self._last = now


@dataclass
class RequestLog:
    """How many HTTP requests each service received this run (retries included), by service
    name (``arxiv``, ``s2``), and by endpoint where a run reports one apart
    (``s2_recommendations``)."""

    counts: Counter[str] = field(default_factory=Counter)
    # Both services' fetchers count at once (``harvester.pipeline``).
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count(self, source: str) -> None:
        with self._lock:
            self.counts[source] += 1

    def as_dict(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self.counts.items()))


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds the server asked us to wait, from either form of Retry-After."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _snippet(response: httpx.Response) -> str:
    text = " ".join(response.text.split())
    return text[:120] + ("…" if len(text) > 120 else "")


class Service:
    """One remote service: its base URL, pacing, retry policy and request counter.

    ``request`` sends, checks the status, and runs ``parse`` on the body inside the retry
    loop, so a body that is not what we expect (an HTML error page, a cut-off XML or JSON
    document) is retried like any other transient failure instead of being read as empty.
    """

    def __init__(
        self,
        name: str,
        client: httpx.Client,
        *,
        delay: float,
        retries: int,
        backoff_max: float,
        backoff_initial: float = 2.0,
        requests: RequestLog | None = None,
        headers: Mapping[str, str] | None = None,
        sleep: Sleep = time.sleep,
        describe_error: Callable[[httpx.Response], str] | None = None,
    ) -> None:
        self.name = name
        self.client = client
        self.throttle = Throttle(delay, sleep)
        self.retries = retries
        self.backoff_max = backoff_max
        self.backoff_initial = backoff_initial
        self.requests = requests or RequestLog()
        self.headers = dict(headers or {})
        self._sleep = sleep
        self._describe_error = describe_error or _snippet

    def _pause(self, exc: BaseException) -> float:
        """Seconds to wait after a failed attempt (tenacity's ``wait_exception``): what the
        service's Retry-After asked, up to ``backoff_max``; else exponential backoff from
        ``backoff_initial`` with as much jitter, so clients that failed together do not
        come back together."""
        if self.backoff_max <= 0 or not isinstance(exc, RetryableSourceError):
            return 0.0
        if exc.retry_after is not None:
            return min(exc.retry_after, self.backoff_max)
        retry = (exc.attempts or 1) - 1
        backoff = self.backoff_initial * 2**retry + random.uniform(0, self.backoff_initial)
        return min(backoff, self.backoff_max)

    def request(
        self,
        method: str,
        url: str,
        parse: Callable[[httpx.Response], T],
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        accept: frozenset[int] = frozenset({200}),
        count_as: str | None = None,
    ) -> T:
        """Send one logical request, retried until it parses or the retries run out.

        Statuses in ``accept`` are handed to ``parse``; 429, 5xx, timeouts, transport errors
        and unparseable bodies are retried; any other status raises ``QueryError`` at once.
        ``count_as`` counts the attempts under another name in the request log (an endpoint
        a run reports on its own), still paced and retried as this service.
        """

        attempts = 0

        def attempt() -> T:
            nonlocal attempts
            attempts += 1
            try:
                return self._attempt(
                    method, url, parse, params=params, json=json, accept=accept, count_as=count_as
                )
            except SourceError as exc:
                # What a caller (and the wait) branches on: how many requests it took.
                exc.attempts = attempts
                raise

        retrying = Retrying(
            retry=retry_if_exception_type(RetryableSourceError),
            stop=stop_after_attempt(self.retries + 1),
            wait=wait_exception(self._pause),
            sleep=self._sleep,
            reraise=True,
            before_sleep=lambda s: log.info(
                "%s: retrying after %s (attempt %d)",
                self.name,
                s.outcome.exception() if s.outcome else "?",
                s.attempt_number,
            ),
        )
        try:
            return retrying(attempt)
        except RetryableSourceError as exc:
            raise SourceError(
                self.name,
                f"gave up after {attempts} attempts: " + str(exc).removeprefix(f"{self.name}: "),
                url=exc.url,
                status=exc.status,
                attempts=attempts,
            ) from exc

    def _attempt(
        self,
        method: str,
        url: str,
        parse: Callable[[httpx.Response], T],
        *,
        params: Mapping[str, Any] | None,
        json: Any,
        accept: frozenset[int],
        count_as: str | None = None,
    ) -> T:
        """One request: a parsed answer, or the error it is (retryable or not)."""
        self.throttle.wait()
        self.requests.count(count_as or self.name)
        log.debug("%s %s %s", self.name, method, url)
        try:
            response = self.client.request(
                method, url, params=params, json=json, headers=self.headers
            )
        except httpx.TimeoutException as exc:
            raise RetryableSourceError(
                self.name, f"timed out ({type(exc).__name__})", url=url
            ) from exc
        except httpx.TransportError as exc:
            raise RetryableSourceError(
                self.name, f"connection failed ({type(exc).__name__}: {exc})", url=url
            ) from exc
        status = response.status_code
        if status in accept:
            try:
                return parse(response)
            except SourceError as exc:
                exc.status = status
                raise
        if status == 429 or status >= 500:
            raise RetryableSourceError(
                self.name,
                f"HTTP {status}: {_snippet(response)}",
                url=url,
                status=status,
                retry_after=_retry_after(response),
            )
        if status in (401, 403):
            raise SourceError(
                self.name,
                f"HTTP {status}: access refused ({self._describe_error(response)}); "
                "check the API key",
                url=url,
                status=status,
            )
        raise QueryError(
            self.name, f"HTTP {status}: {self._describe_error(response)}", url=url, status=status
        )
