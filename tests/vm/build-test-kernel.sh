#!/bin/sh
# build-test-kernel.sh - build a kernel whose VDUSE accepts the control queue
#
# Usage: tests/vm/build-test-kernel.sh OUTDIR [LINUX_SOURCE_DIR]
#
# Upstream Linux (7.3 included) refuses VIRTIO_NET_F_CTRL_VQ for VDUSE net
# devices in drivers/vdpa/vdpa_user/vduse_dev.c:features_is_valid(). This
# builds Debian's linux-source-7.3 (fetched from trixie-backports with a
# private apt configuration, unless a source tree is given) with that one
# refusal taken out, as a bzImage with everything the VM tests need built
# in: VDUSE, vDPA, virtio_vdpa, vhost_vdpa, virtio-net, TUN, veth, bridge.
# Then: VDUSE_NET_TEST_KERNEL=OUTDIR/bzImage make check
#
# Needs build-essential flex bison bc libelf-dev libssl-dev, ~3 GB of disk
# and about 20 minutes on two cores.
set -eu

out=${1:?usage: build-test-kernel.sh OUTDIR [LINUX_SOURCE_DIR]}
missing=
for tool in make gcc flex bison bc perl; do
    command -v $tool >/dev/null || missing="$missing $tool"
done
[ -f /usr/include/libelf.h ] || missing="$missing libelf-dev"
[ -f /usr/include/openssl/ssl.h ] || missing="$missing libssl-dev"
if [ -n "$missing" ]; then
    echo "build-test-kernel: missing$missing (apt-get install build-essential flex bison bc libelf-dev libssl-dev)" >&2
    exit 1
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ $# -ge 2 ]; then
    src=$(cd "$2" && pwd)
else
    mkdir -p "$work/apt/lists/partial" "$work/apt/cache/archives/partial"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie-backports main" >"$work/apt/sources.list"
    set -- -o Dir::Etc::SourceList="$work/apt/sources.list" \
        -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists="$work/apt/lists" \
        -o Dir::Cache="$work/apt/cache" -o Debug::NoLocking=1
    apt-get -q "$@" update >/dev/null
    (cd "$work" && apt-get -q "$@" download linux-source-7.3)
    dpkg-deb -x "$work"/linux-source-7.3_*.deb "$work/deb"
    tar -C "$work" -xJf "$work"/deb/usr/src/linux-source-7.3.tar.xz
    src=$work/linux-source-7.3
fi

# The one change: drop the "else if" that refuses CTRL_VQ for net devices.
file=$src/drivers/vdpa/vdpa_user/vduse_dev.c
[ -f "$file" ] || { echo "build-test-kernel: no $file" >&2; exit 1; }
awk '
    /else if \(\(config->device_id == VIRTIO_ID_NET\) &&/ { held = $0; next }
    held != "" {
        if ($0 ~ /VIRTIO_NET_F_CTRL_VQ/) { skip = 1; held = ""; next }
        print held; held = ""
    }
    skip == 1 { skip = 0; if ($0 ~ /return false;/) next }
    { print }
' "$file" >"$file.new"
if cmp -s "$file" "$file.new"; then
    echo "build-test-kernel: the CTRL_VQ refusal was not found in $file" >&2
    exit 1
fi
if sed -n '/^static bool features_is_valid/,/^}/p' "$file.new" |
    grep -q VIRTIO_NET_F_CTRL_VQ; then
    echo "build-test-kernel: could not remove the CTRL_VQ refusal cleanly" >&2
    exit 1
fi
mv "$file.new" "$file"
echo "build-test-kernel: CTRL_VQ refusal removed from $file"

[ -f "$src/Makefile" ] || { echo "build-test-kernel: $src is not a full source tree; patched only" >&2; exit 0; }
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
for opt in VDPA_USER VIRTIO_VDPA VHOST_VDPA TUN BRIDGE; do
    grep -q "^CONFIG_$opt=y" .config ||
        { echo "build-test-kernel: CONFIG_$opt did not stay built in" >&2; exit 1; }
done
make -s -j"$(nproc)" bzImage
cp arch/x86/boot/bzImage "$out/bzImage"
cp .config "$out/config"
echo "build-test-kernel: $out/bzImage"
