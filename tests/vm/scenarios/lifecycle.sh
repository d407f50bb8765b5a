# lifecycle.sh - create, attach (virtio, vhost, none), replace, and take
# down a device; the control-queue fallback on the stock kernel; CLI errors.
. /lib.sh

# Bad values: one line, non-zero exit, nothing created.
for args in "--name x --tap t0 --mtu 20" "--name x --tap t0 --queues 0" \
    "--name x --tap t0 --mac 01:02:03:04:05:06" "--name x" \
    "--name a/b --tap t0" "--name x --tap t0 --bus pci" \
    "--name x --tap t0 --tap-fd 3"; do
    # shellcheck disable=SC2086
    vduse-net $args >/tmp/err 2>&1 && fail "vduse-net $args succeeded"
    [ "$(wc -l </tmp/err)" = 1 ] || { cat /tmp/err; fail "$args: not one line"; }
    ok "refused: vduse-net $args: $(cat /tmp/err)"
done
[ "$(ls /dev/vduse)" = control ] || fail "a refused start left a device"

# virtio_vdpa: a netdev with our MAC and MTU.
start_dev --name vnet0 --tap tap0 --mac 02:12:34:56:78:9a --mtu 9000
dev=$(dev_netdev)
[ -n "$dev" ] || fail "no netdev in the ready line"
check "netdev $dev has the MAC" sh -c "$IP link show $dev | grep -q 02:12:34:56:78:9a"
check "netdev $dev may use MTU 9000" $IP link set "$dev" mtu 9000
check "TAP has MTU 9000" sh -c "$IP link show tap0 | grep -q 'mtu 9000'"
check "vdpa lists the device" sh -c "$VDPA dev show vnet0 | grep -q 'mgmtdev vduse'"
if [ "$VM_KERNEL" = stock ]; then
    check "fallback said so" grep -q "refuses the control virtqueue" "$DEV_LOG.err"
    check "no control vq (2 vqs)" sh -c "$VDPA dev show vnet0 | grep -q 'max_vqs 2'"
else
    check "control vq kept (3 vqs)" sh -c "$VDPA dev show vnet0 | grep -q 'max_vqs 3'"
fi

# Same name again: refused, with --replace offered.
vduse-net --name vnet0 --tap tap1 >/tmp/err 2>&1 && fail "a second vnet0 started"
check "duplicate name refused with a hint" grep -q -- "--replace" /tmp/err
stop_dev
$IP link show tap0 >/dev/null 2>&1 && fail "the TAP we created outlived us"
ok "created TAP removed"

# kill -9 leaves the device behind; --replace takes it over.
start_dev --name vnet0 --tap tap0
kill -9 "$DEV_PID"
wait "$DEV_PID" 2>/dev/null
[ -e /dev/vduse/vnet0 ] || fail "device gone after kill -9?"
start_dev --name vnet0 --tap tap0 --replace
check "replace said so" grep -q "replaced the existing device" "$DEV_LOG.err"
check "netdev back" sh -c "[ -n \"$(dev_netdev)\" ]"
stop_dev

# SIGTERM while --replace takes the old device off the bus: it is acted
# on once the program has a device (it once reached a NULL device model).
start_dev --name vnet0 --tap tap0
kill -9 "$DEV_PID"
wait "$DEV_PID" 2>/dev/null
vduse-net --name vnet0 --tap tap0 --replace >/tmp/rep.out 2>/tmp/rep.err &
pid=$!
n=0
while [ $n -lt 2000 ] && ! ls -l /proc/$pid/fd 2>/dev/null | grep -q vduse/vnet0; do
    n=$((n + 1))
done
kill -TERM $pid
wait $pid
rc=$?
cat /tmp/rep.out /tmp/rep.err
[ $rc = 0 ] || fail "SIGTERM during --replace: exit $rc"
[ "$(ls /dev/vduse)" = control ] || fail "devices left: $(ls /dev/vduse)"
ok "SIGTERM during --replace: clean exit, nothing left"

# vhost_vdpa: a /dev/vhost-vdpa-N for a VMM.
start_dev --name vhost0 --tap tap0 --bus vhost
path=$(sed -n 's/.* ready: \(\/dev\/vhost-vdpa-[0-9]*\).*/\1/p' "$DEV_LOG.out")
check "vhost-vdpa node $path exists" test -c "$path"
stop_dev

# A TAP handed over as fds (as a VMM does), and a TAP that existed before:
# both are left as they were.
$IP tuntap add tapfd mode tap vnet_hdr
DEV_LOG=/tmp/fd
tap-exec tapfd 1 vduse-net --name fd0 --tap-fd @FDS@ >/tmp/fd.out 2>/tmp/fd.err &
DEV_PID=$!
wait_for 30 grep -q ' ready: ' /tmp/fd.out || fail "--tap-fd device not ready"
ok "--tap-fd: $(cat /tmp/fd.out)"
stop_dev
check "the TAP given as a fd is still there" $IP link show tapfd
start_dev --name old0 --tap tapfd
stop_dev
check "the TAP that existed before is still there" $IP link show tapfd
vduse-net --name bad0 --tap-fd 0 >/tmp/err 2>&1 </dev/null &&
    fail "--tap-fd 0 (not a TAP) accepted"
check "a fd that is no TAP is refused" grep -q "not a TAP" /tmp/err

# --bus none: created, left for someone else to attach.
start_dev --name none0 --tap tap0 --bus none
check "device exists" test -e /dev/vduse/none0
[ -z "$(ls /sys/bus/vdpa/devices)" ] || fail "--bus none attached it"
check "someone else attaches it" $VDPA dev add name none0 mgmtdev vduse
wait_for 10 sh -c "ls /sys/bus/vdpa/devices/none0/ | grep -q virtio" ||
    fail "no virtio device after vdpa dev add"
check "and removes it" $VDPA dev del none0
stop_dev

# The control queue demanded: refused on stock, served on the test kernel.
if [ "$VM_KERNEL" = stock ]; then
    vduse-net --name cvq0 --tap tap0 --ctrl-vq on >/tmp/err 2>&1 &&
        fail "--ctrl-vq on started on the stock kernel"
    check "--ctrl-vq on explains" grep -q "refuses the control virtqueue" /tmp/err
else
    # Two queue pairs: the driver's probe sends VQ_PAIRS_SET and waits.
    start_dev --name cvq0 --tap tap0 --ctrl-vq on --queues 2
    check "probe finished with the control queue" sh -c "[ -n \"$(dev_netdev)\" ]"
    stop_dev
fi
exit 0
