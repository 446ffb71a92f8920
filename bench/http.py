#!/usr/bin/env python3
"""HTTP benchmark: via next to its references, all measured in one run.

Targets (each on its own port, started and stopped by this script):
  ceiling      the physical ceiling: raw Tokio on one thread, httparse and a canned answer
               (bench/http_ceiling.rs: no via, no hyper, no PHP)
  core         via's HTTP core answering from Rust on its I/O thread (no PHP): bench/ceiling.rs
  via-hello    via serving hello-world from a PHP handler (pooled fiber)
  via-hello-w2 the same with workers = 2 (a master routing to two PHP worker processes,
               each one thread that also runs its link to the master: decision 0016)
  via-hello-w2c  workers = 2 with dispatch = connection: each worker accepts and serves its
               own connections, one thread each (decision 0024)
  via-hello-ops  via-hello with metrics and a JSON access log (to a file) on: their cost
  via-hello-metrics, via-hello-log  one of the two
  via-action   via: POST ~100 B JSON, json_decode, bump a counter, 204
  via-hello-php, via-action-php  the same with reactor = php (the PHP thread drives the I/O)
  via-hello-threads, via-action-threads  the same with reactor = threads (I/O threads). The
               default (`auto`) is php when the server may use one CPU (as with --pinned),
               threads otherwise
  ceiling-post, core-post  the same two answering that POST with 204
  php-builtin  PHP's built-in server (php -S) with hello-world
  nginx-fpm    nginx + php-fpm (Debian packages), hello-world
  osw-hello    OpenSwoole 26.2 in base mode (../shared/anchors/osw_app.php), hello-world
  osw-action   the same, POST /action: json_decode, bump a counter, 204
  wm-hello     Workerman 5.2.2, one worker (../shared/anchors/wm_hello.php), hello-world
  wm-action    the same, POST /action

Every PHP server starts the same way: php -n -d memory_limit=-1 plus its extension.
For each: wrk -t2 -c64 for --duration seconds after a warm-up, repeated --rounds times
(interleaved); reports the median req/s, p99 latency and server CPU time per request
(utime+stime of the server's processes over the run / requests), and its user part
(utime alone: the kernel's, mostly TCP, is alike for every server). With --pinned the
server runs on CPU 0 only and wrk -t1 on CPU 1. With --baseline SO every via target also
runs on that other build of via.so (NAME@base), in the same rounds: a before/after of a
change on a machine whose speed drifts (a second table gives the ratios round by round and
their median). With --against NAME every other target's rounds are paired with NAME's in
the same way (e.g. --against via-hello: metrics and the access log on against off, or
workers = 2 against one process).

Usage: bench/http.py [--duration 10] [--rounds 3] [--pinned] [--only via-hello,ceiling]
                     [--baseline /path/to/other/libvia.so] [--against via-hello]
Needs: wrk, php8.2-cli, php8.2-fpm, nginx, release builds (cargo build --release --examples,
then scripts/build.sh: building an example replaces target/release/libvia.so with a plain
build; the "Machine" line says which one was measured).
"""

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import APPS, ROOT, SO, cpu_split, descendants, machine, run_wrk, wait_port

CEILING = os.path.join(ROOT, "target/release/examples/http_ceiling")
CORE = os.path.join(ROOT, "target/release/examples/ceiling")
ANCHORS = os.path.join(ROOT, "..", "shared", "anchors")
OSW_SO = os.path.join(ANCHORS, "openswoole-26.2.0", "openswoole.so")
PHP = ["php", "-n", "-d", "memory_limit=-1"]
# Set by --pinned: the CPU the server runs on (wrk gets the other one).
SERVER_CPU = None


class Target:
    def __init__(self, name, port, script=None, path="/"):
        self.name, self.port, self.script, self.path = name, port, script, path
        self.proc = None
        self.tmp = None

    def command(self):
        raise NotImplementedError

    def start(self):
        self.tmp = tempfile.mkdtemp(prefix=f"via-bench-{self.name}-")
        # stderr to a file: a pipe nobody reads blocks a server that logs every request.
        self.log = open(os.path.join(self.tmp, "stderr.log"), "w")
        command = self.command()
        if SERVER_CPU is not None:
            command = ["taskset", "-c", str(SERVER_CPU)] + command
        self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=self.log,
                                     start_new_session=True, env=self.env())
        wait_port(self.port)

    def env(self):
        return dict(os.environ)

    def pids(self):
        return descendants(self.proc.pid)

    def stop(self):
        if self.proc:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if getattr(self, "log", None):
            self.log.close()
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}{self.path}"


class Ceiling(Target):
    def command(self):
        return [CEILING, str(self.port)]


class Core(Target):
    def command(self):
        return [CORE, str(self.port)]


