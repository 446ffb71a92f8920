#!/usr/bin/env python3
"""User-space instructions per request: via next to its peers and the ceiling, under callgrind.

    bench/instructions.py [--requests N] [--only a,b] [--top K [--self]] [--so PATH] [--per-process]
                          [--keep DIR]

Wall-clock runs on a small shared VM spread by 10-15 % between rounds; the number of
instructions a server executes for a request does not. Each target runs under
`valgrind --tool=callgrind` twice, once serving N requests and once 5N (h2load --h1,
8 connections, one client thread; h2c targets: 10 streams in flight per connection), and
the difference of the two totals divided by 4N is its instructions per request: start-up,
warm-up and shutdown cancel. The SSE targets count events delivered instead of requests:
1,000 streams and N / 1,000 then 5N / 1,000 topic publishes (bench/sse_load.rs; build it
and bench/sse_ceiling.rs with `cargo build --release --example sse_load --example
sse_ceiling`, before scripts/build.sh: building an example replaces target/release/libvia.so
with a plain build). The framework targets count a tab's updates (a ROUTE broadcast updates
each of 200 tabs) or its actions (a POST and its patches on the tab's stream), with the
tabs held by bench/framework_load.rs (`cargo build --release --example framework_load`, also
before scripts/build.sh).
Every process of the server counts (Workerman's master and worker, via's threads).

What this does not see: the kernel (the TCP path is most of a request's CPU), waiting,
context switches and cache misses. A thread hop costs little here and much on a real CPU.
bench/http.py measures those; this one tells whether a change to the code path did less
work, to about a per cent, where http.py cannot tell 5 % from noise. (Not to the
instruction: the PHP thread runs the requests one loop tick finds in one fiber resume,
decision 0021, and how many a tick finds depends on timing, so runs differ by about 1 %,
3 % with workers = 2.)

Targets:
  ceiling      bench/http_ceiling.rs (raw Tokio, a fixed answer; no parsing)
  via-hello    via, GET / (bench/apps/hello.php), I/O threads
  via-hello-php  the same with reactor = php
  via-hello-ops-php  the same with metrics and a JSON access log (VIA_BENCH_OPS=1)
  via-hello-w2   via, GET /, two worker processes behind the master (all processes count)
  via-hello-w2c  the same with dispatch = connection: the workers serve their own connections
  via-hello-h2c  via-hello over h2c, 10 streams per connection: the hyper path (HTTP/2,
                 and TLS without the cipher), which the HTTP/1.1 targets do not take
  via-action   via, POST ~100 B JSON -> 204 (bench/apps/action.php), I/O threads
  via-action-php the same with reactor = php
  via-sse-topic  via, 1,000 event streams joined to a topic (bench/apps/sse.php, PHP keeps
                 nothing), publishes by Server::publish(): instructions per event delivered
  via-sse-loop   the same streams kept as Via\SSE objects in a PHP array, each publish a PHP
                 loop calling send() on every one (the "loop" of bench/sse.py)
  sse-ceiling    bench/sse_ceiling.rs, the same load (raw Tokio writing to its sockets)
  via-fw-broadcast  the framework (bench/apps/framework.php, as bench/framework.py starts it):
                 200 tabs on /room, N / 200 then 5N / 200 broadcasts; per tab updated
  via-fw-action  the same with 200 tabs on /counter, N then 5N actions round-robin (250 a
                 second): per action, its request and the tab's patches. Both loads are paced
                 (the actions by rate, the broadcasts by the client's 20 ms between rounds), so
                 the loop's idle work over the longer run counts too (timers: little)
  osw-hello, osw-action  OpenSwoole 26.2 base mode (../shared/anchors/osw_app.php)
  wm-hello, wm-action    Workerman 5.2.2 (../shared/anchors/wm_hello.php)
--top K prints, for each via target, the K functions with the most inclusive instructions
per request (callgrind_annotate of the larger run minus the smaller).
"""

import argparse
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

from benchlib import APPS, ROOT, SO, machine, wait_port

