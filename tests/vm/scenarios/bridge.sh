# bridge.sh - the TAP on a bridge: traffic through the bridge, and the
# driver seeing the link go down and up with the TAP.
. /lib.sh

$IP link add br0 type bridge
$IP addr add 10.0.1.2/24 dev br0
start_dev --name vnet0 --tap tap0 --bridge br0
check "TAP enslaved to br0" sh -c "$IP link show tap0 | grep -q 'master br0'"
dev=$(dev_netdev)
move_to_ns "$dev" a 10.0.1.1/24
wait_for 10 sh -c "$IP netns exec a $IP link show $dev | grep -q LOWER_UP" ||
    fail "link of $dev not up"
check "ping through the bridge" ping -c 3 -W 5 10.0.1.1

$IP link set tap0 down
wait_for 10 sh -c "$IP netns exec a $IP link show $dev | grep -q NO-CARRIER" ||
    fail "driver did not see the link go down"
ok "link down seen by the driver"
$IP link set tap0 up
wait_for 10 sh -c "$IP netns exec a $IP link show $dev | grep -q LOWER_UP" ||
    fail "driver did not see the link come back"
ok "link up seen by the driver"
check "ping after the link came back" ping -c 3 -W 5 10.0.1.1

in_ns a iperf3 -s -1 -D
sleep 0.5
check "TCP through the bridge" iperf3 -c 10.0.1.1 -t 3
tail -n 3 /tmp/check.out
stop_dev
exit 0
