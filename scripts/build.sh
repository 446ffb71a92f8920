#!/usr/bin/env bash
# Builds the release extension, target/release/libvia.so, the way it ships: optimised by
# profile (decision 0028). Four steps:
#   1. an instrumented build (-Cprofile-generate) in target/pgo/gen;
#   2. scripts/pgo/train.sh serves its loads with it (about 25 s), each process adding its
#      counts to target/pgo/profiles;
#   3. llvm-profdata (of the LLVM rustc is built on) merges them into
#      target/pgo/via-HASH.profdata;
#   4. the optimised build (-Cprofile-use) in target/pgo/use, copied to
#      target/release/libvia.so.
# About four minutes from scratch on 2 CPUs, against two for a plain build. When the
# instrumented library and the training are those of the last run, steps 2–4 are skipped
# and the last optimised build is copied again.
#
# llvm-profdata is looked for in rustup's llvm-tools component (the LLVM rustc is built
# on), then as llvm-profdata-N on PATH. If neither is there it installs llvm-N with apt
# (Debian 12 has it in bookworm-security) or adds llvm-tools with rustup. Where all of
# that fails, or with --plain, this is `cargo build --release`; VIA_PGO=required makes
# that an error instead (the release workflow sets it).
#
# Arguments after --plain go to cargo (--locked; not --target or --profile, whose output
# lands elsewhere). RUSTFLAGS must not be set: it would replace .cargo/config.toml's flags.
# `cargo build --release` (or an example's build) still makes the plain build, and
# always puts it at target/release/libvia.so, replacing this one.
# VIA_BUILD_DEPS=0: install nothing with apt (scripts/deps.sh installs Debian 12's
# packages, PHP 8.2's among them). The training needs php ($PHP, else the one on PATH),
# h2load (nghttp2-client) and openssl.
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
fail() {
    echo "build: $*" >&2
    exit 1
}
if [[ -n ${RUSTFLAGS:-}${CARGO_ENCODED_RUSTFLAGS:-} ]]; then
    fail "RUSTFLAGS would replace the flags of .cargo/config.toml (the link needs them): unset it"
fi

# llvm-profdata reads what rustc's LLVM wrote: its major version must match.
llvm=$(rustc -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p')
find_profdata() {
    local tools
    tools="$(rustc --print sysroot)/lib/rustlib/$(rustc -vV | sed -n 's/^host: //p')/bin/llvm-profdata"
    if [[ -x $tools ]]; then
        echo "$tools"
    else
        command -v "llvm-profdata-$llvm"
    fi
}
apt_llvm() {
    apt-cache show "llvm-$llvm" >/dev/null 2>&1 &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "llvm-$llvm" >/dev/null
}
profdata=$(find_profdata || true)
if [[ -z $profdata && ${VIA_BUILD_DEPS:-1} != 0 ]] && command -v apt-get >/dev/null; then
    echo "installing llvm-$llvm (llvm-profdata for rustc's LLVM $llvm)"
    # Package lists may be old or missing: update them once if the first try fails.
    apt_llvm || { apt-get update -q >/dev/null && apt_llvm; } || true
    profdata=$(find_profdata || true)
fi
if [[ -z $profdata ]] && command -v rustup >/dev/null; then
    timeout 120 rustup component add llvm-tools >/dev/null 2>&1 || true
    profdata=$(find_profdata || true)
fi
if [[ -z $profdata ]]; then
    [[ ${VIA_PGO:-} == required ]] && fail "no llvm-profdata for LLVM $llvm, and VIA_PGO=required"
    echo "build: WARNING: no llvm-profdata for LLVM $llvm here; making the plain build" >&2
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
# What the training learns from: the instrumented library and the training itself.
trained=$(cat "$pgo/gen/release/libvia.so" scripts/pgo/* bench/calls.php bench/table.php | sha256sum | cut -d' ' -f1)
if [[ -f $pgo/trained && $(cat "$pgo/trained") == "$trained" && -f $pgo/use/release/libvia.so ]]; then
    echo "build: 2–4/4 as last time (the same instrumented library and training)"
else
    rm -f "$pgo/trained"
    rm -rf "$pgo/profiles" # what build scripts and proc macros wrote while compiling
    mkdir -p "$pgo/profiles"
    echo "build: 2/4 training"
    # %m: one file per library, which every process (workers too) merges its counts into.
    LLVM_PROFILE_FILE="$pgo/profiles/via-%m.profraw" scripts/pgo/train.sh "$pgo/gen/release/libvia.so"
    compgen -G "$pgo/profiles/*.profraw" >/dev/null || fail "the training left no profile in $pgo/profiles"
    echo "build: 3/4 merging"
    "$profdata" merge -o "$pgo/via.profdata" "$pgo"/profiles/*.profraw
    # Cargo tells builds apart by their flags, not by the files they name: a profile of
    # other counts under the same name would leave the last build in place. Name it by its
    # content.
    profile="$pgo/via-$(sha256sum "$pgo/via.profdata" | cut -c1-16).profdata"
    rm -f "$pgo"/via-*.profdata
    mv "$pgo/via.profdata" "$profile"
    echo "build: 4/4 optimised by the profile"
    with use "-Cprofile-use=$profile"
    echo "$trained" > "$pgo/trained"
fi
mkdir -p target/release
# Not `cp` onto the file: cargo's copy there may be a hard link to its own.
rm -f target/release/libvia.so
cp "$pgo/use/release/libvia.so" target/release/libvia.so
# bench/ reports which build it measured by this.
sha256sum target/release/libvia.so > "$pgo/libvia.so.sha256"
echo "build: target/release/libvia.so (profile-guided)"
