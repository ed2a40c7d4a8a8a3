"""Configuration: built-in defaults, then ``harvester.toml``, then environment variables.

Every key has a default so the tool runs with no file at all; the environment wins over the
file because cron jobs and CI set variables more easily than they edit files.
"""

from __future__ import annotations

import dataclasses
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit, urlunsplit

from harvester import redact
from harvester.errors import ConfigError

DEFAULT_CONFIG_FILE = "harvester.toml"


@dataclass(frozen=True)
class Config:
    """Everything a run needs to know that is not in the seeds.

    Paths are kept as given (relative to the working directory) so messages show what the
    user typed.
    """

    db: Path = Path("db/harvester.db")
    reports: Path = Path("reports")
    seeds: Path = Path("seeds")
    contact: str = "harvester-maintainers@users.noreply.github.com"
    max_per_query: int = 10_000
    arxiv_url: str = "https://export.arxiv.org/api/query"
    # arXiv's terms of use: no more than one request every three seconds.
    arxiv_delay: float = 3.0
    # arXiv serves at most 2,000 entries per call; larger pages mean fewer requests.
    arxiv_page_size: int = 2000
    s2_url: str = "https://api.semanticscholar.org/graph/v1"
    # Semantic Scholar's recommendations API; None: beside s2_url (``s2_recommendations_url``).
    s2_recs_url: str | None = None
    # With a key Semantic Scholar allows one request per second across all endpoints.
    s2_delay: float = 1.0
    s2_api_key: str | None = field(default=None, repr=False)
    timeout: float = 60.0
    retries: int = 4
    backoff_max: float = 60.0
    milestone_citations: int = 100
    # Citation snowballing from accepted papers (see harvester.snowball).
    snowball_depth: int = 1
    snowball_min_score: float = 8.0
    # Accepted papers of one category a neighbour links to that make it a candidate in plain
    # words (0: only the score decides); tuned on the field corpus's dev split.
    snowball_min_links: int = 3
    snowball_cap: int = 1000
    # The references of every paper stored whose references were never read, the edges
    # between stored papers kept (see harvester.references), for papers scoring at least
    # references_min_score.
    references: bool = True
    references_min_score: float = 0.0
    # Papers asked of Semantic Scholar's recommendations per category (see harvester.recommend);
    # 0 turns the channel off.
    recommend_limit: int = 100
    # A category with no accepted paper asks with this many of its best keyword matches
    # scoring at least recommend_match_score (0: it waits for an accepted paper); tuned on
    # the field corpus's dev split.
    recommend_matches: int = 3
    recommend_match_score: float = 12.0
    # Incremental runs re-read this many days below a query's newest date: arXiv and S2
    # index late (replacements, late metadata), so the edge is read twice, never missed.
    overlap_days: int = 7
    # Citation counts move slowly; refreshing each paper weekly keeps a daily run cheap.
    refresh_days: int = 7
    # A source that failed this many steps in a row is given up for the rest of the run.
    breaker_failures: int = 3
    # A lock whose heartbeat is older than this (seconds) belongs to a dead harvest.
    stale_lock_after: float = 600.0

    def __post_init__(self) -> None:
        self._check_key()
        for key in _FLOAT_KEYS:
            # inf and nan pass every comparison below or fail it for the wrong reason, and
            # an infinite delay or timeout only fails deep inside a run (OverflowError).
            if not math.isfinite(getattr(self, key)):
                _refuse(key, f"{key} = {getattr(self, key)!r} must be a finite number")
        # Upper bounds keep every value within what timers, dates and SQLite integers can
        # hold (timedelta(days=10**9) overflows), and far above any sensible setting.
        checks: list[tuple[str, bool, str]] = [
            ("max_per_query", self.max_per_query > 0, "must be a positive integer"),
            ("max_per_query", self.max_per_query <= 1_000_000, "must be at most 1000000"),
            ("arxiv_delay", self.arxiv_delay >= 0, "must be zero or more seconds"),
            ("arxiv_delay", self.arxiv_delay <= 3600, "must be at most 3600 seconds"),
            ("s2_delay", self.s2_delay >= 0, "must be zero or more seconds"),
            ("s2_delay", self.s2_delay <= 3600, "must be at most 3600 seconds"),
            ("arxiv_page_size", 1 <= self.arxiv_page_size <= 2000, "must be 1 to 2000"),
            ("timeout", self.timeout > 0, "must be more than zero seconds"),
            ("timeout", self.timeout <= 3600, "must be at most 3600 seconds"),
            ("retries", self.retries >= 0, "must be zero or more"),
            ("retries", self.retries <= 100, "must be at most 100"),
            ("backoff_max", self.backoff_max >= 0, "must be zero or more seconds"),
            ("backoff_max", self.backoff_max <= 3600, "must be at most 3600 seconds"),
            ("milestone_citations", self.milestone_citations >= 0, "must be zero or more"),
            (
                "milestone_citations",
                self.milestone_citations <= 1_000_000_000,
                "must be at most 1000000000",
            ),
            ("snowball_depth", 0 <= self.snowball_depth <= 3, "must be 0 (off) to 3"),
            ("snowball_min_score", abs(self.snowball_min_score) <= 1e6, "must be within ±1e6"),
            ("snowball_min_links", 0 <= self.snowball_min_links <= 1000, "must be 0 to 1000"),
            ("snowball_cap", self.snowball_cap > 0, "must be a positive integer"),
            ("snowball_cap", self.snowball_cap <= 1_000_000, "must be at most 1000000"),
            (
                "references_min_score",
                abs(self.references_min_score) <= 1e6,
                "must be within ±1e6",
            ),
            ("recommend_limit", 0 <= self.recommend_limit <= 500, "must be 0 (off) to 500"),
            ("recommend_matches", 0 <= self.recommend_matches <= 100, "must be 0 (off) to 100"),
            (
                "recommend_match_score",
                abs(self.recommend_match_score) <= 1e6,
                "must be within ±1e6",
            ),
            ("contact", bool(self.contact.strip()), "must not be empty"),
            (
                "contact",
                all(" " <= c < "\x7f" for c in self.contact),
                "must be printable ASCII on one line (an e-mail address): it goes into every"
                " request's User-Agent header",
            ),
            ("arxiv_url", _is_http_url(self.arxiv_url), "must be an http:// or https:// URL"),
            ("s2_url", _is_http_url(self.s2_url), "must be an http:// or https:// URL"),
            (
                "s2_recs_url",
                self.s2_recs_url is None or _is_http_url(self.s2_recs_url),
                "must be an http:// or https:// URL",
            ),
            ("overlap_days", self.overlap_days >= 0, "must be zero or more days"),
            ("overlap_days", self.overlap_days <= 3650, "must be at most 3650 days"),
            ("refresh_days", self.refresh_days >= 0, "must be zero or more days"),
            ("refresh_days", self.refresh_days <= 3650, "must be at most 3650 days"),
            ("breaker_failures", self.breaker_failures >= 1, "must be 1 or more"),
            ("breaker_failures", self.breaker_failures <= 1000, "must be at most 1000"),
            ("stale_lock_after", self.stale_lock_after >= 10, "must be 10 seconds or more"),
            (
                "stale_lock_after",
                self.stale_lock_after <= 604_800,
                "must be at most 604800 seconds (a week)",
            ),
        ]
        for key, ok, why in checks:
            if not ok:
                _refuse(key, f"{key} = {getattr(self, key)!r} {why}")

    def _check_key(self) -> None:
        """Strip the key and refuse one that cannot be a header value, never showing it."""
        key = self.s2_api_key
        if key is None:
            return
        # A CRLF env file or a pasted secret brings a trailing "\r", "\n" or spaces; sent as
        # is, the HTTP library refuses the header and quotes the key in its error.
        key = key.strip()
        object.__setattr__(self, "s2_api_key", key or None)
        redact.register(key)
        for position, char in enumerate(key, 1):
            if not " " <= char < "\x7f":
                kind = "non-ASCII" if char > "\x7f" else "control"
                _refuse(
                    "s2_api_key",
                    f"the Semantic Scholar key has a {kind} character (at position {position});"
                    " set it again without it (the key is not shown)",
                )

    @property
    def s2_recommendations_url(self) -> str:
        """The recommendations API: as configured, else beside the Graph API (``s2_url``), so
        one variable moves both to a proxy or a test server."""
        return self.s2_recs_url or recommendations_url(self.s2_url)

    @property
    def user_agent(self) -> str:
        """Both services ask clients to name themselves and give a way to reach a human."""
        from harvester import __version__

        return f"harvester/{__version__} (mailto:{self.contact})"


