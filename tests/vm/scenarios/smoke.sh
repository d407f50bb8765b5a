# smoke.sh - the guest itself: VDUSE is there (after module loading on the
# stock kernel), vduse-net and iproute2 run, the vdpa bus offers the vduse
# management device. Fast; fails first when the harness is broken.
. /lib.sh

echo "kernel $(uname -r) ($VM_KERNEL), $(cut -d' ' -f1 /proc/uptime) s up"
check "/dev/vduse/control exists" test -c /dev/vduse/control
check "vduse-net --version: $(vduse-net --version 2>&1 | head -n 1)" vduse-net --version
check "vduse-net is /usr/bin/vduse-net" test "$(command -v vduse-net)" = /usr/bin/vduse-net
check "/usr/sbin/ip link" $IP link show lo
check "vdpa mgmtdev vduse" sh -c "$VDPA mgmtdev show | grep -q vduse"
check "ethtool and iperf3 run" sh -c "ethtool --version && iperf3 --version"
if [ "$VM_KERNEL" = stock ]; then
    while read -r m; do
        [ -d "/sys/module/$m" ] || fail "module $m not loaded"
    done </lib/modules-vm/order
    ok "modules loaded: $(tr '\n' ' ' </lib/modules-vm/order)"
fi
exit 0
