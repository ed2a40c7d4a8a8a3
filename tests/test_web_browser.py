"""The review page in a real browser: Debian's chromium, driven by Playwright.

Each test starts the app on 127.0.0.1 and works as a person would: keys and buttons on the
page, then the database is read to see exactly what was decided. Waits are on conditions
(navigation, text appearing) with timeouts, never sleeps.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harvester import review, store
from harvester.rules import Rules
from tests import sample_db
from tests.web_helpers import (
    CHROMIUM_ARGS,
    chromium_or_skip,
    copy_db,
    decision_rows,
    live_app,
)

TIMEOUT_MS = 10_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # Playwright gives every launch a fresh temporary profile (user-data dir).
        launched = playwright.chromium.launch(
            executable_path=str(executable), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


@pytest.fixture
def open_page(browser) -> Iterator[Any]:
    """``open_page(url)``: a page in a new browser context (its own cookies: one reviewer)."""
    contexts = []

    def opener(url: str) -> Any:
        context = browser.new_context(viewport={"width": 1200, "height": 800})
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.goto(url)
        return page

    yield opener
    for context in contexts:
        context.close()


@pytest.fixture
def corpus(tmp_path: Path, corpus_db: Path, seeds) -> Iterator[tuple[str, Path]]:
    path = copy_db(corpus_db, tmp_path / "db" / "harvester.db")
    with live_app(path, seeds) as base:
        yield base, path


def sign_in(page: Any, name: str) -> None:
    page.fill("#reviewer-name", name)
    with page.expect_navigation():
        page.click("#start")
    assert page.inner_text("#reviewer") == name


def shown(page: Any) -> dict[str, str]:
    card = page.locator("#paper")
    return {
        "id": card.get_attribute("data-paper-id") or "",
        "proposed": card.get_attribute("data-proposed") or "",
        "status": card.get_attribute("data-status") or "",
    }


@contextlib.contextmanager
def updated_in_place(page: Any) -> Iterator[None]:
    """Wait for the script to swap in the next view (it counts them on ``<html>``)."""
    before = page.evaluate("() => document.documentElement.dataset.view")
    yield
    page.wait_for_function(
        "(before) => document.documentElement.dataset.view !== before", arg=before
    )


def press_and_wait(page: Any, key: str) -> None:
    with updated_in_place(page):
        page.keyboard.press(key)


def test_review_ten_papers_by_keyboard_undo_one_change_a_category(
    corpus, corpus_db, open_page, tmp_path, seeds
):
    base, path = corpus
    page = open_page(base)
    sign_in(page, "Ada Lovelace")
    first = shown(page)["id"]
    # j and k walk the queue without deciding.
    press_and_wait(page, "j")
    assert shown(page)["id"] != first
    press_and_wait(page, "k")
    assert shown(page)["id"] == first

    decided: list[tuple[int, str, str]] = []
    for key in "aararraarr":
        paper = shown(page)
        assert paper["status"] == "pending"
        press_and_wait(page, key)
        decided.append((int(paper["id"]), key, paper["proposed"]))
        assert shown(page)["id"] != paper["id"]
    assert len({pid for pid, _, _ in decided}) == 10

    press_and_wait(page, "u")
    last_id = decided[-1][0]
    assert shown(page) | {"proposed": ""} == {
        "id": str(last_id),
        "status": "pending",
        "proposed": "",
    }

    keys = list(seeds.categories)
    target = next(k for k in keys if k != shown(page)["proposed"])
    page.keyboard.press("c")
    page.wait_for_selector("#category-panel", state="visible")
    press_and_wait(page, str(keys.index(target) + 1))
    assert shown(page) == {"id": str(last_id), "status": "pending", "proposed": target}
    assert "set by a person" in page.inner_text("#paper-category")

    # The same session at the command line's library, on the database as it was.
    twin_path = copy_db(corpus_db, tmp_path / "twin" / "harvester.db")
    twin = store.open_db(twin_path)
    for pid, key, proposed in decided:
        if key == "a":
            review.accept(twin, seeds, str(pid), category=proposed, who="Ada Lovelace")
        else:
            review.reject(twin, str(pid), who="Ada Lovelace")
    review.undo(twin, who="Ada Lovelace")
    review.set_fields(twin, Rules(seeds), str(last_id), category=target, who="Ada Lovelace")

    db = store.open_db(path)
    assert decision_rows(db) == decision_rows(twin)
    actions = list(
        db.execute(
            "SELECT kind, paper_id, who, max(undone) FROM decisions GROUP BY action ORDER BY action"
        )
    )
    assert actions == [
        *(
            ("accept" if key == "a" else "reject", pid, "Ada Lovelace", int(pid == last_id))
            for pid, key, _ in decided
        ),
        ("undo", last_id, "Ada Lovelace", 0),
        ("set", last_id, "Ada Lovelace", 0),
    ]
    for pid, key, proposed in decided[:-1]:
        row = db.table("papers").get(pid)
        assert row["status"] == ("accepted" if key == "a" else "rejected")
        if key == "a":
            assert row["category"] == proposed
    last = db.table("papers").get(last_id)
    assert (last["status"], last["category"]) == ("pending", target)
    assert json.loads(last["manual_fields"]) == ["category"]


def test_a_decision_updates_the_list_and_the_card_without_reloading_the_page(corpus, open_page):
    base, _ = corpus
    page = open_page(base)
    sign_in(page, "kay")
    page.evaluate("() => { window.loadedOnce = true; }")  # gone if the page reloads
    first = shown(page)["id"]
    count = page.inner_text("#queue-count")
    press_and_wait(page, "r")
    assert page.evaluate("() => window.loadedOnce") is True
    assert shown(page)["id"] != first
    assert page.locator(f'#queue-list li[data-paper-id="{first}"]').count() == 0
    assert page.inner_text("#queue-count") != count
    assert f"paper={shown(page)['id']}" in page.url


def test_buttons_focus_and_note(corpus, open_page):
    base, path = corpus
    page = open_page(base)
    sign_in(page, "grace")
    paper_id = int(shown(page)["id"])
    page.click("button[data-key='f']")
    page.fill("#text-input", "exit per token")
    with updated_in_place(page):
        page.keyboard.press("Enter")
    page.keyboard.press("n")
    page.wait_for_selector("#text-input", state="visible")
    page.keyboard.type("compare with CALM")
    with updated_in_place(page):
        page.keyboard.press("Enter")
    assert page.inner_text("#paper-focus") == "Focus: exit per token"
    with updated_in_place(page):
        page.click("button[data-key='a']")
    row = store.open_db(path).table("papers").get(paper_id)
    assert (row["status"], row["focus"], row["notes"]) == (
        "accepted",
        "exit per token",
        "compare with CALM",
    )


def test_a_title_full_of_html_renders_as_text(tmp_path, seeds, open_page):
    path = tmp_path / "sample.db"
    db = sample_db.build_file(path, seeds)
    nasty = db.execute("SELECT id FROM papers WHERE arxiv_id = '2301.00001'").fetchone()[0]
    db.close()
    with live_app(path, seeds) as base:
        page = open_page(base)
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        sign_in(page, "<b>bold</b> reviewer")
        page.goto(f"{base}/?status=all&paper={nasty}")
        assert page.inner_text("#paper-title") == sample_db.NASTY_TITLE
        assert page.inner_text("#paper-tldr") == "Compiles | dynamic <b>shapes</b>."
        assert page.inner_text("#reviewer") == "<b>bold</b> reviewer"
        assert sample_db.NASTY_TITLE in page.inner_text("#queue-list")
        # Nothing from the data became an element.
        assert page.locator("#paper-title *, #paper-tldr *, #reviewer *").count() == 0
        assert page.locator("script").count() == 1
        assert page.locator("a[href^='javascript']").count() == 0
        assert dialogs == []


def test_a_post_without_the_csrf_token_is_refused(corpus, open_page):
    base, path = corpus
    page = open_page(base)
    sign_in(page, "ada")
    paper_id = int(shown(page)["id"])
    body = json.dumps({"paper_id": paper_id, "version": 0, "action": "reject"})
    # From the page itself, with its cookies, but without the token: refused.
    status = page.evaluate(
        """async (body) => (await fetch('/api/decide', {method: 'POST', body,
              headers: {'Content-Type': 'application/json'}})).status""",
        body,
    )
    assert status == 403
    # From another site: a form that posts to the app as soon as it loads.
    evil = "http://evil.test/"
    page.route(
        evil,
        lambda route: route.fulfill(
            content_type="text/html",
            body=f"<form id=f method=post action='{base}/reviewer'>"
            "<input name=name value=mallory></form><script>f.submit()</script>",
        ),
    )
    with page.expect_response(f"{base}/reviewer") as answer:
        page.goto(evil)
    assert answer.value.status == 403
    db = store.open_db(path)
    assert decision_rows(db) == []
    page.goto(base)
    assert page.inner_text("#reviewer") == "ada"


def test_a_stale_decision_is_refused(corpus, open_page):
    base, path = corpus
    alice = open_page(base)
    sign_in(alice, "alice")
    bob = open_page(base)
    sign_in(bob, "bob")
    paper_id = shown(alice)["id"]
    assert shown(bob)["id"] == paper_id
    press_and_wait(bob, "a")
    alice.keyboard.press("r")
    message = alice.locator("#message")
    message.wait_for(state="visible")
    alice.wait_for_function(
        "() => document.getElementById('message').textContent.includes('It is now')"
    )
    text = message.inner_text()
    assert f"paper #{paper_id} changed since you loaded it (bob: accept at" in text
    assert "It is now accepted" in text
    assert shown(alice)["id"] == paper_id  # alice stays on the paper to look again
    db = store.open_db(path)
    assert [(r[1], r[2], r[3]) for r in decision_rows(db) if r[4] == "status"] == [
        (int(paper_id), "bob", "accept")
    ]
    assert db.table("papers").get(int(paper_id))["status"] == "accepted"


@pytest.mark.skipif(not os.environ.get("HARVESTER_SCREENSHOT"), reason="makes docs/review-page.png")
def test_screenshot_for_the_readme(corpus, open_page):
    """``HARVESTER_SCREENSHOT=1 pytest -k screenshot`` rewrites the README's picture."""
    base, _ = corpus
    page = open_page(base)
    sign_in(page, "ada")
    for key in "aarar":
        press_and_wait(page, key)
    out = Path(__file__).resolve().parent.parent / "docs" / "review-page.png"
    out.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(out))
