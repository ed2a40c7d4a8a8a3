"""The review page's JSON API and its guards, over HTTP with httpx (no browser)."""

from __future__ import annotations

import asyncio
import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import httpx
import pytest
from click.testing import CliRunner

from harvester import review, store
from harvester.cli import cli
from harvester.rules import Rules
from harvester.web import app as web_app
from harvester.web.security import REVIEWER_COOKIE, SESSION_COOKIE, Csrf
from tests import sample_db
from tests.conftest import ROOT, SEEDS
from tests.web_helpers import copy_db, decision_rows, live_app

TOKEN = "correct-horse-battery-staple-42"


class Reviewer:
    """One person's browser session, as a script would hold it: cookies and a CSRF token."""

    def __init__(self, base: str, name: str | None, **client_options: object) -> None:
        self.client = httpx.Client(base_url=base, timeout=10, **client_options)  # type: ignore[arg-type]
        self.csrf = self.client.get("/api/session").json()["csrf"]
        if name is not None:
            answer = self.client.post("/reviewer", data={"name": name, "csrf": self.csrf})
            assert answer.status_code == 303, answer.text

    def post(self, path: str, body: dict, **headers: str) -> httpx.Response:
        return self.client.post(path, json=body, headers={"X-CSRF-Token": self.csrf, **headers})

    def paper(self, paper_id: int) -> dict:
        answer = self.client.get(f"/api/paper/{paper_id}")
        assert answer.status_code == 200, answer.text
        return answer.json()

    def decide(self, paper_id: int, action: str, **fields: object) -> httpx.Response:
        version = self.paper(paper_id)["version"]
        return self.post(
            "/api/decide", {"paper_id": paper_id, "version": version, "action": action, **fields}
        )


@pytest.fixture
def served(tmp_path: Path, corpus_db: Path, seeds) -> Iterator[tuple[str, Path]]:
    path = copy_db(corpus_db, tmp_path / "db" / "harvester.db")
    with live_app(path, seeds) as base:
        yield base, path


@pytest.fixture
def sample(tmp_path: Path, seeds) -> Iterator[tuple[str, Path]]:
    path = tmp_path / "sample.db"
    sample_db.build_file(path, seeds).close()
    with live_app(path, seeds) as base:
        yield base, path


def pending_ids(path: Path, seeds, n: int) -> list[int]:
    db = store.open_db(path)
    try:
        return [i.id for i in review.queue(db, seeds, limit=n, explain=False)]
    finally:
        db.close()


# --- reading ------------------------------------------------------------------------------


def test_queue_is_the_review_queue_best_first(served, seeds):
    base, path = served
    answer = httpx.get(f"{base}/api/queue")
    assert answer.status_code == 200
    body = answer.json()
    db = store.open_db(path)
    expected = review.queue(db, seeds)
    assert body["total"] == len(expected) == 97
    # A page of the queue unless asked for more: the first 50.
    assert [i["id"] for i in body["items"]] == [i.id for i in expected[:50]]
    first, top = body["items"][0], expected[0].as_json()
    assert first["version"] == 0
    assert {k: v for k, v in first.items() if k not in ("why", "version")} == {
        k: v for k, v in top.items() if k != "why"
    }


def test_queue_filters_by_status_category_and_search(served, seeds):
    base, path = served
    db = store.open_db(path)
    accepted = httpx.get(f"{base}/api/queue", params={"status": "accepted"}).json()
    assert {i["id"] for i in accepted["items"]} == {
        r["id"] for r in db.query("SELECT id FROM papers WHERE status = 'accepted'")
    }
    compiler = httpx.get(f"{base}/api/queue", params={"category": "compiler"}).json()
    assert compiler["count"] > 0
    assert {i["suggested_category"] for i in compiler["items"]} == {"compiler"}
    found = httpx.get(f"{base}/api/queue", params={"q": "patience"}).json()
    assert found["count"] >= 1
    assert all(
        "patience" in (db.table("papers").get(i["id"])["abstract"] + i["title"]).lower()
        for i in found["items"]
    )
    # Whatever a person types is searched as words, never parsed as FTS5 syntax.
    odd = httpx.get(f"{base}/api/queue", params={"q": '"early (exit* -'})
    assert odd.status_code == 200
    assert odd.json()["count"] >= 1
    limited = httpx.get(f"{base}/api/queue", params={"limit": 2}).json()
    assert limited["count"] == 97 and len(limited["items"]) == 2
    bad = httpx.get(f"{base}/api/queue", params={"status": "maybe"})
    assert bad.status_code == 400 and "unknown status" in bad.json()["error"]
    assert httpx.get(f"{base}/api/queue", params={"category": "nope"}).status_code == 400


