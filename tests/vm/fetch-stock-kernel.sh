#!/bin/sh
# fetch-stock-kernel.sh - fetch Debian's stock cloud kernel for the VM tests
#
# Usage: tests/vm/fetch-stock-kernel.sh CACHE_DIR
#
# Downloads linux-binary and linux-modules of the newest 7.2+ cloud kernel
# from trixie-backports (or sid) with a private apt configuration, so the
# machine's own apt state is untouched, and leaves in CACHE_DIR:
#   vmlinuz            the kernel
#   modules/NAME.ko    the modules the tests load, decompressed
#   modules.order      their load order
# Does nothing if CACHE_DIR/vmlinuz already exists.
set -eu

cache=${1:?usage: fetch-stock-kernel.sh CACHE_DIR}
modules="vhost_iotlb vdpa vduse virtio_vdpa failover net_failover virtio_net
tun irqbypass vhost vhost_vdpa llc stp bridge veth"

[ -f "$cache/vmlinuz" ] && [ -f "$cache/modules.order" ] && exit 0
mkdir -p "$cache/apt/lists/partial" "$cache/apt/cache/archives/partial"
cat >"$cache/apt/sources.list" <<LIST
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie-backports main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian sid main
LIST
apt_private() {
    apt-get -q -o Dir::Etc::SourceList="$cache/apt/sources.list" \
        -o Dir::Etc::SourceParts=/dev/null \
        -o Dir::State::Lists="$cache/apt/lists" \
        -o Dir::Cache="$cache/apt/cache" \
        -o Debug::NoLocking=1 -o APT::Get::List-Cleanup=0 "$@"
}
if ! apt_private update >"$cache/apt/update.log" 2>&1; then
    echo "fetch-stock-kernel: cannot reach deb.debian.org (see $cache/apt/update.log)" >&2
    exit 1
fi

# The newest linux-binary-7.N.* cloud kernel with N >= 2.
pkg=$(apt-cache -o Dir::Etc::SourceList="$cache/apt/sources.list" \
        -o Dir::Etc::SourceParts=/dev/null \
        -o Dir::State::Lists="$cache/apt/lists" \
        -o Dir::Cache="$cache/apt/cache" pkgnames linux-binary-7. |
        grep -E '^linux-binary-7\.([2-9]|[1-9][0-9])\.[0-9.]+\+[a-z0-9]+-cloud-amd64$' |
        sort -V | tail -n 1)
if [ -z "$pkg" ]; then
    echo "fetch-stock-kernel: no 7.2+ cloud kernel in trixie-backports or sid" >&2
    exit 1
fi
release=${pkg#linux-binary-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt_private download "linux-binary-$release" \
    "linux-modules-$release") >"$cache/apt/download.log" 2>&1 || {
    echo "fetch-stock-kernel: download of $release failed (see $cache/apt/download.log)" >&2
    exit 1
}
for deb in "$work"/*.deb; do
    dpkg-deb -x "$deb" "$work/root"
done

rm -rf "$cache/modules"
mkdir -p "$cache/modules"
: >"$cache/modules.order.tmp"
for m in $modules; do
    f=$(find "$work/root" -name "$m.ko*" | head -n 1)
    [ -n "$f" ] || continue # built in
    case $f in
    *.xz) xz -dc "$f" >"$cache/modules/$m.ko" ;;
    *.zst) zstd -dqc "$f" >"$cache/modules/$m.ko" ;;
    *) cp "$f" "$cache/modules/$m.ko" ;;
    esac
    echo "$m" >>"$cache/modules.order.tmp"
done
cp "$(find "$work/root" -name 'vmlinuz*' | head -n 1)" "$cache/vmlinuz"
echo "$release" >"$cache/release"
mv "$cache/modules.order.tmp" "$cache/modules.order"
echo "fetch-stock-kernel: $release in $cache"
