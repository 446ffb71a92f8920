"""Bad input against the running demo, from plain HTTP clients (no browser): each request
gets the status the framework promises (php/src/Via.php handleAction and handleSse), the
app keeps serving, and the contexts the test made are all reclaimed (no leak)."""

from __future__ import annotations

import html
import json
import re
import urllib.parse

import pytest

from conftest import DemoServer, Reply


def call(srv: DemoServer, method: str, path: str, body: bytes | str | None = None, headers: dict | None = None) -> Reply:
    conn = srv.connection()
    try:
        conn.request(method, path, body=body, headers=headers or {})
        res = conn.getresponse()
        return Reply(res.status, {k.lower(): v for k, v in res.getheaders()}, res.read())
    finally:
        conn.close()


class Tab:
    """A page fetched without a browser: its session cookie and context id."""

    def __init__(self, srv: DemoServer, path: str = "/"):
        r = call(srv, "GET", path)
        assert r.status == 200, r.status
        cookie = r.headers["set-cookie"]
        self.sid = re.search(r"via_session_id=([0-9a-f]{32})", cookie).group(1)
        signals = re.search(r'data-signals="([^"]*)"', r.text).group(1)
        self.ctx = json.loads(html.unescape(signals))["via_ctx"]
        self.srv = srv

    def cookie(self) -> dict[str, str]:
        return {"Cookie": f"via_session_id={self.sid}"}

    def action(self, name: str, signals: dict | None = None, headers: dict | None = None) -> Reply:
        body = json.dumps({"via_ctx": self.ctx, **(signals or {})})
        h = {"Content-Type": "application/json", "Origin": self.srv.origin, **self.cookie(), **(headers or {})}
        return call(self.srv, "POST", f"/_action/{name}", body, h)

    def close(self) -> None:
        """The beacon a closing tab sends: the context is destroyed after the cleanup delay."""
        call(self.srv, "POST", "/_session/close", self.ctx, self.cookie())


def sse_path(signals: dict | str) -> str:
    raw = signals if isinstance(signals, str) else json.dumps(signals)
    return "/_sse?datastar=" + urllib.parse.quote(raw)


class Stream:
    """A /_sse stream read event by event (the runtime frames it chunked)."""

    def __init__(self, srv: DemoServer, tab: Tab):
        self.conn = srv.connection(timeout=5)
        self.conn.request("GET", sse_path({"via_ctx": tab.ctx}), headers=tab.cookie())
        self.res = self.conn.getresponse()
        assert self.res.status == 200, self.res.status
        assert self.res.getheader("content-type", "").startswith("text/event-stream")

    def event(self) -> tuple[str, str]:
        name, data = "", []
        while True:
            line = self.res.readline().decode()
            assert line != "", "the stream ended"
            line = line.rstrip("\n")
            if line == "":
                if name or data:
                    return name, "\n".join(data)
                continue
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])

    def until(self, pattern: str) -> str:
        """Reads events until one whose data matches pattern; returns that data."""
        for _ in range(50):
            _, data = self.event()
            if re.search(pattern, data):
                return data
        raise AssertionError(f"no event matched {pattern!r}")

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def tabs(server):
    """Makes tabs; afterwards closes them and checks the context count is back to where it was."""
    baseline = server.contexts()
    made: list[Tab] = []

    def make(path: str = "/") -> Tab:
        tab = Tab(server, path)
        made.append(tab)
        return tab

    yield make
    server.assert_alive()
    for tab in made:
        tab.close()
    server.wait_for(
        f"the context count to return to {baseline}",
        lambda: server.health()["connections"] == {"contexts": baseline, "sse": 0},
    )
    assert "PHP Fatal" not in server.log() and "Uncaught" not in server.log(), server.log()


def test_action_with_an_unknown_context_is_400(server, tabs):
    tab = tabs()
    for via_ctx in ["/_/0000000000000000", "", 42, ["/"], {"a": 1}, None]:
        body = json.dumps({"via_ctx": via_ctx})
        r = call(server, "POST", "/_action/increment", body,
                 {"Content-Type": "application/json", "Origin": server.origin, **tab.cookie()})
        assert (r.status, r.text) == (400, "Invalid context"), via_ctx
    r = call(server, "POST", "/_action/increment", "{}", {"Content-Type": "application/json", "Origin": server.origin})
    assert (r.status, r.text) == (400, "Invalid context")
    assert tab.action("increment").status == 200  # the real one still works


def test_stream_with_an_unknown_context_reloads_the_tab_once(server, tabs):
    before = server.contexts()
    unknown = {"via_ctx": "/_/00000000deadbeef"}
    first = call(server, "GET", sse_path(unknown))
    assert first.status == 200
    assert first.headers["content-type"].startswith("text/event-stream")
    assert "event: datastar-patch-elements" in first.text
    assert "window.location.reload()" in first.text
    again = call(server, "GET", sse_path(unknown))
    assert (again.status, again.body) == (200, b"")  # told to reload once, then left alone
    missing = call(server, "GET", sse_path({"other": 1}))
    assert (missing.status, missing.text) == (400, "Invalid context")
    assert server.contexts() == before


