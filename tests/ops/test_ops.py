"""Operations end to end: health and metrics (on the public port and on `metrics_listen`),
the access log, the per-client rate limit and its bound, trusted proxies, W3C trace context
and X-Request-Id, error pages, and the options refused at start. Every server is
tests/ops/app.php with the options of the test (see conftest.py)."""

from __future__ import annotations

import concurrent.futures
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from datetime import datetime, timezone

import pytest

from conftest import ROOT, STOP_TIMEOUT_S, OpsServer, free_port, php_command, raw_get, request, wait_until

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = "00f067aa0ba902b7"
VALID_TP = f"00-{TRACE}-{PARENT}-01"
HEX32 = re.compile(r"^[0-9a-f]{32}$")
HEX16 = re.compile(r"^[0-9a-f]{16}$")

# The two places health and metrics can be served: the public port at the paths given, or
# the internal listener (`metrics_listen`) at its default paths.
MODES = {
    "public": {"health_path": "/_health", "metrics_path": "/_metrics"},
    "internal": {"metrics_listen": True},
}


def paths(mode: str) -> tuple[str, str]:
    return ("/_health", "/_metrics") if mode == "public" else ("/health", "/metrics")


def h2c_available() -> bool:
    return bool(shutil.which("nghttp") or shutil.which("curl"))


def h2c_get(port: int, path: str, count: int) -> list[int]:
    """`count` GETs of `path` over h2c (HTTP/2 with prior knowledge); their statuses.
    nghttp (nghttp2-client) sends them as streams of one connection; without it curl sends
    one per connection (curl 7.88 fails a second request on a reused h2c connection:
    curl/curl#10634, fixed in 8.0)."""
    sep = "&" if "?" in path else "?"
    urls = [f"http://127.0.0.1:{port}{path}{sep}n={i}" for i in range(count)]
    if shutil.which("nghttp"):
        out = subprocess.run(["nghttp", "-nv", "-t", "10", *urls], capture_output=True, text=True, timeout=20)
        assert out.returncode == 0, out.stdout[-2000:] + out.stderr
        statuses = [int(s) for s in re.findall(r"recv \(stream_id=\d+\) :status: (\d+)", out.stdout)]
        assert len(re.findall(r"send HEADERS frame", out.stdout)) == count, out.stdout[-2000:]
        return statuses
    statuses = []
    for url in urls:
        out = subprocess.run(
            ["curl", "-sS", "--http2-prior-knowledge", "--max-time", "10", "-o", "/dev/null",
             "-w", "%{http_code} %{http_version}", url],
            capture_output=True, text=True, timeout=20,
        )
        assert out.returncode == 0, out.stderr
        code, version = out.stdout.split()
        assert version == "2", out.stdout
        statuses.append(int(code))
    return statuses


# ---------------------------------------------------------------------------------------
# Metrics and health


@pytest.mark.parametrize("mode", MODES)
def test_metrics_parse_and_count_requests_by_protocol_and_class(start, mode):
    srv = start(MODES[mode])
    _, metrics_path = paths(mode)
    before = srv.scrape(metrics_path)
    assert before.family_type("via_http_requests") == "counter"
    assert before.family_type("via_http_request_duration_seconds") == "histogram"
    assert before.family_type("via_connections_open") == "gauge"
    assert before.value("via_up") == 1
    for name in ["via_php_queue_depth", "via_http_rate_limited_total", "via_sse_streams_open",
                 "via_sse_events_total", "via_connections_accepted_total", "via_http_requests_in_flight"]:
        before.value(name)
    for kind in ["header", "idle", "body", "write", "request"]:
        before.value("via_http_timeouts_total", kind=kind)
    for protocol in ["http1", "h2"]:
        for tls in ["false", "true"]:
            before.value("via_connections_open", protocol=protocol, tls=tls)

    ok = 0
    conn = srv.connection()  # keep-alive: several requests on one connection
    try:
        for _ in range(5):
            r = srv.get("/", conn=conn)
            assert (r.status, r.body) == (200, b"hello")
            ok += 1
    finally:
        conn.close()
    for _ in range(4):  # a new connection each
        assert srv.get("/").status == 200
        ok += 1
    if h2c_available():
        assert h2c_get(srv.port, "/", 3) == [200] * 3
        ok += 3
    for _ in range(2):
        assert srv.get("/missing").status == 404  # answered 404 by the application
    # On the public port the runtime's own answers are requests too: the first scrape was
    # counted once it was answered (after its body was rendered), so it shows up now.
    scrapes = 1 if mode == "public" else 0

    after = srv.scrape(metrics_path)
    d = lambda name, **labels: after.value(name, 0.0, **labels) - before.value(name, 0.0, **labels)  # noqa: E731
    assert d("via_http_requests_total", method="GET", code="2xx") == ok + scrapes
    assert d("via_http_requests_total", method="GET", code="4xx") == 2
    assert d("via_http_requests_total", method="GET", code="5xx") == 0
    assert d("via_http_request_duration_seconds_count") == ok + 2 + scrapes
    assert d("via_http_request_duration_seconds_sum") >= 0
    # Cumulative buckets: non-decreasing, +Inf equal to the count.
    les = sorted(
        ((float(dict(k[1])["le"]), v) for k, v in after.samples.items() if k[0] == "via_http_request_duration_seconds_bucket"),
    )
    assert len(les) >= 2 and les[-1][0] == float("inf")
    assert all(a[1] <= b[1] for a, b in zip(les, les[1:])), les
    assert les[-1][1] == after.value("via_http_request_duration_seconds_count")


def test_metrics_show_the_php_queue_and_tables(start):
    srv = start(MODES["internal"])
    s = srv.scrape()
    assert s.family_type("via_php_queue_depth") == "gauge" and s.value("via_php_queue_depth") == 0
    assert s.family_type("via_php_queue_wait_seconds") == "gauge"
    assert 0 <= s.value("via_php_queue_wait_seconds") < 1
    assert s.value("via_table_rows", table="0") == 0
    for key in ["a", "b", "c", "a"]:
        assert srv.get(f"/hit?k={key}").status == 200
    s = srv.scrape()
    assert s.value("via_table_rows", table="0") == 3
    assert s.value("via_table_capacity_rows", table="0") == 64
    assert s.value("via_table_memory_bytes", table="0") > 0


