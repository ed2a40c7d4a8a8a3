"""What keeps the review page safe to run: who may connect, and which requests may write.

- Bound to loopback (the default), the app only answers requests whose ``Host`` is a
  loopback name, so a web page elsewhere cannot reach it through DNS rebinding.
- Bound beyond loopback, a token is required (``--token`` or ``HARVESTER_TOKEN``) and every
  request must carry it: ``Authorization: Bearer …``, or the cookie a browser gets by opening
  ``/?token=…`` once.
- Every state-changing request is a POST with a CSRF token (an HMAC of the browser's session
  cookie under a secret that lives only in the server process), and a POST whose ``Origin``
  is another site is refused before that.
- A request body larger than the app takes is refused (413) before it is read, on every
  route: by its Content-Length, or as soon as a streamed body passes the limit.
- Every response carries a Content Security Policy that allows only the app's own script and
  style, so even a paper title that slipped through escaping could not run code.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
from collections.abc import Callable
from urllib.parse import quote, unquote, urlencode, urlsplit

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from harvester.errors import ConfigError
from harvester.review import ReviewError

SESSION_COOKIE = "harvester_session"
TOKEN_COOKIE = "harvester_token"
REVIEWER_COOKIE = "harvester_reviewer"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf"
MIN_TOKEN_LENGTH = 16
MAX_REVIEWER_LENGTH = 60

SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self';"
        " connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    # Nothing about the page travels to arXiv or Semantic Scholar through a link. Not
    # "no-referrer": with it browsers send "Origin: null" on the page's own form posts.
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "cache-control": "no-store",
}


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or address, IPv6 with or without brackets) is this machine."""
    name = host.strip().strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """Refuse to listen beyond loopback without a token, or with one that is easy to guess."""
    if token is not None and len(token) < MIN_TOKEN_LENGTH:
        raise ConfigError(
            f"--token: at least {MIN_TOKEN_LENGTH} characters (for example the output of"
            " python3 -c 'import secrets; print(secrets.token_urlsafe())')"
        )
    if not is_loopback(host) and not token:
        raise ConfigError(
            f"--host {host}: the page would be reachable from other machines; give --token"
            " (or HARVESTER_TOKEN) so every request must carry it"
        )