def test_paper_gives_what_the_page_shows(served, seeds):
    base, path = served
    paper_id = pending_ids(path, seeds, 1)[0]
    paper = httpx.get(f"{base}/api/paper/{paper_id}").json()
    db = store.open_db(path)
    row = db.table("papers").get(paper_id)
    assert paper["title"] == row["title"] and paper["authors"] == json.loads(row["authors"])
    assert paper["proposed_category"] == review.shown_category(db, seeds, row)
    assert paper["why"] == [review.ranking_line(db, seeds, paper_id), *review.why(db, seeds, row)]
    assert paper["version"] == 0 and paper["status"] == "pending"
    assert [link["label"] for link in paper["links"]][:2] == ["arXiv", "PDF"]
    assert all(link["url"].startswith("https://") for link in paper["links"])
    # This corpus has no citation graph: the API says so rather than inventing links.
    assert paper["citation_links"] == [] and "No citation links" in paper["citation_links_note"]
    missing = httpx.get(f"{base}/api/paper/999999")
    assert missing.status_code == 404 and missing.json() == {"error": "no paper #999999"}


# --- deciding -----------------------------------------------------------------------------


def test_decisions_write_the_same_audit_rows_as_the_cli(served, corpus_db, tmp_path, seeds):
    base, path = served
    x, y, z = pending_ids(path, seeds, 3)
    ada = Reviewer(base, "ada")
    assert ada.decide(x, "accept", category="early_exit", focus="exits").status_code == 200
    assert ada.decide(y, "reject", reason="look-alike").status_code == 200
    assert ada.decide(z, "set", category="system", note="check venue").status_code == 200
    assert ada.decide(z, "set", focus="runtime").status_code == 200
    undone = ada.post("/api/undo", {})
    assert undone.status_code == 200
    assert undone.json()["undone"]["paper_id"] == z
    assert undone.json()["undone"]["fields"] == ["focus"]

    # The same decisions through the command line, by a user called ada.
    twin = copy_db(corpus_db, tmp_path / "twin" / "harvester.db")
    env = {"HARVESTER_DB": str(twin), "HARVESTER_SEEDS": str(SEEDS), "USER": "ada"}
    for args in (
        ["accept", str(x), "--category", "early_exit", "--focus", "exits"],
        ["reject", str(y), "--reason", "look-alike"],
        ["set", str(z), "--category", "system", "--note", "check venue"],
        ["set", str(z), "--focus", "runtime"],
        ["undo"],
    ):
        result = CliRunner().invoke(cli, ["review", *args], env=env)
        assert result.exit_code == 0, result.output
    web_rows = decision_rows(store.open_db(path))
    assert web_rows == decision_rows(store.open_db(twin))
    assert {r[2] for r in web_rows} == {"ada"}


def test_a_stale_decision_is_refused_with_409(served, seeds):
    base, path = served
    paper_id = pending_ids(path, seeds, 1)[0]
    alice, bob = Reviewer(base, "alice"), Reviewer(base, "bob")
    seen = alice.paper(paper_id)["version"]
    assert bob.decide(paper_id, "accept", category="compiler").status_code == 200
    before = decision_rows(store.open_db(path))
    late = alice.post("/api/decide", {"paper_id": paper_id, "version": seen, "action": "reject"})
    assert late.status_code == 409
    assert re.search(
        r"changed since you loaded it \(bob: accept at .*\); nothing was changed",
        late.json()["error"],
    )
    db = store.open_db(path)
    assert decision_rows(db) == before
    assert db.table("papers").get(paper_id)["status"] == "accepted"
    # Reloaded, alice may decide again.
    assert alice.decide(paper_id, "reject").status_code == 200


