#!/bin/sh
# build-test-kernel.sh - build a kernel whose VDUSE accepts the control queue
#
# Usage: tests/vm/build-test-kernel.sh [--no-build] OUTDIR [LINUX_SOURCE_DIR]
#
# Upstream Linux (7.3 included) refuses VIRTIO_NET_F_CTRL_VQ for VDUSE net
# devices in drivers/vdpa/vdpa_user/vduse_dev.c:features_is_valid(). This
# builds Debian's linux-source-7.3 (/usr/src/linux-source-7.3.tar.xz if
# installed, else fetched from trixie-backports with a private apt
# configuration; or the source tree given) with that one refusal taken out
# (failing loudly if it is not found), as a bzImage with everything the VM
# tests need built in: VDUSE, vDPA, virtio_vdpa, vhost_vdpa, virtio-net,
# TUN, veth, bridge, 802.1Q. Leaves OUTDIR/bzImage and OUTDIR/config. Then:
#     VDUSE_NET_TEST_KERNEL=OUTDIR/bzImage make check
# --no-build stops after the patch and `make olddefconfig` (OUTDIR/config
# only): a quick check that the source still has what this script expects.
#
# Needs build-essential flex bison bc libelf-dev libssl-dev, ~3 GB of disk
# (in $TMPDIR) and about 20 minutes on two cores.
# Environment: VDUSE_NET_DEBIAN_MIRROR (default: the host's own Debian
# mirror, from its apt sources; see debian-apt.sh).
set -eu

usage="usage: build-test-kernel.sh [--no-build] OUTDIR [LINUX_SOURCE_DIR]"
build=1
if [ "${1:-}" = --no-build ]; then
    build=0
    shift
fi
out=${1:?$usage}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/debian-apt.sh"
die() {
    echo "build-test-kernel: $*" >&2
    exit 1
}
missing=
for tool in make gcc flex bison bc perl xz; do
    command -v $tool >/dev/null || missing="$missing $tool"
done
[ -f /usr/include/libelf.h ] || missing="$missing libelf-dev"
[ -f /usr/include/openssl/ssl.h ] || missing="$missing libssl-dev"
if [ -n "$missing" ]; then
    die "missing$missing (apt-get install build-essential flex bison bc libelf-dev libssl-dev xz-utils)"
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

src_given=0
if [ $# -ge 2 ]; then
    src=$(cd "$2" && pwd)
    src_given=1
else
    tarball=/usr/src/linux-source-7.3.tar.xz
    if [ ! -f "$tarball" ]; then
        apt_private_init "$work/apt" || exit 1
        apt_private_update trixie-backports || exit 1
        echo "build-test-kernel: downloading linux-source-7.3" >&2
        (cd "$work" && apt_private trixie-backports apt-get download linux-source-7.3) \
            >"$work/apt/download.log" 2>&1 ||
            die "download of linux-source-7.3 failed: $(tail -n 1 "$work/apt/download.log")"
        dpkg-deb -x "$work"/linux-source-7.3_*.deb "$work/deb"
        tarball=$work/deb/usr/src/linux-source-7.3.tar.xz
    fi
    echo "build-test-kernel: extracting $(basename "$tarball")" >&2
    tar -C "$work" -xJf "$tarball"
    src=$work/linux-source-7.3
fi

# The one change: drop the "else if" that refuses CTRL_VQ for net devices.
file=$src/drivers/vdpa/vdpa_user/vduse_dev.c
[ -f "$file" ] || die "no $file"
awk '
    /else if \(\(config->device_id == VIRTIO_ID_NET\) &&/ { held = $0; next }
    held != "" {
        if ($0 ~ /VIRTIO_NET_F_CTRL_VQ/) { skip = 1; held = ""; next }
        print held; held = ""
    }
    skip == 1 { skip = 0; if ($0 ~ /return false;/) next }
    { print }
' "$file" >"$file.new"
if cmp -s "$file" "$file.new" && [ $src_given = 1 ] &&
    grep -q '^static bool features_is_valid' "$file" &&
    ! sed -n '/^static bool features_is_valid/,/^}/p' "$file" |
    grep -q VIRTIO_NET_F_CTRL_VQ; then
    echo "build-test-kernel: $file has no CTRL_VQ refusal (patched before?)" >&2
elif cmp -s "$file" "$file.new"; then
    die "the CTRL_VQ refusal was not found in $file (the source changed: look at features_is_valid())"
elif sed -n '/^static bool features_is_valid/,/^}/p' "$file.new" |
    grep -q VIRTIO_NET_F_CTRL_VQ; then
    die "could not remove the CTRL_VQ refusal cleanly from $file"
else
    echo "build-test-kernel: the CTRL_VQ refusal removed from $file:" >&2
    diff -u "$file" "$file.new" >&2 || true
    mv "$file.new" "$file"
fi
rm -f "$file.new"

[ -f "$src/Makefile" ] || die "$src is not a full source tree (patched only)"
cd "$src"
make -s x86_64_defconfig
make -s kvm_guest.config
for opt in NET_NS VDPA VDPA_USER VIRTIO_VDPA VHOST_MENU VHOST VHOST_VDPA \
    VIRTIO_NET TUN VETH BRIDGE VLAN_8021Q BRIDGE_VLAN_FILTERING; do
    ./scripts/config --enable "$opt"
done
for opt in DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT DEBUG_INFO_DWARF5 DRM SOUND \
    USB_SUPPORT WLAN; do
    ./scripts/config --disable "$opt"
done
make -s olddefconfig
for opt in VDPA_USER VIRTIO_VDPA VHOST_VDPA VIRTIO_NET TUN VETH BRIDGE VLAN_8021Q; do
    grep -q "^CONFIG_$opt=y" .config || die "CONFIG_$opt did not stay built in"
done
cp .config "$out/config"
if [ $build = 0 ]; then
    echo "build-test-kernel: patched and configured (--no-build): $out/config" >&2
    exit 0
fi
make -s -j"$(nproc)" bzImage
cp arch/x86/boot/bzImage "$out/bzImage"
echo "build-test-kernel: $out/bzImage"
