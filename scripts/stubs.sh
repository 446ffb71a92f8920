#!/usr/bin/env bash
# Regenerates stubs/via.stub.php from the /// docs of the extension (cargo php stubs),
# or with --check fails when the committed file differs from what the code generates.
# Hand-registered classes (the exceptions) live in stubs/via.exceptions.stub.php.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-php >/dev/null || cargo install cargo-php --locked --version 0.2.2
generated=$(mktemp)
trap 'rm -f "$generated"' EXIT
cargo php stubs --no-default-features --features php --stdout > "$generated"
if [[ "${1:-}" == "--check" ]]; then
    if ! diff -u stubs/via.stub.php "$generated"; then
        echo "stubs/via.stub.php is out of date: run scripts/stubs.sh and commit it" >&2
        exit 1
    fi
    echo "stubs: up to date"
else
    cp "$generated" stubs/via.stub.php
    echo "stubs: wrote stubs/via.stub.php"
fi
