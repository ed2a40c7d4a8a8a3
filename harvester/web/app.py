"""The review web app: the page, and the JSON API it uses, over ``harvester.review``.

Decisions go through ``review.accept``/``reject``/``set_fields``/``undo`` with the reviewer's
name as ``who``, so the ``decisions`` rows are the ones the CLI writes. Each decision quotes
the paper's ``version`` from when the page loaded; the library refuses it (HTTP 409) when
anyone decided on the paper since. No route fetches from the network, starts a harvest or
writes anywhere but the database.

Each request opens its own SQLite connection: Starlette runs the handlers' database work on
worker threads, and one connection shared across threads would interleave transactions.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from sqlite_utils import Database
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from harvester import review, screening, store
from harvester.errors import HarvesterError
from harvester.rules import Rules
from harvester.seeds import Seeds
from harvester.web import data, pages
from harvester.web.security import (
    CSRF_FIELD,
    CSRF_HEADER,
    REVIEWER_COOKIE,
    SESSION_COOKIE,
    BodyLimit,
    Csrf,
    Guard,
    clean_reviewer,
    new_session,
    reviewer_cookie,
    reviewer_of,
    session_of,
    set_cookie,
)

STATIC = Path(__file__).parent / "static"
MAX_BODY = 64 * 1024
MAX_TEXT = 2000
DECIDE_ACTIONS = ("accept", "reject", "set")
# /api/queue answers a page of the queue: this many papers unless asked, never more than the max.
QUEUE_PAGE = 50
MAX_QUEUE_PAGE = 1000


class Refused(Exception):
    """A request the API turns down: its HTTP status and the one line that says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class ReviewApp:
    """The handlers, with what they share: the database path, the seeds, the CSRF secret."""

    def __init__(
        self,
        db_path: Path,
        rules: Rules,
        *,
        csrf_secret: bytes | None = None,
    ) -> None:
        self.db_path = db_path
        self.rules = rules
        self.seeds = rules.seeds
        self.csrf = Csrf(csrf_secret)

    @contextmanager
    def db(self) -> Iterator[Database]:
        db = store.open_db(self.db_path)
        try:
            yield db
        finally:
            db.close()

    # --- the page ---------------------------------------------------------------------

    async def index(self, request: Request) -> Response:
        session = session_of(request) or new_session()
        reviewer = reviewer_of(request)
        params = dict(request.query_params)
        ctx = await run_in_threadpool(self._page_context, params, session, reviewer)
        response = HTMLResponse(pages.page(ctx))
        if session_of(request) is None:
            set_cookie(response, SESSION_COOKIE, session)
        return response

    def _page_context(
        self, params: dict[str, str], session: str, reviewer: str | None
    ) -> pages.PageContext:
        message = None
        try:
            filters = data.Filters.read(params, self.seeds)
        except HarvesterError as exc:
            filters, message = data.Filters(), str(exc)
        with self.db() as db:
            queue = data.queue_page(db, self.seeds, filters, limit=pages.QUEUE_SHOWN)
            items = queue.items
            ids = [i.id for i in items]
            row = None
            wanted = params.get("paper", "")
            if wanted:
                found = (
                    store.papers.get_paper(db, int(wanted))
                    if wanted.isdigit() and 0 < int(wanted) < 2**63
                    else None
                )
                if found is not None:
                    row = found
                else:
                    message = f"no paper #{wanted}; showing the top of the queue"
            if row is None and items:
                row = _row(db, items[0].id)
            paper = data.paper(db, self.seeds, row) if row else None
            ctx = pages.PageContext(
                seeds=self.seeds,
                csrf=self.csrf.token(session),
                reviewer=reviewer,
                filters=filters,
                items=items,
                total=queue.total,
                dashboard=data.dashboard(db, self.seeds, queue.ranking),
                paper=paper,
                message=message,
                rename="rename" in params,
                stale=queue.stale or bool(paper and paper["ranking_stale"]),
            )
        if paper is not None:
            pid = paper["id"]
            position = ids.index(pid) if pid in ids else None
            later = [i for i in (ids[position + 1 :] if position is not None else ids) if i != pid]
            earlier = ids[:position] if position is not None else []
            ctx.position = position
            ctx.next_url = filters.url(paper=later[0]) if later else filters.url()
            ctx.prev_url = filters.url(paper=earlier[-1] if earlier else pid)
            # After a decision the page moves on as the CLI loop does: to the paper that
            # followed this one, else back to the top of the (re-ranked) queue.
            ctx.after_url = ctx.next_url
        return ctx

    async def set_reviewer(self, request: Request) -> Response:
        # A plain urlencoded form, parsed here: Starlette's form parser needs python-multipart.
        raw = await request.body()  # at most MAX_BODY bytes: BodyLimit
        form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
        token = form.get(CSRF_FIELD)
        if not self.csrf.valid(session_of(request), token):
            return HTMLResponse(
                pages.error_page("refused: the form had no valid CSRF token; reload the page"),
                status_code=403,
            )
        try:
            reviewer = clean_reviewer(form.get("name", ""))
        except HarvesterError as exc:
            return HTMLResponse(pages.error_page(str(exc)), status_code=400)
        response = RedirectResponse("/", status_code=303)
        set_cookie(response, REVIEWER_COOKIE, reviewer_cookie(reviewer))
        return response

    # --- the JSON API -----------------------------------------------------------------

    async def api_session(self, request: Request) -> Response:
        session = session_of(request) or new_session()
        response = JSONResponse(
            {"csrf": self.csrf.token(session), "reviewer": reviewer_of(request)}
        )
        if session_of(request) is None:
            set_cookie(response, SESSION_COOKIE, session)
        return response

    async def api_queue(self, request: Request) -> Response:
        params = dict(request.query_params)
        limit = _int(params.get("limit"), "limit", minimum=1) if params.get("limit") else None
        limit = min(limit or QUEUE_PAGE, MAX_QUEUE_PAGE)
        offset = _int(params.get("offset"), "offset", minimum=0) if params.get("offset") else 0
        order = params.get("order") or "likely"
        if order not in review.ORDERS:
            raise Refused(400, f"order must be one of {', '.join(review.ORDERS)}")

        def work() -> dict[str, Any]:
            filters = _read_filters(params, self.seeds)
            with self.db() as db:
                page = data.queue_page(
                    db, self.seeds, filters, limit=limit, offset=offset, order=order
                )
                return data.queue_json(db, page, limit=limit, offset=offset) | {
                    "status": filters.status,
                    "category": filters.category,
                    "q": filters.q,
                    "order": order,
                }

        return JSONResponse(await run_in_threadpool(work))

    async def api_paper(self, request: Request) -> Response:
        paper_id = int(request.path_params["paper_id"])
        return JSONResponse(await run_in_threadpool(self._paper_json, paper_id))

    def _paper_json(self, paper_id: int) -> dict[str, Any]:
        with self.db() as db:
            row = _row(db, paper_id)
            return data.paper(db, self.seeds, row)

    async def api_decide(self, request: Request) -> Response:
        body, who = await self._post(request)
        paper_id = _int(body.get("paper_id"), "paper_id", minimum=1)
        version = _int(body.get("version"), "version", minimum=0)
        action = body.get("action")
        if action not in DECIDE_ACTIONS:
            raise Refused(400, f"action must be one of {', '.join(DECIDE_ACTIONS)}")
        text = {k: _text(body.get(k), k) for k in ("category", "focus", "note", "reason")}
        milestone = _text(body.get("milestone"), "milestone")

        def work() -> dict[str, Any]:
            with self.db() as db:
                _row(db, paper_id)
                ident = str(paper_id)
                if action == "accept":
                    review.accept(
                        db,
                        self.seeds,
                        ident,
                        category=text["category"],
                        focus=text["focus"],
                        note=text["note"],
                        who=who,
                        expected_version=version,
                    )
                elif action == "reject":
                    review.reject(
                        db, ident, reason=text["reason"], who=who, expected_version=version
                    )
                else:
                    if all(
                        v is None
                        for v in (text["category"], text["focus"], text["note"], milestone)
                    ):
                        raise Refused(400, "set needs category, focus, note or milestone")
                    review.set_fields(
                        db,
                        self.rules,
                        ident,
                        category=text["category"],
                        focus=text["focus"],
                        note=text["note"],
                        milestone=milestone,
                        who=who,
                        expected_version=version,
                    )
                row = _row(db, paper_id)
                return {"paper": data.paper(db, self.seeds, row, decided=True)}

        return JSONResponse(await run_in_threadpool(work), background=self._retrain())

    async def api_undo(self, request: Request) -> Response:
        _, who = await self._post(request)

        def work() -> dict[str, Any]:
            with self.db() as db:
                rows = review.undo(db, who=who, by=who)
                paper_id = rows[0]["paper_id"]
                row = _row(db, paper_id)
                return {
                    "undone": {
                        "action": rows[0]["action"],
                        "kind": rows[0]["kind"],
                        "paper_id": paper_id,
                        "fields": [r["field"] for r in rows if r["field"] != "manual_fields"],
                    },
                    "paper": data.paper(db, self.seeds, row, decided=True),
                }

        return JSONResponse(await run_in_threadpool(work), background=self._retrain())

    def _retrain(self) -> BackgroundTask:
        """Start the training for the new decision once the answer is sent: the page's next
        reads are ranked by the order held before (and say so) until it is ready."""

        def work() -> None:
            with self.db() as db:
                screening.order_now(db, self.seeds)

        return BackgroundTask(run_in_threadpool, work)

    async def _post(self, request: Request) -> tuple[dict[str, Any], str]:
        """The JSON body of a state-changing request and who sends it, or ``Refused``."""
        if not self.csrf.valid(session_of(request), request.headers.get(CSRF_HEADER)):
            raise Refused(
                403,
                "refused: missing or wrong CSRF token (reload the page; scripts get one from"
                " GET /api/session and send it as X-CSRF-Token)",
            )
        who = reviewer_of(request)
        if who is None:
            raise Refused(400, "who is deciding? set your name first (POST /reviewer)")
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            raise Refused(415, "send JSON (Content-Type: application/json)")
        raw = await request.body()  # at most MAX_BODY bytes: BodyLimit
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            raise Refused(400, "the body is not valid JSON") from None
        if not isinstance(body, dict):
            raise Refused(400, "the body must be a JSON object")
        return body, who

    async def favicon(self, request: Request) -> Response:
        return Response(status_code=204)


