#!/bin/sh
# mkvmm.sh - the archive that puts a VMM and its guest into the test VM
#
# Usage: tests/vm/mkvmm.sh OUT.cpio.gz QEMU_ROOT KERNEL MODULES_DIR|-
#
# For the VMM scenarios (a scenario with a "# vm-qemu:" line; see
# run-vm.sh), which run QEMU inside the test VM for a second-level guest.
# QEMU_ROOT is / for this host's QEMU (Debian bookworm's) or a tree of
# extracted packages (fetch-qemu.sh: sid's). The archive holds:
#   /opt/qemu/bin/qemu-system-x86_64
#   /opt/qemu/lib/     the dynamic loader of QEMU_ROOT and every library
#                      QEMU loads, as that loader resolves them in QEMU_ROOT
#   /opt/qemu/modules/ accel-tcg-x86_64.so when QEMU has TCG as a module
#                      (bookworm's 7.2), with what it loads
#   /opt/qemu/share/   the firmware a "-M pc -kernel" boot opens:
#                      bios-256k.bin, kvmvapic.bin, linuxboot_dma.bin (the
#                      NIC's option ROM is not needed: romfile=)
#   /usr/bin/vmm-qemu  runs that QEMU through that loader, with -L and
#                      QEMU_MODULE_DIR pointing into /opt/qemu
#   /vmm/bzImage       KERNEL, the second-level guest's kernel
#   /vmm/guest.cpio.gz its base initramfs: mkinitramfs.sh with no extra
#                      binaries and, from MODULES_DIR (- for a kernel with
#                      everything built in), only the virtio-net modules
#   /vmm/qemu-version  what `vmm-qemu --version` says, checked here
# Nothing else of QEMU_ROOT is copied. Exit: 0, or 1 with one line saying why.
set -eu

usage="usage: mkvmm.sh OUT.cpio.gz QEMU_ROOT KERNEL MODULES_DIR|-"
out=${1:?$usage}
qroot=${2:?$usage}
kernel=${3:?$usage}
modules=${4:?$usage}
here=$(cd "$(dirname "$0")" && pwd)
# The firmware QEMU opens for "-M pc -kernel ... -device virtio-net-pci,
# romfile=" (strace of 7.2 and 11.1).
firmware="bios-256k.bin kvmvapic.bin linuxboot_dma.bin"
# The second-level guest's modules on a modular kernel, in load order.
guest_modules="failover net_failover virtio_net"

die() {
    echo "mkvmm: $*" >&2
    exit 1
}
[ -f "$kernel" ] || die "no kernel $kernel"
qroot=$(cd "$qroot" && pwd)
[ "$qroot" = / ] && qroot=
qemu=$qroot/usr/bin/qemu-system-x86_64
[ -x "$qemu" ] || die "no $qemu"
loader=
for l in usr/lib/x86_64-linux-gnu lib/x86_64-linux-gnu usr/lib64 lib64; do
    if [ -e "$qroot/$l/ld-linux-x86-64.so.2" ]; then
        loader=$qroot/$l/ld-linux-x86-64.so.2
        break
    fi
done
[ -n "$loader" ] || die "no ld-linux-x86-64.so.2 in ${qroot:-/}"
libpath=$qroot/usr/lib/x86_64-linux-gnu:$qroot/lib/x86_64-linux-gnu

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
q=$root/opt/qemu
mkdir -p "$q/bin" "$q/lib" "$q/share" "$root/usr/bin" "$root/vmm"

# copy_with_libs FILE DEST_DIR: FILE, and each library the loader of
# QEMU_ROOT resolves for it, into /opt/qemu/lib (by soname); a library
# not found, or found outside QEMU_ROOT, is an error.
copy_with_libs() {
    cp -L "$1" "$2/"
    "$loader" --library-path "$libpath" --list "$1" >"$root.list" 2>&1 ||
        die "$loader --list $1: $(head -n 1 "$root.list")"
    if grep -q 'not found' "$root.list"; then
        die "$1: $(grep 'not found' "$root.list" | tr -s ' \t' ' ')"
    fi
    sed -n 's/^[[:space:]]*\([^ ]*\) => \(\/[^ ]*\) (0x.*/\1 \2/p' "$root.list" |
        while read -r name path; do
            case $path in
            "$qroot"/*) ;;
            *) die "$1: $name resolved outside ${qroot:-/}: $path" ;;
            esac
            name=$(basename "$name")
            [ -e "$q/lib/$name" ] || cp -L "$path" "$q/lib/$name"
        done
    rm -f "$root.list"
}

copy_with_libs "$qemu" "$q/bin"
cp -L "$loader" "$q/lib/ld-linux-x86-64.so.2"
accel=$qroot/usr/lib/x86_64-linux-gnu/qemu/accel-tcg-x86_64.so
if [ -f "$accel" ]; then
    mkdir -p "$q/modules"
    copy_with_libs "$accel" "$q/modules"
fi
for f in $firmware; do
    found=
    for d in usr/share/qemu usr/share/seabios; do
        if [ -f "$qroot/$d/$f" ]; then
            found=$qroot/$d/$f
            break
        fi
    done
    [ -n "$found" ] || die "no $f in ${qroot:-/}/usr/share/qemu or /usr/share/seabios"
    cp -L "$found" "$q/share/$f"
done
cat >"$root/usr/bin/vmm-qemu" <<'WRAP'
#!/bin/sh
# vmm-qemu: the QEMU of /opt/qemu, through its own loader and libraries.
QEMU_MODULE_DIR=/opt/qemu/modules exec /opt/qemu/lib/ld-linux-x86-64.so.2 \
    --library-path /opt/qemu/lib /opt/qemu/bin/qemu-system-x86_64 \
    -L /opt/qemu/share "$@"
WRAP
chmod +x "$root/usr/bin/vmm-qemu"
# The bundle must run here as it will in the VM (the same libraries).
"$q/lib/ld-linux-x86-64.so.2" --library-path "$q/lib" "$q/bin/qemu-system-x86_64" \
    --version | head -n 1 >"$root/vmm/qemu-version" ||
    die "the copied QEMU does not run: $(cat "$root/vmm/qemu-version")"

cp -L "$kernel" "$root/vmm/bzImage"
gmods=-
if [ "$modules" != - ]; then
    mkdir -p "$root.mods/modules"
    for m in $guest_modules; do
        if [ -f "$modules/$m.ko" ]; then
            cp "$modules/$m.ko" "$root.mods/modules/"
            echo "$m" >>"$root.mods/modules.order"
        fi
    done
    gmods=$root.mods/modules
fi
"$here/mkinitramfs.sh" "$root/vmm/guest.cpio.gz" "$gmods" ||
    die "the guest's initramfs failed"
rm -rf "$root.mods"

(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out.tmp"
mv "$out.tmp" "$out"
echo "mkvmm: $(cat "$root/vmm/qemu-version"), $(du -sh "$root/opt/qemu" | cut -f1) in /opt/qemu; $(du -h "$out" | cut -f1) archive" >&2
