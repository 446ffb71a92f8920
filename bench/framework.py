#!/usr/bin/env python3
"""Framework benchmark (issue 9): Via\\Framework pages held open by many browser tabs.

The app is bench/apps/framework.php (a TAB counter page, /counter, and a ROUTE page, /room,
whose action broadcasts to every tab on the route), one worker; the client is
bench/framework_load.rs, which opens tabs the way a browser does (page GET with its own
cookie jar, the context id scraped from the page, the tab's Datastar stream held open and
parsed) and times patches by the signal values they carry. Each session below is a fresh
server and a fresh client:

  counter      --tabs tabs on /counter, no compression:
                 memory per idle tab (server RSS growth while the tabs opened / tabs),
                 action→patch latency at --rate actions/s for --seconds s (each action on
                 the next tab, round-robin; from handing the POST to a connection until
                 the tab's stream has the signals patch with the value it set),
                 action throughput: wrk -t2 -c64 POSTing increment round-robin over the
                 open tabs (bench/apps/framework_action.lua) while the client reads every
                 stream, interleaved --rounds times with the raw runtime's JSON action
                 (bench/apps/action.php + post.lua, as bench/http.py runs it)
  room         --tabs tabs on /room, no compression: memory, then --broadcasts broadcasts
                 (one POST each; time until the last tab, and each tab, has the patch)
  counter-br   as counter with withBrotli() and Accept-Encoding: br (streams decoded):
                 memory and latency
  room-br      as room with Brotli: memory and broadcasts
  counter-reuse  as counter's memory, each tab's stream sent on its page's kept-alive
                 connection (as a browser's fetch() may), which the runtime serves through
                 hyper instead of its buffer-less event-stream path
  room-signals (diagnostic, only with --only) as room on /room-signals, whose action sends
                 each tab only the signals patch: one event per tab instead of two

Usage: bench/framework.py [--tabs 2000] [--rate 500] [--seconds 10] [--broadcasts 30]
                          [--duration 8] [--rounds 3] [--only counter,room,...]
Needs: wrk, php8.2-cli, release builds (cargo build --release --example framework_load, then
scripts/build.sh: building an example replaces target/release/libvia.so with a plain build).
"""

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import APPS, ROOT, SO, TICK, cpu_seconds, descendants, machine, rss_bytes, run_wrk, wait_port
from sse import raise_fd_limit

LOAD = os.path.join(ROOT, "target/release/examples/framework_load")
APP = os.path.join(APPS, "framework.php")
ACTION_LUA = os.path.join(APPS, "framework_action.lua")

# Targets of issue 9, and php-via's figure where the issue gives one.
TARGET_LATENCY_P99_MS = 10.0
PHP_VIA_LATENCY_P99_MS = 1188.0
TARGET_BROADCAST_P99_MS = 60.0
TARGET_KIB_PER_TAB = 24.0
TARGET_THROUGHPUT_RATIO = 0.5


# Extra php -d settings for every server of the run (--opcache: the production setting of a
# long-running PHP server, for the framework and the raw action alike).
PHP_FLAGS = []
OPCACHE_FLAGS = ["-d", "opcache.enable_cli=1", "-d", "opcache.jit=tracing", "-d", "opcache.jit_buffer_size=64M"]


def start_php(app, port, *args, log=None):
    proc = subprocess.Popen(["php", *PHP_FLAGS, "-d", f"extension={SO}", app, str(port), *args],
                            stdout=subprocess.DEVNULL, stderr=log or subprocess.DEVNULL,
                            start_new_session=True)
    wait_port(port)
    return proc


def stop(proc):
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(15)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def thread_cpu(pid):
    """CPU seconds of each thread of `pid`, by thread name (php = the PHP thread, via-io = I/O)."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat.rsplit(")", 1)[1].split()
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / TICK
    return out


def cpu_split(server_pid, client_pid, before, units):
    """µs of CPU per unit since `before` (from cpu_marks()): each server thread, and the client."""
    now = cpu_marks(server_pid, client_pid)
    return {k: (v - before.get(k, 0.0)) / max(units, 1) * 1e6 for k, v in now.items()}


def cpu_marks(server_pid, client_pid):
    marks = {f"server {k}": v for k, v in thread_cpu(server_pid).items()}
    if client_pid is not None:
        marks["client"] = cpu_seconds([client_pid])
    return marks


def measured_wrk(proc, url, duration, warmup, script, args=(), client_pid=None):
    """wrk after a warm-up, with the server's CPU time per request (and per thread)."""
    run_wrk(url, warmup, script, args)
    pids = descendants(proc.pid)
    c0, marks = cpu_seconds(pids), cpu_marks(proc.pid, client_pid)
    r = run_wrk(url, duration, script, args)
    r["cpu_us"] = (cpu_seconds(pids) - c0) / max(r["requests"], 1) * 1e6
    r["cpu_split_us"] = cpu_split(proc.pid, client_pid, marks, r["requests"])
    if r["errors"] or r["socket_errors"]:
        raise RuntimeError(f"wrk {url}: {r['errors']} non-2xx, socket errors {r['socket_errors']!r}")
    return r