ANCHORS = os.path.join(os.path.dirname(ROOT), "shared", "anchors")
OSW_SO = os.path.join(ANCHORS, "openswoole-26.2.0", "openswoole.so")
CEILING = os.path.join(ROOT, "target/release/examples/http_ceiling")
SSE_CEILING = os.path.join(ROOT, "target/release/examples/sse_ceiling")
SSE_LOAD = os.path.join(ROOT, "target/release/examples/sse_load")
FW_LOAD = os.path.join(ROOT, "target/release/examples/framework_load")
# Event streams an SSE target holds; each publish is that many deliveries.
SSE_STREAMS = 1000
# Browser tabs a framework target holds (bench/framework_load.rs): a broadcast updates each;
# actions go round-robin over them, FW_RATE a second (what the server keeps up with under
# callgrind).
FW_TABS = 200
FW_RATE = 250
PHP = ["php", "-n", "-d", "memory_limit=-1"]
BODY = '{"via_ctx":"/examples/counter_/0123456789abcdef","step":1,"count":41,"name":"benchmark"}'


# The load of a target: GET / or POST /action over HTTP/1.1, GET / over h2c, or topic
# publishes to SSE_STREAMS event streams (bench/sse_load.rs; "requests" are deliveries).
GET, POST, H2C, SSE, SSE_LOOP = "get", "post", "h2c", "sse", "sse-loop"
# The framework (bench/apps/framework.php): ROUTE broadcasts ("requests" are tab updates),
# or TAB actions (a POST, its patches on the tab's stream).
FW_BROADCAST, FW_ACTION = "fw-broadcast", "fw-action"


def targets(so):
    def via(app, reactor, **env):
        return PHP + ["-d", f"extension={so}", os.path.join(APPS, app)], {"VIA_BENCH_REACTOR": reactor, **env}

    osw = (PHP + ["-d", f"extension={OSW_SO}", os.path.join(ANCHORS, "osw_app.php"), "base"], {})
    wm = (PHP + ["-d", "extension=posix", "-d", "extension=ctype", os.path.join(ANCHORS, "wm_hello.php"), "start"], {})
    # As bench/framework.py starts it (the default php.ini, as an application would run).
    fw = (["php", "-d", f"extension={so}", os.path.join(APPS, "framework.php")], {})
    return [
        ("ceiling", ([CEILING], {}), GET),
        ("via-hello", via("hello.php", "threads"), GET),
        ("via-hello-php", via("hello.php", "php"), GET),
        ("via-hello-ops-php", via("hello.php", "php", VIA_BENCH_OPS="1"), GET),
        ("via-hello-w2", via("hello.php", "threads", VIA_BENCH_WORKERS="2"), GET),
        ("via-hello-w2c", via("hello.php", "auto", VIA_BENCH_WORKERS="2", VIA_BENCH_DISPATCH="connection"), GET),
        ("via-hello-h2c", via("hello.php", "threads"), H2C),
        ("via-action", via("action.php", "threads"), POST),
        ("via-action-php", via("action.php", "php"), POST),
        ("via-sse-topic", via("sse.php", "auto", VIA_BENCH_STREAMS="none"), SSE),
        ("via-sse-loop", via("sse.php", "auto", VIA_BENCH_STREAMS="object"), SSE_LOOP),
        ("sse-ceiling", ([SSE_CEILING], {}), SSE),
        ("via-fw-broadcast", fw, FW_BROADCAST),
        ("via-fw-action", fw, FW_ACTION),
        ("osw-hello", osw, GET),
        ("osw-action", osw, POST),
        ("wm-hello", wm, GET),
        ("wm-action", wm, POST),
    ]


