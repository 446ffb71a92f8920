"""Fixtures for the operations tests: tests/ops/app.php started on a free port with the via
extension and the Server options a test gives (JSON in VIA_OPS_OPTIONS), plain HTTP clients
(http.client, raw sockets bound to any address of 127.0.0.0/8, curl for h2c), Prometheus
scrapes parsed by prometheus_client's own parser, and a per-test time limit.

VIA_SO names the extension (default: target/release/libvia.so of this checkout).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pylib"))
from viaproc import (  # noqa: E402 (the shared helpers' folder is put on the path first)
    ROOT,
    STOP_TIMEOUT_S,
    PhpProcess,
    Reply,
    extension_path,
    free_port,
    free_ports,
    time_limit,
    wait_until,
)

APP = Path(__file__).resolve().parent / "app.php"

# Every test ends within this many seconds or fails.
TEST_TIME_LIMIT_S = 60
# How long a server may take to listen after it was started.
START_TIMEOUT_S = 15
# Starts tried when the ports chosen were taken before the app bound them.
START_ATTEMPTS = 3


def php_command() -> list[str]:
    return ["php", "-n", "-d", f"extension={extension_path()}", str(APP)]


def request(
    port: int,
    path: str = "/",
    headers: dict[str, str] | None = None,
    method: str = "GET",
    source: str | None = None,
    conn: http.client.HTTPConnection | None = None,
    timeout: float = 5.0,
) -> Reply:
    """One HTTP/1.1 request; on `conn` (kept open) when given, else on a new connection from
    `source` (an address of 127.0.0.0/8), closed afterwards."""
    own = conn is None
    if own:
        conn = http.client.HTTPConnection(
            "127.0.0.1", port, timeout=timeout, source_address=(source, 0) if source else None
        )
    try:
        conn.request(method, path, headers=headers or {})
        res = conn.getresponse()
        return Reply(res.status, {k.lower(): v for k, v in res.getheaders()}, res.read())
    finally:
        if own:
            conn.close()


def raw_get(port: int, source: str, path: str = "/", timeout: float = 5.0) -> int:
    """A GET with `Connection: close` from `source`; returns the status code."""
    with socket.socket() as s:
        s.settimeout(timeout)
        s.bind((source, 0))
        s.connect(("127.0.0.1", port))
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head = data.split(b"\r\n", 1)[0].split()
    assert len(head) >= 2 and head[0].startswith(b"HTTP/"), data[:200]
    return int(head[1])


class Scrape:
    """One Prometheus exposition, parsed by prometheus_client's parser."""

    def __init__(self, text: str):
        from prometheus_client.parser import text_string_to_metric_families

        self.text = text
        self.families = {f.name: f for f in text_string_to_metric_families(text)}
        self.samples: dict[tuple[str, frozenset], float] = {}
        for fam in self.families.values():
            for s in fam.samples:
                self.samples[(s.name, frozenset(s.labels.items()))] = s.value

    def value(self, name: str, default: float | None = None, **labels: str) -> float:
        key = (name, frozenset(labels.items()))
        if key not in self.samples:
            if default is not None:
                return default
            raise AssertionError(f"no sample {name}{labels} in the scrape:\n{self.text}")
        return self.samples[key]

    def labelled(self, name: str) -> float:
        """The value of the one sample named `name`, whatever its labels."""
        found = [v for (n, _), v in self.samples.items() if n == name]
        assert len(found) == 1, f"{len(found)} samples {name} in the scrape:\n{self.text}"
        return found[0]

    def family_type(self, name: str) -> str:
        return self.families[name].type


class OpsServer(PhpProcess):
    """app.php in its own process with the given Server options, its output kept for failure
    reports. `metrics_port` is the port of `metrics_listen` when the test asked for one
    (`metrics_listen: True` is replaced by a free port of 127.0.0.1)."""

    def __init__(self, options: dict | None = None, wait: bool = True, env: dict[str, str] | None = None):
        wants_internal = dict(options or {}).get("metrics_listen") is True
        # A port chosen free can be taken by another socket before the app binds it (a
        # client's ephemeral port): a start that fails on exactly that is tried again on
        # new ports, a few times; any other failure is the test's.
        for attempt in range(START_ATTEMPTS):
            self.options = dict(options or {})
            self.port, *internal = free_ports(2 if wants_internal else 1)
            self.metrics_port: int | None = internal[0] if internal else None
            if self.metrics_port:
                self.options["metrics_listen"] = f"127.0.0.1:{self.metrics_port}"
            self.options.setdefault("shutdown_timeout", 1)
            full_env = dict(os.environ, **(env or {}))
            full_env.update({"VIA_OPS_PORT": str(self.port), "VIA_OPS_OPTIONS": json.dumps(self.options)})
            self.spawn(php_command(), full_env, "via-ops-")
            if not wait:
                return
            try:
                self._wait_listening()
                return
            except RuntimeError as e:
                if "Address already in use" not in str(e) or attempt + 1 == START_ATTEMPTS:
                    raise
                self.stop()  # it has exited; this closes its log

    def get(self, path: str = "/", **kwargs) -> Reply:
        return request(self.port, path, **kwargs)

    def connection(self, timeout: float = 5.0, source: str | None = None) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=timeout, source_address=(source, 0) if source else None
        )

    def scrape(self, path: str = "/metrics", port: int | None = None) -> Scrape:
        r = request(port or self.metrics_port or self.port, path)
        assert r.status == 200, (r, self.log())
        assert r.headers.get("content-type", "").startswith("text/plain"), r.headers
        return Scrape(r.text)

    def _listening(self, port: int) -> bool:
        """A TCP connect alone: no request is made, so nothing is counted or rate-limited."""
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
        return False

    def _wait_listening(self) -> None:
        ports = [self.port] + ([self.metrics_port] if self.metrics_port else [])
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            self.exited()
            if all(self._listening(p) for p in ports):
                return
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"the app did not listen on {ports} within {START_TIMEOUT_S} s:\n{self.log()}")


@pytest.fixture(autouse=True)
def _time_limit():
    """Fails a test that runs longer than TEST_TIME_LIMIT_S, whatever it waits for."""
    with time_limit(TEST_TIME_LIMIT_S):
        yield


@pytest.fixture
def start():
    """Starts app.php servers with the given options; after the test checks that each one is
    still running without a PHP error, then stops it."""
    made: list[OpsServer] = []

    def make(options: dict | None = None, wait: bool = True, env: dict[str, str] | None = None) -> OpsServer:
        srv = OpsServer(options, wait=wait, env=env)
        made.append(srv)
        return srv

    yield make
    try:
        for srv in made:
            log = srv.log()
            assert "PHP Fatal" not in log and "Uncaught" not in log, log
    finally:
        for srv in made:
            srv.stop()


@pytest.fixture
def tmp_dir():
    with tempfile.TemporaryDirectory(prefix="via-ops-") as d:
        yield Path(d)