class Via(Target):
    def __init__(self, name, port, app, script=None, extra_env=None, so=SO):
        super().__init__(name, port, script)
        self.app = app
        self.extra_env = extra_env or {}
        self.so = so

    def baseline(self, so):
        """The same target on another build of via.so (`--baseline`), next port up."""
        return Via(f"{self.name}@base", self.port + 100, self.app, self.script, self.extra_env, so)

    def command(self):
        return PHP + ["-d", f"extension={self.so}", os.path.join(APPS, self.app), str(self.port)]

    def env(self):
        return dict(os.environ, **self.extra_env)


class OpenSwoole(Target):
    def command(self):
        return PHP + ["-d", f"extension={OSW_SO}", os.path.join(ANCHORS, "osw_app.php"), "base", str(self.port)]


class Workerman(Target):
    def command(self):
        return PHP + ["-d", "extension=posix", "-d", "extension=ctype",
                      os.path.join(ANCHORS, "wm_hello.php"), "start", str(self.port)]


class Builtin(Target):
    def command(self):
        return ["php", "-S", f"127.0.0.1:{self.port}", os.path.join(APPS, "fpm_hello.php")]


class NginxFpm(Target):
    def start(self):
        self.tmp = tempfile.mkdtemp(prefix="via-bench-nginx-")
        os.chmod(self.tmp, 0o755)
        sock = os.path.join(self.tmp, "fpm.sock")
        with open(os.path.join(self.tmp, "fpm.conf"), "w") as f:
            f.write(f"""[global]
pid = {self.tmp}/fpm.pid
error_log = {self.tmp}/fpm.log
daemonize = no
[www]
listen = {sock}
listen.mode = 0666
pm = static
pm.max_children = 2
""")
        with open(os.path.join(self.tmp, "nginx.conf"), "w") as f:
            f.write(f"""worker_processes 1;
pid {self.tmp}/nginx.pid;
error_log {self.tmp}/nginx.log;
daemon off;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  server {{
    listen 127.0.0.1:{self.port} backlog=4096;
    location / {{
      include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_FILENAME {APPS}/fpm_hello.php;
      fastcgi_pass unix:{sock};
      fastcgi_keep_conn on;
    }}
  }}
}}
""")
        fpm = shutil.which("php-fpm8.2") or "/usr/sbin/php-fpm8.2"
        self.fpm = subprocess.Popen([fpm, "-R", "-F", "-y", os.path.join(self.tmp, "fpm.conf")],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.time() + 10
        while not os.path.exists(sock) and time.time() < deadline:
            time.sleep(0.05)
        self.proc = subprocess.Popen(["nginx", "-c", os.path.join(self.tmp, "nginx.conf"), "-p", self.tmp],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        wait_port(self.port)

    def pids(self):
        return descendants(self.proc.pid) + descendants(self.fpm.pid)

    def stop(self):
        for p in (self.proc, self.fpm):
            try:
                os.killpg(p.pid, signal.SIGQUIT if p is self.proc else signal.SIGTERM)
                p.wait(10)
            except Exception:
                pass
        shutil.rmtree(self.tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", default="")
    ap.add_argument("--pinned", action="store_true", help="server on CPU 0, wrk -t1 on CPU 1")
    ap.add_argument("--baseline", metavar="SO", help="also run every via target on this other "
                    "build of via.so (a commit to compare with), as NAME@base, alternating")
    ap.add_argument("--against", metavar="NAME", help="pair every other target's rounds with "
                    "this target's and print the ratios per round and their median")
    args = ap.parse_args()
    global SERVER_CPU
    SERVER_CPU = 0 if args.pinned else None
    wrk = {"threads": 1, "cpu": 1} if args.pinned else {}

    post = os.path.join(APPS, "post.lua")
    targets = [
        Ceiling("ceiling", 18080),
        Via("via-hello", 18081, "hello.php"),
        Via("via-hello-w2", 18086, "hello.php", extra_env={"VIA_BENCH_WORKERS": "2"}),
        Via("via-hello-w2c", 18101, "hello.php",
            extra_env={"VIA_BENCH_WORKERS": "2", "VIA_BENCH_DISPATCH": "connection"}),
        Via("via-hello-ops", 18096, "hello.php", extra_env={"VIA_BENCH_OPS": "1"}),
        Via("via-hello-metrics", 18097, "hello.php", extra_env={"VIA_BENCH_OPS": "metrics"}),
        Via("via-hello-log", 18098, "hello.php", extra_env={"VIA_BENCH_OPS": "log"}),
        Ceiling("ceiling-post", 18082, post),
        Core("core", 18093),
        Core("core-post", 18094, post),
        Via("via-action", 18083, "action.php", post),
        Via("via-hello-php", 18091, "hello.php", extra_env={"VIA_BENCH_REACTOR": "php"}),
        Via("via-action-php", 18092, "action.php", post, extra_env={"VIA_BENCH_REACTOR": "php"}),
        Via("via-hello-threads", 18099, "hello.php", extra_env={"VIA_BENCH_REACTOR": "threads"}),
        Via("via-action-threads", 18100, "action.php", post, extra_env={"VIA_BENCH_REACTOR": "threads"}),
        Builtin("php-builtin", 18084),
        NginxFpm("nginx-fpm", 18085),
        OpenSwoole("osw-hello", 18087),
        OpenSwoole("osw-action", 18088, post, path="/action"),
        Workerman("wm-hello", 18089),
        Workerman("wm-action", 18090, post, path="/action"),
    ]
    if args.only:
        keep = set(args.only.split(","))
        targets = [t for t in targets if t.name in keep]
    if args.baseline:
        targets = [x for t in targets for x in ([t, t.baseline(args.baseline)] if isinstance(t, Via) else [t])]
    for path in (SO, CEILING, CORE):
        if not os.path.exists(path):
            sys.exit(f"missing {path}: cargo build --release --examples && scripts/build.sh")

    results = {t.name: [] for t in targets}
    for rnd in range(args.rounds):
        for t in targets:
            try:
                t.start()
                run_wrk(t.url, args.warmup, t.script, **wrk)
                pids = t.pids()
                u0, s0 = cpu_split(pids)
                r = run_wrk(t.url, args.duration, t.script, **wrk)
                u1, s1 = cpu_split(pids)
                n = max(r["requests"], 1)
                r["cpu_us"] = ((u1 - u0) + (s1 - s0)) / n * 1e6
                # Its user part: the kernel's (TCP, one recv and one send a request) is most
                # of it and alike for every server, so this is where servers differ.
                r["user_us"] = (u1 - u0) / n * 1e6
                results[t.name].append(r)
                print(f"round {rnd + 1} {t.name:13} {r['rps']:>10.0f} req/s  p99 {r['p99_ms']:.2f} ms  "
                      f"{r['cpu_us']:.2f} µs CPU/req ({r['user_us']:.2f} user)  "
                      f"errors {r['errors']} {r['socket_errors']}",
                      file=sys.stderr, flush=True)
            finally:
                t.stop()

    med = {n: {k: statistics.median(x[k] for x in rs) for k in ("rps", "p99_ms", "cpu_us", "user_us")}
           for n, rs in results.items() if rs}
    print(f"\nMachine: {machine()}")
    print(f"Command: bench/http.py --duration {args.duration} --rounds {args.rounds}"
          f"{' --pinned' if args.pinned else ''}{' --only ' + args.only if args.only else ''}"
          f"{' --baseline ' + args.baseline if args.baseline else ''}"
          f"{' --against ' + args.against if args.against else ''}"
          f"  (wrk {'-t1 on CPU 1, server on CPU 0' if args.pinned else '-t2'} -c64, medians)\n")
    print("| target | req/s | p99 ms | server CPU µs/req | of it user | req/s vs ceiling | CPU vs ceiling "
          "| via req/s vs it | via CPU vs it | via (reactor php) req/s vs it | via (reactor php) CPU vs it |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")

    def versus(via, m):
        if not via:
            return "–", "–"
        return f"{via['rps'] / m['rps']:.2f}×", f"{via['cpu_us'] / m['cpu_us']:.2f}×"

    for name, m in med.items():
        action = "-action" in name or name.endswith("-post")
        base = med.get("ceiling-post" if action else "ceiling")
        ratio = f"{m['rps'] / base['rps']:.2f}×" if base else "–"
        cpu = f"{m['cpu_us'] / base['cpu_us']:.2f}×" if base else "–"
        peer = name.startswith(("osw-", "wm-"))
        kind = "action" if action else "hello"
        vs, vs_cpu = versus(med.get(f"via-{kind}") if peer else None, m)
        vs_php, vs_php_cpu = versus(med.get(f"via-{kind}-php") if peer else None, m)
        print(f"| {name} | {m['rps']:.0f} | {m['p99_ms']:.2f} | {m['cpu_us']:.2f} | {m['user_us']:.2f} | {ratio} | {cpu} "
              f"| {vs} | {vs_cpu} | {vs_php} | {vs_php_cpu} |")

    if args.baseline:
        paired(results, lambda name: None if name.endswith("@base") else f"{name}@base", "base")
    if args.against:
        if args.against not in results:
            sys.exit(f"--against {args.against}: not one of the targets run")
        paired(results, lambda name: None if name == args.against else args.against, args.against)


def paired(results, base_of, label):
    """Each target against its base's run of the same round (`base_of(name)`, None for
    none): the ratios per round and their median, steadier than a ratio of two medians
    when the machine drifts."""
    print(f"\n| target | req/s / {label}, per round | median | CPU / {label}, per round | median |")
    print("|---|---|---:|---|---:|")
    for name, rs in results.items():
        base = results.get(base_of(name) or "")
        if not base:
            continue
        row = []
        for key in ("rps", "cpu_us"):
            ratios = [now[key] / then[key] for now, then in zip(rs, base)]
            row += [" ".join(f"{x:.2f}" for x in ratios), f"{statistics.median(ratios):.3f}×"]
        print(f"| {name} | {' | '.join(row)} |")


if __name__ == "__main__":
    main()
