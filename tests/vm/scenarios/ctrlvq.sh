# ctrlvq.sh - the control queue on the kernel that allows it: what the
# driver sets reaches the shadow (read from vduse-net's own report) and
# the device acts on it: MAC change and filtering, promiscuous mode,
# multicast table, hash reports, two queue pairs carrying traffic.
. /lib.sh

start_dev --name vnet0 --tap tap0 --queues 2 --mgmt $R/m.sock
M=$R/m.sock
dev=$(dev_netdev)
move_to_ns "$dev" a 10.0.0.1/24
$IP addr add 10.0.0.2/24 dev tap0
$IP link set tap0 up
wait_for 10 sh -c "$IP netns exec a $IP link show $dev | grep -q LOWER_UP" ||
    fail "link not up"
check "ping" ping -c 2 -W 5 10.0.0.1
report
check "driver turned promiscuous mode off" report_has '"promisc":false'

# Hash reports: Linux takes HASH_REPORT (bit 57; no RSS here, this kernel
# has no bpf()), so every frame above and below carries a 20-byte header.
# Its HASH_CONFIG (RSS_CONFIG's layout, max_tx_vq in the reserved bytes)
# is taken; receive hashing on and off sends the hash types, then none.
f=$(cat /sys/bus/virtio/drivers/virtio_net/virtio*/features)
[ "$(echo "$f" | cut -c58)" = 1 ] || fail "HASH_REPORT not negotiated: $f"
check "ethtool -K rxhash on" in_ns a ethtool -K "$dev" rxhash on
in_ns a ethtool -k "$dev" | grep -q 'receive-hashing: on' ||
    fail "receive hashing not on: $(in_ns a ethtool -k "$dev")"
wait_for 5 report_has '"hash-config":\{"enabled":true,"hash-types":[1-9][0-9]*,"key":"[0-9a-f]{80}"' ||
    fail "hash configuration not shadowed: $(report)"
ok "HASH_REPORT negotiated, HASH_CONFIG with a 40-byte key shadowed"
check "ping with hash reports" ping -c 2 -W 5 10.0.0.1
check "ethtool -K rxhash off" in_ns a ethtool -K "$dev" rxhash off
wait_for 5 report_has '"hash-config":\{"enabled":true,"hash-types":0,' ||
    fail "hash types 0 not shadowed: $(report)"
check "ethtool -K rxhash on again" in_ns a ethtool -K "$dev" rxhash on
ok "receive hashing off and on reach the shadow"

# MAC_ADDR_SET: the shadow follows, frames to the old MAC are dropped; a
# management client sees the change as an event.
mgmt-client -w 4 $M >/tmp/events &
events=$!
sleep 0.5
old=$(in_ns a cat "/sys/class/net/$dev/address")
check "MAC change" in_ns a $IP link set "$dev" address 02:00:00:00:00:77
wait_for 5 report_has '"mac":"02:00:00:00:00:77"' || fail "shadow MAC: $(report)"
ok "shadow has the new MAC"
wait "$events"
grep -q '"event":"SHADOW_CHANGED","data":{"command":"mac-addr-set","shadow":{"mac":"02:00:00:00:00:77"' /tmp/events ||
    { cat /tmp/events; fail "no SHADOW_CHANGED event for the MAC"; }
ok "SHADOW_CHANGED event for the MAC"
$IP neigh replace 10.0.0.1 lladdr "$old" dev tap0
ping -c 2 -W 1 10.0.0.1 >/dev/null 2>&1 && fail "frames to the old MAC $old got through"
report_has '"rx-filtered":[1-9]' || fail "no filtered frames counted: $(report)"
ok "frames to the old MAC dropped and counted"
$IP neigh replace 10.0.0.1 lladdr 02:00:00:00:00:77 dev tap0
check "ping the new MAC" ping -c 2 -W 5 10.0.0.1

# RX modes.
in_ns a $IP link set "$dev" promisc on
wait_for 5 report_has '"promisc":true' || fail "promisc on not shadowed: $(report)"
ok "promisc on shadowed"
in_ns a $IP link set "$dev" promisc off
wait_for 5 report_has '"promisc":false' || fail "promisc off not shadowed"
ok "promisc off shadowed"

# Multicast table.
in_ns a $IP maddr add 01:00:5e:01:02:03 dev "$dev"
wait_for 5 report_has '"multicast":\[[^]]*"01:00:5e:01:02:03"' ||
    fail "multicast group not in the table: $(report)"
ok "multicast table has the group"

# Queue pairs: the driver starts with as many as it has CPUs (2); down to
# one and back, then flows use both.
check "ethtool -L combined 1" in_ns a ethtool -L "$dev" combined 1
wait_for 5 report_has '"queue-pairs":1' || fail "queue pairs: $(report)"
report_has '"active-pairs":1,"pairs":\[\{"running":true[^}]*\},\{"running":false' ||
    fail "pair 1 still running: $(report)"
ok "one queue pair, pair 1 stopped"
check "ping on one pair" ping -c 2 -W 5 10.0.0.1
check "ethtool -L combined 2" in_ns a ethtool -L "$dev" combined 2
wait_for 5 report_has '"queue-pairs":2' || fail "queue pairs: $(report)"
report_has '"active-pairs":2' || fail "device did not start pair 1"
ok "two queue pairs in use"
in_ns a iperf3 -s -1 -D
sleep 0.5
check "16 flows into the device" iperf3 -c 10.0.0.1 -P 16 -t 2
r=$(report)
echo "$r"
pairs=$(echo "$r" | grep -o '"rx-packets":[0-9]*' | grep -c -v ':0$')
[ "$pairs" = 2 ] || fail "frames arrived on $pairs queue pair(s), not 2"
ok "frames arrived on both queue pairs"
# The management socket: queries, link, announce, errors.
mgmt-client $M '{"execute":"query-status"}' '{"execute":"query-state"}' \
    '{"execute":"query-stats"}' '{"execute":"no-such"}' '{"execute":' \
    >/tmp/q.out
cat /tmp/q.out
grep -q '"return":{"name":"vnet0","status":15,' /tmp/q.out || fail "query-status"
grep -q '"netdev":"' /tmp/q.out || fail "query-status: no netdev"
grep -q '"return":{"version":1,.*"shadow":{"mac":"02:00:00:00:00:77"' /tmp/q.out || fail "query-state"
grep -q '"return":\[{"running":true,"tx-packets":' /tmp/q.out || fail "query-stats"
grep -q 'CommandNotFound' /tmp/q.out || fail "unknown command not refused"
[ "$(grep -c GenericError /tmp/q.out)" = 1 ] || fail "malformed JSON not refused"
ok "query-status, query-state, query-stats, errors"
mgmt-client $M '{"execute":"set-link","arguments":{"up":false}}' >/dev/null
wait_for 5 sh -c "$IP netns exec a $IP link show $dev | grep -q NO-CARRIER" ||
    fail "set-link down not seen by the driver"
mgmt-client $M '{"execute":"set-link","arguments":{"up":"no"}}' | grep -q GenericError ||
    fail "set-link with a string accepted"
mgmt-client $M '{"execute":"set-link","arguments":{"up":true}}' >/dev/null
wait_for 5 sh -c "$IP netns exec a $IP link show $dev | grep -q LOWER_UP" ||
    fail "set-link up not seen by the driver"
ok "set-link down and up seen by the driver"
mgmt-client $M '{"execute":"announce"}' | grep -q '"return":{}' || fail "announce"
wait_for 5 report_has '"announce-acks":[1-9]' || fail "no ANNOUNCE_ACK: $(report)"
ok "announce acknowledged by the driver"
stop_dev
exit 0
