#!/bin/sh
# deps.sh check|install — the Debian packages pushwire builds and tests with,
# and the npm packages of the interop tests (tests/interop/package.json).
set -eu
cd "$(dirname "$0")/.."

BUILD="gcc make libc6-dev pkg-config libssl-dev libcurl4-openssl-dev libuv1-dev zlib1g-dev libhiredis-dev"
# every peer a test needs is here: in CI (.ci/run) a missing one fails its
# test instead of skipping it (tests/cli/helper.bash `missing`)
TEST="clang libclang-rt-14-dev bats bats-assert bats-support mandoc groff-base valgrind curl openssl python3 python3-websockets
 nodejs npm chromium nginx libnginx-mod-nchan websocketd redis-server tinyproxy microsocks procps iproute2 jq
 dpkg-dev lintian systemd bsdutils util-linux zsh fish"

missing() {
    for p in $BUILD $TEST; do
        # node from another origin (e.g. nodesource) counts as installed
        case $p in nodejs|npm) command -v "$p" >/dev/null 2>&1 || command -v node >/dev/null 2>&1 && continue ;; esac
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || echo "$p"
    done
}

node_ok() {
    [ ! -f tests/interop/package.json ] || [ -d tests/interop/node_modules ]
}

case "${1:-check}" in
check)
    m=$(missing)
    if [ -n "$m" ] || ! node_ok; then
        echo "deps: missing:" $m >&2
        exit 1
    fi
    ;;
install)
    m=$(missing)
    if [ -n "$m" ]; then
        sudo=""
        [ "$(id -u)" = 0 ] || sudo=sudo
        echo "deps: installing:" $m
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        # shellcheck disable=SC2086
        [ -z "$m" ] || $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $m
    fi
    if [ -f tests/interop/package.json ] && [ ! -d tests/interop/node_modules ]; then
        (cd tests/interop && npm ci --no-audit --no-fund --loglevel=error)
    fi
    ;;
*) echo "usage: tools/deps.sh check|install" >&2; exit 2 ;;
esac
