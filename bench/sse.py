#!/usr/bin/env python3
"""SSE fan-out benchmark: via next to a pure-Rust broadcast ceiling, in one run.

Targets (each started and stopped by this script, one at a time):
  ceiling         raw Tokio on one thread writing each event straight to its sockets
                  (tokio::sync::broadcast, no hyper, no PHP: bench/sse_ceiling.rs)
  osw-base        OpenSwoole 26.2 in base mode (../shared/anchors/osw_app.php): a PHP loop
                  of write() over every held response
  via-topic       via: streams joined to a topic, PHP keeps nothing; publish = one
                  Server::publish() call, fanned out by Rust
  via-loop        via: PHP keeps every Via\\SSE in an array; publish = a PHP foreach
                  calling send() on each
  via-fiber       via-topic, plus one fiber parked in waitClosed() per stream (memory)
  via-topic-php   via-topic with reactor = php (the PHP thread drives the I/O)

For each N in --streams, the client (bench/sse_load.rs) opens N HTTP/1.1 event streams,
the server's RSS is read before and after (memory per idle stream = growth / N), then
--publishes events are published one after the other. Reported, in ms: the time until
every stream had an event (p50/p99 over publishes) and the time until one stream had it
(p50/p99 over every delivery), and the server's CPU time over the publishes per delivery
(utime+stime of its processes; steadier than the latencies, the client shares the CPUs), and
its user part alone (the kernel's, one send per delivery, is alike for every server).

Usage: bench/sse.py [--streams 1000,5000,10000] [--publishes 200] [--only ceiling,via-topic]
                    [--baseline OTHER_VIA_SO]  (every via target again on that build, as NAME@base)
                    [--rounds N]  (N interleaved runs of every target; medians: p99 moves a lot
                                   between runs on a shared machine)
Needs: php8.2-cli and release builds (cargo build --release --example sse_ceiling --example
sse_load, then scripts/build.sh: building an example replaces target/release/libvia.so with
a plain build; the "Machine" line says which one was measured).
"""

import argparse
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import time

from benchlib import ROOT, SO, cpu_split, descendants, machine, rss_bytes, wait_port

CEILING = os.path.join(ROOT, "target/release/examples/sse_ceiling")
ANCHORS = os.path.join(ROOT, "..", "shared", "anchors")
OSW_SO = os.path.join(ANCHORS, "openswoole-26.2.0", "openswoole.so")
LOAD = os.path.join(ROOT, "target/release/examples/sse_load")
APP = os.path.join(ROOT, "bench/apps/sse.php")


def raise_fd_limit(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    for want in (max(need, 65536), hard):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(want, hard)))
            break
        except (ValueError, OSError):
            continue
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        sys.exit(f"open-file limit {soft} is below the {need} this run needs (ulimit -n)")


TARGETS = {
    # name: (command builder, env, publish query)
    "ceiling": (lambda port: [CEILING, str(port)], {}, ""),
    "osw-base": (lambda port: ["php", "-n", "-d", "memory_limit=-1", "-d", f"extension={OSW_SO}",
                               os.path.join(ANCHORS, "osw_app.php"), "base", str(port)],
                 {}, ""),
    "via-topic": (lambda port, so=SO: ["php", "-d", f"extension={so}", APP, str(port)],
                  {"VIA_BENCH_STREAMS": "none"}, "&mode=topic"),
    "via-loop": (lambda port, so=SO: ["php", "-d", f"extension={so}", APP, str(port)],
                 {"VIA_BENCH_STREAMS": "object"}, "&mode=loop"),
    "via-topic-php": (lambda port, so=SO: ["php", "-d", f"extension={so}", APP, str(port)],
                      {"VIA_BENCH_STREAMS": "none", "VIA_BENCH_REACTOR": "php"}, "&mode=topic"),
    "via-fiber": (lambda port, so=SO: ["php", "-d", f"extension={so}", APP, str(port)],
                  {"VIA_BENCH_STREAMS": "fiber"}, "&mode=topic"),
}


