#!/usr/bin/env python3
"""Via\\Table next to OpenSwoole\\Table, the same loop in one run (the performance issue's
Table target): ../shared/anchors/via_table.php and osw_table.php (1M get / set / incr on
100 keys, an int and a 64-byte string column) run alternately, each round in the other
order than the last, so drift on a shared machine hits both alike.

Prints every round's ops/s and the via/OpenSwoole ratio of that round, then the medians of
the rates and of the paired ratios (the number to quote: a pair ran seconds apart).

Usage: bench/table_peers.py [--rounds N] [--so PATH]
"""

import argparse
import os
import statistics
import subprocess

from benchlib import ROOT, SO, machine

ANCHORS = os.path.join(os.path.dirname(ROOT), "shared/anchors")
OPS = ("get", "set", "incr")


def run(ext, script):
    out = subprocess.run(
        ["php", "-n", "-d", f"extension={ext}", os.path.join(ANCHORS, script)],
        check=True, capture_output=True, text=True,
    ).stdout.split()
    # "via  get N set N incr N"
    return {op: float(out[out.index(op) + 1]) for op in OPS}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--so", default=SO)
    args = ap.parse_args()
    osw = os.path.join(ANCHORS, "openswoole-26.2.0/openswoole.so")
    print(f"# {machine(args.so)}")
    print("round " + " ".join(f"{'via ' + op:>10} {'osw ' + op:>10} {'ratio':>6}" for op in OPS))
    rows = []
    for i in range(args.rounds):
        pair = [("via", args.so, "via_table.php"), ("osw", osw, "osw_table.php")]
        if i % 2:
            pair.reverse()
        got = {name: run(ext, script) for name, ext, script in pair}
        rows.append(got)
        print(f"{i + 1:>5} " + " ".join(
            f"{got['via'][op] / 1e6:>9.2f}M {got['osw'][op] / 1e6:>9.2f}M {got['via'][op] / got['osw'][op]:>6.2f}"
            for op in OPS))
    print("median " + " ".join(
        f"{statistics.median(r['via'][op] for r in rows) / 1e6:>8.2f}M "
        f"{statistics.median(r['osw'][op] for r in rows) / 1e6:>9.2f}M "
        f"{statistics.median(r['via'][op] / r['osw'][op] for r in rows):>6.2f}"
        for op in OPS))


if __name__ == "__main__":
    main()