def test_undo_takes_back_only_your_own_decisions_and_never_overwrites(served, seeds):
    base, path = served
    x, y = pending_ids(path, seeds, 2)
    alice, bob = Reviewer(base, "alice"), Reviewer(base, "bob")
    assert alice.decide(x, "accept", category="compiler").status_code == 200
    assert bob.decide(y, "reject").status_code == 200
    undone = alice.post("/api/undo", {})
    assert undone.json()["undone"]["paper_id"] == x
    db = store.open_db(path)
    assert db.table("papers").get(x)["status"] == "pending"
    assert db.table("papers").get(y)["status"] == "rejected"

    # Bob decides on the paper after alice did: alice's undo would overwrite him.
    assert alice.decide(x, "accept", category="compiler").status_code == 200
    assert bob.decide(x, "set", category="system").status_code == 200
    refused = alice.post("/api/undo", {})
    assert refused.status_code == 409
    assert "bob has since made a set decision" in refused.json()["error"]
    assert db.table("papers").get(x)["category"] == "system"
    nothing = Reviewer(base, "carol").post("/api/undo", {})
    assert nothing.status_code == 400 and nothing.json()["error"] == "nothing to undo by carol"


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"action": "accept", "version": 0}, 400, "paper_id"),
        ({"paper_id": "PAPER", "action": "accept"}, 400, "version"),
        ({"paper_id": "PAPER", "version": 0, "action": "approve"}, 400, "action must be"),
        ({"paper_id": "PAPER", "version": 0, "action": "set"}, 400, "set needs"),
        (
            {"paper_id": "PAPER", "version": 0, "action": "accept", "category": "x"},
            400,
            "unknown category 'x'",
        ),
        ({"paper_id": 999999, "version": 0, "action": "reject"}, 404, "no paper #999999"),
        (
            {"paper_id": "PAPER", "version": 0, "action": "reject", "reason": "x" * 3000},
            400,
            "at most 2000",
        ),
        (
            {"paper_id": "PAPER", "version": 0, "action": "set", "milestone": "perhaps"},
            400,
            "milestone must be",
        ),
    ],
)
def test_bad_decisions_are_refused_changing_nothing(served, seeds, body, status, message):
    base, path = served
    paper_id = pending_ids(path, seeds, 1)[0]
    body = {k: (paper_id if v == "PAPER" else v) for k, v in body.items()}
    answer = Reviewer(base, "ada").post("/api/decide", body)
    assert answer.status_code == status
    assert message in answer.json()["error"]
    assert decision_rows(store.open_db(path)) == []


def test_a_decision_needs_json_and_a_name(served, seeds):
    base, path = served
    paper_id = pending_ids(path, seeds, 1)[0]
    body = {"paper_id": paper_id, "version": 0, "action": "reject"}
    anonymous = Reviewer(base, None)
    answer = anonymous.post("/api/decide", body)
    assert answer.status_code == 400 and "set your name first" in answer.json()["error"]
    ada = Reviewer(base, "ada")
    form = ada.client.post(
        "/api/decide",
        data={k: str(v) for k, v in body.items()},
        headers={"X-CSRF-Token": ada.csrf},
    )
    assert form.status_code == 415
    blank = ada.client.post("/reviewer", data={"name": "  \t ", "csrf": ada.csrf})
    assert blank.status_code == 400 and "give your name" in blank.text
    assert decision_rows(store.open_db(path)) == []


def test_the_readme_api_example_works(served, seeds):
    base, path = served
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    code = re.search(r"### The JSON API.*?```python\n(.*?)```", readme, re.S).group(1)
    top = pending_ids(path, seeds, 1)[0]
    exec(code.replace("http://127.0.0.1:8765", base), {})
    rows = decision_rows(store.open_db(path))
    assert {(r[1], r[2], r[3]) for r in rows} == {(top, "ada", "reject")}


# --- guards -------------------------------------------------------------------------------


def test_a_post_without_the_csrf_token_is_refused(served, seeds):
    base, path = served
    paper_id = pending_ids(path, seeds, 1)[0]
    ada, eve = Reviewer(base, "ada"), Reviewer(base, "eve")
    body = {"paper_id": paper_id, "version": 0, "action": "reject"}
    for headers in ({}, {"X-CSRF-Token": "0" * 64}, {"X-CSRF-Token": eve.csrf}):
        answer = ada.client.post("/api/decide", json=body, headers=headers)
        assert answer.status_code == 403, headers
        assert "CSRF token" in answer.json()["error"]
    assert ada.client.post("/api/undo", json={}).status_code == 403
    # The name form too: a forged form cannot put words in someone's mouth.
    assert ada.client.post("/reviewer", data={"name": "mallory"}).status_code == 403
    assert ada.client.get("/api/session").json()["reviewer"] == "ada"
    # State never changes on GET.
    assert ada.client.get("/api/decide").status_code == 405
    assert decision_rows(store.open_db(path)) == []


