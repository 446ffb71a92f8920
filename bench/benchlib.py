"""Helpers shared by the benchmark scripts in bench/."""

import hashlib
import os
import platform
import re
import socket
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SO = os.path.join(ROOT, "target/release/libvia.so")
APPS = os.path.join(ROOT, "bench/apps")
TICK = os.sysconf("SC_CLK_TCK")


def wait_port(port, timeout=15.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


def descendants(pid):
    """pid and all its descendants, from /proc."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
        except OSError:
            continue
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def cpu_seconds(pids):
    user, system = cpu_split(pids)
    return user + system


def cpu_split(pids):
    """(user, system) CPU seconds of the processes, from /proc."""
    user = system = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            user += int(fields[11])  # utime
            system += int(fields[12])  # stime
        except OSError:
            pass
    return user / TICK, system / TICK


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        m = re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M)
    return int(m.group(1)) * 1024


def machine(so=SO):
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"model name\s*:\s*(.*)", f.read())
            cpu = m.group(1) if m else cpu
    except OSError:
        pass
    php = subprocess.run(["php", "-r", "echo PHP_VERSION;"], capture_output=True, text=True).stdout
    return f"{os.cpu_count()} CPUs ({cpu}), Linux {platform.release()}, PHP {php}, via.so {build_kind(so)}"


def build_kind(so):
    """"profile-guided" when `so` is the library scripts/build.sh made (it records its
    SHA-256), else "plain" (`cargo build --release`, or an example build, which replaces
    target/release/libvia.so with a plain one: build the examples first)."""
    try:
        with open(os.path.join(ROOT, "target/pgo/libvia.so.sha256")) as f:
            recorded = f.read().split()[0]
        with open(so, "rb") as f:
            return "profile-guided" if hashlib.sha256(f.read()).hexdigest() == recorded else "plain"
    except (OSError, IndexError):
        return "plain"


def run_wrk(url, duration, script=None, args=(), threads=2, cpu=None):
    """wrk -t`threads` -c64 for `duration` s (with a Lua `script` and its `args`; on CPU
    `cpu` only when given): req/s, requests, p99 in ms, non-2xx answers and socket errors."""
    cmd = ["wrk", f"-t{threads}", "-c64", f"-d{duration}s", "--latency"]
    if cpu is not None:
        cmd = ["taskset", "-c", str(cpu)] + cmd
    if script:
        cmd += ["-s", script]
    cmd.append(url)
    if args:
        cmd += ["--", *args]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    m = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)", out, re.M)
    p99 = float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock_err = re.search(r"Socket errors: (.*)", out)
    return {"rps": rps, "requests": total, "p99_ms": p99,
            "errors": int(errors.group(1)) if errors else 0,
            "socket_errors": sock_err.group(1) if sock_err else ""}
