# fault-rebind.sh - the driver goes away and comes back under traffic:
# virtio_vdpa unbound and bound again while the TAP side pings. The TAP
# lives in namespace "b" (moved there after vduse-net opened it: its link
# is then no longer followed, and stays up for the driver).
. /lib.sh

start_dev --name vnet0 --tap tap0 --mgmt $R/m.sock
dev=$(dev_netdev)
$IP netns add b
$IP link set tap0 netns b || fail "moving tap0 to b"
in_ns b $IP link set lo up
in_ns b $IP addr add 10.0.0.2/24 dev tap0
in_ns b $IP link set tap0 up
$IP addr add 10.0.0.1/24 dev "$dev"
$IP link set "$dev" up
wait_for 10 sh -c "$IP link show $dev | grep -q LOWER_UP" ||
    { dev_log; fail "link of $dev not up with the TAP in another namespace"; }
grep -q "moved to another network namespace" "$DEV_LOG.err" ||
    fail "vduse-net did not notice the TAP moving"
check "ping before" in_ns b ping -c 2 -W 5 10.0.0.1

in_ns b ping -i 0.05 -w 60 10.0.0.1 >/tmp/ping.out 2>&1 &
pinger=$!
for round in 1 2 3; do
    echo vnet0 >/sys/bus/vdpa/drivers/virtio_vdpa/unbind || fail "unbind"
    [ -e /sys/class/net/"$dev" ] && fail "$dev still there after unbind"
    sleep 0.5
    echo vnet0 >/sys/bus/vdpa/drivers/virtio_vdpa/bind || fail "bind"
    wait_for 10 sh -c "ls /sys/bus/vdpa/devices/vnet0/ | grep -q virtio" ||
        fail "no virtio device after bind"
    new=$(ls /sys/bus/vdpa/devices/vnet0/virtio*/net/)
    $IP addr add 10.0.0.1/24 dev "$new"
    $IP link set "$new" up
    before=$(grep -c 'bytes from' /tmp/ping.out)
    wait_for 15 sh -c "[ \$(grep -c 'bytes from' /tmp/ping.out) -gt $((before + 5)) ]" ||
        { tail -n 5 /tmp/ping.out; dev_log; fail "round $round: traffic did not resume"; }
    kill -0 "$DEV_PID" || { dev_log; fail "vduse-net died"; }
    ok "round $round: unbound, bound again as $new, ping resumed"
    dev=$new
done
kill "$pinger" 2>/dev/null
killall ping 2>/dev/null # the function's subshell is gone, not its ping
sleep 1
mgmt-client $R/m.sock '{"execute":"query-stats"}' | grep -q '"rx-packets":[1-9]' ||
    fail "query-stats after rebinding"
cpu() { awk '{ print $14 + $15 }' /proc/"$DEV_PID"/stat; }
before=$(cpu)
sleep 2
used=$(($(cpu) - before))
[ "$used" -le 10 ] || fail "vduse-net used $used ticks in 2 idle s"
ok "still serving, idle: $used ticks in 2 s"
stop_dev
exit 0