def run(name, port, streams, publishes, baseline=None):
    """One target at one size; NAME@base runs via's target NAME on the --baseline build."""
    base = name.endswith("@base")
    command, env, query = TARGETS[name.removesuffix("@base")]
    server = subprocess.Popen(command(port, baseline) if base else command(port), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              env=dict(os.environ, **env), start_new_session=True)
    try:
        wait_port(port)
        time.sleep(0.2)  # let the server settle after its first accept before the baseline
        base = rss_bytes(server.pid)
        client_env = dict(os.environ, SSE_DIALECT="osw" if name.startswith("osw") else "via")
        client = subprocess.Popen([LOAD, str(port), str(streams), str(publishes), query],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=client_env)
        line = client.stdout.readline().strip()
        if line != "ready":
            client.kill()
            raise RuntimeError(f"{name}: client said {line!r}")
        loaded = rss_bytes(server.pid)
        pids = descendants(server.pid)
        user0, system0 = cpu_split(pids)
        client.stdin.write("go\n")
        client.stdin.flush()
        out, _ = client.communicate(timeout=600)
        user1, system1 = cpu_split(pids)
        user, cpu = user1 - user0, (user1 + system1) - (user0 + system0)
        if client.returncode != 0:
            raise RuntimeError(f"{name}: client failed ({client.returncode})")
        result = json.loads(out.strip().splitlines()[-1])
        result["bytes_per_stream"] = (loaded - base) / streams
        # Server CPU over the publishes (utime+stime), per event delivered: steadier than the
        # latencies on a machine the client shares.
        result["cpu_us_per_delivery"] = cpu / max(result["deliveries"], 1) * 1e6
        # Its user part alone: the kernel's (one send per delivery) is alike for every
        # server, so this is where servers differ, and it is steadier than the latencies.
        result["user_us_per_delivery"] = user / max(result["deliveries"], 1) * 1e6
        return result
    finally:
        try:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--streams", default="1000,5000,10000")
    # 200: the p99 of 30 publishes was their second largest, so one slow publish decided it.
    ap.add_argument("--publishes", type=int, default=200)
    ap.add_argument("--only", default="")
    ap.add_argument("--rounds", type=int, default=1,
                    help="runs of every target, interleaved; the table shows their medians")
    ap.add_argument("--baseline", metavar="SO", help="also run every via target on this other "
                    "build of via.so (as NAME@base, right after NAME)")
    args = ap.parse_args()
    sizes = [int(n) for n in args.streams.split(",")]
    names = [n for n in TARGETS if not args.only or n in args.only.split(",")]
    if args.baseline:
        names = [x for n in names for x in ([n, n + "@base"] if n.startswith("via") else [n])]
    for path in (SO, CEILING, LOAD):
        if not os.path.exists(path):
            sys.exit(f"missing {path}: cargo build --release --example sse_ceiling "
                     "--example sse_load && scripts/build.sh")
    raise_fd_limit(max(sizes) + 1024)

    runs = {}
    port = 18180
    for n in sizes:
        for round_ in range(args.rounds):
            for name in names:
                port += 1
                r = run(name, port, n, args.publishes, args.baseline)
                runs.setdefault((n, name), []).append(r)
                label = f" (round {round_ + 1})" if args.rounds > 1 else ""
                print(f"{n:>6} {name:10} complete p50 {r['complete_p50_ms']:.2f} p99 {r['complete_p99_ms']:.2f} ms"
                      f"  delivery p50 {r['delivery_p50_ms']:.2f} p99 {r['delivery_p99_ms']:.2f} ms"
                      f"  {r['bytes_per_stream'] / 1024:.2f} KiB/stream"
                      f"  {r['cpu_us_per_delivery']:.2f} µs CPU/delivery ({r['user_us_per_delivery']:.2f} user)"
                      f"{label}", file=sys.stderr, flush=True)
    # Each figure's median over the rounds (with one round, the run itself).
    rows = [(n, name, {k: statistics.median(r[k] for r in rs) for k in rs[0] if isinstance(rs[0][k], (int, float))})
            for (n, name), rs in runs.items()]

    print(f"\nMachine: {machine()}")
    print(f"Command: bench/sse.py --streams {args.streams} --publishes {args.publishes}"
          f"{' --only ' + args.only if args.only else ''}"
          f"{f' --rounds {args.rounds} (medians)' if args.rounds > 1 else ''}"
          f"{' --baseline ' + args.baseline if args.baseline else ''}\n")
    print("| streams | target | all streams p50 ms | all streams p99 ms | p99 vs ceiling "
          "| one delivery p50 ms | one delivery p99 ms | server RSS / stream "
          "| server CPU µs / delivery | CPU vs ceiling | of it user µs | user vs ceiling |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    ceiling = {n: r for n, name, r in rows if name == "ceiling"}
    for n, name, r in rows:
        c = ceiling.get(n)
        ratio = f"{r['complete_p99_ms'] / c['complete_p99_ms']:.2f}×" if c else "–"
        cpu = f"{r['cpu_us_per_delivery'] / c['cpu_us_per_delivery']:.2f}×" if c else "–"
        # The times come in clock ticks (10 ms): a ceiling's user time can round to none.
        user = f"{r['user_us_per_delivery'] / c['user_us_per_delivery']:.2f}×" if c and c['user_us_per_delivery'] else "–"
        print(f"| {n} | {name} | {r['complete_p50_ms']:.2f} | {r['complete_p99_ms']:.2f} | {ratio} "
              f"| {r['delivery_p50_ms']:.2f} | {r['delivery_p99_ms']:.2f} "
              f"| {r['bytes_per_stream'] / 1024:.2f} KiB | {r['cpu_us_per_delivery']:.2f} | {cpu} "
              f"| {r['user_us_per_delivery']:.2f} | {user} |")


if __name__ == "__main__":
    main()