def sse_load(port, deliveries, mode="topic"):
    """SSE_STREAMS event streams, then publishes (`topic`: one `Server::publish()`; `loop`: a
    PHP loop of `SSE::send()`) until `deliveries` were delivered."""
    publishes = max(deliveries // SSE_STREAMS, 1)
    client = subprocess.Popen([SSE_LOAD, str(port), str(SSE_STREAMS), str(publishes), f"&mode={mode}"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                              env=dict(os.environ, SSE_DIALECT="via"))
    line = client.stdout.readline().strip()
    if line != "ready":
        client.kill()
        raise RuntimeError(f"sse_load: {line!r}")
    out, _ = client.communicate("go\n", timeout=600)
    result = json.loads(out.strip().splitlines()[-1])
    if client.returncode != 0 or result["deliveries"] != publishes * SSE_STREAMS:
        raise RuntimeError(f"sse_load: not every event was delivered: {out}")


def framework_load(port, load_kind, requests):
    """FW_TABS browser tabs, then `requests` tab updates of ROUTE broadcasts, or `requests`
    TAB actions, every patch of which must reach its tab."""
    page, action = ("/room", "bump") if load_kind == FW_BROADCAST else ("/counter", "increment")
    client = subprocess.Popen([FW_LOAD, str(port), page, str(FW_TABS), action],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def said(prefix):
        line = client.stdout.readline().strip()
        if not line.startswith(prefix):
            raise RuntimeError(f"framework_load said {line!r}, expected {prefix!r}")
        return line[len(prefix):]

    def command(line, prefix=""):
        client.stdin.write(line + "\n")
        client.stdin.flush()
        return json.loads(said(prefix))

    try:
        said("warm")
        command("open", "ready ")
        if load_kind == FW_BROADCAST:
            rounds = requests // FW_TABS
            result = command(f"broadcast {rounds}")
            done = result["one_tab_n"] == rounds * FW_TABS
        else:
            result = command(f"latency {FW_RATE} {requests / FW_RATE} 4")
            done = result["actions"] == requests and result["patch_n"] == requests
        if not done:
            raise RuntimeError(f"framework_load: not every patch arrived: {result}")
    finally:
        client.stdin.close()
        try:
            client.wait(30)
        except subprocess.TimeoutExpired:
            client.kill()


def h2load(load_kind, requests, port, out_dir):
    """`requests` HTTP requests of the target's kind, all of which must succeed."""
    post = load_kind == POST
    url = f"http://127.0.0.1:{port}/" + ("action" if post else "")
    protocol = ["-m", "10"] if load_kind == H2C else ["--h1"]
    load = ["h2load"] + protocol + ["-n", str(requests), "-c", "8", "-t", "1"]
    if post:
        body = os.path.join(out_dir, "body.json")
        with open(body, "w") as f:
            f.write(BODY)
        load += ["-d", body, "-H", "content-type: application/json"]
    result = subprocess.run(load + [url], capture_output=True, text=True, timeout=600).stdout
    done = re.search(r"(\d+) succeeded", result)
    if not done or int(done.group(1)) != requests:
        raise RuntimeError(f"h2load: not every request succeeded:\n{result}")


def run(command, env, load_kind, requests, port, out_dir):
    """Serves `requests` under callgrind; returns the instructions of all its processes."""
    out = os.path.join(out_dir, f"cg-{requests}")
    os.makedirs(out)
    log = open(os.path.join(out_dir, f"stderr-{requests}.log"), "w")
    proc = subprocess.Popen(
        ["valgrind", "--tool=callgrind", "--trace-children=yes", f"--callgrind-out-file={out}/cg.%p"]
        + command + [str(port)],
        stdout=subprocess.DEVNULL, stderr=log, start_new_session=True, env=dict(os.environ, **env))
    try:
        wait_port(port, timeout=120)
        if load_kind in (SSE, SSE_LOOP):
            sse_load(port, requests, "loop" if load_kind == SSE_LOOP else "topic")
        elif load_kind in (FW_BROADCAST, FW_ACTION):
            framework_load(port, load_kind, requests)
        else:
            h2load(load_kind, requests, port, out_dir)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(60)  # callgrind writes its files as each process exits
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
    return sum(per_process(out)), out


def per_process(out_dir):
    """The instructions of each process of a run, largest first."""
    totals = []
    for path in glob.glob(os.path.join(out_dir, "cg.*")):
        with open(path) as f:
            for line in f:
                if line.startswith("summary:"):
                    totals.append(int(line.split()[1]))
                    break
    return sorted(totals, reverse=True)


def per_function(out_dir, inclusive=True):
    """Instructions per function, summed over the run's files: inclusive (with what it
    calls, per `file:function` line), or its own (with what was inlined into it, whatever
    file that came from)."""
    per = {}
    for path in glob.glob(os.path.join(out_dir, "cg.*")):
        text = subprocess.run(["callgrind_annotate", "--auto=no", f"--inclusive={'yes' if inclusive else 'no'}",
                               "--threshold=100", path], capture_output=True, text=True).stdout
        for line in text.splitlines():
            m = re.match(r"\s*([\d,]+) \([^)]*\)\s+(\S.*)$", line)
            if m:
                name = re.sub(r" \[[^\]]*\]$", "", m.group(2).strip())
                if not inclusive:
                    name = re.sub(r"^[^:]*:", "", name)  # the file the instructions came from
                per[name] = per.get(name, 0) + int(m.group(1).replace(",", ""))
    return per


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=5000, help="N: the runs serve N and 5N requests")
    parser.add_argument("--only", help="comma-separated target names")
    parser.add_argument("--top", type=int, default=0, help="print the K costliest functions of each via target")
    parser.add_argument("--self", action="store_true",
                        help="with --top: rank functions by their own instructions (and what was inlined "
                             "into them), not with what they call")
    parser.add_argument("--so", default=SO, help="the via.so to measure (another build, to compare)")
    parser.add_argument("--keep", metavar="DIR", help="keep each target's callgrind files in DIR/NAME "
                        "(cg-N/cg.PID for the two runs), for callgrind_annotate --tree=caller")
    parser.add_argument("--per-process", action="store_true",
                        help="also print each process's instructions per request (largest first: with "
                             "workers, the master, then the workers, per request of all requests)")
    args = parser.parse_args()
    for tool in ("valgrind", "h2load", "callgrind_annotate"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is missing: scripts/deps.sh bench installs it")
    chosen = targets(os.path.abspath(args.so))
    if args.only:
        keep = set(args.only.split(","))
        chosen = [t for t in chosen if t[0] in keep]
    if any(kind in (SSE, SSE_LOOP) for _, _, kind in chosen):
        for path in (SSE_LOAD, SSE_CEILING):
            if not os.path.exists(path):
                sys.exit(f"missing {path}: cargo build --release --example sse_load --example sse_ceiling"
                         " && scripts/build.sh")
    if any(kind in (FW_BROADCAST, FW_ACTION) for _, _, kind in chosen) and not os.path.exists(FW_LOAD):
        sys.exit(f"missing {FW_LOAD}: cargo build --release --example framework_load && scripts/build.sh")
    if any(kind == FW_BROADCAST for _, _, kind in chosen) and args.requests % FW_TABS:
        sys.exit(f"--requests must be a multiple of {FW_TABS} for via-fw-broadcast (a broadcast updates {FW_TABS} tabs)")
    small, large = args.requests, 5 * args.requests
    rows = []
    for i, (name, (command, env), load_kind) in enumerate(chosen):
        tmp = tempfile.mkdtemp(prefix=f"via-instr-{name}-")
        try:
            # A port per run: a process of the last run may still hold its port a moment.
            a, a_dir = run(command, env, load_kind, small, 18600 + 2 * i, tmp)
            b, b_dir = run(command, env, load_kind, large, 18601 + 2 * i, tmp)
            per_request = (b - a) / (large - small)
            rows.append((name, per_request))
            print(f"{name:16} {per_request:10,.0f} instructions per request", flush=True)
            if args.per_process:
                # Matched by rank: a process does about the same share of the work in both runs.
                for i, (x, y) in enumerate(zip(per_process(a_dir), per_process(b_dir))):
                    if (y - x) / (large - small) >= 1:
                        print(f"    process {i + 1}: {(y - x) / (large - small):10,.0f}")
            if args.top and name.startswith("via"):
                inc = not args.self
                fa, fb = per_function(a_dir, inc), per_function(b_dir, inc)
                diff = sorted(((fb.get(k, 0) - fa.get(k, 0)) / (large - small), k) for k in set(fa) | set(fb))
                for v, k in reversed(diff[-args.top:]):
                    print(f"    {v:9,.0f}  {k[:140]}")
        finally:
            if args.keep:
                kept = os.path.join(args.keep, name)
                shutil.rmtree(kept, ignore_errors=True)
                shutil.move(tmp, kept)
            else:
                shutil.rmtree(tmp, ignore_errors=True)
    print()
    print(machine(os.path.abspath(args.so)))
    print(f"Command: bench/instructions.py {' '.join(sys.argv[1:])}  (callgrind; h2load --h1 -c8, h2c -c8 -m10; "
          f"({large:,} - {small:,} requests) / {large - small:,})")
    print()
    base = dict(rows)
    peers = [p for p in ("osw-hello", "osw-action", "wm-hello", "wm-action") if p in base]
    print("| target | instructions per request |" + "".join(f" vs {p} |" for p in peers))
    print("|---|---:|" + "---:|" * len(peers))
    for name, v in rows:
        cells = []
        for p in peers:
            # The same work over the same protocol (the peers speak HTTP/1.1 only).
            same_work = "-" in name and p.split("-")[1] == name.split("-")[1] and "h2c" not in name
            cells.append(f"{v / base[p]:.2f}×" if same_work and name.startswith("via") else "–")
        print(f"| {name} | {v:,.0f} |" + "".join(f" {c} |" for c in cells))


if __name__ == "__main__":
    main()
