"""Progress of a run, shown as a bar on a terminal and not at all elsewhere.

A run reports phases (arXiv, Semantic Scholar, refresh) and steps within them; what is
shown depends on where the output goes. On a terminal a person watches: click's progress bar
on stderr. Under cron, systemd or CI nobody watches and every line lands in a mail or a log,
so nothing is drawn; ``-v`` log records say the same thing one line per step.
"""

from __future__ import annotations

import contextlib
from typing import Any, Protocol, TextIO

import click


class Progress(Protocol):
    """What a run calls as it goes; implementations decide what, if anything, is shown."""

    def phase(self, label: str, total: int) -> None: ...

    def advance(self) -> None: ...

    def close(self) -> None: ...


class NoProgress:
    """Shows nothing: for logs, mails and tests."""

    def phase(self, label: str, total: int) -> None:
        pass

    def advance(self) -> None:
        pass

    def close(self) -> None:
        pass


class BarProgress:
    """One click progress bar per phase, on ``file`` (a terminal)."""

    def __init__(self, file: TextIO) -> None:
        self.file = file
        self._stack = contextlib.ExitStack()
        self._bar: Any = None

    def phase(self, label: str, total: int) -> None:
        self.close()
        if total <= 0:
            return
        self._bar = self._stack.enter_context(
            click.progressbar(length=total, label=f"{label:<17}", file=self.file, show_pos=True)
        )

    def advance(self) -> None:
        if self._bar is not None:
            self._bar.update(1)

    def close(self) -> None:
        self._stack.close()
        self._stack = contextlib.ExitStack()
        self._bar = None


def for_stream(stream: TextIO, *, quiet: bool, verbose: int) -> Progress:
    """A bar when a person watches ``stream`` and no log lines would cut through it."""
    try:
        interactive = stream.isatty()
    except (AttributeError, ValueError):
        interactive = False
    if interactive and not quiet and verbose == 0:
        return BarProgress(stream)
    return NoProgress()