def _read_filters(params: dict[str, str], seeds: Seeds) -> data.Filters:
    try:
        return data.Filters.read(params, seeds)
    except HarvesterError as exc:
        raise Refused(400, str(exc)) from None


def _row(db: Database, paper_id: int) -> dict[str, Any]:
    if not 0 < paper_id < 2**63:  # beyond SQLite's integers: no such row, and no OverflowError
        raise Refused(404, f"no paper #{paper_id}")
    row = store.papers.get_paper(db, paper_id)
    if row is None:
        raise Refused(404, f"no paper #{paper_id}")
    return row


def _int(value: Any, name: str, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise Refused(400, f"{name}: a whole number, please")
    try:
        number = int(value)
    except ValueError:
        raise Refused(400, f"{name}: a whole number, please") from None
    if number < minimum:
        raise Refused(400, f"{name}: at least {minimum}")
    return number


def _text(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise Refused(400, f"{name}: a string, please")
    if len(value) > MAX_TEXT:
        raise Refused(400, f"{name}: at most {MAX_TEXT} characters")
    return value.strip()


def _error_response(request: Request, status: int, message: str) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": message}, status_code=status)
    return HTMLResponse(pages.error_page(message), status_code=status)


def _handlers() -> dict[Any, Callable[[Request, Exception], Response]]:
    def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Refused)
        return _error_response(request, exc.status, exc.message)

    def stale(request: Request, exc: Exception) -> Response:
        return _error_response(request, 409, str(exc))

    def harvester_error(request: Request, exc: Exception) -> Response:
        return _error_response(request, 400, str(exc))

    # Starlette picks the handler of the most specific class, so StaleDecision (a
    # ReviewError) gets 409 and every other HarvesterError 400.
    return {
        Refused: refused,
        review.StaleDecision: stale,
        HarvesterError: harvester_error,
    }


def create_app(
    db_path: Path,
    rules: Rules,
    *,
    token: str | None = None,
    loopback_only: bool = True,
    csrf_secret: bytes | None = None,
) -> Starlette:
    """The review app over ``db_path``.

    ``loopback_only`` answers only requests addressed to a loopback name (set it when the
    server listens on 127.0.0.1 without a token); ``token``, when given, is required on every
    request. ``csrf_secret`` is random per process unless a test fixes it.
    """
    store.open_db(db_path).close()  # schema up to date before the first request
    handlers = ReviewApp(db_path, rules, csrf_secret=csrf_secret)
    routes = [
        Route("/", handlers.index, methods=["GET"]),
        Route("/reviewer", handlers.set_reviewer, methods=["POST"]),
        Route("/api/session", handlers.api_session, methods=["GET"]),
        Route("/api/queue", handlers.api_queue, methods=["GET"]),
        Route("/api/paper/{paper_id:int}", handlers.api_paper, methods=["GET"]),
        Route("/api/decide", handlers.api_decide, methods=["POST"]),
        Route("/api/undo", handlers.api_undo, methods=["POST"]),
        Route("/favicon.ico", handlers.favicon, methods=["GET"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    return Starlette(
        routes=routes,
        middleware=[
            Middleware(Guard, token=token, loopback_only=loopback_only and not token),
            Middleware(BodyLimit, max_body=MAX_BODY, respond=_error_response),
        ],
        exception_handlers=_handlers(),
    )