def test_metrics_of_a_server_with_workers(start):
    """With workers the master answers: workers live and started, requests routed to them
    counted, and the workers' own counters (reported every second) summed in."""
    srv = start({**MODES["internal"], "workers": 2})
    s = wait_until("both workers to be ready",
                   lambda: (lambda s: s if s.value("via_workers_live") == 2 else None)(srv.scrape()), log=srv.log)
    assert s.value("via_worker_starts_total") == 2
    assert s.value("via_worker_crashes_total") == 0
    assert request(srv.metrics_port, "/health").json() == {"status": "ok"}
    for _ in range(10):
        assert srv.get("/").status == 200
    s = srv.scrape()
    assert s.value("via_http_requests_total", method="GET", code="2xx") == 10
    assert s.value("via_php_queue_depth") == 0
    assert s.family_type("via_worker_recycles") == "counter"  # the parser names a counter without _total
    assert s.value("via_worker_recycles_total") == 0


def test_health_and_metrics_paths_are_the_apps_when_not_configured(start):
    """Off by default: with no ops option /health and /metrics reach the application."""
    srv = start()
    for path in ["/health", "/metrics"]:
        r = srv.get(path)
        assert (r.status, r.body) == (404, b"no such page"), r


def read_events(sock: socket.socket, count: int, frame: bytes, timeout: float = 10.0) -> None:
    """Reads from an event stream until `count` copies of `frame` have arrived."""
    data, deadline = b"", time.monotonic() + timeout
    while data.count(frame) < count:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = sock.recv(65536)
        assert chunk, data[-500:]
        data += chunk


