"""The runtime alone, without the framework, in headless Chromium: an EventSource over HTTPS
and HTTP/2 with a self-signed certificate and a Brotli-compressed stream receives its events
across heartbeats (a corrupt Brotli stream would break it), and closing the tab runs the
stream's onClose on the server. The app is apps/sse_page.php."""

from __future__ import annotations

import json
from pathlib import Path

from playwright.sync_api import expect

from conftest import DemoServer

APP = Path(__file__).resolve().parent / "apps" / "sse_page.php"


def test_event_source_over_https_h2_brotli_and_closing_the_tab_runs_on_close(tls_files, new_context):
    srv = DemoServer(tls=tls_files, app=APP)
    try:
        page = new_context(ignore_https_errors=True).new_page()
        with page.expect_response(lambda r: r.url.endswith("/events")) as events:
            page.goto(srv.url("/"))
        assert events.value.header_value("content-encoding") == "br"
        # "second" is sent 1.6 s after "first", with three heartbeats in between.
        expect(page.locator("#received li")).to_have_text(["first", "second"])
        expect(page.locator("#errors")).to_have_text("0")
        protocol = page.evaluate("() => performance.getEntriesByType('navigation')[0].nextHopProtocol")
        assert protocol == "h2", "the page came over HTTP/2"

        page.close()
        conn = srv.connection(timeout=15)
        try:
            conn.request("GET", "/closed")
            res = conn.getresponse()
            body = res.read().decode()
        finally:
            conn.close()
        assert res.status == 200, body
        # onClose ran on the server, for a Brotli stream that came over HTTP/2.
        assert json.loads(body) == {"encoding": "br", "protocol": "2"}, srv.log()
    finally:
        srv.stop()