class Session:
    """One framework server and one client holding `tabs` tabs on one page."""

    def __init__(self, name, port, page, action, tabs, brotli, reuse=False):
        self.name, self.port, self.page, self.action = name, port, page, action
        self.tabs, self.brotli, self.reuse = tabs, brotli, reuse
        self.tmp = tempfile.mkdtemp(prefix=f"via-bench-framework-{name}-")
        self.log = open(os.path.join(self.tmp, "server.log"), "w")
        self.server = self.client = None

    def start(self):
        """Starts both, opens the tabs; returns the memory figures."""
        self.server = start_php(APP, self.port, *(["brotli"] if self.brotli else []), log=self.log)
        cmd = [LOAD, str(self.port), self.page, str(self.tabs), self.action]
        cmd += (["br"] if self.brotli else []) + (["reuse"] if self.reuse else [])
        self.client = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.expect("warm")
        time.sleep(0.3)  # the warm-up tab's cleanup of its first render, before the baseline
        base, php_base = rss_bytes(self.server.pid), self.server_stats()["memory"]
        ready = json.loads(self.send("open", "ready "))
        time.sleep(1.0)  # idle: every first patch written and acknowledged
        loaded, php_loaded = rss_bytes(self.server.pid), self.server_stats()["memory"]
        opened = self.tabs - 1  # the warm-up tab was open before the baseline
        return {"kib_per_tab": (loaded - base) / opened / 1024,
                "php_kib_per_tab": (php_loaded - php_base) / opened / 1024,
                "rss_mib": loaded / 2**20, "open_s": ready["open_s"]}

    def expect(self, prefix):
        line = self.client.stdout.readline().strip()
        if not line.startswith(prefix):
            self.client.kill()
            raise RuntimeError(f"{self.name}: client said {line!r}, expected {prefix!r}")
        return line[len(prefix):]

    def send(self, command, prefix=""):
        self.client.stdin.write(command + "\n")
        self.client.stdin.flush()
        return self.expect(prefix)

    def command(self, command):
        return json.loads(self.send(command))

    def server_stats(self):
        # A raw request: bench/http.py hides the standard library's http package here.
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as c:
            c.sendall(b"GET /_bench HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := c.recv(65536):
                data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(f"{self.name}: GET /_bench: {head[:80]!r}")
        return json.loads(body)

    def stop(self):
        if self.client:
            try:
                self.client.stdin.write("quit\n")
                self.client.stdin.close()
                self.client.wait(10)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.client.kill()
                self.client.wait()
        if self.server:
            stop(self.server)
        self.log.close()
        if os.path.getsize(self.log.name):
            print(f"{self.name}: the server wrote to {self.log.name}", file=sys.stderr)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def check_clean(session, stream_stats):
    """No dropped patch, no failed action, no stream ended under the client."""
    s = session.server_stats()
    bad = {k: s[k] for k in ("patches_dropped", "actions_failed") if s[k]}
    if stream_stats["streams_ended"]:
        bad["streams_ended"] = stream_stats["streams_ended"]
    if bad:
        raise RuntimeError(f"{session.name}: {bad}")
    return s


def counter_session(args, port, brotli, raw=None):
    name = "counter-br" if brotli else "counter"
    s = Session(name, port, "/counter", "increment", args.tabs, brotli)
    out = {}
    try:
        out["memory"] = s.start()
        log(name, "memory", out["memory"])
        out["latency"] = s.command(f"latency {args.rate} {args.seconds} {args.post_connections}")
        log(name, "latency", out["latency"])
        if raw is not None:
            tabs_file = os.path.join(s.tmp, "tabs.tsv")
            s.command(f"tabs {tabs_file}")
            url = f"http://127.0.0.1:{port}/"
            fw_runs, raw_runs = [], []
            for rnd in range(args.rounds):
                fw_runs.append(measured_wrk(s.server, url, args.duration, args.warmup, ACTION_LUA, [tabs_file],
                                            client_pid=s.client.pid))
                log(name, f"round {rnd + 1} framework action", fw_runs[-1])
                raw_runs.append(measured_wrk(raw, f"http://127.0.0.1:{args.raw_port}/", args.duration,
                                             args.warmup, os.path.join(APPS, "post.lua")))
                log(name, f"round {rnd + 1} raw action", raw_runs[-1])
            med = lambda runs: {k: statistics.median(r[k] for r in runs) for k in ("rps", "p99_ms", "cpu_us")}
            out["throughput"] = {"framework": med(fw_runs), "raw": med(raw_runs),
                                 "framework_cpu_split_us": {k: statistics.median(r["cpu_split_us"][k] for r in fw_runs)
                                                            for k in fw_runs[0]["cpu_split_us"]},
                                 "framework_rounds": [r["rps"] for r in fw_runs],
                                 "raw_rounds": [r["rps"] for r in raw_runs]}
        out["streams"] = s.command("stats")
        out["server"] = check_clean(s, out["streams"])
        return out
    finally:
        s.stop()


def memory_session(args, port, name, page, action, reuse):
    s = Session(name, port, page, action, args.tabs, False, reuse)
    out = {}
    try:
        out["memory"] = s.start()
        log(name, "memory", out["memory"])
        out["streams"] = s.command("stats")
        out["server"] = check_clean(s, out["streams"])
        return out
    finally:
        s.stop()


def room_session(args, port, brotli, page="/room"):
    name = page.lstrip("/") + ("-br" if brotli else "")
    s = Session(name, port, page, "bump", args.tabs, brotli)
    out = {}
    try:
        out["memory"] = s.start()
        log(name, "memory", out["memory"])
        marks = cpu_marks(s.server.pid, s.client.pid)
        out["broadcast"] = s.command(f"broadcast {args.broadcasts}")
        out["broadcast"]["cpu_split_us"] = cpu_split(s.server.pid, s.client.pid, marks, args.broadcasts)
        log(name, "broadcast", out["broadcast"])
        out["streams"] = s.command("stats")
        out["server"] = check_clean(s, out["streams"])
        return out
    finally:
        s.stop()


def machine_busy(seconds=2.0):
    """Share of both CPUs busy over `seconds` (from /proc/stat): the others on this machine."""
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return sum(v), v[3] + v[4]  # total, idle + iowait
    t0, i0 = sample()
    time.sleep(seconds)
    t1, i1 = sample()
    return 1.0 - (i1 - i0) / max(t1 - t0, 1)


def log(name, what, value):
    print(f"{name:10} {what}: {json.dumps(value)}", file=sys.stderr, flush=True)


def split_text(split, scale, unit):
    """`PHP thread 19.3 ms, I/O thread 36.7 ms, client 21.3 ms` from a cpu_split()."""
    names = {"server php": "PHP thread", "server via-io": "I/O thread", "client": "client"}
    return ", ".join(f"{names[k]} {split[k] * scale:.1f} {unit}" for k in names if k in split)


def verdict(ok):
    return "**met**" if ok else "**missed**"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tabs", type=int, default=2000)
    ap.add_argument("--rate", type=float, default=500)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--post-connections", type=int, default=16)
    ap.add_argument("--broadcasts", type=int, default=30)
    ap.add_argument("--duration", type=int, default=8)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--raw-port", type=int, default=18390)
    ap.add_argument("--only", default="counter,room,counter-br,room-br,counter-reuse")
    ap.add_argument("--json", default="", help="write every figure (and the server's counters) here")
    ap.add_argument("--opcache", action="store_true",
                    help="run every PHP server with opcache.enable_cli=1 and the tracing JIT")
    args = ap.parse_args()
    if args.opcache:
        PHP_FLAGS.extend(OPCACHE_FLAGS)
    only = set(args.only.split(","))
    for path in (SO, LOAD):
        if not os.path.exists(path):
            sys.exit(f"missing {path}: cargo build --release --example framework_load && scripts/build.sh")
    raise_fd_limit(2 * args.tabs + 2048)

    busy_before = machine_busy()
    log("machine", "busy before the run", f"{busy_before:.0%}")
    results = {}
    if "counter" in only:
        raw = start_php(os.path.join(APPS, "action.php"), args.raw_port)
        try:
            results["counter"] = counter_session(args, 18391, False, raw)
        finally:
            stop(raw)
    if "room" in only:
        results["room"] = room_session(args, 18392, False)
    if "counter-br" in only:
        results["counter-br"] = counter_session(args, 18393, True)
    if "room-br" in only:
        results["room-br"] = room_session(args, 18394, True)
    if "counter-reuse" in only:
        results["counter-reuse"] = memory_session(args, 18387, "counter-reuse", "/counter", "increment", True)
    if "room-signals" in only:
        results["room-signals"] = room_session(args, 18389, False, "/room-signals")

    busy_after = machine_busy()
    print(f"\nMachine: {machine()}; CPUs busy with other work before / after the run: "
          f"{busy_before:.0%} / {busy_after:.0%}")
    print(f"Command: bench/framework.py --tabs {args.tabs} --rate {args.rate:g} --seconds {args.seconds:g} "
          f"--broadcasts {args.broadcasts} --duration {args.duration} --rounds {args.rounds}"
          f"{' --only ' + args.only if args.only != ap.get_default('only') else ''}"
          f"{' --opcache' if args.opcache else ''}\n")
    print(f"| measurement ({args.tabs} tabs, one worker) | via framework | target | met |")
    print("|---|---:|---:|---|")
    for name in ("counter", "counter-br"):
        r = results.get(name)
        if not r:
            continue
        lat, br = r["latency"], " (Brotli)" if name.endswith("br") else ""
        ok = lat["patch_p99_ms"] <= TARGET_LATENCY_P99_MS
        print(f"| action→patch at {lat['rate']:.0f}/s{br}: p50 / p99 (max) | {lat['patch_p50_ms']:.2f} / "
              f"{lat['patch_p99_ms']:.2f} ({lat['patch_max_ms']:.2f}) ms | p99 ≤ {TARGET_LATENCY_P99_MS:g} ms "
              f"(php-via {PHP_VIA_LATENCY_P99_MS:,.0f} ms) | {verdict(ok) if not br else '–'} |")
    for name in ("room", "room-br", "room-signals"):
        r = results.get(name)
        if not r:
            continue
        b = r["broadcast"]
        what = {"room": "", "room-br": " (Brotli)", "room-signals": " of the signals patch only (diagnostic)"}[name]
        ok = verdict(b["all_tabs_p99_ms"] <= TARGET_BROADCAST_P99_MS) if name == "room" else "–"
        print(f"| ROUTE broadcast{what}, last tab: p50 / p99 over {b['broadcasts']} | {b['all_tabs_p50_ms']:.2f} / "
              f"{b['all_tabs_p99_ms']:.2f} ms | p99 ≤ {TARGET_BROADCAST_P99_MS:g} ms | {ok} |")
        print(f"| ROUTE broadcast{what}, each tab: p50 / p99 | {b['one_tab_p50_ms']:.2f} / {b['one_tab_p99_ms']:.2f} ms | – | – |")
        print(f"| ROUTE broadcast{what}, CPU per broadcast | {split_text(b['cpu_split_us'], 1e-3, 'ms')} | – | – |")
    for name in ("counter", "room", "counter-br", "room-br", "counter-reuse"):
        r = results.get(name)
        if not r:
            continue
        m, plain = r["memory"], not name.endswith("-br")
        target = f"≤ {TARGET_KIB_PER_TAB:g} KiB" if plain else "–"
        ok = verdict(m["kib_per_tab"] <= TARGET_KIB_PER_TAB) if plain else "–"
        what = {"counter": "counter page", "room": "room page", "counter-br": "counter page, Brotli",
                "room-br": "room page, Brotli", "counter-reuse": "counter page, stream on the page's connection"}[name]
        print(f"| memory per idle tab, {what}: RSS (PHP heap) | "
              f"{m['kib_per_tab']:.1f} KiB ({m['php_kib_per_tab']:.1f} KiB) | {target} | {ok} |")
    t = results.get("counter", {}).get("throughput")
    if t:
        fw, raw = t["framework"], t["raw"]
        ratio = fw["rps"] / raw["rps"]
        print(f"| action throughput, c=64 (medians of {args.rounds}) | {fw['rps']:.0f} req/s, "
              f"{fw['cpu_us']:.1f} µs CPU/req, p99 {fw['p99_ms']:.2f} ms | – | – |")
        print(f"| raw runtime JSON action (action.php), same run | {raw['rps']:.0f} req/s, "
              f"{raw['cpu_us']:.1f} µs CPU/req, p99 {raw['p99_ms']:.2f} ms | – | – |")
        print(f"| framework action, CPU per request | {split_text(t['framework_cpu_split_us'], 1, 'µs')} | – | – |")
        print(f"| framework / raw action throughput | {ratio:.2f}× | ≥ {TARGET_THROUGHPUT_RATIO:g}× "
              f"| {verdict(ratio >= TARGET_THROUGHPUT_RATIO)} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
