#!/usr/bin/env python3
"""What clients see while a handler keeps the PHP thread busy.

For each reactor (threads; php, whose standby thread drives the I/O while PHP is away:
decision 0018), the server runs on CPU 0 (bench/apps/stall.php). A client asks for /block
(the handler blocks PHP in usleep() for 0.5 s), waits --gap seconds, and times a /health
request, which the runtime answers without PHP; repeated --count times. Then it times the
answer of a handler that ends its response and then blocks PHP for 0.5 s (/end-then-block):
the answer waits in the PHP thread's batch until the standby hands it over. Prints the
median and the largest time to each answer.

Usage: bench/stall.py [--count 10] [--gaps 0.002,0.05]
Needs: a release build (scripts/build.sh).
"""

import argparse
import os
import socket
import statistics
import subprocess
import time

from benchlib import APPS, SO, machine, wait_port

PORT = 18110


def health_while_blocked(gap):
    blocked = socket.create_connection(("127.0.0.1", PORT))
    blocked.sendall(b"GET /block HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n")
    time.sleep(gap)
    t = time.perf_counter()
    with socket.create_connection(("127.0.0.1", PORT)) as h:
        h.sendall(b"GET /health HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n")
        if not h.recv(1024).startswith(b"HTTP/1.1 200"):
            raise SystemExit("health did not answer 200")
    took = (time.perf_counter() - t) * 1000
    blocked.settimeout(10)
    if b"ok" not in blocked.recv(1024):
        raise SystemExit("the blocked request was not answered")
    blocked.close()
    return took


def answer_before_blocking():
    t = time.perf_counter()
    with socket.create_connection(("127.0.0.1", PORT)) as s:
        s.sendall(b"GET /end-then-block HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n")
        got = b""
        while b"ok" not in got:
            chunk = s.recv(1024)
            if not chunk:
                raise SystemExit("no answer from /end-then-block")
            got += chunk
    took = (time.perf_counter() - t) * 1000
    time.sleep(0.55)  # the handler ends
    return took


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=10)
    ap.add_argument("--gaps", default="0.002,0.05")
    args = ap.parse_args()
    gaps = [float(g) for g in args.gaps.split(",")]
    print(f"Machine: {machine()}")
    print(f"Command: bench/stall.py --count {args.count} --gaps {args.gaps}  (server on CPU 0)\n")
    print("| reactor | request | median ms | max ms |")
    print("|---|---|---:|---:|")
    for reactor in ("threads", "php"):
        cmd = ["taskset", "-c", "0", "php", "-n", "-d", f"extension={SO}",
               os.path.join(APPS, "stall.php"), str(PORT), reactor]
        server = subprocess.Popen(cmd)
        try:
            wait_port(PORT)
            for gap in gaps:
                times = [health_while_blocked(gap) for _ in range(args.count)]
                print(f"| {reactor} | /health {gap * 1000:.0f} ms after /block | {statistics.median(times):.1f} "
                      f"| {max(times):.1f} |", flush=True)
            times = [answer_before_blocking() for _ in range(args.count)]
            print(f"| {reactor} | /end-then-block's answer | {statistics.median(times):.1f} | {max(times):.1f} |",
                  flush=True)
        finally:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()
