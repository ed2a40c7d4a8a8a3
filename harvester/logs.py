"""Logging for unattended runs: one plain line per record, on stderr and in a log file.

Cron mails whatever a job prints, so by default only warnings and errors reach stderr (and
the command's own summary and ``failed:`` lines); ``-v`` adds a line per query or page,
``-vv`` a line per request, ``-q`` leaves errors only. ``--log-file`` appends the ``-v``
detail (or ``-vv`` with it) to a file whatever the terminal shows, so the mail stays short
and the detail is kept. Failures the command prints itself as ``failed:`` lines are logged
too, but reach the console only with ``-v``, so a mail has each once. Every record is one
line: messages are collapsed and tracebacks are left out (``--debug`` shows them where the
CLI prints errors). Every handler scrubs secrets (``harvester.redact``) from every record,
whichever module logged it and whatever a service's answer quoted in it.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

from harvester.errors import ConfigError
from harvester.redact import scrub

_LOGGER = "harvester"
# A record flagged with this ``extra`` key is also printed by the command itself (the
# ``failed:`` lines): the console leaves it out, the log file keeps it.
ECHOED = "harvester_echoed"
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class OneLineFormatter(logging.Formatter):
    """UTC ISO timestamps, the message on one line, no traceback."""

    # Log times are UTC, as every timestamp the harvester writes.
    converter = staticmethod(time.gmtime)

    def __init__(self) -> None:
        super().__init__(_FORMAT, datefmt="%Y-%m-%dT%H:%M:%SZ")

    def format(self, record: logging.LogRecord) -> str:
        record = logging.makeLogRecord(record.__dict__)
        record.msg = " ".join(record.getMessage().split())
        record.args = None
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        return super().format(record)


def scrub_record(record: logging.LogRecord) -> bool:
    """A handler filter: the record's message with secrets replaced, arguments folded in.

    On the handler, not the logger: a logger's filters do not see records its children
    (``harvester.http``, ``harvester.harvest``) pass up to it.
    """
    message = record.getMessage()
    clean = scrub(message)
    if clean != message:
        record.msg, record.args = clean, None
    return True


def setup_logging(*, verbose: int = 0, quiet: bool = False, log_file: Path | None = None) -> None:
    """Configure the ``harvester`` loggers for this command; replaces an earlier setup."""
    logger = logging.getLogger(_LOGGER)
    for handler in list(logger.handlers):
        if getattr(handler, "_harvester", False):
            logger.removeHandler(handler)
            handler.close()
    levels = (logging.WARNING, logging.INFO, logging.DEBUG)
    console_level = logging.ERROR if quiet else levels[min(verbose, 2)]
    file_level = logging.DEBUG if verbose >= 2 else logging.INFO
    handlers: list[logging.Handler] = []
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(console_level)
    if verbose == 0:
        console.addFilter(lambda record: not getattr(record, ECHOED, False))
    handlers.append(console)
    if log_file is not None:
        try:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            file_handler = logging.FileHandler(log_file, mode="a", encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"--log-file: cannot write {log_file} ({exc.strerror})") from None
        file_handler.setLevel(file_level)
        handlers.append(file_handler)
    for handler in handlers:
        handler.addFilter(scrub_record)
        handler.setFormatter(OneLineFormatter())
        handler._harvester = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(min(h.level for h in handlers))
