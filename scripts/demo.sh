#!/usr/bin/env bash
# Builds the release via.so (scripts/build.sh: optimised by profile) and runs the framework demo (examples/app.php: a counter per
# tab, a shared board, a session counter, a live clock, an upload form, path parameters, a
# Twig view) on 127.0.0.1:3000. The runtime-only demo is `examples/demo.php`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh build
command -v php >/dev/null && php -r 'exit(class_exists("Twig\\Environment") || stream_resolve_include_path("Twig/autoload.php") ? 0 : 1);' \
    || { export DEBIAN_FRONTEND=noninteractive; apt-get install -y -q --no-install-recommends php-twig; }
scripts/build.sh
echo "extension: $PWD/target/release/libvia.so"
exec php -d "extension=$PWD/target/release/libvia.so" examples/app.php "${1:-3000}"
