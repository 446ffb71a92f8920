#!/usr/bin/env bash
# Installs what building and testing via needs on Debian 12, skipping what is present.
# Usage: scripts/deps.sh build|test|bench
set -euo pipefail
want=(php8.2-cli php8.2-dev libclang-dev clang pkg-config zlib1g-dev git ca-certificates curl)
case "${1:-build}" in
    build) want+=(nghttp2-client openssl) ;; # openssl, h2load: the training of scripts/build.sh
    test) want+=(nghttp2-client chromium openssl iproute2 php-twig phpunit composer php-nyholm-psr7 python3-pip redis-server nats-server php-pear zip unzip) ;;
    bench) want+=(wrk nginx php8.2-fpm python3 nghttp2-client openssl valgrind) ;;
    *) echo "usage: $0 build|test|bench" >&2; exit 2 ;;
esac
missing=()
for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
if [[ "${1:-build}" == test ]] && ! python3 -c 'import playwright, pytest, prometheus_client' 2>/dev/null; then
    # Playwright drives Debian's chromium (no browser download); prometheus-client's parser
    # reads the metrics in tests/ops. Debian's python needs the flag.
    echo "installing playwright, pytest and prometheus-client from PyPI"
    python3 -m pip install -q --break-system-packages playwright pytest prometheus-client
fi
if ! command -v cargo >/dev/null; then
    if [[ -x "$HOME/.cargo/bin/cargo" ]]; then
        export PATH="$HOME/.cargo/bin:$PATH"
    else
        echo "installing Rust with rustup"
        curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c rustfmt,clippy
        export PATH="$HOME/.cargo/bin:$PATH"
    fi
fi
