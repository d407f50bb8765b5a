#!/bin/sh
# install-deps.sh - install what vduse-net needs to build and to run its tests
#
# Usage: scripts/install-deps.sh
#
# For Debian bookworm (and later). Installs only the packages that are
# missing, so on a ready machine it does nothing and needs no network.
set -eu

packages="build-essential clang meson ninja-build pkg-config
libglib2.0-dev libnl-3-dev libnl-genl-3-dev libnl-route-3-dev libpcap-dev liburing-dev
libjson-glib-dev libsystemd-dev scdoc libbpf-dev
mandoc systemd bash-completion util-linux
qemu-system-x86 busybox-static iproute2 ethtool iperf3 cpio xz-utils
clang-format libclang-rt-14-dev ca-certificates debian-archive-keyring"

todo=
for p in $packages; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
        todo="$todo $p"
    fi
done
[ -z "$todo" ] && exit 0

sudo=
[ "$(id -u)" = 0 ] || sudo=sudo
echo "install-deps: installing$todo"
$sudo apt-get update -q
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $todo
