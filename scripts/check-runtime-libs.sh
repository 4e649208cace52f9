#!/usr/bin/env bash
# Checks that the release binary the container image ships (built with --static-swift-stdlib, as the Dockerfile's
# build stage does) needs no shared library outside the Dockerfile's runtime stage: every library `ldd` resolves
# is mapped to its Debian package (`dpkg -S`) and must be one of
#   - the packages the runtime stage installs (parsed from the Dockerfile's `apt-get install` in that stage, so the
#     list and this check cannot drift apart),
#   - a package those depend on (apt installs them; their closure over the installed packages' Depends), or
#   - a package of the base image (BASE_PACKAGES below: debian:bookworm-slim's essential libraries).
# It fails naming each library outside them and the package to add. The binary is built into .build-static (its own
# scratch folder, so the debug .build stays warm; only the drift-worker product); pass --skip-build to reuse it.
set -euo pipefail
cd "$(dirname "$0")/.."

SWIFT=${SWIFT:-swift}
SCRATCH=.build-static
# What debian:bookworm-slim ships that a binary links: glibc (libc, libm, libpthread, libdl, librt, the loader),
# GCC's runtime (libgcc_s, libstdc++) and zlib — the base's own dpkg and apt depend on them, so every minbase
# system (which the slim image is) has them.
BASE_PACKAGES=(libc6 libgcc-s1 libstdc++6 zlib1g)

fail() { echo "check-runtime-libs: $*" >&2; exit 1; }

command -v ldd >/dev/null || fail "ldd is missing (Debian package libc-bin)"
command -v dpkg >/dev/null || fail "dpkg is missing: this check maps libraries to Debian packages and runs on Debian 12"

# The runtime stage's packages: the `apt-get install` of the stage named `runtime`, continuation lines joined.
runtime_packages=$(awk '
    /^FROM / { in_runtime = ($0 ~ / AS runtime$/) }
    in_runtime { line = line " " $0; if ($0 !~ /\\$/) { if (line ~ /apt-get install/) print line; line = "" } }
' Dockerfile | sed -e 's/.*apt-get install//' -e 's/&&.*//' -e 's/\\//g' | tr ' ' '\n' | grep -v -e '^-' -e '^$' | sort -u)
[ -n "$runtime_packages" ] || fail "found no 'apt-get install' in the Dockerfile's 'FROM … AS runtime' stage"

if [ "${1:-}" != "--skip-build" ]; then
    echo "check-runtime-libs: building drift-worker (release, --static-swift-stdlib) in $SCRATCH"
    "$SWIFT" build -c release --static-swift-stdlib --product drift-worker --scratch-path "$SCRATCH" >/dev/null \
        || fail "the release build failed (run: $SWIFT build -c release --static-swift-stdlib --product drift-worker --scratch-path $SCRATCH)"
fi
binary=$SCRATCH/release/drift-worker
[ -x "$binary" ] || fail "$binary is missing: run without --skip-build"

# The installed packages' dependency closure of the runtime list (an OR group counts the alternatives installed
# here; a virtual package, e.g. liblapack.so.3, counts the installed packages that provide it).
declare -A allowed=()
for p in "${BASE_PACKAGES[@]}"; do allowed[$p]=base; done
mapfile -t queue <<< "$runtime_packages"
for p in "${queue[@]}"; do allowed[$p]=runtime; done
# "name provider" for every installed package (its own name and each virtual package it provides), read once
installed=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package} ${Provides}\n' 2>/dev/null | awk '$1 == "ii" {
    print $2, $2; for (i = 3; i <= NF; i++) { f = $i; sub(/,$/, "", f); if (f !~ /^\(/ && f !~ /\)$/) print f, $2 } }')
installed_provider() { echo "$installed" | awk -v want="$1" '$1 == want { print $2 }'; }
while [ ${#queue[@]} -gt 0 ]; do
    p=${queue[0]}; queue=("${queue[@]:1}")
    deps=$(dpkg-query -W -f='${Depends}, ${Pre-Depends}' "$p" 2>/dev/null) \
        || fail "runtime package $p is not installed here, so its libraries cannot be mapped (apt-get install $p)"
    while IFS= read -r group; do
        for alt in $(echo "$group" | tr '|' '\n' | sed -e 's/(.*)//' -e 's/:any//' -e 's/ //g'); do
            for q in $(installed_provider "$alt"); do
                [ -n "${allowed[$q]:-}" ] || { allowed[$q]="dependency of $p"; queue+=("$q"); }
            done
        done
    done < <(echo "$deps" | tr ',' '\n' | sed -e 's/^ *//' -e '/^$/d')
done

# library, the path ldd resolved it to, and that path with its symlinks resolved (the alternatives OpenBLAS and
# LAPACK are chosen through); one `dpkg -S` over all of them (each call reads every package's file list)
libs=$(ldd "$binary" | awk '/=> not found/ { print $1, "-", "-"; next } /=>/ { print $1, $3; next } /^\t\/.*ld-linux/ { print $1, $1 }' \
    | while read -r lib path; do echo "$lib $path $(readlink -f "$path" 2>/dev/null || echo -)"; done)
[ -n "$libs" ] || fail "ldd listed no library for $binary"
owners=$(echo "$libs" | awk '$3 != "-" { print $3; print $2 }' | sort -u | xargs dpkg -S 2>/dev/null | grep -v '^diversion' || true)
owner_of() { echo "$owners" | awk -v want="$1" '{ path = $NF } path == want { sub(/:.*/, "", $1); print $1; exit }'; }

status=0
checked=0
while read -r lib path real; do
    checked=$((checked + 1))
    if [ "$path" = "-" ]; then
        echo "check-runtime-libs: $lib is not found on this machine (ldd: not found)" >&2; status=1; continue
    fi
    package=$(owner_of "$real"); [ -n "$package" ] || package=$(owner_of "$path")
    if [ -z "$package" ]; then
        echo "check-runtime-libs: $lib ($real) belongs to no Debian package: link it statically or install it from a package" >&2
        status=1
    elif [ -z "${allowed[$package]:-}" ]; then
        echo "check-runtime-libs: $lib ($real) comes from $package, which the runtime stage does not install: add $package to the Dockerfile's runtime 'apt-get install'" >&2
        status=1
    fi
done <<< "$libs"

[ "$status" -eq 0 ] || exit 1
echo "check-runtime-libs: the $checked shared libraries $binary needs all come from the runtime stage ($(echo "$runtime_packages" | paste -sd ' ')) or the base image"
