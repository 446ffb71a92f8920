#!/usr/bin/env bash
# Runs every test suite: formatting and lints, Rust unit and integration tests (real
# sockets), the phpt suite against the release build, phpt coverage of the public API,
# stub drift, end-to-end tests with curl, h2load and raw sockets, the framework (php/):
# PHPUnit and a composer install into a fresh app; headless Chromium driven by Playwright
# (the runtime's SSE over HTTPS + h2 + Brotli, the demo app with the Datastar client); the
# operations features (health, metrics, access log, rate limit, trace context, error pages)
# from Python clients; then the packaging: composer.json and package.xml validated, and the
# extension installed as a package (no -d flags) running the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh test
export CARGO_TERM_COLOR=never

step() { printf '\n== %s\n' "$*"; }

step "rustfmt"
cargo fmt --all --check

step "clippy"
cargo clippy --all-targets --features e2e,test-hooks -- -D warnings

step "cargo test (core, unit and integration)"
cargo test --features test-hooks

# The library as it ships, optimised by profile: its training serves real loads with the
# instrumented build, and every suite below tests the result (decision 0028).
step "release build (scripts/build.sh)"
scripts/build.sh
so="$PWD/target/release/libvia.so"
php -d "extension=$so" --ri via >/dev/null

step "phpt"
TEST_PHP_EXECUTABLE=$(command -v php) php "$(php-config --extension-dir)/build/run-tests.php" \
    -q -n -p "$(command -v php)" --show-diff -d "extension=$so" -j2 phpt/ | tee target/phpt.log | tail -n 25
grep -q "^Tests failed    :    0" target/phpt.log
grep -qE "^Tests skipped   :    0" target/phpt.log

step "phpt coverage of the public API"
php -n -d "extension=$so" scripts/check-phpt-coverage.php

step "stubs match the extension"
scripts/stubs.sh --check

step "end-to-end (php + curl + h2load), examples, multi-worker servers"
VIA_SO="$so" cargo test --features e2e --test e2e --test flood --test examples --test workers

# (Not the multi-worker suite: a worker's PHP thread runs its link whatever `reactor`
# says, and the master keeps its I/O threads, so that pass would repeat the first.)
step "end-to-end again with the PHP thread driving the I/O (reactor = php)"
VIA_SO="$so" VIA_TEST_REACTOR=php cargo test --features e2e --test e2e --test flood

step "framework: PHPUnit (php/tests)"
php -d "extension=$so" /usr/bin/phpunit -c php/phpunit.xml.dist

step "framework: installed with composer into a fresh app"
php/tests/composer-install.sh "$so"

step "headless Chromium: the runtime's SSE over HTTPS + h2 + Brotli, the demo app with the Datastar client; bad input"
VIA_SO="$so" python3 -m pytest -q -p no:cacheprovider tests/framework

# On one CPU the default reactor is the PHP thread with its standby (decision 0018).
step "framework again on one CPU (reactor = auto picks php)"
VIA_SO="$so" taskset -c 0 python3 -m pytest -q -p no:cacheprovider tests/framework

step "operations: health, metrics, access log, rate limit, trace context, error pages"
VIA_SO="$so" python3 -m pytest -q -p no:cacheprovider tests/ops

step "packaging: composer.json for PIE, package.xml, the extension installed as a package"
# Debian's Composer (2.5) predates the php-ext section and reports it as a publish warning;
# --no-check-publish keeps that a warning while the rest of the file is checked strictly.
COMPOSER_DISABLE_NETWORK=1 COMPOSER_NO_INTERACTION=1 composer validate --no-check-publish --no-check-lock --strict
php scripts/package-xml.php --check
# pear package-validate exits 0 whatever it finds: its summary line is the verdict. The one
# warning allowed is that the release date is not today: the date is stamped when a release
# is cut (php scripts/package-xml.php), not on every checkout.
validation=$(pear package-validate package.xml)
others=$(grep -v -e '^Validation: ' -e 'Release Date "[0-9-]*" is not today$' <<<"$validation" || true)
if ! grep -qE '^Validation: 0 error\(s\), [01] warning\(s\)$' <<<"$validation" || [ -n "$others" ]; then
    echo "$validation" >&2
    exit 1
fi
scripts/install-test.sh "$so"

step "all test suites passed"
