#!/usr/bin/env bash
# Runs the loads a profile-guided build learns from against an instrumented via.so
# (scripts/build.sh builds it with -Cprofile-generate; each PHP process writes its counts
# to LLVM_PROFILE_FILE when it exits). The mix follows what via serves: HTTP/1.1 answers
# and JSON actions under both reactors, with operations on, two workers of both
# dispatches, h2c, HTTPS with h2 and HTTP/1.1, static files with Brotli, pages, event
# streams published to by topic and by a PHP loop (plain and Brotli), and the extension's
# hot methods called from PHP (bench/calls.php, bench/table.php). A load that fails fails
# the training: a build must not learn from a broken server.
# The PHP is $PHP (the one the library was built for, as for cargo), else php on PATH.
# Usage: scripts/pgo/train.sh path/to/instrumented/libvia.so    (about 25 s on 2 CPUs)
set -euo pipefail
so=$(realpath "${1:?usage: $0 path/to/instrumented/libvia.so}")
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$(dirname "$here")")
php=${PHP:-php}
tmp=$(mktemp -d)
port=
pid=
trap '[[ -n $pid ]] && kill -9 "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT

start() { # start [VAR=value ...]: app.php on a free port, once it accepts
    port=$("$php" -n -r '$s = stream_socket_server("tcp://127.0.0.1:0"); echo substr(strrchr(stream_socket_get_name($s, false), ":"), 1);')
    env "$@" "$php" -n -d memory_limit=-1 -d "extension=$so" "$here/app.php" "$port" >/dev/null 2>"$tmp/server.log" &
    pid=$!
    for _ in $(seq 200); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return; fi
        kill -0 "$pid" 2>/dev/null || { cat "$tmp/server.log" >&2; echo "train: the server did not start" >&2; exit 1; }
        sleep 0.05
    done
    echo "train: the server did not listen on $port" >&2
    exit 1
}
stop() { # a graceful stop, within 30 s: the profile is written when PHP exits
    local rc=0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 600); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null; then
        cat "$tmp/server.log" >&2
        echo "train: the server did not stop within 30 s" >&2
        exit 1
    fi
    wait "$pid" || rc=$?
    ((rc == 0)) || { cat "$tmp/server.log" >&2; echo "train: the server exited with $rc" >&2; exit 1; }
    pid=
}
load() { # load h2load-arguments...: every request must succeed, within 5 minutes
    local out
    out=$(timeout -k 5 300 h2load "$@" 2>&1) || { echo "$out" >&2; echo "train: h2load failed" >&2; exit 1; }
    grep -q " 0 failed, 0 errored, 0 timeout" <<<"$out" || { echo "$out" >&2; echo "train: requests failed" >&2; exit 1; }
}

printf '{"step":1,"tab":"0f3c9a","signals":{"count":41,"name":"a counter","items":[1,2,3]}}' > "$tmp/action.json"
h1() { # h1 N: GET /, /page and static files, then POST /action, over HTTP/1.1
    local url="http://127.0.0.1:$port"
    load --h1 -n "$1" -c 32 -t 1 "$url/" "$url/" "$url/" "$url/page?tab=t1" "$url/static/via.css" \
        -H 'Accept-Encoding: gzip, br' -H 'Cookie: session=abc; theme=dark'
    load --h1 -n "$1" -c 32 -t 1 -d "$tmp/action.json" -H 'Content-Type: application/json' "$url/action"
}
sse() { # sse MODE: 500 streams, half of them with Brotli, 200 rounds
    timeout -k 5 120 "$php" -n "$here/sse-client.php" "$port" 500 200 "$1" >/dev/null
}

for reactor in threads php; do
    start VIA_PGO_REACTOR=$reactor
    h1 100000
    sse topic
    sse loop
    stop
done
start VIA_PGO_OPS=1
h1 20000
stop
for dispatch in sticky connection; do
    start VIA_PGO_WORKERS=2 VIA_PGO_DISPATCH=$dispatch
    h1 40000
    sse topic
    stop
done
start
load -n 100000 -c 8 -m 10 -t 1 "http://127.0.0.1:$port/" "http://127.0.0.1:$port/page?tab=t2"
stop
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=localhost \
    -days 2 -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
start VIA_PGO_CERT="$tmp/cert.pem" VIA_PGO_KEY="$tmp/key.pem"
load -n 60000 -c 16 -m 10 -t 1 "https://127.0.0.1:$port/" "https://127.0.0.1:$port/page?tab=t3" \
    "https://127.0.0.1:$port/static/datastar.js" -H 'Accept-Encoding: br'
load --h1 -n 20000 -c 16 -t 1 "https://127.0.0.1:$port/"
stop
"$php" -n -d "extension=$so" "$root/bench/calls.php" 200000 >/dev/null
# Its second case forks: a PHP without pcntl leaves the table to bench/calls.php.
if "$php" -n -r 'exit(function_exists("pcntl_fork") ? 0 : 1);'; then
    "$php" -n -d "extension=$so" "$root/bench/table.php" 0.3 >/dev/null
fi
echo "train: done"
