"""Fixtures for the framework's end-to-end tests: the demo app (examples/app.php) started
on a free port with the via extension, a headless Chromium driven by Playwright, and a
per-test time limit.

VIA_SO names the extension (default: target/release/libvia.so of this checkout).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pylib"))
from viaproc import (  # noqa: E402 (the shared helpers' folder is put on the path first)
    ROOT,
    PhpProcess,
    Reply,
    extension_path,
    free_port,
    time_limit,
)

APP = ROOT / "examples" / "app.php"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")

# Every test ends within this many seconds or fails (Playwright's own waits are shorter).
TEST_TIME_LIMIT_S = 90
# Playwright's auto-waiting limit for one expectation or action.
EXPECT_TIMEOUT_MS = 10_000
# How long a server may take to answer /_health after it was started.
START_TIMEOUT_S = 15


class DemoServer(PhpProcess):
    """examples/app.php (or another app) in its own process, its output kept for failure reports."""

    name = "the demo"

    def __init__(
        self, env: dict[str, str] | None = None, tls: tuple[str, str] | None = None, app: Path = APP
    ):
        self.port = free_port()
        self.tls = tls
        self.scheme = "https" if tls else "http"
        self.host = "127.0.0.1"
        self.origin = f"{self.scheme}://{self.host}:{self.port}"
        full_env = dict(os.environ)
        full_env.update({"VIA_LOG_LEVEL": "warn", "VIA_CLOCK_MS": "250"})
        full_env.update(env or {})
        if tls:
            full_env.update({"VIA_TLS_CERT": tls[0], "VIA_TLS_KEY": tls[1]})
        self.spawn(["php", "-d", f"extension={extension_path()}", str(app), str(self.port)], full_env, "via-demo-")
        self._wait_ready()

    def url(self, path: str = "/") -> str:
        return self.origin + path

    def connection(self, timeout: float = 5.0) -> http.client.HTTPConnection:
        if self.tls:
            import ssl

            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            return http.client.HTTPSConnection(self.host, self.port, timeout=timeout, context=ctx)
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def health(self) -> dict:
        conn = self.connection()
        try:
            conn.request("GET", "/_health")
            res = conn.getresponse()
            body = res.read()
            assert res.status == 200, (res.status, body)
            return json.loads(body)
        finally:
            conn.close()

    def contexts(self) -> int:
        return self.health()["connections"]["contexts"]

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            self.exited()
            with contextlib.suppress(OSError, AssertionError, http.client.HTTPException, ValueError):
                self.health()
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the demo did not answer /_health within {START_TIMEOUT_S} s:\n{self.log()}")


@pytest.fixture(autouse=True)
def _time_limit():
    """Fails a test that runs longer than TEST_TIME_LIMIT_S, whatever it waits for."""
    with time_limit(TEST_TIME_LIMIT_S):
        yield


@pytest.fixture(scope="module")
def server():
    """The demo with short lifecycle delays, shared by the tests of one module."""
    srv = DemoServer({"VIA_CLEANUP_MS": "300", "VIA_REVIVAL_MS": "60000"})
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def tls_files():
    """A self-signed certificate for 127.0.0.1 and localhost, made with openssl."""
    with tempfile.TemporaryDirectory(prefix="via-tls-") as d:
        cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
        subprocess.run(
            [
                "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1",
                "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            ],
            check=True,
            capture_output=True,
            timeout=30,
        )
        yield cert, key


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def new_context(browser):
    """Makes browser contexts (one cookie jar each, like separate browsers); closes them after the test."""
    made = []

    def make(**kwargs):
        ctx = browser.new_context(**kwargs)
        ctx.set_default_timeout(EXPECT_TIMEOUT_MS)
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        ctx.close()