def _refuse(key: str, message: str) -> NoReturn:
    error = ConfigError(message)
    error.key = key
    raise error


def recommendations_url(s2_url: str) -> str:
    """The recommendations API beside a Graph API URL: same origin, ``/recommendations/v1``.

    ``https://api.semanticscholar.org/graph/v1`` gives
    ``https://api.semanticscholar.org/recommendations/v1``; a path before ``/graph/v1`` (a
    proxy's prefix) is kept.
    """
    parts = urlsplit(s2_url.rstrip("/"))
    prefix = parts.path.removesuffix("/graph/v1") if parts.path.endswith("/graph/v1") else ""
    return urlunsplit((parts.scheme, parts.netloc, f"{prefix}/recommendations/v1", "", ""))


def _is_http_url(url: str) -> bool:
    if any(c <= " " or c >= "\x7f" for c in url):
        return False
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


# Environment variable -> config key. DESIGN.md fixes these names; they are public.
ENV_VARS: dict[str, str] = {
    "HARVESTER_DB": "db",
    "HARVESTER_REPORTS": "reports",
    "HARVESTER_SEEDS": "seeds",
    "HARVESTER_ARXIV_URL": "arxiv_url",
    "HARVESTER_ARXIV_DELAY": "arxiv_delay",
    "HARVESTER_S2_URL": "s2_url",
    "HARVESTER_S2_DELAY": "s2_delay",
    "HARVESTER_S2_RECS_URL": "s2_recs_url",
    "S2_API_KEY": "s2_api_key",
}

