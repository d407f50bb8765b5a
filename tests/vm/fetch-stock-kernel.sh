#!/bin/sh
# fetch-stock-kernel.sh - fetch Debian's stock cloud kernel for the VM tests
#
# Usage: tests/vm/fetch-stock-kernel.sh CACHE_DIR
#
# Downloads linux-binary-REL and linux-modules-REL of the newest 7.2+ cloud
# kernel in trixie-backports (or, when it has none, in sid) with
# `apt-get download` and a private apt configuration under CACHE_DIR/apt,
# so the machine's own apt state is untouched, and leaves in CACHE_DIR:
#   vmlinuz            the kernel
#   modules/NAME.ko    the modules the tests load, decompressed on the host
#   modules.order      their names, one a line, in load order
#   release            the kernel release (e.g. 7.3.4+deb13-cloud-amd64)
# Does nothing if CACHE_DIR/vmlinuz and CACHE_DIR/modules.order exist.
# Environment: VDUSE_NET_DEBIAN_MIRROR (default: the host's own Debian
# mirror, from its apt sources; see debian-apt.sh).
# Exit: 0 done, 1 with one line on stderr saying why (network, no kernel).
set -eu

cache=${1:?usage: fetch-stock-kernel.sh CACHE_DIR}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/debian-apt.sh"
# Loaded in this order. The first two lines should be modules (one that is
# not is taken as built in, with a warning; vduse must be there); the last
# is loaded when the package has it.
required="vhost_iotlb vdpa vduse virtio_vdpa failover net_failover virtio_net
tun irqbypass vhost vhost_vdpa"
optional="llc stp bridge veth"

[ -f "$cache/vmlinuz" ] && [ -f "$cache/modules.order" ] && exit 0

die() {
    echo "fetch-stock-kernel: $*" >&2
    exit 1
}
command -v xz >/dev/null || die "xz not found (apt-get install xz-utils)"
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
apt_private_init "$cache/apt" || exit 1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# newest_cloud_kernel SUITE: the release of the newest 7.2+ cloud kernel
# in SUITE whose linux-binary and linux-modules packages both exist there.
newest_cloud_kernel() {
    apt_private "$1" apt-cache pkgnames linux-binary-7. |
        sed -n 's/^linux-binary-\(7\.\([2-9]\|[1-9][0-9]\)\.[0-9]*+[a-z0-9]*-cloud-amd64\)$/\1/p' |
        sort -r -V | while read -r rel; do
            if [ -n "$(apt_private "$1" apt-cache madison "linux-binary-$rel")" ] &&
                [ -n "$(apt_private "$1" apt-cache madison "linux-modules-$rel")" ]; then
                echo "$rel"
                break
            fi
        done
}

release=
for suite in trixie-backports sid; do
    apt_private_update "$suite" || exit 1
    release=$(newest_cloud_kernel "$suite")
    [ -z "$release" ] || break
done
[ -n "$release" ] || die "no 7.2+ cloud kernel in trixie-backports or sid"

echo "fetch-stock-kernel: downloading linux-binary/linux-modules-$release ($suite)" >&2
(cd "$work" && apt_private "$suite" apt-get download "linux-binary-$release" \
    "linux-modules-$release") >"$cache/apt/download.log" 2>&1 ||
    die "download of $release failed (see $cache/apt/download.log)"
for deb in "$work"/*.deb; do
    dpkg-deb -x "$deb" "$work/root"
done
# /boot/vmlinuz-REL in older packages, /usr/lib/modules/REL/vmlinuz now.
vmlinuz=$(find "$work/root" -name "vmlinuz-$release" -o -name vmlinuz | head -n 1)
[ -n "$vmlinuz" ] || die "no vmlinuz-$release in the packages"
builtin=$(find "$work/root" -name modules.builtin | head -n 1)

rm -rf "$cache/modules" "$cache/modules.order"
mkdir -p "$cache/modules"
: >"$work/order"
for m in $required $optional; do
    f=$(find "$work/root" -name "$m.ko" -o -name "$m.ko.*" | head -n 1)
    if [ -z "$f" ]; then
        # Not a module: built in, we hope; without VDUSE nothing works.
        case " $(echo "$required" | tr '\n' ' ') " in
        *" $m "*)
            if [ -n "$builtin" ] && grep -q "/$m\.ko\$" "$builtin"; then
                :
            elif [ "$m" = vduse ]; then
                die "$release has no vduse module (and no modules.builtin saying it is built in)"
            else
                echo "fetch-stock-kernel: $release has no module $m; assuming it is built in" >&2
            fi
            ;;
        esac
        continue
    fi
    case $f in
    *.ko.xz) xz -dc "$f" >"$cache/modules/$m.ko" ;;
    *.ko.zst) zstd -dqc "$f" >"$cache/modules/$m.ko" ;;
    *.ko.gz) gzip -dc "$f" >"$cache/modules/$m.ko" ;;
    *.ko) cp "$f" "$cache/modules/$m.ko" ;;
    *) die "cannot decompress $f" ;;
    esac
    echo "$m" >>"$work/order"
done
cp "$vmlinuz" "$cache/vmlinuz"
echo "$release" >"$cache/release"
# Last: its presence says the cache is complete.
mv "$work/order" "$cache/modules.order"
echo "fetch-stock-kernel: $release in $cache" >&2
