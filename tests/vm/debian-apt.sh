# debian-apt.sh - a private apt configuration for the VM tests' fetchers
#
# Usage (sourced, POSIX sh): . tests/vm/debian-apt.sh
#     apt_private_init DIR          state, lists and cache go under DIR
#     apt_private_update SUITE      fetch SUITE's package list, or fail
#     apt_private SUITE TOOL ARGS   apt-get/apt-cache with SUITE as the only source
#
# Used by fetch-stock-kernel.sh, fetch-qemu.sh and build-test-kernel.sh so
# that every download of a Debian package by the tests goes through one
# place. The machine's own apt state is never touched: the sources list,
# the lists, the package cache and the (empty) dpkg status are all under
# DIR. The mirror is the host's own (the first http(s) URI of the Debian
# archive in /etc/apt/sources.list, sources.list.d/*.list or *.sources),
# or VDUSE_NET_DEBIAN_MIRROR when set; no mirror is named here.
# The functions print one line on stderr and return 1 on failure.
# shellcheck shell=sh

APT_PRIVATE_KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
APT_PRIVATE_DIR=
APT_PRIVATE_MIRROR=

# debian_mirror: print the Debian archive's URI: VDUSE_NET_DEBIAN_MIRROR,
# else the first http(s) URI ending in /debian in the host's apt sources
# (one-line "deb" entries and deb822 "URIs:" fields; not debian-security).
debian_mirror() {
    if [ -n "${VDUSE_NET_DEBIAN_MIRROR:-}" ]; then
        echo "$VDUSE_NET_DEBIAN_MIRROR"
        return 0
    fi
    found=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
        /etc/apt/sources.list.d/*.sources 2>/dev/null |
        sed -n -e 's/^[[:space:]]*deb[[:space:]]\+\(\[[^]]*\][[:space:]]*\)\?\([^[:space:]]*\).*/\2/p' \
            -e 's/^[[:space:]]*URIs:[[:space:]]*\(.*\)/\1/p' |
        tr -s ' \t' '\n' | grep -E '^https?://[^ ]*/debian/?$' | head -n 1)
    if [ -z "$found" ]; then
        echo "debian-apt: no Debian archive among the host's apt sources; set VDUSE_NET_DEBIAN_MIRROR to a mirror's URI" >&2
        return 1
    fi
    echo "${found%/}"
}

# apt_private_init DIR: make DIR the private apt state and find the
# mirror; checks the tools and the archive keyring.
apt_private_init() {
    for tool in apt-get apt-cache dpkg-deb; do
        command -v $tool >/dev/null || {
            echo "debian-apt: $tool not found (a Debian host is needed)" >&2
            return 1
        }
    done
    [ -f "$APT_PRIVATE_KEYRING" ] || {
        echo "debian-apt: no $APT_PRIVATE_KEYRING (apt-get install debian-archive-keyring)" >&2
        return 1
    }
    APT_PRIVATE_MIRROR=$(debian_mirror) || return 1
    mkdir -p "$1/lists/partial" "$1/cache/archives/partial" || return 1
    APT_PRIVATE_DIR=$(cd "$1" && pwd)
}

# apt_private SUITE TOOL ARGS...: run apt-get or apt-cache (TOOL) with
# SUITE's main component as the only source and every state file under
# the private directory.
apt_private() {
    suite=$1
    tool=$2
    shift 2
    echo "deb [signed-by=$APT_PRIVATE_KEYRING] $APT_PRIVATE_MIRROR $suite main" \
        >"$APT_PRIVATE_DIR/$suite.list"
    "$tool" -q -o Dir::Etc::SourceList="$APT_PRIVATE_DIR/$suite.list" \
        -o Dir::Etc::SourceParts=/dev/null \
        -o Dir::State::Lists="$APT_PRIVATE_DIR/lists" \
        -o Dir::Cache="$APT_PRIVATE_DIR/cache" \
        -o Dir::State::Status=/dev/null \
        -o Debug::NoLocking=1 -o APT::Get::List-Cleanup=0 \
        -o APT::Sandbox::User=root "$@"
}

# apt_private_update SUITE: fetch SUITE's package list (apt-get update
# exits 0 when it could not fetch: its log is read too).
apt_private_update() {
    if ! apt_private "$1" apt-get update >"$APT_PRIVATE_DIR/update.log" 2>&1 ||
        grep -q -e '^[WE]: Failed to fetch' -e '^E:' "$APT_PRIVATE_DIR/update.log"; then
        echo "debian-apt: cannot fetch the $1 package list from $APT_PRIVATE_MIRROR (network unreachable? $(grep -m 1 -e '^[WE]:' "$APT_PRIVATE_DIR/update.log" || true))" >&2
        return 1
    fi
}
