"""Two servers ("nodes") of two workers each on one real Redis, then one real NATS: an
action on node A broadcasts its ROUTE scope, and a headless Chromium tab on node B (with
the Datastar client) re-renders. The broker is killed mid-run: /_health answers 503
"degraded" on both nodes, nothing crashes or hangs; restarted, the nodes reconnect by
themselves and later broadcasts arrive.

redis-server and nats-server are Debian's (scripts/deps.sh test installs them).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from conftest import ROOT, DemoServer, free_port
from test_browser import open_live

CLUSTER_APP = ROOT / "tests" / "framework" / "apps" / "cluster.php"


class BrokerServer:
    """A redis-server or nats-server on a free loopback port that can be killed and restarted."""

    def __init__(self, kind: str):
        self.kind = kind
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        if self.kind == "redis":
            cmd = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        else:
            cmd = ["nats-server", "-a", "127.0.0.1", "-p", str(self.port)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return
            assert time.monotonic() < deadline, f"{self.kind}-server did not listen on {self.port}"
            time.sleep(0.02)

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


def health(node: DemoServer) -> tuple[int, dict]:
    conn = node.connection()
    try:
        conn.request("GET", "/_health")
        res = conn.getresponse()
        return res.status, json.loads(res.read())
    finally:
        conn.close()


@pytest.fixture(params=["redis", "nats"])
def cluster(request):
    broker = BrokerServer(request.param)
    shared = tempfile.NamedTemporaryFile(prefix="via-cluster-", delete=False)
    shared.close()
    os.unlink(shared.name)
    env = {"VIA_BROKER": request.param, "VIA_BROKER_PORT": str(broker.port), "VIA_SHARED_FILE": shared.name}
    nodes = []
    try:
        for name in ("A", "B"):
            nodes.append(DemoServer({**env, "VIA_NODE": name}, app=CLUSTER_APP))
        yield broker, nodes[0], nodes[1]
    finally:
        for n in nodes:
            n.stop()
        broker.kill()
        with contextlib.suppress(OSError):
            os.unlink(shared.name)


def test_a_broadcast_on_one_node_reaches_a_tab_on_another_and_survives_a_broker_restart(cluster, new_context):
    broker, a, b = cluster
    for node in (a, b):
        status, body = health(node)
        assert status == 200 and body["broker"]["connected"], body
        assert body["broker"]["driver"] == ("RedisBroker" if broker.kind == "redis" else "NatsBroker")

    tab_b = open_live(new_context(), b.url("/"))
    tab_a = open_live(new_context(), a.url("/"))
    expect(tab_b.locator("#node")).to_have_text("B")
    expect(tab_b.locator("#pokes")).to_have_text("0")
    tab_a.click("#poke")
    expect(tab_b.locator("#log li").last).to_have_text("poke from node A")
    expect(tab_a.locator("#pokes")).to_have_text("1")

    broker.kill()
    for node in (a, b):
        node.wait_for("a degraded /_health", lambda: health(node)[0] == 503, timeout=20)
        status, body = health(node)
        assert body["status"] == "degraded" and not body["broker"]["connected"], body
        node.assert_alive()

    broker.start()
    for node in (a, b):
        node.wait_for("the broker reconnected", lambda: health(node)[0] == 200, timeout=40)
    # Pub/sub keeps nothing: poke until the other node has resubscribed too.
    pokes = 1
    deadline = time.monotonic() + 20
    while True:
        tab_b.click("#poke")
        pokes += 1
        try:
            expect(tab_a.locator("#pokes")).to_have_text(str(pokes), timeout=1000)
            break
        except AssertionError:
            assert time.monotonic() < deadline, f"no broadcast crossed after the restart\n{a.log()}\n{b.log()}"
    expect(tab_a.locator("#log li").last).to_have_text("poke from node B")