def test_every_post_route_checks_the_csrf_token(served, seeds):
    base, _ = served
    app = web_app.create_app(Path(served[1]), Rules(seeds))
    posts = [r.path for r in app.routes if "POST" in (getattr(r, "methods", None) or ())]
    assert sorted(posts) == ["/api/decide", "/api/undo", "/reviewer"]
    client = Reviewer(base, "ada").client
    for path in posts:
        assert client.post(path, json={}).status_code == 403, path


def test_a_cross_site_post_is_refused_before_anything_else(served, seeds):
    base, path = served
    ada = Reviewer(base, "ada")
    paper_id = pending_ids(path, seeds, 1)[0]
    body = {"paper_id": paper_id, "version": 0, "action": "reject"}
    answer = ada.post("/api/decide", body, Origin="http://evil.example")
    assert answer.status_code == 403 and "another site" in answer.text
    assert ada.post("/api/decide", body, Origin=base).status_code == 200


def test_the_routes_are_these_and_none_harvests(served, seeds):
    """Guards 'no endpoint runs a harvest or writes outside the database'."""
    app = web_app.create_app(served[1], Rules(seeds))
    assert sorted(getattr(r, "path", "") for r in app.routes) == [
        "/",
        "/api/decide",
        "/api/paper/{paper_id:int}",
        "/api/queue",
        "/api/session",
        "/api/undo",
        "/favicon.ico",
        "/reviewer",
        "/static",
    ]
    for module in (ROOT / "harvester" / "web").glob("*.py"):
        text = module.read_text(encoding="utf-8")
        assert not re.search(r"harvester\.(harvest|sources|http)\b|open_sources|write_text", text)


def test_loopback_only_answers_requests_addressed_to_loopback(served):
    base, _ = served
    assert httpx.get(f"{base}/", headers={"Host": "evil.example"}).status_code == 400
    rebound = httpx.get(f"{base}/api/queue", headers={"Host": "attacker.test:8765"})
    assert rebound.status_code == 400 and "not this machine" in rebound.text
    for host in ("localhost:8765", "127.0.0.1", "[::1]:8765"):
        assert httpx.get(f"{base}/api/session", headers={"Host": host}).status_code == 200


def test_with_a_token_every_request_must_carry_it(tmp_path, corpus_db, seeds):
    path = copy_db(corpus_db, tmp_path / "db" / "harvester.db")
    with live_app(path, seeds, token=TOKEN, loopback_only=False) as base:
        for route in ("/", "/api/queue", "/static/app.js", "/api/session"):
            answer = httpx.get(base + route)
            assert answer.status_code == 401, route
            assert "needs its token" in answer.text
        assert httpx.get(f"{base}/?token=wrong").status_code == 401
        assert (
            httpx.get(f"{base}/api/queue", headers={"Authorization": "Bearer nope"}).status_code
            == 401
        )
        bearer = httpx.get(f"{base}/api/queue", headers={"Authorization": f"Bearer {TOKEN}"})
        assert bearer.status_code == 200
        # Any Host is fine once the token is required.
        assert (
            httpx.get(
                f"{base}/api/session",
                headers={"Authorization": f"Bearer {TOKEN}", "Host": "reviews.lab.example"},
            ).status_code
            == 200
        )
        browser = httpx.Client(base_url=base)
        first = browser.get(f"/?token={TOKEN}&status=accepted")
        assert first.status_code == 303
        assert first.headers["location"] == "/?status=accepted"
        assert "harvester_token=" in first.headers["set-cookie"]
        assert "HttpOnly" in first.headers["set-cookie"]
        assert browser.get("/?status=accepted").status_code == 200
        assert browser.get("/static/app.css").status_code == 200
        assert TOKEN not in first.headers["set-cookie"]
        # An address that starts with two slashes must not become a redirect elsewhere.
        sneaky = browser.get(f"{base}//evil.example/?token={TOKEN}")
        assert sneaky.status_code == 303
        assert sneaky.headers["location"] == "/evil.example/"
        # Any token text works through the address, the cookie holds only its digest.
    odd = 'semi;colon, space and "quote" ünïcode'
    with live_app(path, seeds, token=odd, loopback_only=False) as base:
        browser = httpx.Client(base_url=base)
        assert browser.get("/", params={"token": odd}).status_code == 303
        assert browser.get("/api/queue").status_code == 200


