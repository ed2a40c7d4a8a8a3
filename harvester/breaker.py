"""A circuit breaker per source, so a run with a service down ends in minutes, not hours.

Each step of a run (a query, a seed lookup, a refresh batch) already retries its requests
with backoff. When a source fails a step past those retries, the service is probably down:
its next steps get a single retry (a probe, in case it was a blip), and after
``threshold`` failed steps in a row the rest of its work in this run is skipped. A step that
succeeds closes the breaker again. A rejected request (HTTP 400: the query's own fault) is
not the service failing and does not count.
"""

from __future__ import annotations

from collections import Counter

# Retries a step gets while its source is suspect: one, so a blip does not open the breaker.
PROBE_RETRIES = 1


def _plural(kind: str, n: int) -> str:
    if n == 1:
        return kind
    if kind.endswith("y"):
        return kind[:-1] + "ies"
    return kind + ("es" if kind.endswith("ch") else "s")


class CircuitBreaker:
    """Counts consecutive failed steps per source; open means "skip this source"."""

    def __init__(self, threshold: int) -> None:
        self.threshold = threshold
        self._failures: Counter[str] = Counter()
        self._skipped: dict[str, Counter[str]] = {}

    def is_open(self, source: str) -> bool:
        return self._failures[source] >= self.threshold

    def retries(self, source: str, normal: int) -> int:
        """Retries for the source's next step: fewer once it has failed one."""
        return min(normal, PROBE_RETRIES) if self._failures[source] else normal

    def succeeded(self, source: str) -> None:
        self._failures[source] = 0

    def failed(self, source: str) -> None:
        self._failures[source] += 1

    def skip(self, source: str, kind: str) -> None:
        """Count a step not tried because the source's breaker is open."""
        self._skipped.setdefault(source, Counter())[kind] += 1

    def report(self) -> list[str]:
        """One line per source given up on, saying what was skipped."""
        lines = []
        for source, kinds in sorted(self._skipped.items()):
            what = ", ".join(f"{n} {_plural(kind, n)}" for kind, n in sorted(kinds.items()))
            lines.append(
                f"{source}: given up after {self.threshold} failures in a row; "
                f"skipped {what} (the next run does them)"
            )
        return lines