def test_action_of_another_session_is_403_and_changes_nothing(server, tabs):
    owner, other = tabs(), tabs()
    stream = Stream(server, owner)
    try:
        stream.until(r'id="count">0<')
        foreign = owner.action("increment", headers=other.cookie())
        assert (foreign.status, foreign.text) == (403, "Forbidden")
        no_cookie = call(server, "POST", "/_action/increment", json.dumps({"via_ctx": owner.ctx}),
                         {"Content-Type": "application/json", "Origin": server.origin})
        assert (no_cookie.status, no_cookie.text) == (403, "Forbidden")
        bad_cookie = owner.action("increment", headers={"Cookie": "via_session_id=not-hex"})
        assert bad_cookie.status == 403
        assert owner.action("increment").status == 200
        stream.until(r'id="count">1<')  # one increment: the foreign ones did nothing
    finally:
        stream.close()


def test_stream_of_another_session_is_403(server, tabs):
    owner, other = tabs(), tabs()
    r = call(server, "GET", sse_path({"via_ctx": owner.ctx}), headers=other.cookie())
    assert (r.status, r.text) == (403, "Forbidden")
    r = call(server, "GET", sse_path({"via_ctx": owner.ctx}))
    assert (r.status, r.text) == (403, "Forbidden")
    assert server.health()["connections"]["sse"] == 0


def test_revival_by_another_session_is_refused(server, tabs):
    owner, other = tabs(), tabs()
    before = server.contexts()
    stream = Stream(server, owner)
    stream.until(r'id="count">0<')
    stream.close()
    server.wait_for("the context to be destroyed", lambda: server.contexts() == before - 1)

    r = call(server, "GET", sse_path({"via_ctx": owner.ctx}), headers=other.cookie())
    assert r.status == 200 and "window.location.reload()" in r.text  # not revived for a stranger
    assert server.contexts() == before - 1
    # The owner still can: the same id comes back (the record was kept).
    stream = Stream(server, owner)
    try:
        stream.until(r'id="count">0<')
        assert server.contexts() == before
        assert owner.action("increment").status == 200
        stream.until(r'id="count">1<')
    finally:
        stream.close()


def test_close_beacon_of_another_session_is_ignored(server, tabs):
    owner, other, marker = tabs(), tabs(), tabs()
    before = server.contexts()
    call(server, "POST", "/_session/close", owner.ctx, other.cookie())  # a stranger's beacon
    marker.close()  # a real one, queued after it with the same delay
    server.wait_for("the marker context to be destroyed", lambda: server.contexts() == before - 1)
    assert owner.action("increment").status == 200  # the owner's context is still there


def test_malformed_signals_are_400(server, tabs):
    tab = tabs()
    headers = {"Content-Type": "application/json", "Origin": server.origin, **tab.cookie()}
    for body in ['{"via_ctx": ', '{via_ctx: 1}', '{"a":' * 40 + "1" + "}" * 40]:
        r = call(server, "POST", "/_action/increment", body, headers)
        assert (r.status, r.text) == (400, "Malformed signals"), body[:20]
    for raw in ['{"via_ctx": ', "%%%", '[' * 40 + ']' * 40]:
        r = call(server, "GET", sse_path(raw))
        assert (r.status, r.text) == (400, "Malformed signals"), raw[:20]
    # JSON that is not an object carries no context.
    r = call(server, "POST", "/_action/increment", '"just a string"', headers)
    assert (r.status, r.text) == (400, "Invalid context")
    assert tab.action("increment").status == 200


def test_oversized_signals_are_413(server, tabs):
    tab = tabs()
    r = tab.action("echo", {"blob": "x" * (256 * 1024 + 1)})
    assert (r.status, r.text) == (413, "Signals too large")
    # Just under the limit is accepted.
    r = tab.action("echo", {"blob": "x" * (200 * 1024)})
    assert r.status == 200


def test_unknown_action_is_404(server, tabs):
    tab = tabs()
    for name in ["nope", "wave", "post", "bump", "action1", "%2E%2E%2Fincrement", "x" * 2000]:
        r = tab.action(name)
        assert (r.status, r.text) == (404, "Unknown action"), name[:20]
    # A scoped action of another page is not reachable from this one either.
    board = tabs("/board")
    assert tab.action("like").status == 404
    assert board.action("like").status == 200


def test_get_on_an_action_is_405(server, tabs):
    tab = tabs()
    r = call(server, "GET", "/_action/increment?datastar=" + urllib.parse.quote(json.dumps({"via_ctx": tab.ctx})),
             headers={"Origin": server.origin, **tab.cookie()})
    assert (r.status, r.text) == (405, "Method Not Allowed")
    assert r.headers["allow"] == "POST"


def test_foreign_origin_is_403(server, tabs):
    tab = tabs()
    for origin in ["http://evil.example", f"http://127.0.0.1:{server.port + 1}", f"http://localhost:{server.port}", "null"]:
        r = tab.action("increment", headers={"Origin": origin})
        assert (r.status, r.text) == (403, "Forbidden: untrusted origin"), origin
    body = json.dumps({"via_ctx": tab.ctx})
    r = call(server, "POST", "/_action/increment", body, {"Content-Type": "application/json", **tab.cookie()})
    assert (r.status, r.text) == (403, "Forbidden: untrusted origin")  # no Origin outside dev mode
    assert tab.action("increment").status == 200


def test_app_keeps_serving_after_bad_input(server, tabs):
    tab = tabs()
    tabs("/hello/again")
    r = call(server, "GET", "/_health")
    assert r.status == 200 and json.loads(r.body)["status"] == "ok"
    assert call(server, "GET", "/no/such/page").status == 404
    assert call(server, "POST", "/_session/close", "/_/not-a-context").status == 200
    assert tab.action("increment").status == 200
