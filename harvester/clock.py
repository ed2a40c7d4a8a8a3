"""Time as the harvester writes it: UTC, to the second, ``2026-11-23T04:17:02Z``.

Every timestamp in the database, the logs and the reports has this one form, so that text
order is time order (``s2_refreshed <= ?``, ``max(ended)``) and a stamp written by one module
is read by any other. Call ``clock.now_iso()`` through the module, so a test can set the time
in one place.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """``moment`` as a stamp (UTC)."""
    return moment.astimezone(UTC).strftime(FORMAT)


def now_iso() -> str:
    return iso(now())


def days_ago(days: float, *, since: datetime | None = None) -> str:
    """The stamp ``days`` before ``since`` (now by default)."""
    return iso((since or now()) - timedelta(days=days))


def parse(stamp: str | None) -> datetime | None:
    """A stamp we wrote, or None for anything else."""
    try:
        return datetime.strptime(stamp or "", FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def seconds_between(start: str | None, end: str | None) -> int | None:
    """Whole seconds from one stamp to another; None if either is missing or unreadable."""
    a, b = parse(start), parse(end)
    if a is None or b is None:
        return None
    return int((b - a).total_seconds())


def age(stamp: str | None, *, at: datetime | None = None) -> float:
    """Seconds since a stamp; an unreadable one counts as infinitely old."""
    then = parse(stamp)
    if then is None:
        return float("inf")
    return ((at or now()) - then).total_seconds()
