# migrate.sh - a VMM (tests/tools/vhost-driver --migrate) moves its guest's
# device from one vduse-net to another through vhost-vdpa: traffic and
# control commands, suspend, vring bases, export-state, the source stopped,
# a destination started with --restore, the bases set, no command
# replayed. The destination has the same MAC, tables, VLANs and queue
# pairs, asks the guest to announce itself, and every numbered frame
# reaches a TAP exactly once.
. /lib.sh

N=50 # MIGRATE_FRAMES in vhost-driver.c
C=/tmp/ctl
mkdir -p $C
# Our own export/restore carries GUEST_ANNOUNCE, which QEMU's cannot.
start_dev --name vm0 --tap tap0 --bus vhost --queues 2 --mgmt $R/m0 --state-dir $R \
    --pcap /tmp/src.pcap --features +guest-announce
path=$(sed -n 's/.* ready: \(\/dev\/vhost-vdpa-[0-9]*\).*/\1/p' "$DEV_LOG.out")
echo 1 >/proc/sys/net/ipv6/conf/tap0/disable_ipv6
$IP link set tap0 up
vhost-driver --migrate $C "$path" 02:00:00:00:00:a1 5 >/tmp/driver.out 2>&1 &
driver=$!
wait_for 60 grep -q -e "suspend:" -e FAIL /tmp/driver.out ||
    fail "the driver did not get to suspend: $(cat /tmp/driver.out)"
if grep -q "waiting for the management socket" /tmp/driver.out; then
    mgmt-client $R/m0 '{"execute":"suspend"}' | grep -q '"return":{}' ||
        fail "suspend on the management socket"
    touch $C/suspended
fi
wait_for 10 grep -q -e "bases read" -e FAIL /tmp/driver.out
grep -q "bases read" /tmp/driver.out || fail "vring bases: $(cat /tmp/driver.out)"
ok "$(grep 'suspend:' /tmp/driver.out); vring bases exact"
mgmt-client $R/m0 '{"execute":"export-state","arguments":{"file":"state.json"}}' |
    grep -q '"return":{}' || fail "export-state"
tr -d ' \n' <$R/state.json >/tmp/src.flat
grep -q '"suspended":true' /tmp/src.flat || fail "exported state not suspended"
ok "state exported"
touch $C/go
wait_for 10 grep -q "closed the source" /tmp/driver.out || fail "driver did not close"
stop_dev

# The destination gets the source's command line (its own TAP, socket and
# capture) plus --restore, as QEMU's -incoming habit has it.
start_dev --name vm0 --tap tap1 --bus vhost --queues 2 --mgmt $R/m1 \
    --state-dir $R --pcap /tmp/dst.pcap --features +guest-announce \
    --restore $R/state.json
echo 1 >/proc/sys/net/ipv6/conf/tap1/disable_ipv6
$IP link set tap1 up
sed -n 's/.* ready: \(\/dev\/vhost-vdpa-[0-9]*\).*/\1/p' "$DEV_LOG.out" >$C/dest.tmp
mv $C/dest.tmp $C/dest
wait_for 60 grep -q -e holding -e FAIL /tmp/driver.out
cat /tmp/driver.out
grep -q holding /tmp/driver.out || fail "the VMM side failed after the move"
grep -q "announce seen and acked" /tmp/driver.out || fail "no announce"
ok "destination: started from the bases, announce seen and acked"
# The device's downtime as this scenario stages it (a figure, not a
# limit: docs/performance.md).
grep -q 'downtime [0-9]* ms' /tmp/driver.out || fail "no downtime line"
ok "$(sed -n 's/^vhost-driver: //p' /tmp/driver.out | grep '^downtime')"

# The same device: the restored shadow is the exported one.
mgmt-client $R/m1 '{"execute":"query-state"}' | tr -d ' ' >/tmp/dst.out
shadow=$(sed -n 's/.*"shadow":\({[^}]*}[^}]*}[^}]*}\).*/\1/p' /tmp/src.flat)
[ -n "$shadow" ] || fail "no shadow in the exported state"
norm() { sed 's/"announce-acks":[0-9]*//'; }
[ "$(echo "$shadow" | norm)" = "$(sed -n 's/.*"shadow":\({[^}]*}[^}]*}[^}]*}\).*/\1/p' /tmp/dst.out | norm)" ] ||
    fail "shadows differ: source $shadow, destination $(cat /tmp/dst.out)"
grep -q '"mac":"02:00:00:00:00:a1"' /tmp/dst.out || fail "MAC: $(cat /tmp/dst.out)"
grep -q '"multicast":\["01:00:5e:00:00:42"\]' /tmp/dst.out || fail "multicast table"
grep -q '"unicast":\["02:00:00:00:00:33"\]' /tmp/dst.out || fail "unicast table"
grep -q '"vlans":\[5\]' /tmp/dst.out || fail "VLANs"
grep -q '"queue-pairs":2' /tmp/dst.out || fail "queue pairs"
grep -q '"announce-acks":1' /tmp/dst.out || fail "announce ack not counted"
report_has '"active-pairs":2' || fail "active pairs: $(report)"
[ "$(report | grep -o '"running":true' | wc -l)" = 2 ] || fail "both pairs should run"
ok "same MAC, tables, VLAN, two running queue pairs"

# Every numbered frame exactly once, on the side it was sent from.
count() { # FILE FILTER: frames matching
    pcap-check "$1" 0 "$2" | sed -n 's/.*(\([0-9]*\) matching).*/\1/p'
}
[ "$(count /tmp/src.pcap 'ether proto 0x88b6')" = $N ] ||
    fail "source TAP: $(pcap-check /tmp/src.pcap 0 'ether proto 0x88b6')"
[ "$(count /tmp/dst.pcap 'ether proto 0x88b6')" = $N ] ||
    fail "destination TAP: $(pcap-check /tmp/dst.pcap 0 'ether proto 0x88b6')"
seq=0
while [ $seq -lt $((2 * N)) ]; do
    f=/tmp/src.pcap
    [ $seq -lt $N ] || f=/tmp/dst.pcap
    [ "$(count $f "ether proto 0x88b6 and ether[14:4] = $seq")" = 1 ] ||
        fail "frame $seq is not in $f exactly once"
    seq=$((seq + 1))
done
ok "frames 0..$((2 * N - 1)) each exactly once ($N before, $N after)"
mgmt-client $R/m1 '{"execute":"query-stats"}' | grep -q "\"tx-packets\":$N," ||
    fail "destination tx-packets: $(mgmt-client $R/m1 '{"execute":"query-stats"}')"

kill "$driver"
wait "$driver" 2>/dev/null
stop_dev
exit 0
