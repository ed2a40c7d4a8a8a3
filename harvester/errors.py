"""The exceptions the library raises, each mapped by the CLI to one line and an exit code.

Every error a user can act on derives from ``HarvesterError``; its message is the whole line
the CLI prints, so it names the file, the value or the service involved.
"""

from __future__ import annotations

from harvester.redact import scrub

EXIT_OK = 0
EXIT_PARTIAL = 1
EXIT_USAGE = 2
EXIT_LOCKED = 3


class HarvesterError(Exception):
    """Base class: a problem the user can read and act on.

    Its text never holds a secret: a service's answer quoted in it may echo the API key, so
    the message is scrubbed when the error is made, before anyone prints, logs or stores it.
    """

    exit_code = EXIT_USAGE

    def __init__(self, *args: object) -> None:
        super().__init__(*(scrub(a) if isinstance(a, str) else a for a in args))


class ConfigError(HarvesterError):
    """A bad configuration file, environment variable or option value.

    ``key`` names the setting at fault, so the loader can say where its value came from.
    """

    key: str = ""


class SeedError(HarvesterError):
    """A seeds file that cannot be used: the message names the file and line."""


class StoreError(HarvesterError):
    """The database cannot be opened or written as the harvester needs."""


class SourceError(HarvesterError):
    """A service failed past its retries, or answered something unusable.

    Callers branch on its attributes, never on its text: ``source`` names the service
    (``arxiv``, ``s2``) so a run reports failures per source; ``status`` is the HTTP status
    of the last answer (None when none came: a timeout, a dropped connection); ``attempts``
    how many requests were made for it; ``url`` where they went.
    """

    exit_code = EXIT_PARTIAL

    def __init__(
        self,
        source: str,
        message: str,
        *,
        url: str | None = None,
        status: int | None = None,
        attempts: int | None = None,
    ) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source
        self.url = url
        self.status = status
        self.attempts = attempts


class RetryableSourceError(SourceError):
    """A failure worth another try: rate limit, 5xx, dropped connection, cut-off body.

    ``retry_after`` is what the service asked us to wait, in seconds, when it said.
    """

    def __init__(
        self,
        source: str,
        message: str,
        *,
        url: str | None = None,
        status: int | None = None,
        attempts: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(source, message, url=url, status=status, attempts=attempts)
        self.retry_after = retry_after


class QueryError(SourceError):
    """The service rejected the request itself (HTTP 400): retrying cannot help."""


class OutputError(HarvesterError):
    """An output file could not be written (disk full, read-only): the previous one is whole."""

    exit_code = EXIT_PARTIAL


class ReportError(HarvesterError):
    """The reports cannot be written from this database as it is: nothing was written."""

    exit_code = EXIT_PARTIAL


class LockHeldError(HarvesterError):
    """Another harvest holds this database's lock: the message names its run, pid and host."""

    exit_code = EXIT_LOCKED


class LockLostError(HarvesterError):
    """This harvest's lock was taken over (its heartbeat looked stale): stop writing at once."""

    exit_code = EXIT_LOCKED
