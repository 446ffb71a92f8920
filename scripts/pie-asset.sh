#!/usr/bin/env bash
# Packages a built via.so as the release asset PIE looks for, with its checksum file:
#
#   OUTDIR/php_via-<tag>_php<major.minor>-<arch>-linux-<libc>[-debug].zip   (holds via.so)
#   OUTDIR/php_via-<tag>_php<major.minor>-<arch>-linux-<libc>[-debug].zip.sha256
#
# The name is PIE's for a "pre-packaged-binary" (src/Platform/PrePackagedBinaryAssetName.php
# in php/pie): <tag> is the git tag as Composer reports the version (v0.1.0), <arch> PIE's
# canonical x86_64 or arm64, <libc> glibc or musl; an NTS build carries no thread-safety
# suffix (the form php/pie-ext-binary-builder, the PHP project's own action, writes; PIE
# also accepts "-nts"), and PIE unpacks the zip and takes <extension-name>.so from its top
# level. The PHP version in the name is the one of the php on PATH (or $PHP): the library
# must load into it and report the tag's version, which this checks, so a binary cannot be
# filed under the wrong PHP or the wrong release.
#
# Usage: scripts/pie-asset.sh path/to/libvia.so TAG OUTDIR    (prints the zip's path)
set -euo pipefail

so=${1:?usage: $0 path/to/libvia.so TAG OUTDIR}
tag=${2:?usage: $0 path/to/libvia.so TAG OUTDIR}
out=${3:?usage: $0 path/to/libvia.so TAG OUTDIR}
php=${PHP:-php}
fail() { echo "pie-asset: $*" >&2; exit 1; }

[[ -f $so ]] || fail "no extension at $so"
[[ $tag =~ ^v[0-9]+\.[0-9]+\.[0-9]+ ]] || fail "tag $tag is not a version tag (vX.Y.Z…)"
command -v zip >/dev/null || fail "zip is not installed"
[[ $(uname -s) == Linux ]] || fail "only Linux binaries are released"

# -n: no php.ini, so an installed via.so is not loaded as well as this one.
loaded=$("$php" -n -d "extension=$(realpath "$so")" -r 'echo extension_loaded("via") ? phpversion("via") : "";' 2>&1) \
    || fail "$php could not run with $so: $loaded"
[[ -n $loaded && $loaded != *Warning* ]] || fail "$so does not load into $("$php" -n -r 'echo PHP_VERSION;'): $loaded"
[[ $loaded == "${tag#v}" ]] || fail "$so is version $loaded, the tag is $tag"
read -r php_version zts debug < <("$php" -n -r 'echo PHP_MAJOR_VERSION, ".", PHP_MINOR_VERSION, " ",
    ZEND_THREAD_SAFE ? "zts" : "nts", " ", PHP_DEBUG ? "debug" : "release", "\n";')
[[ $zts == nts ]] || fail "via is released for NTS PHP only (support-zts is false in composer.json)"

case $(uname -m) in
    x86_64 | amd64) arch=x86_64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) fail "no release for $(uname -m)" ;;
esac
if ldd --version 2>&1 | grep -qi musl; then libc=musl; else libc=glibc; fi
suffix=
[[ $debug == debug ]] && suffix=-debug

name="php_via-${tag}_php${php_version}-${arch}-linux-${libc}${suffix}"
name=${name,,}                                   # PIE compares lower-cased names
mkdir -p "$out"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
install -m 0644 "$so" "$stage/via.so"
rm -f "$out/$name.zip"
(cd "$stage" && zip -q -X "$name.zip" via.so)
mv "$stage/$name.zip" "$out/$name.zip"
(cd "$out" && sha256sum "$name.zip" > "$name.zip.sha256")
echo "$out/$name.zip"