def _host_name(header: str) -> str:
    """The name in a ``Host`` header, without its port."""
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def _same_token(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


class Csrf:
    """CSRF tokens bound to a browser's session cookie; the secret never leaves the process.

    An attacker's page can make a browser send its cookies but cannot read the token from our
    page (same-origin policy) nor compute it, so a forged POST carries no valid token.
    """

    def __init__(self, secret: bytes | None = None) -> None:
        self._secret = secret or secrets.token_bytes(32)

    def token(self, session: str) -> str:
        return hmac.new(self._secret, session.encode(), hashlib.sha256).hexdigest()

    def valid(self, session: str | None, token: str | None) -> bool:
        return bool(session) and _same_token(token, self.token(session or ""))


def new_session() -> str:
    return secrets.token_urlsafe(32)


def session_of(request: Request) -> str | None:
    value = request.cookies.get(SESSION_COOKIE)
    return value if value and re.fullmatch(r"[A-Za-z0-9_-]{20,100}", value) else None


def set_cookie(response: Response, name: str, value: str) -> None:
    """A cookie scripts cannot read and other sites never make the browser send."""
    response.set_cookie(name, value, httponly=True, samesite="strict", path="/")


def clean_reviewer(name: str) -> str:
    """A reviewer's name as the audit trail keeps it: printable, one line, not too long."""
    text = " ".join("".join(c for c in name if c.isprintable()).split())
    if not text:
        raise ReviewError("give your name: it goes into the audit trail with each decision")
    if len(text) > MAX_REVIEWER_LENGTH:
        raise ReviewError(f"a name of at most {MAX_REVIEWER_LENGTH} characters, please")
    return text


def reviewer_of(request: Request) -> str | None:
    value = request.cookies.get(REVIEWER_COOKIE)
    if not value:
        return None
    try:
        return clean_reviewer(unquote(value))
    except ReviewError:
        return None


def reviewer_cookie(name: str) -> str:
    # Cookie values must be ASCII without separators; names need not be.
    return quote(name, safe="")


class Guard:
    """ASGI middleware: Host and token checks, cross-site POSTs refused, security headers."""

    def __init__(self, app: ASGIApp, *, token: str | None, loopback_only: bool) -> None:
        self.app = app
        self.token = token
        # The browser keeps a digest, not the token: any token text makes a valid cookie
        # value, and the cookie jar never holds the secret itself.
        self.cookie = hashlib.sha256(token.encode()).hexdigest() if token else None
        self.loopback_only = loopback_only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        refusal = self.refusal(Request(scope))
        if refusal is not None:
            await refusal(scope, receive, send_secured)
            return
        await self.app(scope, receive, send_secured)

    def refusal(self, request: Request) -> Response | None:
        """The response that turns the request away, or None to let it through."""
        host = request.headers.get("host", "")
        if self.loopback_only and not is_loopback(_host_name(host)):
            return PlainTextResponse(
                f"refused: Host {host!r} is not this machine (the review page answers only"
                " http://127.0.0.1 or http://localhost unless started with --token)",
                status_code=400,
            )
        if self.token is not None and self.cookie is not None:
            query_token = request.query_params.get("token")
            if query_token is not None and request.method in ("GET", "HEAD"):
                if not _same_token(query_token, self.token):
                    return PlainTextResponse("refused: wrong token", status_code=401)
                # Trade the token in the address for a cookie, and drop it from the address
                # bar and history.
                params = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
                # One leading slash: "//host" would send the browser to another site.
                target = "/" + request.url.path.lstrip("/")
                target += f"?{urlencode(params)}" if params else ""
                response = RedirectResponse(target, status_code=303)
                set_cookie(response, TOKEN_COOKIE, self.cookie or "")
                return response
            bearer = request.headers.get("authorization", "")
            given = bearer[7:] if bearer.lower().startswith("bearer ") else None
            if not (
                _same_token(given, self.token)
                or _same_token(request.cookies.get(TOKEN_COOKIE), self.cookie)
            ):
                return PlainTextResponse(
                    "refused: this page needs its token: open /?token=… once, or send"
                    " 'Authorization: Bearer …'",
                    status_code=401,
                )
        if request.method not in ("GET", "HEAD"):
            origin = request.headers.get("origin")
            if origin is not None and urlsplit(origin).netloc != host:
                return PlainTextResponse(
                    f"refused: a request from {origin!r}, another site", status_code=403
                )
        return None


class _BodyTooLarge(Exception):
    """Raised from ``receive`` when a streamed body passes the limit."""


class BodyLimit:
    """ASGI middleware: at most ``max_body`` bytes of request body, for every route.

    A handler that reads the body (``await request.body()``) would hold all of it in memory
    before it could look at its size; here a declared length over the limit is refused
    without reading a byte, and a body without one is counted as it arrives and refused at
    the chunk that passes the limit.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body: int,
        respond: Callable[[Request, int, str], Response],
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.respond = respond

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        message = f"refused: a request body of at most {self.max_body} bytes"
        declared = Request(scope).headers.get("content-length", "")
        # Length first: int() refuses strings of thousands of digits.
        if declared.isdigit() and (len(declared) > 18 or int(declared) > self.max_body):
            await self.respond(Request(scope), 413, message)(scope, receive, send)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            chunk = await receive()
            if chunk["type"] == "http.request":
                received += len(chunk.get("body", b""))
                if received > self.max_body:
                    raise _BodyTooLarge
            return chunk

        async def watched(reply: Message) -> None:
            nonlocal started
            started = started or reply["type"] == "http.response.start"
            await send(reply)

        try:
            await self.app(scope, counted, watched)
        except _BodyTooLarge:
            if started:
                raise
            await self.respond(Request(scope), 413, message)(scope, receive, send)
