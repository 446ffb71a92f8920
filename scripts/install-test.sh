#!/usr/bin/env bash
# Installs a built via.so the way a package does and checks PHP finds it with no -d flag:
# packs it as the release asset PIE downloads (scripts/pie-asset.sh) and checks the
# checksum, copies the via.so from the zip to `php-config --extension-dir`, writes
# `extension=via` into the CLI's conf.d directory (from `php --ini`), then runs
# `php --ri via`, `php -m`, compares the INI directives with the root composer.json, and
# starts the demo (examples/app.php) on a free port, fetches / and stops it with SIGTERM.
#
# Everything it installs is removed when it ends, failure included (a trap): every other
# test loads the extension with -d extension=…, and a second load makes PHP warn. It
# refuses to run over a via.so or an ini file it did not write itself.
#
# Needs root (it writes to PHP's extension directory), php8.2-dev (php-config), zip, unzip,
# curl. Usage: scripts/install-test.sh path/to/libvia.so
set -euo pipefail
cd "$(dirname "$0")/.."

so=$(realpath "${1:?usage: $0 path/to/libvia.so}")
fail() {
    echo "install-test: FAIL: $*" >&2
    [[ -n ${work:-} && -f $work/server.log ]] && sed 's/^/  server: /' "$work/server.log" >&2
    exit 1
}
[[ -f $so ]] || fail "no extension at $so"
for tool in php-config zip unzip curl sha256sum; do
    command -v "$tool" >/dev/null || fail "$tool is not installed"
done

ext_dir=$(php-config --extension-dir)
scan_dir=$(php --ini | sed -n 's/^Scan for additional .ini files in: *//p' | cut -d: -f1)
[[ -d $ext_dir ]] || fail "php-config --extension-dir names $ext_dir, which does not exist"
[[ -n $scan_dir && $scan_dir != "(none)" && -d $scan_dir ]] || fail "php --ini names no conf.d directory"
installed_so="$ext_dir/via.so"
installed_ini="$scan_dir/20-via.ini"
marker="; written by via's scripts/install-test.sh, which removes it when it ends"

# A leftover of this script (killed before its trap ran) carries the marker; anything else
# is someone's real installation, which this test must not overwrite or delete.
if [[ -e $installed_ini ]] && ! grep -qxF "$marker" "$installed_ini"; then
    fail "$installed_ini exists and was not written by this test: remove it (and $installed_so) to run it"
fi
if [[ -e $installed_so && ! -e $installed_ini ]]; then
    fail "$installed_so exists and was not installed by this test: remove it to run it"
fi
if [[ ! -e $installed_ini ]] && php -r 'exit(extension_loaded("via") ? 0 : 1);' 2>/dev/null; then
    fail "php already loads via from its configuration: remove that to run this test"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/via-install-XXXXXX")
pid=
cleanup() {
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$installed_ini" "$installed_so"
    rm -rf "$work"
}
trap cleanup EXIT

# ---- the release asset -------------------------------------------------------------------
version=$(php -n -d "extension=$so" -r 'echo phpversion("via");')
[[ -n $version ]] || fail "$so does not load"
zip_path=$(scripts/pie-asset.sh "$so" "v$version" "$work/dist")
(cd "$work/dist" && sha256sum --quiet -c "$(basename "$zip_path").sha256") || fail "the checksum file does not match the zip"
[[ $(unzip -Z1 "$zip_path") == via.so ]] || fail "the zip holds $(unzip -Z1 "$zip_path" | tr '\n' ' ')instead of via.so alone"
unzip -q "$zip_path" via.so -d "$work/unpacked"

# ---- install as a package does -----------------------------------------------------------
install -m 0644 "$work/unpacked/via.so" "$installed_so"
printf '%s\nextension=via\n' "$marker" > "$installed_ini"

# ---- PHP finds it, with no -d flag ---------------------------------------------------------
info=$(php --ri via 2>&1) || fail "php --ri via: $info"
grep -qx 'via support => enabled' <<<"$info" || fail "php --ri via says: $info"
grep -qx "version => $version" <<<"$info" || fail "php --ri via has no 'version => $version': $info"
modules=$(php -m 2>&1)
grep -qx via <<<"$modules" || fail "php -m does not list via"
grep -qi 'warning' <<<"$modules" && fail "php -m warns: $(grep -i warning <<<"$modules")"

# The INI directives the extension registers are the ones composer.json declares (extra.ini),
# with the same defaults.
php -r '
    $declared = json_decode(file_get_contents("composer.json"), true, 512, JSON_THROW_ON_ERROR)["extra"]["ini"] ?? [];
    $actual = ini_get_all("via", false);
    ksort($declared);
    ksort($actual);
    if ($declared !== $actual) {
        fwrite(STDERR, "composer.json extra.ini: " . json_encode($declared) . "; the extension: " . json_encode($actual) . "\n");
        exit(1);
    }' || fail "composer.json's extra.ini does not list the extension's INI directives"

# ---- the demo, with no -d flag ------------------------------------------------------------
port=$(php -n -r '$s = stream_socket_server("tcp://127.0.0.1:0"); echo parse_url("tcp://" . stream_socket_get_name($s, false), PHP_URL_PORT);')
php examples/app.php "$port" > "$work/server.log" 2>&1 &
pid=$!
up=
for _ in $(seq 100); do                          # at most 10 s
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then up=1; break; fi
    kill -0 "$pid" 2>/dev/null || fail "the demo exited before listening"
    sleep 0.1
done
[[ -n $up ]] || fail "the demo did not listen on port $port within 10 s"

status=$(curl -sS --max-time 5 -o "$work/page.html" -w '%{http_code}' "http://127.0.0.1:$port/") || fail "GET / did not answer"
[[ $status == 200 ]] || fail "GET / answered $status"
grep -q '<h1>A counter per tab</h1>' "$work/page.html" || fail "GET / is not the demo's counter page"
grep -q '<output id="count">0</output>' "$work/page.html" || fail "GET / has no counter"

kill -TERM "$pid"
for _ in $(seq 100); do                          # at most 10 s
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
kill -0 "$pid" 2>/dev/null && fail "the demo did not stop within 10 s of SIGTERM"
code=0
wait "$pid" || code=$?
pid=
[[ $code == 0 ]] || fail "the demo exited with status $code after SIGTERM"

# ---- removed again -------------------------------------------------------------------------
cleanup
trap - EXIT
[[ ! -e $installed_so && ! -e $installed_ini ]] || fail "the installed files are still there"
php -m | grep -qx via && fail "php still loads via after the files were removed"
echo "install-test: ok (via $version from $(basename "$zip_path") in $ext_dir, $installed_ini; php --ri, php -m and the demo on port $port without -d)"
