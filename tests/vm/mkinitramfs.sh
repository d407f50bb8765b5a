#!/bin/sh
# mkinitramfs.sh - build the VM tests' initramfs from the host's binaries
#
# Usage: tests/vm/mkinitramfs.sh OUT.cpio.gz MODULES_DIR|- BINARY...
#
# Busybox (static; its ip, bridge, ifconfig and route applets left out so
# iproute2's are used), iproute2 (/usr/sbin/ip, bridge, vdpa), ethtool,
# iperf3, and every BINARY given (vduse-net and test tools, in /usr/bin),
# each with its shared libraries and the dynamic loader. MODULES_DIR (as
# fetch-stock-kernel.sh leaves it, modules.order beside it; - for a kernel
# with everything built in) is loaded at boot with insmod, in that order.
# /init mounts proc, sys, devtmpfs, /tmp and /run, brings lo up, sources
# /scenario.env, runs /scenario.sh under a timeout ($VM_TIMEOUT, 200 s),
# prints "VM-RESULT: PASS", "VM-RESULT: SKIP" (exit 77) or
# "VM-RESULT: FAIL rc=N", and powers off. run-vm.sh appends scenario.sh,
# lib.sh and scenario.env as a second archive. Takes about 2 s.
set -eu

out=${1:?usage: mkinitramfs.sh OUT MODULES_DIR BINARY...}
modules=${2:?usage: mkinitramfs.sh OUT MODULES_DIR BINARY...}
shift 2

root=$(mktemp -d)
trap 'rm -rf "$root" "$root.ldd"' EXIT
mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin" \
    "$root/proc" "$root/sys" "$root/dev" "$root/tmp" "$root/run" \
    "$root/etc" "$root/var" "$root/lib/modules-vm"
ln -s ../run "$root/var/run"

die() {
    echo "mkinitramfs: $*" >&2
    exit 1
}

# host_tool NAME PACKAGE: the path of NAME on this host, or die naming the
# package to install.
host_tool() {
    PATH=/usr/sbin:/sbin:/usr/bin:/bin:$PATH command -v "$1" ||
        die "$1 not found on this host (apt-get install $2)"
}

# copy_binary FILE DEST: FILE and the shared libraries it needs, the
# dynamic loader included (ldd names it by its absolute path).
copy_binary() {
    [ -f "$1" ] || die "no such file: $1"
    cp -L "$1" "$root$2"
    ldd "$1" >"$root.ldd" 2>&1 || return 0 # static
    if grep -q 'not found' "$root.ldd"; then
        die "$1: a library is missing: $(grep 'not found' "$root.ldd" | tr -s ' \t' ' ')"
    fi
    grep -o '/[^ ]*' "$root.ldd" | while read -r lib; do
        mkdir -p "$root$(dirname "$lib")"
        [ -e "$root$lib" ] || cp -L "$lib" "$root$lib"
    done
}

busybox=$(host_tool busybox busybox-static)
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
    copy_binary "$(host_tool $tool iproute2)" "/usr/sbin/$tool"
done
copy_binary "$(host_tool ethtool ethtool)" /usr/sbin/ethtool
copy_binary "$(host_tool iperf3 iperf3)" /usr/bin/iperf3
for bin in "$@"; do
    copy_binary "$bin" "/usr/bin/$(basename "$bin")"
done

if [ "$modules" != - ]; then
    [ -f "$modules/../modules.order" ] ||
        die "no modules.order beside $modules (see fetch-stock-kernel.sh)"
    while read -r m; do
        cp "$modules/$m.ko" "$root/lib/modules-vm/" || die "no $modules/$m.ko"
    done <"$modules/../modules.order"
    cp "$modules/../modules.order" "$root/lib/modules-vm/order"
fi

echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
echo "root:x:0:" >"$root/etc/group"
echo "127.0.0.1 localhost" >"$root/etc/hosts"

cat >"$root/init" <<'INIT'
#!/bin/sh
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
t_init=$(cut -d' ' -f1 /proc/uptime)
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
echo "init: Linux $(uname -r): /init at $t_init s, scenario starts at $(cut -d' ' -f1 /proc/uptime) s"
timeout "${VM_TIMEOUT:-200}" sh /scenario.sh
rc=$?
case $rc in
0) echo "VM-RESULT: PASS" ;;
77) echo "VM-RESULT: SKIP" ;;
143) echo "VM-RESULT: FAIL rc=$rc (killed: timed out after ${VM_TIMEOUT:-200} s?)" ;;
*) echo "VM-RESULT: FAIL rc=$rc" ;;
esac
poweroff -f
INIT
chmod +x "$root/init"

(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out.tmp"
mv "$out.tmp" "$out"
