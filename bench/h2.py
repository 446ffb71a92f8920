#!/usr/bin/env python3
"""HTTPS + HTTP/2 benchmark: hello-world over TLS h2 next to plaintext HTTP/1.1 and h2c,
via and the pure-Rust ceiling (bench/ceiling.rs, same HTTP core and TLS, no PHP), with
h2load (nghttp2-client) as the client, all in one run.

Modes, each with -c64 connections and -t2 client threads:
  h1        plaintext HTTP/1.1 (h2load --h1), one request in flight per connection
  h2c-m10   plaintext HTTP/2 (prior knowledge), 10 streams in flight per connection
  h2tls-m1  HTTPS, ALPN h2, TLS 1.3, one stream in flight per connection
  h2tls-m10 HTTPS, ALPN h2, 10 streams in flight per connection

Reports the median over --rounds of req/s, mean request time and server CPU µs/req.

Usage: bench/h2.py [--duration 8] [--rounds 3] [--baseline OTHER_VIA_SO]
Needs: nghttp2-client, openssl, php8.2-cli, cargo build --release --example ceiling, then
scripts/build.sh (building an example replaces target/release/libvia.so with a plain build).
"""

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile

from benchlib import APPS, ROOT, SO, cpu_seconds, descendants, machine, wait_port

CEILING = os.path.join(ROOT, "target/release/examples/ceiling")

MODES = {
    "h1": (False, ["--h1", "-m1"]),
    "h2c-m10": (False, ["-m10"]),
    "h2tls-m1": (True, ["-m1"]),
    "h2tls-m10": (True, ["-m10"]),
}


def self_signed(tmp):
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-subj", "/CN=localhost", "-days", "2", "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    return cert, key


def start(server, port, tls, so=SO):
    cert, key = tls or (None, None)
    if server == "ceiling":
        cmd = [CEILING, str(port), "0"] + ([cert, key] if tls else [])
        env = dict(os.environ)
    else:
        cmd = ["php", "-d", f"extension={so}", os.path.join(APPS, "hello.php"), str(port)]
        env = dict(os.environ, **({"VIA_BENCH_CERT": cert, "VIA_BENCH_KEY": key} if tls else {}))
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                            start_new_session=True)
    wait_port(port)
    return proc


def h2load(url, flags, seconds):
    cmd = ["h2load", "-t2", "-c64", "-D", str(seconds), "--warm-up-time", "1"] + flags + [url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", out).group(1))
    m = re.search(r"requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed", out)
    done, failed = int(m.group(2)), int(m.group(4))
    t = re.search(r"time for request:\s+\S+\s+\S+\s+([\d.]+)(us|ms|s)", out)
    mean_ms = float(t.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[t.group(2)]
    proto = re.search(r"Application protocol: (\S+)", out)
    return {"rps": rps, "done": done, "failed": failed, "mean_ms": mean_ms,
            "protocol": proto.group(1) if proto else "?"}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--baseline", metavar="SO",
                    help="also run via on this other build of via.so (\"via@base\") in every round, "
                         "and print the paired now/base ratios per mode")
    args = ap.parse_args()
    builds = {"via": SO}
    if args.baseline:
        builds["via@base"] = os.path.abspath(args.baseline)
    for path in (SO, CEILING):
        if not os.path.exists(path):
            sys.exit(f"missing {path}: cargo build --release --example ceiling && scripts/build.sh")
    tmp = tempfile.mkdtemp(prefix="via-bench-h2-")
    tls = self_signed(tmp)

    results = {}
    port = 18280
    for rnd in range(args.rounds):
        for server in ("ceiling", *builds):
            for mode, (use_tls, flags) in MODES.items():
                port += 1
                proc = start(server, port, tls if use_tls else None, builds.get(server, SO))
                try:
                    scheme = "https" if use_tls else "http"
                    pids = descendants(proc.pid)
                    c0 = cpu_seconds(pids)
                    r = h2load(f"{scheme}://127.0.0.1:{port}/", flags, args.duration)
                    # The warm-up second is in the CPU time too; count its requests roughly.
                    r["cpu_us"] = (cpu_seconds(pids) - c0) / max(r["done"] * (1 + 1 / args.duration), 1) * 1e6
                finally:
                    os.killpg(proc.pid, signal.SIGTERM)
                    proc.wait(15)
                results.setdefault((server, mode), []).append(r)
                print(f"round {rnd + 1} {server:9} {mode:10} {r['rps']:>9.0f} req/s  mean {r['mean_ms']:.2f} ms  "
                      f"{r['cpu_us']:.2f} µs CPU/req  {r['protocol']}  failed {r['failed']}",
                      file=sys.stderr, flush=True)

    print(f"\nMachine: {machine()}")
    print(f"Command: bench/h2.py {' '.join(sys.argv[1:])}  (h2load -t2 -c64, medians)\n")
    print("| server | mode | req/s | mean ms | server CPU µs/req | req/s vs plaintext h1 |")
    print("|---|---|---:|---:|---:|---:|")
    for (server, mode), rs in results.items():
        rps = statistics.median(r["rps"] for r in rs)
        h1 = statistics.median(r["rps"] for r in results[(server, "h1")])
        print(f"| {server} | {mode} | {rps:.0f} | {statistics.median(r['mean_ms'] for r in rs):.2f} "
              f"| {statistics.median(r['cpu_us'] for r in rs):.2f} | {rps / h1:.2f}× |")
    if args.baseline:
        # Each round ran both builds back to back: the ratio of a round cancels most of the
        # machine's drift between rounds, which the medians above do not.
        print("\n| mode | req/s now / base, per round | median | CPU now / base, per round | median |")
        print("|---|---|---:|---|---:|")
        for mode in MODES:
            now, base = results[("via", mode)], results[("via@base", mode)]
            rps = [a["rps"] / b["rps"] for a, b in zip(now, base)]
            cpu = [a["cpu_us"] / b["cpu_us"] for a, b in zip(now, base)]
            print(f"| {mode} | {' '.join(f'{r:.2f}' for r in rps)} | {statistics.median(rps):.2f}× "
                  f"| {' '.join(f'{c:.2f}' for c in cpu)} | {statistics.median(cpu):.2f}× |")


if __name__ == "__main__":
    main()
