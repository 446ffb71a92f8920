"""A tab whose client stops reading (its queue full, the backpressure policy "wait") must
not hold back the patches of the other tabs of a broadcast: the framework writes every
tab's patches from one task without waiting (Via\\SSE::trySend), and leaves a tab that is
behind to a task of its own, which waits for it as the policy says."""

from __future__ import annotations

import re
import socket
import time

from conftest import ROOT, DemoServer
from test_bad_input import Stream, Tab, sse_path

SLOW_APP = ROOT / "tests" / "framework" / "apps" / "slow_tab.php"
BROADCASTS = 30


def test_a_tab_that_stops_reading_does_not_hold_back_the_others():
    srv = DemoServer(app=SLOW_APP)
    try:
        # First: the stuck tab comes before the live one in every broadcast.
        stuck_tab, live_tab = Tab(srv), Tab(srv)
        stuck = socket.socket()
        stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stuck.connect((srv.host, srv.port))
        stuck.sendall(
            f"GET {sse_path({'via_ctx': stuck_tab.ctx})} HTTP/1.1\r\nHost: {srv.host}:{srv.port}\r\n"
            f"Cookie: via_session_id={stuck_tab.sid}\r\n\r\n".encode()
        )  # and never read
        live = Stream(srv, live_tab)
        live.until(r'hits":0\b')
        slowest = 0.0
        for i in range(1, BROADCASTS + 1):
            start = time.monotonic()
            assert live_tab.action("bump").status == 200
            live.until(rf'hits":{i}\b')
            slowest = max(slowest, time.monotonic() - start)
        # A broadcast held back by the stuck tab would wait for it: 2 s, the policy's timeout.
        assert slowest < 1.5, f"the slowest broadcast reached the live tab after {slowest:.2f} s"
        # The stuck tab's own task waited for it and then closed its stream.
        srv.wait_for("the stuck stream to be closed", lambda: srv.health()["connections"]["sse"] == 1)
        live.close()
        stuck.close()
        srv.assert_alive()
        log = srv.log()
        assert "PHP Fatal" not in log and "Uncaught" not in log, log
    finally:
        srv.stop()
