"""What the Python suites (tests/framework, tests/ops) share: the extension's path, free
ports, an HTTP reply, polling with a deadline, a per-test time limit, and a PHP app run in
its own process with its output kept for failure reports.

Each suite's conftest.py puts this folder on sys.path and imports from here.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# How long a server may take to exit once asked (or once it refused its options).
STOP_TIMEOUT_S = 10


def extension_path() -> Path:
    so = Path(os.environ.get("VIA_SO", ROOT / "target" / "release" / "libvia.so")).resolve()
    if not so.is_file():
        pytest.fail(f"the via extension is not at {so}: build it (scripts/build.sh) or set VIA_SO", pytrace=False)
    return so


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(n: int) -> list[int]:
    """`n` free ports of 127.0.0.1, all different: chosen while every one is held (ports
    chosen one after the other can be the same one twice)."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


class Reply:
    """One HTTP response: status, lower-case header names, body."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes):
        self.status, self.headers, self.body = status, headers, body

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")

    def json(self):
        return json.loads(self.body)

    def __repr__(self) -> str:
        return f"Reply({self.status}, {self.headers!r}, {self.body[:200]!r})"


def wait_until(what: str, predicate, timeout: float = 10.0, log=lambda: "", interval: float = 0.02):
    """Polls predicate() until it returns a true value and returns that; fails after
    `timeout` seconds with `what` and log()."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n--- server log ---\n{log()}")
        time.sleep(interval)


@contextlib.contextmanager
def time_limit(seconds: int):
    """Fails what runs inside for longer than `seconds`, whatever it waits for."""

    def expired(signum, frame):
        raise TimeoutError(f"test exceeded {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


class PhpProcess:
    """A PHP app in its own process, its stdout and stderr in a temporary log file. `name`
    says what it is in failure messages ("the demo", "the app")."""

    name = "the app"

    def spawn(self, command: list[str], env: dict[str, str], log_prefix: str) -> None:
        self._log = tempfile.NamedTemporaryFile(prefix=log_prefix, suffix=".log", delete=False)
        self.proc = subprocess.Popen(
            command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT
        )

    def log(self) -> str:
        return Path(self._log.name).read_text(errors="replace")

    def wait_for(self, what: str, predicate, timeout: float = 10.0):
        """Polls predicate() until it returns a true value; fails after timeout seconds."""
        return wait_until(what, predicate, timeout, log=self.log)

    def exited(self) -> None:
        """Raises when the process has ended (for start-up waits)."""
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.log()}")

    def assert_alive(self) -> None:
        assert self.proc.poll() is None, f"{self.name} exited with {self.proc.returncode}:\n{self.log()}"

    def wait_exit(self, timeout: float = STOP_TIMEOUT_S) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.name} did not exit within {timeout} s:\n{self.log()}") from None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._log.close()
        with contextlib.suppress(OSError):
            os.unlink(self._log.name)
