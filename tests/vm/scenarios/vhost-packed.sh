# vhost-packed.sh - vhost.sh's VMM (tests/tools/vhost-driver) with packed
# rings on every vq (--packed), the device offering them for a VMM with
# --features +ring-packed: QEMU's probe, the control vq in ASID 1 with a
# decoy at the same IOVAs in ASID 0, QEMU's restore sequence all answered
# OK, a frame from ASID 0 at the TAP (then VHOST_GET_VRING_BASE of that
# running queue: both positions with their wrap counters, through the
# kernel's GET_VQ_STATE), frames received through the VLAN filter, and the
# exported state's positions.
. /lib.sh

start_dev --name vm0 --tap tap0 --bus vhost --queues 2 --pcap /tmp/vm0.pcap \
    --mgmt $R/m.sock --state-dir $R --features +ring-packed
path=$(sed -n 's/.* ready: \(\/dev\/vhost-vdpa-[0-9]*\).*/\1/p' "$DEV_LOG.out")
offered=$(mgmt-client $R/m.sock '{"execute":"query-state"}' |
    tr -d ' \n' | sed -n 's/.*"device":{[^}]*"features":\(-\{0,1\}[0-9]*\).*/\1/p')
[ -n "$offered" ] || fail "no offered features in query-state"
[ $(((offered >> 34) & 1)) = 1 ] || fail "RING_PACKED not offered: $offered"
ok "offered features $offered: RING_PACKED with +ring-packed"
echo 1 >/proc/sys/net/ipv6/conf/tap0/disable_ipv6 # no chatter from the TAP side
$IP link set tap0 up
vhost_driver_hold --packed "$path" 02:00:00:00:00:a1 5
grep -q 'TX vq base 0x80028002 .*: OK' /tmp/driver.out ||
    fail "VHOST_GET_VRING_BASE of the packed TX vq"
ok "packed rings: probe, ASID 1 control vq, restore sequence, data vqs after DRIVER_OK"

r=$(report)
echo "$r"
echo "$r" | grep -q '"mac":"02:00:00:00:00:a1"' ||
    fail "shadow MAC is not the one sent from ASID 1"
echo "$r" | grep -q 'de:c0' && fail "the decoy in ASID 0 was read"
echo "$r" | grep -q '"vlans":\[5\]' || fail "VLAN 5"
ok "shadow from the packed control vq in ASID 1, decoy in ASID 0 ignored"
wait_for 5 sh -c "pcap-check /tmp/vm0.pcap 1 'ether proto 0x88b5 and ether src 02:00:00:00:00:a1'" ||
    fail "the frame from ASID 0 did not reach the TAP"
ok "frame from a packed TX vq at the TAP"

frame-send tap0 02:00:00:00:00:a1 5 || fail "frame-send"
frame-send tap0 02:00:00:00:00:a1 6
frame-send tap0 02:00:00:00:00:a1 -
wait_for 5 sh -c "grep -c 'received 60 bytes' /tmp/driver.out | grep -qx 2" ||
    { cat /tmp/driver.out; fail "frames not received"; }
sleep 0.5
grep 'received' /tmp/driver.out
[ "$(grep -c 'received 60 bytes, vlan 5$' /tmp/driver.out)" = 1 ] || fail "VLAN 5 frame"
[ "$(grep -c 'received 60 bytes, vlan -1$' /tmp/driver.out)" = 1 ] || fail "untagged frame"
grep -q 'vlan 6' /tmp/driver.out && fail "VLAN 6 passed the filter"
ok "frames into a packed RX vq, through the VLAN filter"

# Suspended, the positions are final: TX vq 1 took one chain of two
# descriptors, so both positions are slot 2 of the first lap (wrap
# counter 1 in bit 15: 32770); RX vq 0 used two buffers (32770) and gave
# back what it held. The driver's features say the ring is packed.
# (Three commands: the status event the suspend sends takes one line.)
mgmt-client $R/m.sock '{"execute":"suspend"}' \
    '{"execute":"export-state","arguments":{"file":"state.json"}}' \
    '{"execute":"export-state"}' >/tmp/mgmt.out
grep -c '"return":{}' /tmp/mgmt.out | grep -qx 2 || fail "suspend/export: $(cat /tmp/mgmt.out)"
tr -d ' \n' <$R/state.json >/tmp/state.flat
grep -q '{"index":1,"ready":true,"size":64,"avail-index":32770,"used-index":32770}' \
    /tmp/state.flat || fail "vq 1 positions: $(cat /tmp/state.flat)"
grep -q '{"index":0,"ready":true,"size":64,"avail-index":32770,"used-index":32770}' \
    /tmp/state.flat || fail "vq 0 positions: $(cat /tmp/state.flat)"
drv=$(sed -n 's/.*"driver":{"status":[0-9]*,"features":\(-\{0,1\}[0-9]*\).*/\1/p' /tmp/state.flat)
[ -n "$drv" ] && [ $(((drv >> 34) & 1)) = 1 ] || fail "driver features $drv without RING_PACKED"
ok "exported state: packed positions with wrap counters, RING_PACKED negotiated"

kill "$driver"
wait "$driver" 2>/dev/null
wait_for 5 report_has '"rx-mode":\{"promisc":true,"allmulti":false' ||
    fail "no reset after the VMM left: $(report)"
ok "VMM gone: device reset"
stop_dev
exit 0