def test_pages_escape_paper_data_and_forbid_inline_script(sample, seeds):
    base, path = sample
    db = store.open_db(path)
    nasty = db.execute("SELECT id FROM papers WHERE arxiv_id = '2301.00001'").fetchone()[0]
    ada = Reviewer(base, "<img src=x onerror=alert(1)>")
    page = ada.client.get("/", params={"status": "all", "paper": nasty, "q": "<script>"})
    assert page.status_code == 200
    html = page.text
    assert "<script>alert" not in html and "<b>shapes</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Compiles | dynamic &lt;b&gt;shapes&lt;/b&gt;." in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    # The only scripts are the app's own file; the policy forbids any other.
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/app.js" defer>']
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "default-src 'none'" in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "same-origin"
    assert "harvester_session=" in httpx.get(f"{base}/").headers["set-cookie"]


def test_page_shows_the_dashboard_and_the_yearly_chart(sample, seeds):
    base, path = sample
    html = Reviewer(base, "ada").client.get("/").text
    db = store.open_db(path)
    assert re.search(r'id="queue-size">1<', html)
    assert re.search(rf'id="decisions-today">{review.decisions_today(db)}<', html)
    assert "Accepted papers per category and year</text>" in html
    assert "<title>2018 Early exit: 1</title>" in html  # one of render_chart's bars
    assert 'data-paper-id="' in html and "Anytime Early Exits for Speech" in html
    assert "No citation links to accepted papers known yet" in html


# --- the command ------------------------------------------------------------------------


def serve(args: list[str], env: dict[str, str] | None = None):
    base_env = {"HARVESTER_SEEDS": str(SEEDS), "HARVESTER_TOKEN": ""}
    return CliRunner().invoke(cli, ["serve", *args], env=base_env | (env or {}))


def test_serve_beyond_loopback_needs_a_token(tmp_path):
    result = serve(["--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "error: --host 0.0.0.0: the page would be reachable from other machines" in result.output
    short = serve(["--host", "0.0.0.0", "--token", "short"])
    assert short.exit_code == 2 and "at least 16 characters" in short.output
    store.open_db(tmp_path / "h.db").close()
    with (
        mock.patch("harvester.web.server.bind") as bind,
        mock.patch("harvester.web.server.make_server") as make,
    ):
        ok = CliRunner().invoke(
            cli,
            ["--db", str(tmp_path / "h.db"), "serve", "--host", "0.0.0.0", "--port", "8766"],
            env={"HARVESTER_SEEDS": str(SEEDS), "HARVESTER_TOKEN": TOKEN},
        )
    assert ok.exit_code == 0, ok.output
    assert "http://127.0.0.1:8766/" in ok.output and TOKEN not in ok.output
    bind.assert_called_once_with("0.0.0.0", 8766)
    app = make.call_args.args[0]
    assert make.call_args.kwargs["open_url"] is None
    assert make.call_args.kwargs["access_log"] is False  # the token would be logged
    make.return_value.run.assert_called_once_with(sockets=[bind.return_value])
    # The app it would serve wants the token from HARVESTER_TOKEN.
    assert app.user_middleware[0].kwargs == {"token": TOKEN, "loopback_only": False}


def test_serve_on_a_busy_port_is_one_clear_line(tmp_path):
    store.open_db(tmp_path / "h.db").close()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(
            cli,
            ["--db", str(tmp_path / "h.db"), "serve", "--port", str(port)],
            env={"HARVESTER_SEEDS": str(SEEDS)},
        )
    assert result.exit_code == 2
    assert f"error: --host 127.0.0.1 --port {port}: cannot listen there" in result.output


def test_serve_open_opens_the_page_once_listening(tmp_path):
    store.open_db(tmp_path / "h.db").close()
    with (
        mock.patch("harvester.web.server.bind"),
        mock.patch("harvester.web.server.make_server") as make,
    ):
        result = CliRunner().invoke(
            cli,
            ["--db", str(tmp_path / "h.db"), "serve", "--port", "8767", "--open"],
            env={"HARVESTER_SEEDS": str(SEEDS)},
        )
    assert result.exit_code == 0, result.output
    assert make.call_args.kwargs["open_url"] == "http://127.0.0.1:8767/"
    assert make.call_args.args[0].user_middleware[0].kwargs == {
        "token": None,
        "loopback_only": True,
    }


def test_serve_on_a_missing_database_says_so_and_creates_nothing(tmp_path):
    with (
        mock.patch("harvester.web.server.bind") as bind,
        mock.patch("harvester.web.server.make_server"),
    ):
        result = CliRunner().invoke(
            cli,
            ["--db", str(tmp_path / "typo.db"), "serve"],
            env={"HARVESTER_SEEDS": str(SEEDS)},
        )
    assert bind.call_count == 0
    assert result.exit_code == 2
    assert result.output == (
        f"error: {tmp_path / 'typo.db'}: no database there (check --db or HARVESTER_DB;"
        " 'harvester harvest' creates one)\n"
    )
    assert not (tmp_path / "typo.db").exists()


# --- hostile numbers and bodies -------------------------------------------------------------


@pytest.mark.parametrize("paper_id", [2**63, 2**63 + 1, 10**30])
def test_a_paper_id_beyond_sqlite_integers_is_404(sample, seeds, paper_id):
    base, path = sample
    before = decision_rows(store.open_db(path))
    answer = httpx.get(f"{base}/api/paper/{paper_id}")
    assert (answer.status_code, answer.json()) == (404, {"error": f"no paper #{paper_id}"})
    ada = Reviewer(base, "ada")
    decide = ada.post("/api/decide", {"paper_id": paper_id, "version": 0, "action": "reject"})
    assert (decide.status_code, decide.json()) == (404, {"error": f"no paper #{paper_id}"})
    page = httpx.get(f"{base}/", params={"paper": str(paper_id)})
    assert page.status_code == 200 and f"no paper #{paper_id}" in page.text
    real = pending_ids(path, seeds, 1)[0]
    stale = ada.post("/api/decide", {"paper_id": real, "version": 2**64, "action": "reject"})
    assert stale.status_code == 409
    assert decision_rows(store.open_db(path)) == before


def _asgi_post(app, path: str, chunks: list[bytes], headers: list[tuple[bytes, bytes]]):
    """Send a request straight to the app, a chunk per ``receive``; returns (status, how
    many chunks the app asked for)."""
    asked = 0
    sent: list[dict] = []

    async def receive() -> dict:
        nonlocal asked
        asked += 1
        body = chunks[asked - 1] if asked <= len(chunks) else b""
        return {"type": "http.request", "body": body, "more_body": asked < len(chunks)}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8765"), *headers],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8765),
    }
    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], asked


