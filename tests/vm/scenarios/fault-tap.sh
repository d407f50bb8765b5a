# fault-tap.sh - the TAP deleted under traffic: the device stays, the
# driver sees the link go down, vduse-net says what happened and does not
# spin, and it still stops cleanly.
. /lib.sh

start_dev --name vnet0 --tap tap0 --mgmt $R/m.sock
dev=$(dev_netdev)
move_to_ns "$dev" a 10.0.0.1/24
$IP addr add 10.0.0.2/24 dev tap0
$IP link set tap0 up
wait_for 10 sh -c "$IP netns exec a $IP link show $dev | grep -q LOWER_UP" ||
    fail "link of $dev not up"
in_ns a ping -i 0.05 -w 15 10.0.0.2 >/tmp/ping.out 2>&1 &
pinger=$!
wait_for 5 grep -q 'bytes from' /tmp/ping.out || fail "no traffic before"

$IP link del tap0 || fail "deleting tap0"
ok "tap0 deleted under traffic"
wait_for 5 sh -c "! $IP netns exec a $IP link show $dev | grep -q LOWER_UP" ||
    fail "the driver still sees the link up"
ok "the driver sees the link down"
kill -0 "$DEV_PID" || { dev_log; fail "vduse-net died"; }
[ -c /dev/vduse/vnet0 ] || fail "the device went away"
mgmt-client $R/m.sock '{"execute":"query-status"}' | grep -q '"link-up":false' ||
    fail "query-status does not say link down"
ok "device and process still there; query-status says link down"

# No busy loop with the TAP gone (and the driver still sending).
cpu() { awk '{ print $14 + $15 }' /proc/"$DEV_PID"/stat; }
sleep 1
before=$(cpu)
sleep 3
used=$(($(cpu) - before))
[ "$used" -le 10 ] || fail "vduse-net used $used ticks in 3 s with the TAP gone"
ok "no spinning: $used clock ticks in 3 s"
kill "$pinger" 2>/dev/null
grep -q "the TAP cannot be read" "$DEV_LOG.err" ||
    { dev_log; fail "vduse-net did not say the TAP is gone"; }
ok "$(grep -m1 'the TAP cannot be read' "$DEV_LOG.err")"
stop_dev
exit 0
