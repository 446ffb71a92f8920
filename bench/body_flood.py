#!/usr/bin/env python3
"""The memory a flood of unfinished uploads makes a server hold (`max_body_memory`).

N clients on loopback each send the head of an 8 MiB POST and then part of its body, all
at once, and wait; the server (tests/apps/e2e.php, one process) is then measured: its
resident and peak memory (VmRSS, VmHWM) and how many of the clients it answered 503.
Without a bound across connections the server holds every partial body until
`body_timeout` (N × the part sent).

Usage: bench/body_flood.py [--clients N] [--mib M] [--options JSON] [--so PATH]
"""

import argparse
import json
import os
import re
import socket
import subprocess
import time

from benchlib import ROOT, SO, machine

CHUNK = b"x" * 65536


def status_mib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(key + r":\s+(\d+)", f.read()).group(1)) // 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--mib", type=float, default=6, help="MiB of its body each client sends")
    ap.add_argument("--options", default="{}", help="server options as JSON")
    ap.add_argument("--so", default=SO)
    ap.add_argument("--seconds", type=float, default=20, help="at most this long sending")
    args = ap.parse_args()
    env = dict(os.environ, VIA_TEST_OPTIONS=args.options)
    server = subprocess.Popen(
        ["php", "-n", "-d", f"extension={args.so}", os.path.join(ROOT, "tests/apps/e2e.php")],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        port = None
        for line in server.stderr:
            m = re.search(r"listening on http://[\d.]+:(\d+)", line)
            if m:
                port = int(m.group(1))
                break
        before = status_mib(server.pid, "VmRSS")
        each = int(args.mib * (1 << 20))
        clients = []
        for _ in range(args.clients):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 8388608\r\n\r\n")
            s.setblocking(False)
            clients.append(s)
        sent = [0] * len(clients)
        deadline = time.time() + args.seconds
        while time.time() < deadline and min(sent) < each:
            for i, s in enumerate(clients):
                if sent[i] >= each:
                    continue
                try:
                    sent[i] += s.send(CHUNK[: each - sent[i]])
                except BlockingIOError:
                    pass
                except OSError:  # refused and closed
                    sent[i] = each
        time.sleep(1)
        refused = 0
        for s in clients:
            try:
                refused += b" 503 " in s.recv(64)
            except OSError:
                pass
        stats = json.loads(subprocess.run(
            ["curl", "-sS", f"http://127.0.0.1:{port}/stats"], capture_output=True, text=True).stdout)
        print(f"# {machine(args.so)}")
        print(f"options {args.options}, {args.clients} clients x {args.mib:g} MiB sent of 8 MiB bodies")
        print(f"RSS before {before} MiB, after {status_mib(server.pid, 'VmRSS')} MiB, "
              f"peak {status_mib(server.pid, 'VmHWM')} MiB; answered 503: {refused}; "
              f"body_memory now {stats.get('body_memory', 0) >> 20} MiB, "
              f"body_memory_refusals {stats.get('body_memory_refusals', '-')}")
    finally:
        server.kill()


if __name__ == "__main__":
    main()
