#!/bin/sh
# fetch-qemu.sh - fetch the newest QEMU Debian ships, for the VMM VM tests
#
# Usage: tests/vm/fetch-qemu.sh CACHE_DIR
#
# Downloads qemu-system-x86 from sid (Debian's newest QEMU), the library
# packages it needs (followed through their own Depends, library packages
# only: that is what the binary loads), qemu-system-data and seabios
# (firmware), with `apt-get download` and the private apt configuration of
# debian-apt.sh under CACHE_DIR/apt, and extracts them into
# CACHE_DIR/qemu-sid/root. sid's QEMU needs sid's libc, so it runs through
# the extracted loader:
#     ROOT/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 \
#         --library-path ROOT/usr/lib/x86_64-linux-gnu \
#         ROOT/usr/bin/qemu-system-x86_64 -L ROOT/usr/share/qemu ...
# (mkvmm.sh does this in the VM). CACHE_DIR/qemu-sid/version holds the
# package version; it is written last, and when it exists nothing is
# downloaded (delete CACHE_DIR/qemu-sid for a newer QEMU).
# Environment: VDUSE_NET_DEBIAN_MIRROR (default: the host's own Debian
# mirror, from its apt sources; see debian-apt.sh).
# Exit: 0 done, 1 with one line on stderr saying why (network, no package).
set -eu

cache=${1:?usage: fetch-qemu.sh CACHE_DIR}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/debian-apt.sh"
suite=sid
out=$cache/qemu-$suite

[ -f "$out/version" ] && [ -x "$out/root/usr/bin/qemu-system-x86_64" ] && exit 0

die() {
    echo "fetch-qemu: $*" >&2
    exit 1
}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
out=$cache/qemu-$suite
apt_private_init "$cache/apt" || exit 1
apt_private_update $suite || exit 1
version=$(apt_private $suite apt-cache show --no-all-versions qemu-system-x86 2>/dev/null |
    sed -n 's/^Version: //p' | head -n 1)
[ -n "$version" ] || die "no qemu-system-x86 in $suite"

# lib_depends PACKAGE...: the library packages (lib*, zlib1g) these
# packages depend on (Depends and Pre-Depends, every alternative; virtual
# packages left out).
lib_depends() {
    apt_private $suite apt-cache depends --no-recommends --no-suggests \
        --no-conflicts --no-breaks --no-replaces --no-enhances "$@" |
        sed -n 's/^ *|\?\(Pre\)\?Depends: \(lib[^ <>]*\|zlib1g\)$/\2/p' | sort -u
}

# The closure of qemu-system-x86 over library packages.
packages="qemu-system-x86"
todo="qemu-system-x86"
while [ -n "$todo" ]; do
    next=
    # shellcheck disable=SC2086 # a list of package names
    for d in $(lib_depends $todo); do
        case " $packages " in
        *" $d "*) ;;
        *)
            packages="$packages $d"
            next="$next $d"
            ;;
        esac
    done
    todo=$next
done
packages="$packages qemu-system-data seabios"

work=$(mktemp -d "$cache/qemu-fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "fetch-qemu: downloading qemu-system-x86 $version and $(($(echo "$packages" | wc -w) - 1)) packages it needs ($suite)" >&2
# shellcheck disable=SC2086 # a list of package names
(cd "$work" && apt_private $suite apt-get download $packages) \
    >"$cache/apt/qemu-download.log" 2>&1 ||
    die "download failed: $(grep -m 1 -e '^E:' -e '^W:' "$cache/apt/qemu-download.log" || tail -n 1 "$cache/apt/qemu-download.log")"
for deb in "$work"/*.deb; do
    dpkg-deb -x "$deb" "$work/root"
done
[ -x "$work/root/usr/bin/qemu-system-x86_64" ] ||
    die "qemu-system-x86 $version has no /usr/bin/qemu-system-x86_64"
rm -rf "$out"
mkdir -p "$out"
mv "$work/root" "$out/root"
# Last: its presence says the cache is complete.
echo "$version" >"$out/version"
echo "fetch-qemu: QEMU $version in $out/root ($(du -sh "$out/root" | cut -f1))" >&2