def open_stream(port: int, topic: str, rcvbuf: int | None = None) -> socket.socket:
    """An event stream joined to `topic` (no compression asked), its head read."""
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    s.sendall(f"GET /events?t={topic} HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1)
        assert chunk, head
        head += chunk
    assert head.startswith(b"HTTP/1.1 200"), head
    return s


def test_sse_metrics_count_streams_events_bytes_and_drops(start):
    """Streams open and opened, events and their bytes move with what a client reads; a
    client that reads nothing fills its queue, and what the `drop` policy drops is counted."""
    srv = start({"metrics_listen": True, "sse_backpressure": "drop", "sse_queue_size": 1024,
                 "compression": False})
    before = srv.scrape()
    reader = open_stream(srv.port, "news")
    try:
        wait_until("the stream to be counted", lambda: srv.scrape().value("via_sse_streams_open") == 1,
                   log=srv.log)
        assert srv.get("/publish?t=news&n=3&size=5").body == b"3"
        frame = b"data: xxxxx\n\n"
        read_events(reader, 3, frame)
        s = srv.scrape()
        assert s.value("via_sse_streams_opened_total") - before.value("via_sse_streams_opened_total") == 1
        assert s.value("via_sse_events_total") - before.value("via_sse_events_total") == 3
        assert s.value("via_sse_bytes_total") - before.value("via_sse_bytes_total") >= 3 * len(frame)
        assert s.value("via_sse_topic_publishes_total") - before.value("via_sse_topic_publishes_total") == 3
        assert s.value("via_sse_dropped_total") == before.value("via_sse_dropped_total")
    finally:
        reader.close()
    wait_until("the closed stream to be uncounted", lambda: srv.scrape().value("via_sse_streams_open") == 0,
               log=srv.log)

    # A client that takes nothing, with a small receive buffer: the kernel's buffers fill,
    # then its queue of 1 KiB, and the rest of 400 events of 16 KiB is dropped.
    stuck = open_stream(srv.port, "slow", rcvbuf=4096)
    try:
        wait_until("the stuck stream to be counted", lambda: srv.scrape().value("via_sse_streams_open") == 1,
                   log=srv.log)
        mid = srv.scrape()
        n = 400
        assert srv.get(f"/publish?t=slow&n={n}&size=16384").body == str(n).encode()
        after = srv.scrape()
        queued = after.value("via_sse_events_total") - mid.value("via_sse_events_total")
        dropped = after.value("via_sse_dropped_total") - mid.value("via_sse_dropped_total")
        assert dropped > 0 and queued + dropped == n, (queued, dropped)
        assert after.value("via_sse_streams_open") == 1  # dropping events does not close it
    finally:
        stuck.close()


class Redis:
    """redis-server on a free port of 127.0.0.1, nothing saved; stop() and start() again on
    the same port."""

    def __init__(self):
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_until("redis-server to answer PING", lambda: self.cli("PING") == "PONG")

    def cli(self, *args: str) -> str:
        out = subprocess.run(["redis-cli", "-p", str(self.port), *args], capture_output=True, text=True, timeout=5)
        return out.stdout.strip()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


@pytest.fixture
def redis():
    r = Redis()
    yield r
    r.stop()


def test_broker_metrics_follow_the_connection(start, redis):
    """A Redis broker's families: connected, messages published, sent and delivered back
    (echo=1), a malformed message refused, the connection lost and made again with what was
    published meanwhile held (queued bytes) and then sent."""
    srv = start({"metrics_listen": True}, env={"VIA_OPS_BROKER": f"redis://127.0.0.1:{redis.port}?echo=1"})
    s = wait_until("the broker to connect", lambda: (
        lambda s: s if s.labelled("via_broker_connected") == 1 else None)(srv.scrape()), log=srv.log)
    for name in ["published", "sent", "delivered", "dropped", "rejected", "reconnects"]:
        assert s.family_type(f"via_broker_{name}") == "counter"
        assert s.labelled(f"via_broker_{name}_total") == 0, name
    assert s.family_type("via_broker_queued_bytes") == "gauge"
    for i in range(3):
        assert srv.get(f"/broker?m=m{i}").body == b"published"
    wait_until("three messages sent and delivered back", lambda: (
        lambda s: s.labelled("via_broker_sent_total") == 3 and s.labelled("via_broker_delivered_total") == 3)(
        srv.scrape()), log=srv.log)
    assert srv.scrape().labelled("via_broker_published_total") == 3

    assert redis.cli("PUBLISH", "via", "not a via message") == "1"
    wait_until("the malformed message to be refused",
               lambda: srv.scrape().labelled("via_broker_rejected_total") == 1, log=srv.log)

    redis.stop()
    wait_until("the broker to be seen down", lambda: srv.scrape().labelled("via_broker_connected") == 0,
               log=srv.log)
    assert srv.get("/broker?m=while-down").body == b"published"
    s = srv.scrape()
    assert s.labelled("via_broker_published_total") == 4
    assert s.labelled("via_broker_queued_bytes") > 0
    redis.start()
    s = wait_until("the broker to connect again and send what waited", lambda: (
        lambda s: s if s.labelled("via_broker_connected") == 1 and s.labelled("via_broker_sent_total") == 4
        else None)(srv.scrape()), timeout=20, log=srv.log)
    assert s.labelled("via_broker_reconnects_total") == 1
    assert s.labelled("via_broker_queued_bytes") == 0
    assert s.labelled("via_broker_dropped_total") == 0


@pytest.mark.parametrize("mode", MODES)
def test_health_answers_ok_json(start, mode):
    srv = start(MODES[mode])
    health_path, _ = paths(mode)
    port = srv.metrics_port or srv.port
    r = request(port, health_path)
    assert r.status == 200, r
    assert r.headers["content-type"].startswith("application/json"), r.headers
    assert r.json() == {"status": "ok"}
    r = request(port, health_path, method="HEAD")
    assert r.status == 200, r
    if mode == "internal":
        # The internal listener serves health and metrics only ...
        for path in ["/", "/who", "/_health"]:
            assert request(port, path).status == 404, path
        # ... and the public port knows nothing of them: they reach the application.
        for path in ["/health", "/metrics"]:
            assert (srv.get(path).status, srv.get(path).body) == (404, b"no such page"), path
    else:
        assert srv.get("/").body == b"hello"  # the application still has every other path


def test_head_answers_of_the_runtime_have_no_body_on_a_kept_alive_connection(start):
    """HEAD to the runtime's own paths (health, metrics, a 429): headers only, so that the
    next response on the same connection starts where the client expects it."""
    srv = start({"health_path": "/health", "metrics_path": "/metrics", "rate_limit": 0.001, "rate_limit_burst": 1})
    with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as s:
        # health, metrics, an app request (the one token), a 429 — all HEAD — then a GET.
        heads = [f"HEAD {p} HTTP/1.1\r\nHost: x\r\n\r\n" for p in ["/health", "/metrics", "/", "/"]]
        s.sendall("".join(heads).encode() + b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    statuses = re.findall(rb"HTTP/1\.1 (\d{3})", data)
    assert statuses == [b"200", b"200", b"200", b"429", b"200"], data
    # Only the last answer has a body: each HEAD answer is a head and nothing more.
    parts = data.split(b"\r\n\r\n")
    assert all(p.startswith(b"HTTP/1.1 ") for p in parts[1:-1]), data
    assert parts[-1] == b'{"status":"ok"}\n', data


def test_health_is_503_draining_while_the_server_drains(start):
    """A request in flight keeps the server draining after SIGTERM; a keep-alive connection
    to the internal listener, opened before, asks for health meanwhile."""
    srv = start({**MODES["internal"], "shutdown_timeout": 5})
    conn = http.client.HTTPConnection("127.0.0.1", srv.metrics_port, timeout=5)
    assert request(srv.metrics_port, "/health", conn=conn).status == 200
    pool = concurrent.futures.ThreadPoolExecutor(1)
    slow = pool.submit(request, srv.port, "/slow?s=2", timeout=10)
    try:
        wait_until("the slow request to be in flight",
                   lambda: srv.scrape().value("via_http_requests_in_flight") == 1, log=srv.log)
        srv.proc.send_signal(signal.SIGTERM)
        r = wait_until(
            "health to stop saying ok",
            lambda: (lambda r: r if r.status != 200 else None)(request(srv.metrics_port, "/health", conn=conn)),
            timeout=3, log=srv.log,
        )
        assert r.status == 503, r
        assert r.headers["content-type"].startswith("application/json"), r.headers
        assert r.json() == {"status": "draining"}
        m = request(srv.metrics_port, "/metrics", conn=conn)
        assert m.status == 200 and "\nvia_up 0\n" in m.text, m
    finally:
        conn.close()
        assert slow.result(timeout=10).body == b"late"  # the drain let it finish
        pool.shutdown()
    assert srv.wait_exit() == 0, srv.log()


def test_public_health_is_not_ok_once_the_server_drains(start):
    """On the public port a draining server refuses new connections (the listener is
    closed) or answers 503 draining: a health checker never sees ok again."""
    srv = start({**MODES["public"], "shutdown_timeout": 5})
    pool = concurrent.futures.ThreadPoolExecutor(1)
    slow = pool.submit(request, srv.port, "/slow?s=2", timeout=10)
    try:
        wait_until("the slow request to be in flight",
                   lambda: srv.scrape("/_metrics").value("via_http_requests_in_flight") == 1, log=srv.log)
        srv.proc.send_signal(signal.SIGTERM)

        def probe():
            try:
                r = srv.get("/_health", timeout=2)
            except ConnectionRefusedError:
                return "refused"
            except (ConnectionResetError, http.client.RemoteDisconnected):
                return None  # the signal raced the request: ask again
            if r.status == 200:
                return None
            assert (r.status, r.json()) == (503, {"status": "draining"}), r
            return "draining"

        wait_until("health to stop saying ok", probe, timeout=3, log=srv.log)
        assert srv.proc.poll() is None, "the server stopped before its request in flight was done"
    finally:
        assert slow.result(timeout=10).body == b"late"
        pool.shutdown()
    assert srv.wait_exit() == 0, srv.log()


def test_connections_open_by_protocol(start):
    srv = start(MODES["internal"])  # the scrapes' own connections are not counted here
    conns = [srv.connection() for _ in range(3)]
    try:
        for c in conns:
            assert srv.get("/", conn=c).status == 200
        s = srv.scrape()
        assert s.value("via_connections_open", protocol="http1", tls="false") == 3
        assert s.value("via_connections_open", protocol="h2", tls="false") == 0
    finally:
        for c in conns:
            c.close()
    wait_until("the closed connections to be uncounted",
               lambda: srv.scrape().value("via_connections_open", protocol="http1", tls="false") == 0,
               log=srv.log)
    if shutil.which("curl"):
        curl = subprocess.Popen(
            ["curl", "-sS", "--http2-prior-knowledge", "--max-time", "10", f"http://127.0.0.1:{srv.port}/slow?s=1.5"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        try:
            wait_until("an h2c connection and its request to be counted", lambda: (
                lambda s: s.value("via_connections_open", protocol="h2", tls="false") == 1
                and s.value("via_http_requests_in_flight") == 1)(srv.scrape()), log=srv.log)
            out, err = curl.communicate(timeout=10)
            assert (curl.returncode, out) == (0, b"late"), err
        finally:
            if curl.poll() is None:
                curl.kill()
                curl.wait()
        wait_until("the h2c connection to be uncounted",
                   lambda: srv.scrape().value("via_connections_open", protocol="h2", tls="false") == 0,
                   log=srv.log)


# ---------------------------------------------------------------------------------------
# Rate limit


def test_rate_limit_answers_429_with_retry_after_per_client(start):
    srv = start({"rate_limit": 5, "rate_limit_burst": 5, "metrics_listen": True})
    statuses, retry_after = [], []
    conn = srv.connection(source="127.0.0.2")
    began = time.monotonic()
    try:
        for _ in range(10):
            r = srv.get("/", conn=conn)
            statuses.append(r.status)
            if r.status == 429:
                retry_after.append(r.headers.get("retry-after"))
    finally:
        conn.close()
    # The burst, plus a token per 0.2 s that the ten requests took (none on a fast machine).
    allowed = 5 + int((time.monotonic() - began) * 5)
    assert statuses[:5] == [200] * 5, statuses
    assert set(statuses) <= {200, 429} and statuses.count(200) <= allowed, (statuses, allowed)
    assert statuses.count(429) >= 10 - allowed and statuses.count(429) >= 1, statuses
    for v in retry_after:
        assert v is not None and v.isdigit() and int(v) >= 1, retry_after
    # Another client has its own bucket.
    assert srv.get("/", source="127.0.0.3").status == 200
    s = srv.scrape()
    limited = statuses.count(429)
    assert s.value("via_http_rate_limited_total") == limited
    assert s.value("via_http_requests_total", method="GET", code="4xx") == limited
    assert s.value("via_http_requests_total", method="GET", code="2xx") == statuses.count(200) + 1
    assert s.value("via_rate_limit_clients") == 2
    # At 5/s a token is back within 0.2 s (a refused request takes none).
    wait_until("127.0.0.2 to be let through again",
               lambda: srv.get("/", source="127.0.0.2").status == 200, timeout=3, log=srv.log)


def test_rate_limit_state_under_a_flood_of_client_addresses(start):
    """3,000 clients from distinct addresses of 127.0.0.0/8, one request each: every one is
    let through (a new client has its burst), one bucket is kept per client (well under the
    65,536 bound, so none is forgotten) and the server keeps answering."""
    srv = start({"rate_limit": 5, "rate_limit_burst": 5, "metrics_listen": True})
    clients = [f"127.1.{i // 250}.{i % 250 + 1}" for i in range(3000)]
    began = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(32) as pool:
        statuses = list(pool.map(lambda a: raw_get(srv.port, a), clients))
    took = time.monotonic() - began
    assert took < 25, f"3,000 requests took {took:.1f} s"
    assert statuses == [200] * len(clients), {s: statuses.count(s) for s in set(statuses)}
    s = srv.scrape()
    assert s.value("via_rate_limit_clients") == len(clients)
    assert s.value("via_rate_limit_clients") <= 65536
    assert s.value("via_http_rate_limited_total") == 0
    assert srv.get("/").status == 200
    srv.assert_alive()


def pipelined_gets(port: int, forwarded: list[str], batch: int = 500) -> dict[int, int]:
    """GET / once for each X-Forwarded-For address, pipelined `batch` at a time on one
    keep-alive connection; how many answers had each status."""
    statuses: dict[int, int] = {}
    with socket.create_connection(("127.0.0.1", port), timeout=10) as c, c.makefile("rb") as f:
        for i in range(0, len(forwarded), batch):
            chunk = forwarded[i:i + batch]
            c.sendall(b"".join(
                f"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-For: {a}\r\n\r\n".encode() for a in chunk))
            for _ in chunk:
                status_line = f.readline()
                assert status_line.startswith(b"HTTP/1.1 "), status_line
                length = 0
                while (h := f.readline()) not in (b"\r\n", b""):
                    if h.lower().startswith(b"content-length:"):
                        length = int(h.split(b":", 1)[1])
                f.read(length)
                code = int(status_line.split()[1])
                statuses[code] = statuses.get(code, 0) + 1
    return statuses


def test_rate_limit_state_stays_bounded_past_65536_clients(start):
    """70,000 clients named by a trusted proxy (X-Forwarded-For), one request each, at a rate
    so low that no bucket is full again during the flood: the limiter holds at most 65,536
    buckets, lets every new client through, and still limits the clients after the flood."""
    srv = start({"trusted_proxies": "127.0.0.1", "rate_limit": 0.1, "rate_limit_burst": 1,
                 "metrics_listen": True})
    total, parts = 70_000, 8
    addresses = [f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}" for n in range(1, total + 1)]
    began = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(parts) as pool:
        results = list(pool.map(lambda k: pipelined_gets(srv.port, addresses[k::parts]), range(parts)))
    took = time.monotonic() - began
    assert took < 20, f"{total} requests took {took:.1f} s"
    assert all(set(r) == {200} for r in results) and sum(r[200] for r in results) == total, results
    held = srv.scrape().value("via_rate_limit_clients")
    print(f"{total} clients in {took:.2f} s; buckets held: {held:.0f}")
    assert 60_000 <= held <= 65_536, held
    late = {"X-Forwarded-For": "192.0.2.77"}
    assert srv.get("/", headers=late).status == 200
    r = srv.get("/", headers=late)
    assert r.status == 429 and int(r.headers["retry-after"]) >= 1, r
    assert srv.scrape().value("via_rate_limit_clients") <= 65_536
    srv.assert_alive()


def test_rate_limit_state_stays_bounded_past_65536_source_addresses(start):
    """70,000 clients from distinct addresses of 127.0.0.0/8, a connection and a request
    each, at a rate so low that no bucket is full again during the flood: at most 65,536
    buckets are held, every new client is let through, and clients are still limited after."""
    srv = start({"rate_limit": 0.1, "rate_limit_burst": 1, "metrics_listen": True})
    total = 70_000
    clients = [f"127.{2 + n // 62_500}.{n // 250 % 250}.{n % 250 + 1}" for n in range(total)]
    began = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(lambda a: raw_get(srv.port, a), clients, chunksize=256))
    took = time.monotonic() - began
    assert statuses.count(200) == total, {s: statuses.count(s) for s in set(statuses)}
    held = srv.scrape().value("via_rate_limit_clients")
    print(f"{total} source addresses in {took:.2f} s; buckets held: {held:.0f}")
    assert 60_000 <= held <= 65_536, held
    late = "127.250.0.1"
    assert raw_get(srv.port, late) == 200
    assert raw_get(srv.port, late) == 429
    assert srv.scrape().value("via_rate_limit_clients") <= 65_536
    srv.assert_alive()


# ---------------------------------------------------------------------------------------
# Trusted proxies


def test_trusted_proxy_names_the_client(start):
    srv = start({"trusted_proxies": "127.0.0.1, 10.0.0.0/8"})
    who = lambda headers=None, source=None: srv.get("/who", headers=headers, source=source).json()["remote"]  # noqa: E731
    assert who() == "127.0.0.1"
    assert who({"X-Forwarded-For": "203.0.113.7"}) == "203.0.113.7"
    # Walked from the right past trusted entries; the first untrusted one is the client.
    assert who({"X-Forwarded-For": "198.51.100.1, 203.0.113.7, 10.1.2.3"}) == "203.0.113.7"
    assert who({"X-Forwarded-For": "198.51.100.1, 203.0.113.7, 10.1.2.3, 127.0.0.1"}) == "203.0.113.7"
    # Something that is not an address ends the walk: the last good address is used.
    assert who({"X-Forwarded-For": "not-an-ip, 10.0.0.5"}) == "10.0.0.5"
    assert who({"X-Real-IP": "203.0.113.9"}) == "203.0.113.9"
    assert who({"X-Forwarded-For": "2001:db8::1"}) == "2001:db8::1"
    # A peer that is not trusted is not believed.
    assert who({"X-Forwarded-For": "203.0.113.7"}, source="127.0.0.2") == "127.0.0.2"
    assert who({"X-Real-IP": "203.0.113.9"}, source="127.0.0.2") == "127.0.0.2"


def test_without_trusted_proxies_forwarded_headers_are_ignored(start):
    srv = start({})
    for headers in [{"X-Forwarded-For": "203.0.113.7"}, {"X-Real-IP": "203.0.113.9"}]:
        assert srv.get("/who", headers=headers).json()["remote"] == "127.0.0.1", headers


def test_rate_limit_keys_on_the_forwarded_client(start):
    srv = start({"trusted_proxies": "127.0.0.1", "rate_limit": 1, "rate_limit_burst": 1})
    a, b = {"X-Forwarded-For": "203.0.113.1"}, {"X-Forwarded-For": "203.0.113.2"}
    assert srv.get("/", headers=a).status == 200
    assert srv.get("/", headers=a).status == 429
    assert srv.get("/", headers=b).status == 200  # another client behind the same proxy


# ---------------------------------------------------------------------------------------
# Trace context and request id

# Without the access log PHP makes the ids from the headers; with it the runtime makes them
# when the request arrives. Both must follow the same rules.
TRACE_MODES = {"php": {}, "runtime": {"access_log": "/dev/null", "access_log_format": "json"}}

MALFORMED_TRACEPARENTS = [
    f"00-{TRACE.upper()}-{PARENT}-01",  # uppercase
    f"00-{TRACE}-{PARENT.upper()}-01",
    f"00-{'0' * 32}-{PARENT}-01",  # zero trace id
    f"00-{TRACE}-{'0' * 16}-01",  # zero parent id
    f"ff-{TRACE}-{PARENT}-01",  # the invalid version
    f"01-{TRACE}-{PARENT}-01extra",  # a later version adds fields only after a '-'
    f"0g-{TRACE}-{PARENT}-01",
    f"00-{TRACE}-{PARENT}-01-extra",
    f"00-{TRACE}-{PARENT}-1",
    f"00-{TRACE[:-1]}-{PARENT}-01",
    f"00-{TRACE}g-{PARENT}-01",
    f"00_{TRACE}_{PARENT}_01",
    f"00-{TRACE[:-1]}g-{PARENT}-01",
    f" 00-{TRACE}-{PARENT}-01x",
    "00",
    "garbage",
]


def check_own_trace(w: dict) -> None:
    assert HEX32.match(w["trace_id"]) and w["trace_id"] != "0" * 32, w
    assert HEX16.match(w["span_id"]) and w["span_id"] != "0" * 16, w
    assert re.fullmatch(rf"00-{w['trace_id']}-{w['span_id']}-[0-9a-f]{{2}}", w["traceparent"]), w


@pytest.mark.parametrize("mode", TRACE_MODES)
def test_valid_traceparent_is_continued(start, mode):
    srv = start(TRACE_MODES[mode])
    w = srv.get("/who", headers={"traceparent": VALID_TP}).json()
    check_own_trace(w)
    assert w["trace_id"] == TRACE
    assert w["parent"] == PARENT
    assert w["span_id"] != PARENT
    assert w["traceparent"] == f"00-{TRACE}-{w['span_id']}-01"
    assert w["request_id"] == TRACE
    unsampled = srv.get("/who", headers={"traceparent": f"00-{TRACE}-{PARENT}-00"}).json()
    assert unsampled["traceparent"] == f"00-{TRACE}-{unsampled['span_id']}-00"
    assert unsampled["span_id"] != w["span_id"]  # a new span per request
    # A later version is read by version 00's fields and passed on as version 00.
    for later in (f"01-{TRACE}-{PARENT}-01", f"cc-{TRACE}-{PARENT}-01-what-comes-next"):
        v = srv.get("/who", headers={"traceparent": later}).json()
        assert (v["trace_id"], v["parent"]) == (TRACE, PARENT), (later, v)
        assert v["traceparent"] == f"00-{TRACE}-{v['span_id']}-01", (later, v)


@pytest.mark.parametrize("mode", TRACE_MODES)
def test_malformed_traceparent_is_replaced(start, mode):
    srv = start(TRACE_MODES[mode])
    seen = set()
    for tp in MALFORMED_TRACEPARENTS:
        w = srv.get("/who", headers={"traceparent": tp}).json()
        check_own_trace(w)
        assert w["trace_id"] != TRACE.lower(), (tp, w)
        assert w["parent"] is None, (tp, w)
        assert w["request_id"] == w["trace_id"], (tp, w)
        seen.add(w["trace_id"])
    none = srv.get("/who").json()
    check_own_trace(none)
    assert none["parent"] is None and none["request_id"] == none["trace_id"]
    seen.add(none["trace_id"])
    assert len(seen) == len(MALFORMED_TRACEPARENTS) + 1  # a new trace each time


@pytest.mark.parametrize("mode", TRACE_MODES)
def test_request_id_is_passed_through_or_replaced(start, mode):
    srv = start(TRACE_MODES[mode])
    for rid in ["req-42", "a", "A-Za-z0-9-_.:+/=@", "x" * 128]:
        w = srv.get("/who", headers={"X-Request-Id": rid, "traceparent": VALID_TP}).json()
        assert w["request_id"] == rid
        assert w["trace_id"] == TRACE  # independent of the request id
    for rid in ["x" * 129, "has space", "<script>", "a,b", 'q"uote', "semi;colon", "tab\there"]:
        w = srv.get("/who", headers={"X-Request-Id": rid}).json()
        assert w["request_id"] == w["trace_id"], (rid, w)


# ---------------------------------------------------------------------------------------
# Access log

CLF_TIME = r"\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}"
# Apache's combined format, then the request id and the traceparent as two quoted fields.
COMBINED = re.compile(
    rf'^(?P<host>\S+) (?P<ident>\S+) (?P<user>\S+) \[(?P<time>{CLF_TIME})\] '
    r'"(?P<method>[A-Z]+) (?P<uri>\S+) (?P<proto>HTTP/[0-9.]+)" (?P<status>\d{3}) (?P<bytes>\d+|-) '
    r'"(?P<referer>(?:[^"\\]|\\.)*)" "(?P<ua>(?:[^"\\]|\\.)*)" '
    r'"(?P<rid>[^"]*)" "(?P<tp>[^"]*)"$'
)
COMMON = re.compile(
    rf'^(?P<host>\S+) (?P<ident>\S+) (?P<user>\S+) \[(?P<time>{CLF_TIME})\] '
    r'"(?P<method>[A-Z]+) (?P<uri>\S+) (?P<proto>HTTP/[0-9.]+)" (?P<status>\d{3}) (?P<bytes>\d+|-)$'
)


def log_lines(srv: OpsServer, path, count: int, timeout: float = 10.0) -> list[str]:
    """Waits (bounded) until the log file holds at least `count` complete lines."""
    def ready():
        text = path.read_text() if path.exists() else ""
        lines = text.split("\n")
        done = lines[:-1]  # the part after the last newline is not a complete line
        return done if len(done) >= count else None
    return wait_until(f"{count} access log lines in {path}", ready, timeout, log=lambda: (
        (path.read_text() if path.exists() else "(no file)") + "\n--- server log ---\n" + srv.log()))


def test_access_log_json_has_the_ids_php_saw(start, tmp_dir):
    log = tmp_dir / "access.json"
    srv = start({"access_log": str(log), "access_log_format": "json", "trusted_proxies": "127.0.0.1",
                 "metrics_listen": True})
    headers = {"traceparent": VALID_TP, "X-Request-Id": "order-7", "User-Agent": "ops-test/1",
               "Referer": "http://example.test/from", "X-Forwarded-For": "203.0.113.50"}
    r = srv.get("/who?x=1", headers=headers)
    who = r.json()
    plain = srv.get("/who").json()
    assert srv.get("/missing").status == 404
    expected = 3
    if h2c_available():
        assert h2c_get(srv.port, "/h2", 1) == [404]
        expected += 1
    lines = log_lines(srv, log, expected)
    assert len(lines) == expected, lines
    entries = [json.loads(line) for line in lines]
    by_uri = {e["uri"]: e for e in entries}
    e = by_uri["/who?x=1"]
    assert e["status"] == 200 and e["method"] == "GET" and e["protocol"] == "HTTP/1.1"
    assert e["remote_addr"] == "203.0.113.50" == who["remote"]
    assert e["request_id"] == "order-7" == who["request_id"]
    assert (e["trace_id"], e["span_id"]) == (TRACE, who["span_id"]) == (who["trace_id"], who["span_id"])
    assert e["bytes"] == len(r.body)
    assert e["user_agent"] == "ops-test/1" and e["referer"] == "http://example.test/from"
    assert isinstance(e["duration_ms"], (int, float)) and 0 <= e["duration_ms"] < 5000
    when = datetime.strptime(e["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    assert abs((datetime.now(timezone.utc) - when).total_seconds()) < 60, e["time"]
    e = by_uri["/who"]
    assert (e["trace_id"], e["span_id"], e["request_id"]) == (plain["trace_id"], plain["span_id"], plain["request_id"])
    assert e["request_id"] == e["trace_id"] and e["remote_addr"] == "127.0.0.1"
    assert e["referer"] is None and e["user_agent"] is None
    assert by_uri["/missing"]["status"] == 404
    if expected == 4:
        assert by_uri["/h2?n=0"]["protocol"] == "HTTP/2.0" and by_uri["/h2?n=0"]["status"] == 404
    wait_until("via_access_log_lines_total to count every line",
               lambda: srv.scrape().value("via_access_log_lines_total") == expected, log=srv.log)
    assert srv.scrape().value("via_access_log_dropped_total") == 0


def test_a_client_that_leaves_before_its_answer_is_logged_and_counted_as_499(start, tmp_dir):
    """A client that closes while its handler runs is in the log and the metrics, as nginx
    has it: status 499, no bytes. Over HTTP/1.1 (via's own path) and h2c (hyper's, which
    drops the request's future)."""
    log = tmp_dir / "access.json"
    srv = start({"access_log": str(log), "access_log_format": "json", "metrics_listen": True})
    before = srv.scrape()
    uris = ["/slow?s=3&via=h1"]
    flags = [[]]
    if h2c_available() and shutil.which("curl"):
        uris.append("/slow?s=3&via=h2c")
        flags.append(["--http2-prior-knowledge"])
    for uri, extra in zip(uris, flags):
        out = subprocess.run(["curl", "-sS", "--max-time", "0.5", *extra, f"http://127.0.0.1:{srv.port}{uri}"],
                             capture_output=True, text=True, timeout=10)
        assert out.returncode == 28, out.stderr  # curl's "operation timed out": it left
    lines = log_lines(srv, log, len(uris))
    by_uri = {e["uri"]: e for e in map(json.loads, lines)}
    for uri in uris:
        e = by_uri[uri]
        assert e["status"] == 499 and e["bytes"] is None, e
        assert 400 <= e["duration_ms"] < 3000, e
    after = srv.scrape()
    d = after.value("via_http_requests_total", 0.0, method="GET", code="4xx") - \
        before.value("via_http_requests_total", 0.0, method="GET", code="4xx")
    assert d == len(uris)


def test_requests_still_in_flight_when_a_stop_gives_up_are_answered_503(start, tmp_dir):
    """A stop waits `shutdown_timeout` for the requests in flight; the handlers still
    running then are cancelled, and their clients get 503, logged as such, over HTTP/1.1
    and h2c. (Their connections were dropped with the runtime: the clients got nothing, the
    log had 499 for h2c and no line for HTTP/1.1.)"""
    log = tmp_dir / "access.json"
    srv = start({"access_log": str(log), "access_log_format": "json", "metrics_listen": True, "shutdown_timeout": 1})
    uris, flags = ["/slow?s=20&via=h1"], [[]]
    if h2c_available() and shutil.which("curl"):
        uris.append("/slow?s=20&via=h2c")
        flags.append(["--http2-prior-knowledge"])
    clients = [subprocess.Popen(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "15", *extra,
                                 f"http://127.0.0.1:{srv.port}{uri}"], stdout=subprocess.PIPE, text=True)
               for uri, extra in zip(uris, flags)]
    srv.wait_for("the requests to be in flight",
                 lambda: srv.scrape(port=srv.metrics_port).value("via_http_requests_in_flight") == len(uris))
    started = time.monotonic()
    srv.proc.send_signal(signal.SIGTERM)
    assert srv.wait_exit(10) == 0, srv.log()
    assert time.monotonic() - started < 5, "the stop waited for the handlers"
    codes = [c.communicate(timeout=10)[0] for c in clients]
    assert codes == ["503"] * len(uris), (codes, srv.log())
    by_uri = {e["uri"]: e for e in map(json.loads, log_lines(srv, log, len(uris)))}
    for uri in uris:
        assert by_uri[uri]["status"] == 503, by_uri


def test_clients_that_leave_past_the_places_for_their_handlers_are_logged_as_499(start, tmp_dir):
    """With `max_connections` 1 the handler of one client that left holds a place of its
    own; the next one's connection keeps its place until its handler answers. Both are
    logged 499 when they leave, not with the status of an answer nobody got."""
    log = tmp_dir / "access.json"
    srv = start({"access_log": str(log), "access_log_format": "json", "max_connections": 1})

    def entries():
        text = log.read_text() if log.exists() else ""
        return [json.loads(line) for line in text.split("\n")[:-1]]

    def leave(n: int) -> None:
        # The only place may still be held by a connection the server has not seen close
        # yet (start's probe, the last client): refused at once (503), it is tried again.
        for _ in range(100):
            with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as s:
                s.sendall(f"GET /slow?s=1&n={n} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
                s.settimeout(0.3)
                try:
                    got = s.recv(64)
                except socket.timeout:
                    return  # taken: its handler sleeps; the client leaves now
                assert got.startswith(b"HTTP/1.1 503"), got
        raise AssertionError("no place came free")

    for n in range(2):
        leave(n)
        # Logged once the server saw it leave (its connection's place is free again then).
        wait_until(f"client {n} to be logged", lambda: len([e for e in entries() if e["uri"].startswith("/slow")]) > n,
                   10.0, log=srv.log)
    # The second one's connection holds the only place until its handler answers; an answer
    # to "/" after that is logged after anything its handler logs.
    wait_until("both handlers to answer", lambda: request(srv.port, "/").status == 200, 10.0, log=srv.log)
    wait_until("the answer to / logged", lambda: any(e["uri"] == "/" and e["status"] == 200 for e in entries()),
               10.0, log=srv.log)
    statuses = [e["status"] for e in entries() if e["uri"].startswith("/slow")]
    assert statuses == [499, 499], entries()


def test_access_log_combined_and_common_lines(start, tmp_dir):
    combined, common = tmp_dir / "combined.log", tmp_dir / "common.log"
    a = start({"access_log": str(combined)})  # combined is the default format
    b = start({"access_log": str(common), "access_log_format": "common"})
    tp_sent = {"traceparent": VALID_TP, "X-Request-Id": "rid-1", "User-Agent": "ops-test/1",
               "Referer": "http://example.test/"}
    r = a.get("/who?q=1", headers=tp_sent)
    who = r.json()
    evil = a.get("/who", headers={"User-Agent": 'evil" "forged" "x'}).json()
    assert a.get("/missing").status == 404
    lines = log_lines(a, combined, 3)
    assert len(lines) == 3, lines
    m = [COMBINED.match(line) for line in lines]
    assert all(m), lines
    first = m[0].groupdict()
    assert first["host"] == "127.0.0.1" and (first["ident"], first["user"]) == ("-", "-")
    assert (first["method"], first["uri"], first["proto"], first["status"]) == ("GET", "/who?q=1", "HTTP/1.1", "200")
    assert first["bytes"] == str(len(r.body))
    assert (first["referer"], first["ua"]) == ("http://example.test/", "ops-test/1")
    assert (first["rid"], first["tp"]) == ("rid-1", who["traceparent"])
    when = datetime.strptime(first["time"], "%d/%b/%Y:%H:%M:%S %z")
    assert abs((datetime.now(timezone.utc) - when).total_seconds()) < 60, first["time"]
    second = m[1].groupdict()
    assert second["ua"] == r"evil\x22 \x22forged\x22 \x22x", lines[1]  # no forged fields
    assert second["referer"] == "-"
    assert (second["rid"], second["tp"]) == (evil["request_id"], evil["traceparent"])
    assert m[2].group("status") == "404"

    assert b.get("/", headers=tp_sent).status == 200
    lines = log_lines(b, common, 1)
    m = COMMON.match(lines[0])
    assert m, lines
    assert (m["host"], m["method"], m["uri"], m["status"], m["bytes"]) == ("127.0.0.1", "GET", "/", "200", "5")


def test_access_log_to_stderr_records_the_runtimes_own_answers(start):
    srv = start({"access_log": "stderr", "access_log_format": "json", "rate_limit": 1, "rate_limit_burst": 1,
                 "health_path": "/_health"})
    assert srv.get("/").status == 200
    assert srv.get("/").status == 429
    assert srv.get("/_health").status == 200

    def entries():
        found = []
        for line in srv.log().splitlines():
            if line.startswith("{"):
                found.append(json.loads(line))
        return found if len(found) >= 3 else None

    found = wait_until("three JSON lines on stderr", entries, log=srv.log)
    assert [(e["uri"], e["status"]) for e in found] == [("/", 200), ("/", 429), ("/_health", 200)], found
    assert all(HEX32.match(e["trace_id"]) and e["request_id"] == e["trace_id"] for e in found), found


# ---------------------------------------------------------------------------------------
# Error pages


def test_error_pages_for_the_runtimes_own_answers(start, tmp_dir):
    pages = tmp_dir / "pages"
    pages.mkdir()
    (pages / "504.html").write_text("<h1>too slow</h1>")
    (pages / "429.html").write_text("<h1>slow down</h1>")
    (pages / "404.html").write_text("<h1>not here</h1>")
    srv = start({"request_timeout": 0.2, "error_pages": str(pages), "rate_limit": 2, "rate_limit_burst": 2,
                 "metrics_listen": True})
    began = time.monotonic()
    r = srv.get("/slow?s=2", source="127.0.0.2")
    took = time.monotonic() - began
    assert r.status == 504, r
    assert r.headers["content-type"].startswith("text/html"), r.headers
    assert r.body == b"<h1>too slow</h1>"
    assert 0.15 <= took < 1.5, took
    statuses = [srv.get("/", source="127.0.0.3") for _ in range(4)]
    limited = [x for x in statuses if x.status == 429]
    assert limited, statuses
    for x in limited:
        assert x.headers["content-type"].startswith("text/html"), x.headers
        assert x.body == b"<h1>slow down</h1>"
        assert int(x.headers["retry-after"]) >= 1
    # The application's own 404 is its own.
    assert (srv.get("/missing", source="127.0.0.4").body) == b"no such page"
    s = srv.scrape()
    assert s.value("via_http_timeouts_total", kind="request") == 1
    assert s.value("via_http_requests_total", method="GET", code="5xx") == 1


def test_error_page_for_503_over_max_connections(start, tmp_dir):
    (tmp_dir / "503.html").write_text("<h1>full</h1>")
    srv = start({"max_connections": 1, "error_pages": str(tmp_dir)})

    def hold():
        """A connection that got the one slot (the start-up probe's may not be released yet)."""
        conn = srv.connection()
        if srv.get("/", conn=conn).status == 200:
            return conn
        conn.close()
        return None

    held = wait_until("the one connection slot", hold, log=srv.log)
    try:
        r = srv.get("/")  # a second connection, over max_connections
        assert r.status == 503, r
        assert r.headers["content-type"].startswith("text/html") and r.body == b"<h1>full</h1>", r
    finally:
        held.close()


def test_error_page_for_500_of_an_unanswered_request(start, tmp_dir):
    (tmp_dir / "500.html").write_text("<h1>broken</h1>")
    srv = start({"error_pages": str(tmp_dir)})
    r = srv.get("/noanswer")
    assert r.status == 500, r
    assert r.headers["content-type"].startswith("text/html"), r
    assert r.body == b"<h1>broken</h1>", r


def test_error_page_for_404_of_static_files_and_the_internal_listener(start, tmp_dir):
    pages, public = tmp_dir / "pages", tmp_dir / "public"
    pages.mkdir()
    public.mkdir()
    (pages / "404.html").write_text("<h1>not here</h1>")
    (public / "a.txt").write_text("a file")
    srv = start({"static_dir": str(public), "static_prefix": "/static/", "error_pages": str(pages),
                 "metrics_listen": True})
    assert srv.get("/static/a.txt").body == b"a file"
    # A path the static files refuse (an encoded slash), and a path of the internal
    # listener that is neither health nor metrics, are the runtime's own 404s.
    for r in [srv.get("/static/x%2Fa.txt"), request(srv.metrics_port, "/nothing")]:
        assert r.status == 404, r
        assert r.headers["content-type"].startswith("text/html"), r.headers
        assert r.body == b"<h1>not here</h1>"
    # A file that is not there, and any other path, are the application's.
    assert srv.get("/static/missing.txt").body == b"no such page"
    assert srv.get("/missing").body == b"no such page"


def test_error_page_for_502_when_a_worker_dies_mid_request(start, tmp_dir):
    """A worker killed while it holds a request: that request gets the 502 page, the crash
    is counted and the worker replaced."""
    (tmp_dir / "502.html").write_text("<h1>bad gateway</h1>")
    srv = start({"workers": 2, "error_pages": str(tmp_dir), "metrics_listen": True})
    wait_until("both workers to be ready", lambda: srv.scrape().value("via_workers_live") == 2, log=srv.log)
    to_0 = {"Cookie": "via_worker=0"}
    pid = int(srv.get("/pid", headers=to_0).text)
    assert int(srv.get("/pid", headers=to_0).text) == pid  # the cookie routes to that worker
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        slow = pool.submit(srv.get, "/slow?s=10", headers=to_0, timeout=20)
        wait_until("the slow request to be in flight",
                   lambda: srv.scrape().value("via_http_requests_in_flight") == 1, log=srv.log)
        os.kill(pid, signal.SIGKILL)
        r = slow.result(timeout=15)
    assert r.status == 502, r
    assert r.headers["content-type"].startswith("text/html"), r.headers
    assert r.body == b"<h1>bad gateway</h1>"
    s = wait_until("the worker to be replaced", lambda: (
        lambda s: s if s.value("via_workers_live") == 2 and s.value("via_worker_starts_total") == 3 else None)(
        srv.scrape()), timeout=15, log=srv.log)
    assert s.value("via_worker_crashes_total") == 1
    assert int(srv.get("/pid", headers=to_0).text) != pid


def test_without_error_pages_the_runtime_answers_plain_text(start):
    srv = start({"request_timeout": 0.2})
    r = srv.get("/slow?s=2")
    assert r.status == 504, r
    assert r.headers["content-type"].startswith("text/plain"), r.headers
    assert r.body == b"504 Gateway Timeout\n"


# ---------------------------------------------------------------------------------------
# Options refused at start


def run_refused(options: dict) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.update({"VIA_OPS_PORT": str(free_port()), "VIA_OPS_OPTIONS": json.dumps(options)})
    try:
        return subprocess.run(php_command(), cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"the app was still running after {STOP_TIMEOUT_S} s with {options}: {e.stdout}{e.stderr}")


@pytest.mark.parametrize("options, mentions", [
    ({"health_path": "/ops", "metrics_path": "/ops"}, 'option "metrics_path": must differ from health_path'),
    # On the internal listener the defaults count: a health_path of /metrics collides.
    ({"metrics_listen": "127.0.0.1:0", "health_path": "/metrics"}, 'option "metrics_path": must differ'),
    ({"metrics_listen": "127.0.0.1:0", "health_path": "/x", "metrics_path": "/x"}, 'option "metrics_path": must differ'),
    ({"metrics_listen": "no-port-here"}, 'option "metrics_listen"'),
    ({"health_path": "no-slash"}, 'option "health_path"'),
    ({"access_log_format": "xml"}, 'option "access_log_format"'),
    ({"rate_limit": -1}, 'option "rate_limit"'),
    ({"rate_limit_burst": 0}, 'option "rate_limit_burst"'),
    ({"trusted_proxies": "10.0.0.0/33"}, 'option "trusted_proxies"'),
    ({"error_pages": "/nonexistent/via-pages"}, 'option "error_pages"'),
])
def test_conflicting_or_malformed_options_are_refused(options, mentions):
    out = run_refused(options)
    assert out.returncode != 0, (options, out.stdout, out.stderr)
    assert mentions in out.stdout + out.stderr, (options, out.stdout, out.stderr)
    assert "listening on" not in out.stdout + out.stderr


def test_metrics_listen_on_a_port_in_use_is_refused():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        out = run_refused({"metrics_listen": f"127.0.0.1:{port}"})
    assert out.returncode != 0, (out.stdout, out.stderr)
    assert f"127.0.0.1:{port}" in out.stdout + out.stderr, (out.stdout, out.stderr)
