#!/usr/bin/env bash
# Installs the framework with composer into a fresh app, as a user would (a path repository
# pointing at this checkout, Packagist disabled: no network but loopback), starts that app
# on a free port and checks with curl that a page and /_health answer. Exits non-zero on
# any failure.
#
# Usage: php/tests/composer-install.sh [path/to/libvia.so]   (default: target/release/libvia.so)
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)           # php/
repo=$(cd "$here/.." && pwd)
so=$(realpath "${1:-$repo/target/release/libvia.so}")
[[ -f $so ]] || { echo "composer-install: no extension at $so" >&2; exit 1; }
command -v composer >/dev/null || { echo "composer-install: composer is not installed (Debian: composer)" >&2; exit 1; }
command -v curl >/dev/null || { echo "composer-install: curl is not installed" >&2; exit 1; }

app=$(mktemp -d "${TMPDIR:-/tmp}/via-composer-XXXXXX")
pid=
cleanup() {
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -rf "$app"
}
trap cleanup EXIT
fail() {
    echo "composer-install: FAIL: $*" >&2
    [[ -f $app/server.log ]] && sed 's/^/  server: /' "$app/server.log" >&2
    exit 1
}

# ---- composer install ------------------------------------------------------------------
cat > "$app/composer.json" <<JSON
{
    "name": "via-test/app",
    "require": {"via/framework": "*@dev"},
    "repositories": [
        {"type": "path", "url": "$here", "options": {"symlink": false}},
        {"packagist.org": false}
    ],
    "config": {"allow-plugins": false}
}
JSON
export COMPOSER_HOME="$app/.composer" COMPOSER_CACHE_DIR="$app/.composer/cache" COMPOSER_DISABLE_NETWORK=1 COMPOSER_NO_INTERACTION=1
# The extension is loaded so that the package's ext-via requirement is met.
if ! (cd "$app" && timeout 120 php -d "extension=$so" "$(command -v composer)" install --no-interaction --no-progress) > "$app/composer.log" 2>&1; then
    cat "$app/composer.log" >&2
    fail "composer install"
fi
[[ -f $app/vendor/autoload.php ]] || fail "no vendor/autoload.php"
[[ -f $app/vendor/via/framework/src/Via.php && ! -L $app/vendor/via/framework ]] || fail "via/framework was not copied into vendor/"
[[ -f $app/vendor/via/framework/public/datastar.js ]] || fail "the bundled datastar.js is missing from the package"

# ---- the app -------------------------------------------------------------------------
cat > "$app/app.php" <<'PHP'
<?php
declare(strict_types=1);
require __DIR__ . '/vendor/autoload.php';

use Via\Framework\{Config, Context, Via};

// Port 0: the system picks a free port; the app logs the one it got.
$app = new Via((new Config())->withHost('127.0.0.1')->withPort(0)->withGcInterval(0));
$app->page('/', function (Context $ctx): void {
    $count = $ctx->signal(0, 'count');
    $ctx->action(fn () => $count->setValue($count->int() + 1), 'increment');
    $ctx->view(fn () => '<main id="counter">count ' . $count->int() . '</main>');
});
$app->start();
PHP
php -d "extension=$so" "$app/app.php" > "$app/server.log" 2>&1 &
pid=$!

port=
for _ in $(seq 100); do                         # at most 10 s
    port=$(sed -n 's#.*via listening on http://127\.0\.0\.1:\([0-9][0-9]*\).*#\1#p' "$app/server.log" | head -n1)
    [[ -n $port ]] && break
    kill -0 "$pid" 2>/dev/null || fail "the app exited before listening"
    sleep 0.1
done
[[ -n $port ]] || fail "the app did not listen within 10 s"
base="http://127.0.0.1:$port"

# ---- checks --------------------------------------------------------------------------
status=$(curl -sS --max-time 5 -o "$app/page.html" -D "$app/page.headers" -w '%{http_code}' "$base/") || fail "GET / did not answer"
[[ $status == 200 ]] || fail "GET / answered $status"
grep -q '<main id="counter">count 0</main>' "$app/page.html" || fail "the page has no view"
grep -q 'data-signals="' "$app/page.html" || fail "the page has no shell"
grep -q 'via_ctx' "$app/page.html" || fail "the shell has no via_ctx"
grep -qi '^set-cookie: via_session_id=' "$app/page.headers" || fail "no session cookie"

status=$(curl -sS --max-time 5 -o "$app/health.json" -D "$app/health.headers" -w '%{http_code}' "$base/_health") || fail "GET /_health did not answer"
[[ $status == 200 ]] || fail "GET /_health answered $status: $(cat "$app/health.json")"
grep -qi '^content-type: application/json' "$app/health.headers" || fail "/_health is not JSON"
php -r '$h = json_decode(file_get_contents($argv[1]), true);
    exit(is_array($h) && $h["status"] === "ok" && $h["broker"]["connected"] === true && $h["connections"]["contexts"] === 1 ? 0 : 1);' \
    "$app/health.json" || fail "/_health says $(cat "$app/health.json")"

status=$(curl -sS --max-time 5 -o /dev/null -w '%{http_code}' "$base/datastar.js") || fail "GET /datastar.js did not answer"
[[ $status == 200 ]] || fail "GET /datastar.js answered $status"

# ---- stop ------------------------------------------------------------------------------
kill -TERM "$pid"
for _ in $(seq 100); do                         # at most 10 s
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then
    fail "the app did not stop within 10 s of SIGTERM"
fi
wait "$pid" || fail "the app exited with status $? after SIGTERM"
pid=
echo "composer-install: ok (composer install from a path repository, page and /_health on port $port)"
