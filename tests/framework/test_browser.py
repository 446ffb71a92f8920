"""The demo app (examples/app.php) in headless Chromium with the real Datastar client:
clicks become actions, actions become patches on the tab's stream, scopes decide who sees
them. Synchronisation is Playwright's auto-waiting on what the page shows."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess

import pytest
from playwright.sync_api import Page, expect

from conftest import DemoServer


def open_live(context, url: str) -> Page:
    """Opens url in a new tab and returns once the tab's Datastar stream (/_sse) answered."""
    page = context.new_page()
    with page.expect_response(lambda r: "/_sse" in r.url and r.request.method == "GET"):
        page.goto(url)
    return page


def context_id(page: Page) -> str:
    return page.evaluate(
        "() => JSON.parse(document.querySelector('[data-signals]').getAttribute('data-signals')).via_ctx"
    )


# ---- TAB scope -----------------------------------------------------------------------------


def test_click_increments_the_counter_of_this_tab_only(server, new_context):
    ctx = new_context()
    one = open_live(ctx, server.url("/"))
    two = open_live(ctx, server.url("/"))
    expect(one.locator("#count")).to_have_text("0")
    one.click("#increment")
    expect(one.locator("#count")).to_have_text("1")
    one.click("#increment")
    expect(one.locator("#count")).to_have_text("2")
    two.click("#increment")
    expect(two.locator("#count")).to_have_text("1")
    expect(one.locator("#count")).to_have_text("2")


def test_bound_input_reaches_the_server(server, new_context):
    page = open_live(new_context(), server.url("/"))
    page.fill("#name", "Ada <Lovelace> & co")
    page.click("#echo")
    # The server renders (and escapes) what the data-bind input sent with the action.
    expect(page.locator("#greeting")).to_have_text("Hello, Ada <Lovelace> & co!")
    page.fill("#name", "Grace")
    page.click("#echo")
    expect(page.locator("#greeting")).to_have_text("Hello, Grace!")


# ---- ROUTE and SESSION scopes ------------------------------------------------------------


def test_two_tabs_on_a_route_scoped_page_see_each_others_changes(server, new_context):
    ctx = new_context()
    one = open_live(ctx, server.url("/board"))
    two = open_live(ctx, server.url("/board"))
    likes = int(one.locator("#likes").inner_text())
    one.click("#like")
    expect(two.locator("#likes")).to_have_text(str(likes + 1))
    two.click("#like")
    expect(one.locator("#likes")).to_have_text(str(likes + 2))

    hello = f"hello from one {os.getpid()}"
    one.fill("#draft", hello)
    one.press("#draft", "Enter")
    expect(two.locator("#messages li").last).to_have_text(hello)
    expect(one.locator("#draft")).to_have_value("")  # the server cleared the sender's draft
    two.fill("#draft", "and back from two")
    two.click("#send")
    expect(one.locator("#messages li").last).to_have_text("and back from two")
    expect(one.locator("#messages li").nth(-2)).to_have_text(hello)

    # Another browser on the same route shares it too (ROUTE is not tied to a session).
    other = open_live(new_context(), server.url("/board"))
    expect(other.locator("#messages li").last).to_have_text("and back from two")


def test_session_scope_is_shared_by_tabs_of_one_browser_only(server, new_context):
    browser_a = new_context()
    a1 = open_live(browser_a, server.url("/session"))
    a2 = open_live(browser_a, server.url("/session"))
    b1 = open_live(new_context(), server.url("/session"))
    expect(a1.locator("#hits")).to_have_text("0")
    expect(b1.locator("#hits")).to_have_text("0")

    a1.click("#bump")
    expect(a2.locator("#hits")).to_have_text("1")
    b1.click("#bump")
    expect(b1.locator("#hits")).to_have_text("1")  # not 2: browser A's hit is not B's
    a2.click("#bump")
    expect(a1.locator("#hits")).to_have_text("2")  # not 3: B's hit did not reach A
    expect(a2.locator("#hits")).to_have_text("2")
    expect(b1.locator("#hits")).to_have_text("1")