_FIELDS = {f.name: f for f in dataclasses.fields(Config)}
_FLOAT_KEYS = [name for name, f in _FIELDS.items() if isinstance(f.default, float)]
# The key is a secret: it may come from the environment only, never from a committed file.
_FILE_KEYS = sorted(set(_FIELDS) - {"s2_api_key"})


def _coerce(key: str, value: Any, where: str) -> Any:
    """Turn a TOML or environment value into the field's type, or say where it is wrong."""
    default = _FIELDS[key].default
    try:
        if isinstance(default, bool):
            raise TypeError
        if isinstance(default, Path):
            if not isinstance(value, str | Path) or not str(value):
                raise TypeError
            return Path(value)
        if isinstance(default, int):
            if isinstance(value, bool):
                raise TypeError
            if isinstance(value, str):
                return int(value.strip())
            if isinstance(value, int):
                return value
            raise TypeError
        if isinstance(default, float):
            if isinstance(value, bool):
                raise TypeError
            return float(value)
        if not isinstance(value, str):
            raise TypeError
        return value
    except (TypeError, ValueError):
        kind = type(default).__name__ if default is not None else "str"
        kind = "path" if isinstance(default, Path) else kind
        raise ConfigError(f"{where}: {key} = {value!r} is not a valid {kind}") from None


def _read_toml(path: Path) -> dict[str, Any]:
    """The file's TOML, or one line naming the file, the line and what is wrong."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{path}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02x}); save it as UTF-8"
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def load_config(
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Config:
    """Build the run's Config from defaults, the TOML file, the environment and CLI overrides.

    ``path`` None means ``harvester.toml`` in the working directory if it exists; a path
    given explicitly must exist.
    """
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    origin: dict[str, str] = {}

    explicit = path is not None
    path = path or Path(DEFAULT_CONFIG_FILE)
    if path.exists():
        data = _read_toml(path)
        table = data.get("harvester", data)
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: harvester must be a table of settings ([harvester])")
        for key, value in table.items():
            if key not in _FILE_KEYS:
                if key == "s2_api_key":
                    raise ConfigError(
                        f"{path}: put the Semantic Scholar key in S2_API_KEY, not in a file"
                    )
                raise ConfigError(f"{path}: unknown key {key!r} (known: {', '.join(_FILE_KEYS)})")
            values[key] = _coerce(key, value, str(path))
            origin[key] = str(path)
    elif explicit:
        raise ConfigError(f"{path}: config file not found")

    for var, key in ENV_VARS.items():
        raw = environ.get(var)
        if raw is not None and raw != "":
            values[key] = _coerce(key, raw, var)
            origin[key] = var

    for key, value in (overrides or {}).items():
        if value is not None:
            option = f"--{key.replace('_', '-')}"
            values[key] = _coerce(key, value, option)
            origin[key] = option

    try:
        return Config(**values)
    except ConfigError as exc:
        where = origin.get(getattr(exc, "key", ""), "config")
        raise ConfigError(f"{where}: {exc}") from None