ROUTES = ["/reviewer", "/api/decide", "/api/undo", "/", "/api/queue", "/nowhere"]
CHUNK = 16 * 1024  # a 1 GiB body would be 65,536 of them; the test stops at 200
HUGE = [b"n" * CHUNK] * 200
SECRET = b"s" * 32
SESSION = "a-session-of-a-reviewer-1234"


def _signed_in() -> list[tuple[bytes, bytes]]:
    """The headers of a reviewer with a session, a name and a CSRF token: the routes that
    take a body read it."""
    token = Csrf(SECRET).token(SESSION)
    cookie = f"{SESSION_COOKIE}={SESSION}; {REVIEWER_COOKIE}=ada"
    return [(b"cookie", cookie.encode()), (b"x-csrf-token", token.encode())]


@pytest.mark.parametrize("route", ROUTES)
def test_a_declared_body_over_the_limit_is_refused_before_a_byte_is_read(sample, seeds, route):
    _, path = sample
    app = web_app.create_app(path, Rules(seeds), csrf_secret=SECRET)
    for length in (str(2**30), "9" * 5000):
        headers = [(b"content-length", length.encode()), (b"content-type", b"application/json")]
        assert _asgi_post(app, route, HUGE, headers + _signed_in()) == (413, 0)


@pytest.mark.parametrize(
    "route, expected",
    [
        # 64 KiB is allowed: the fifth chunk of 16 KiB passes the limit.
        ("/reviewer", (413, 5)),
        ("/api/decide", (413, 5)),
        ("/api/undo", (413, 5)),
        # Routes that take no body never read it.
        ("/", (405, 0)),
        ("/nowhere", (404, 0)),
    ],
)
def test_a_streamed_body_is_cut_off_at_the_chunk_that_passes_the_limit(
    sample, seeds, route, expected
):
    _, path = sample
    app = web_app.create_app(path, Rules(seeds), csrf_secret=SECRET)
    headers = [(b"content-type", b"application/json"), (b"transfer-encoding", b"chunked")]
    assert web_app.MAX_BODY // CHUNK + 1 == 5
    assert _asgi_post(app, route, HUGE, headers + _signed_in()) == expected


def test_a_body_within_the_limit_still_reaches_the_route(sample, seeds):
    base, path = sample
    ada = Reviewer(base, "ada")
    paper_id = pending_ids(path, seeds, 1)[0]
    padded = {"paper_id": paper_id, "action": "reject", "reason": "x" * 1900}
    answer = ada.post("/api/decide", padded | {"version": ada.paper(paper_id)["version"]})
    assert answer.status_code == 200, answer.text