def test_app_interval_pushes_the_clock_to_its_scope(server, new_context):
    ctx = new_context()
    one = open_live(ctx, server.url("/clock"))
    two = open_live(ctx, server.url("/clock"))
    first = one.locator("#ticks").inner_text()
    expect(one.locator("#ticks")).not_to_have_text(first)
    expect(two.locator("#ticks")).not_to_have_text(first)
    expect(one.locator("#now")).to_have_text(re.compile(r"^\d\d:\d\d:\d\d$"))


# ---- forms, path parameters, views ---------------------------------------------------------


def test_form_with_a_file_upload_posts_multipart_to_an_action(server, new_context):
    page = open_live(new_context(), server.url("/upload"))
    text = "first line\nsecond line ünïcödé\n".encode()
    page.fill("#title", "My notes")
    page.set_input_files("#doc", files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": text}])
    page.click("#send-file")
    expect(page.locator("#upload-result")).to_have_text(
        f"“My notes”: notes.txt, {len(text)} bytes, sha256 {hashlib.sha256(text).hexdigest()}"
    )

    # Binary content arrives byte for byte.
    blob = os.urandom(300 * 1024)
    page.fill("#title", "Random bytes")
    page.set_input_files("#doc", files=[{"name": "blob.bin", "mimeType": "application/octet-stream", "buffer": blob}])
    page.click("#send-file")
    expect(page.locator("#upload-result")).to_have_text(
        f"“Random bytes”: blob.bin, {len(blob)} bytes, sha256 {hashlib.sha256(blob).hexdigest()}"
    )


def test_page_with_path_parameters_and_a_php_callable_view(server, new_context):
    page = open_live(new_context(), server.url("/hello/Ada%20Lovelace"))
    expect(page.locator("#hello")).to_have_text("Hello, Ada Lovelace!")
    page.click("#wave")
    expect(page.locator("#waves")).to_have_text("1")
    page.click("#wave")
    expect(page.locator("#waves")).to_have_text("2")
    expect(page.locator("#hello")).to_have_text("Hello, Ada Lovelace!")  # the update kept the parameter


def test_twig_view_renders_and_updates(server, new_context):
    page = open_live(new_context(), server.url("/twig"))
    expect(page.locator("h1")).to_have_text("A Twig view")
    expect(page.locator("#context-id")).to_have_text(context_id(page))
    page.click("#star")
    expect(page.locator("#stars")).to_have_text("1")
    page.click("#star")
    expect(page.locator("#stars")).to_have_text("2")
    expect(page.locator("nav a")).to_have_count(7)  # the update rendered the whole block


# ---- the stream dropped and re-opened ---------------------------------------------------------


HIDE = """() => {
    Object.defineProperty(document, 'hidden', {configurable: true, get: () => true});
    document.dispatchEvent(new Event('visibilitychange'));
}"""
SHOW = """() => {
    Object.defineProperty(document, 'hidden', {configurable: true, get: () => false});
    document.dispatchEvent(new Event('visibilitychange'));
}"""


@pytest.fixture
def lifecycle_server():
    """A demo of its own, so that its context count is this test's alone."""
    srv = DemoServer({"VIA_CLEANUP_MS": "200", "VIA_REVIVAL_MS": "60000"})
    yield srv
    srv.stop()


def test_stream_dropped_then_reopened_revives_the_context(lifecycle_server, new_context):
    srv = lifecycle_server
    page = open_live(new_context(), srv.url("/"))
    cid = context_id(page)
    page.click("#increment")
    expect(page.locator("#count")).to_have_text("1")
    page.click("#increment")
    expect(page.locator("#count")).to_have_text("2")
    assert srv.health()["connections"] == {"contexts": 1, "sse": 1}

    # A hidden tab aborts its stream (Datastar's GET does not stay open when hidden); after
    # the cleanup delay the server destroys the context.
    page.evaluate(HIDE)
    srv.wait_for("the context to be destroyed", lambda: srv.health()["connections"] == {"contexts": 0, "sse": 0})

    # Visible again: the stream is re-opened with the tab's signals and the context is
    # rebuilt under the same id, the count coming back from the client.
    with page.expect_response(lambda r: "/_sse" in r.url):
        page.evaluate(SHOW)
    expect(page.locator("#count")).to_have_text("2")
    page.click("#increment")
    expect(page.locator("#count")).to_have_text("3")
    assert context_id(page) == cid  # revived, not reloaded
    assert srv.health()["connections"] == {"contexts": 1, "sse": 1}


def reset_connections(port: int) -> None:
    """Resets every TCP connection of the server's port, as a network drop would (ss -K, root)."""
    r = subprocess.run(
        ["ss", "-K", "-t", "state", "established", "(", "sport", "=", f":{port}", ")"],
        capture_output=True, text=True, timeout=10,
    )
    if r.returncode != 0:
        pytest.skip(f"ss -K cannot reset connections here: {r.stderr.strip()}")


@pytest.mark.skipif(shutil.which("ss") is None, reason="needs ss (iproute2) to reset connections")
def test_stream_cut_by_the_network_reconnects_and_revives(lifecycle_server, new_context):
    srv = lifecycle_server
    ctx = new_context()
    page = open_live(ctx, srv.url("/hello/network"))
    cid = context_id(page)
    banner = page.locator(".via-disconnected")
    page.click("#wave")
    expect(page.locator("#waves")).to_have_text("1")
    expect(banner).to_be_hidden()

    # The connection drops and the server cannot be reached for a while: Datastar retries,
    # the tab shows it is not connected, and the server destroys the context.
    page.route("**/_sse*", lambda route: route.abort("connectionrefused"))
    reset_connections(srv.port)
    expect(banner).to_be_visible()
    srv.wait_for("the context to be destroyed", lambda: srv.health()["connections"] == {"contexts": 0, "sse": 0})

    # Reachable again: a retry re-opens the stream and revives the context under its id.
    with page.expect_response(lambda r: "/_sse" in r.url and r.status == 200, timeout=30_000):
        page.unroute("**/_sse*")
    expect(banner).to_be_hidden()
    expect(page.locator("#hello")).to_have_text("Hello, network!")  # the path parameter came back
    # The revived signals are those the retried request carries, and Datastar retries with
    # the URL of the first attempt: the values of when the stream opened (0 here), not the
    # latest. What counts is that actions reach the revived context.
    revived = int(page.locator("#waves").inner_text())
    page.click("#wave")
    expect(page.locator("#waves")).to_have_text(str(revived + 1))
    assert context_id(page) == cid
    assert srv.health()["connections"] == {"contexts": 1, "sse": 1}


def test_tab_past_the_revival_window_reloads(new_context):
    srv = DemoServer({"VIA_CLEANUP_MS": "100", "VIA_REVIVAL_MS": "0"})
    try:
        page = open_live(new_context(), srv.url("/"))
        old = context_id(page)
        page.click("#increment")
        expect(page.locator("#count")).to_have_text("1")
        page.evaluate(HIDE)
        srv.wait_for("the context to be destroyed", lambda: srv.contexts() == 0)
        # No revival: the server tells the tab to reload, which makes a new context.
        with page.expect_navigation():
            page.evaluate(SHOW)
        expect(page.locator("#count")).to_have_text("0")
        assert context_id(page) != old
    finally:
        srv.stop()


# ---- HTTPS, HTTP/2 and Brotli ------------------------------------------------------------------


def test_brotli_stream_over_https_and_http2(tls_files, new_context):
    srv = DemoServer({"VIA_BROTLI": "1", "VIA_CLEANUP_MS": "300"}, tls=tls_files)
    try:
        ctx = new_context(ignore_https_errors=True)
        page = ctx.new_page()
        with page.expect_response(lambda r: "/_sse" in r.url) as sse_info:
            document = page.goto(srv.url("/"))
        sse = sse_info.value
        assert sse.all_headers().get("content-encoding") == "br"
        assert sse.all_headers().get("content-type", "").startswith("text/event-stream")
        assert document.all_headers().get("content-encoding") == "br"
        assert page.evaluate("() => performance.getEntriesByType('navigation')[0].nextHopProtocol") == "h2"
        # The compressed stream still carries every patch, and actions pass the Origin check.
        page.click("#increment")
        expect(page.locator("#count")).to_have_text("1")
        page.click("#increment")
        expect(page.locator("#count")).to_have_text("2")
        page.fill("#name", "over h2")
        page.click("#echo")
        expect(page.locator("#greeting")).to_have_text("Hello, over h2!")
    finally:
        srv.stop()
