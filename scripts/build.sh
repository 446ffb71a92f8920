#!/usr/bin/env bash
# Builds the release extension, target/release/libvia.so, the way it ships: optimised by
# profile (decision 0028). Four steps:
#   1. an instrumented build (-Cprofile-generate) in target/pgo/gen;
#   2. scripts/pgo/train.sh serves its loads with it, each process adding its counts to
#      target/pgo/profiles;
#   3. llvm-profdata (of the LLVM rustc is built on) merges them into
#      target/pgo/via-HASH.profdata;
#   4. the optimised build (-Cprofile-use) in target/pgo/use, copied to
#      target/release/libvia.so.
# About four minutes from scratch on 2 CPUs, against two for a plain build. llvm-profdata is
# looked for as llvm-profdata-N on PATH (Debian 12 has llvm-N from bookworm-security, which
# this installs when apt can), then in rustup's llvm-tools component (added when rustup
# can). Where there is none, or with --plain, this is `cargo build --release`. Arguments
# after the options go to cargo (--locked). `cargo build --release` alone still gives the
# plain build (and replaces this one's library when the sources changed).
# VIA_BUILD_DEPS=0: install nothing with apt (scripts/deps.sh), for machines that are not
# Debian; the training needs php, h2load (nghttp2-client) and openssl.
# Usage: scripts/build.sh [--plain] [cargo arguments...]
set -euo pipefail
cd "$(dirname "$0")/.."
[[ ${VIA_BUILD_DEPS:-1} == 0 ]] || source scripts/deps.sh build

plain=0
if [[ ${1:-} == --plain ]]; then
    plain=1
    shift
fi
cargo_args=("$@")
plain() {
    cargo build --release "${cargo_args[@]}"
    exit 0
}
((plain)) && plain

# llvm-profdata reads what rustc's LLVM wrote: its major version must match.
find_profdata() {
    command -v "llvm-profdata-$llvm" && return
    local tools
    tools="$(rustc --print sysroot)/lib/rustlib/$(rustc -vV | sed -n 's/^host: //p')/bin/llvm-profdata"
    [[ -x $tools ]] && echo "$tools"
}
llvm=$(rustc -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p')
profdata=$(find_profdata || true)
if [[ -z $profdata ]] && [[ ${VIA_BUILD_DEPS:-1} != 0 ]] && apt-cache show "llvm-$llvm" >/dev/null 2>&1; then
    echo "installing llvm-$llvm (llvm-profdata for rustc's LLVM $llvm)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "llvm-$llvm" >/dev/null || true
    profdata=$(find_profdata || true)
fi
if [[ -z $profdata ]] && command -v rustup >/dev/null; then
    timeout 120 rustup component add llvm-tools >/dev/null 2>&1 || true
    profdata=$(find_profdata || true)
fi
if [[ -z $profdata ]]; then
    echo "build: no llvm-profdata for LLVM $llvm here; building without a profile" >&2
    plain
fi

pgo=$PWD/target/pgo
# Extra rustc flags for via and its dependencies, merged with (not replacing, as RUSTFLAGS
# would) the linker flag .cargo/config.toml gives.
with() {
    cargo build --release "${cargo_args[@]}" --target-dir "$pgo/$1" \
        --config "target.'cfg(target_os = \"linux\")'.rustflags = [\"$2\"]"
}

echo "build: 1/4 instrumented"
with gen "-Cprofile-generate=$pgo/profiles"
rm -rf "$pgo/profiles" # what build scripts and proc macros wrote while compiling
mkdir -p "$pgo/profiles"
echo "build: 2/4 training"
# %m: one file per library, which every process (workers too) merges its counts into.
LLVM_PROFILE_FILE="$pgo/profiles/via-%m.profraw" scripts/pgo/train.sh "$pgo/gen/release/libvia.so"
echo "build: 3/4 merging"
"$profdata" merge -o "$pgo/via.profdata" "$pgo"/profiles/*.profraw
# Cargo tells builds apart by their flags, not by the files they name: a profile of other
# counts under the same name would leave the last build in place. Name it by its content.
profile="$pgo/via-$(sha256sum "$pgo/via.profdata" | cut -c1-16).profdata"
rm -f "$pgo"/via-*.profdata
mv "$pgo/via.profdata" "$profile"
echo "build: 4/4 optimised by the profile"
with use "-Cprofile-use=$profile"
mkdir -p target/release
# Not `cp` onto the file: cargo's copy there may be a hard link to its own.
rm -f target/release/libvia.so
cp "$pgo/use/release/libvia.so" target/release/libvia.so
# bench/ reports which build it measured by this.
sha256sum target/release/libvia.so > "$pgo/libvia.so.sha256"
echo "build: target/release/libvia.so (profile-guided)"
