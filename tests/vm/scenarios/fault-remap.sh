# fault-remap.sh - the VMM remaps guest memory under traffic: both address
# spaces invalidated and mapped again 30 times (batched, as vhost-vdpa does
# it), with frames from ASID 0 and control commands from ASID 1 between;
# every frame reaches the TAP, every command is answered, no queue fails.
. /lib.sh

# Debug messages: they show each VDUSE message the remaps cause.
export G_MESSAGES_DEBUG=all
start_dev --name vm0 --tap tap0 --bus vhost --queues 2 --pcap /tmp/remap.pcap \
    --mgmt $R/m.sock
path=$(sed -n 's/.* ready: \(\/dev\/vhost-vdpa-[0-9]*\).*/\1/p' "$DEV_LOG.out")
echo 1 >/proc/sys/net/ipv6/conf/tap0/disable_ipv6
$IP link set tap0 up
mgmt-client -w 60 $R/m.sock >/tmp/events &
vhost-driver --remap 30 "$path" 02:00:00:00:00:a1 >/tmp/driver.out 2>&1 ||
    { cat /tmp/driver.out; dev_log; fail "the VMM side failed"; }
tail -n 2 /tmp/driver.out
grep -q "remapped both ASIDs 30 times" /tmp/driver.out || fail "no remap line"
wait_for 10 sh -c "pcap-check /tmp/remap.pcap 300 'ether proto 0x88b6'" ||
    fail "not every frame reached the TAP"
ok "300 frames at the TAP, 30 commands answered, through 60 remaps"
grep -q QUEUE_FAILED /tmp/events && fail "a queue failed: $(cat /tmp/events)"
grep -q "not mapped" "$DEV_LOG.err" && { dev_log; fail "a translation failed"; }
kill -0 "$DEV_PID" || fail "vduse-net died"
ok "no queue failed, no translation failed"
updates=$(dev_log | grep -c "type 2$")
[ "$updates" -ge 60 ] || fail "only $updates UPDATE_IOTLB messages reached vduse-net"
ok "$updates UPDATE_IOTLB messages served"
stop_dev
exit 0
