#!/bin/sh
# mkinitramfs.sh - build the VM tests' initramfs from the host's binaries
#
# Usage: tests/vm/mkinitramfs.sh OUT.cpio.gz MODULES_DIR|- BINARY...
#
# Busybox (static) for the shell and tools, iproute2 (ip, bridge, vdpa),
# ethtool, iperf3, and every BINARY given (vduse-net, test tools), each
# with its shared libraries; the modules of MODULES_DIR (with its
# modules.order beside it) are loaded at boot. /init runs /scenario.sh,
# which run-vm.sh appends as a second archive, and prints its verdict.
set -eu

out=${1:?usage: mkinitramfs.sh OUT MODULES_DIR BINARY...}
modules=${2:?usage: mkinitramfs.sh OUT MODULES_DIR BINARY...}
shift 2

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin" \
    "$root/proc" "$root/sys" "$root/dev" "$root/tmp" "$root/run" \
    "$root/etc" "$root/var" "$root/lib/modules-vm"
ln -s ../run "$root/var/run"

# copy_binary FILE DEST: FILE and the shared libraries it needs.
copy_binary() {
    cp -L "$1" "$root$2"
    ldd "$1" 2>/dev/null | grep -o '/[^ ]*' | while read -r lib; do
        mkdir -p "$root$(dirname "$lib")"
        [ -e "$root$lib" ] || cp -L "$lib" "$root$lib"
    done
}

busybox=$(command -v busybox)
if ldd "$busybox" >/dev/null 2>&1; then
    echo "mkinitramfs: $busybox is not static (apt-get install busybox-static)" >&2
    exit 1
fi
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
    case $applet in
    busybox | ip | bridge | ifconfig | route) ;; # iproute2's are used
    *) [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet" ;;
    esac
done
for tool in ip bridge vdpa; do
    copy_binary "$(PATH=/usr/sbin:/sbin:$PATH command -v $tool)" "/usr/sbin/$tool"
done
copy_binary "$(PATH=/usr/sbin:/sbin:$PATH command -v ethtool)" /usr/sbin/ethtool
copy_binary "$(command -v iperf3)" /usr/bin/iperf3
for bin in "$@"; do
    copy_binary "$bin" "/usr/bin/$(basename "$bin")"
done

if [ "$modules" != - ] && [ -f "$modules/../modules.order" ]; then
    cp "$modules"/*.ko "$root/lib/modules-vm/"
    cp "$modules/../modules.order" "$root/lib/modules-vm/order"
fi

echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
echo "root:x:0:" >"$root/etc/group"
echo "127.0.0.1 localhost" >"$root/etc/hosts"

cat >"$root/init" <<'INIT'
#!/bin/sh
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
mount -t tmpfs run /run
mkdir -p /run/netns
if [ -f /lib/modules-vm/order ]; then
    while read -r m; do
        insmod "/lib/modules-vm/$m.ko" || echo "init: insmod $m failed"
    done </lib/modules-vm/order
fi
/usr/sbin/ip link set lo up
[ -f /scenario.env ] && { set -a; . /scenario.env; set +a; }
echo "VM-SCENARIO-START"
timeout "${VM_TIMEOUT:-200}" sh /scenario.sh
rc=$?
case $rc in
0) echo "VM-RESULT: PASS" ;;
77) echo "VM-RESULT: SKIP" ;;
*) echo "VM-RESULT: FAIL rc=$rc" ;;
esac
poweroff -f
INIT
chmod +x "$root/init"

(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out.tmp"
mv "$out.tmp" "$out"
