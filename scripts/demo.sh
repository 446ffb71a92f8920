#!/usr/bin/env bash
# Builds the release via.so and runs the demo app (examples/demo.php) on 127.0.0.1:3000.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh build
cargo build --release
echo "extension: $PWD/target/release/libvia.so"
exec php -d "extension=$PWD/target/release/libvia.so" examples/demo.php "${1:-3000}"
