# vhost.sh - a VMM's view through vhost_vdpa (tests/tools/vhost-driver):
# QEMU's probe, the control vq in ASID 1 with a decoy at the same IOVAs in
# ASID 0, QEMU's restore sequence all answered OK, data vqs enabled after
# DRIVER_OK, and a frame from ASID 0 at the TAP.
. /lib.sh

start_dev --name vm0 --tap tap0 --bus vhost --queues 2 --pcap /tmp/vm0.pcap \
    --mgmt $R/m.sock --state-dir $R
path=$(sed -n 's/.* ready: \(\/dev\/vhost-vdpa-[0-9]*\).*/\1/p' "$DEV_LOG.out")
# For a VMM the device offers only what QEMU's vhost-vdpa can shadow: no
# GUEST_ANNOUNCE (bit 21), no USO (bits 54-56), no DEVICE_STATS (bit 50),
# no VQ_NOTF_COAL or NOTF_COAL (52, 53), nor RSS (60) or SPEED_DUPLEX (63),
# which older QEMUs do not shadow.
offered=$(mgmt-client $R/m.sock '{"execute":"query-state"}' |
    tr -d ' \n' | sed -n 's/.*"device":{[^}]*"features":\(-\{0,1\}[0-9]*\).*/\1/p')
[ -n "$offered" ] || fail "no offered features in query-state"
[ $(((offered >> 21) & 1)) = 0 ] || fail "GUEST_ANNOUNCE offered for a VMM: $offered"
[ $(((offered >> 54) & 7)) = 0 ] || fail "USO offered for a VMM: $offered"
[ $(((offered >> 50) & 1)) = 0 ] || fail "DEVICE_STATS offered for a VMM: $offered"
[ $(((offered >> 52) & 3)) = 0 ] || fail "NOTF_COAL offered for a VMM: $offered"
[ $(((offered >> 60) & 1)) = 0 ] || fail "RSS offered for a VMM: $offered"
[ $(((offered >> 63) & 1)) = 0 ] || fail "SPEED_DUPLEX offered for a VMM: $offered"
[ $(((offered >> 17) & 1)) = 1 ] || fail "no CTRL_VQ offered: $offered"
ok "offered features $offered: none QEMU cannot shadow"
echo 1 >/proc/sys/net/ipv6/conf/tap0/disable_ipv6 # no chatter from the TAP side
$IP link set tap0 up
vhost_driver_hold "$path" 02:00:00:00:00:a1 5
ok "probe, ASID 1 control vq, restore sequence, data vqs after DRIVER_OK"

r=$(report)
echo "$r"
echo "$r" | grep -q '"mac":"02:00:00:00:00:a1"' ||
    fail "shadow MAC is not the one sent from ASID 1"
echo "$r" | grep -q 'de:c0' && fail "the decoy in ASID 0 was read"
ok "shadow MAC from ASID 1, decoy in ASID 0 ignored"
echo "$r" | grep -q '"unicast":\["02:00:00:00:00:33"\]' || fail "unicast table"
echo "$r" | grep -q '"multicast":\["01:00:5e:00:00:42"\]' || fail "multicast table"
# The driver restored PROMISC on, then turned it off (step 5).
echo "$r" | grep -q '"promisc":false,"allmulti":true,"alluni":false,"nomulti":false,"nouni":false,"nobcast":false' ||
    fail "RX modes"
echo "$r" | grep -q '"vlans":\[5\]' || fail "VLAN 5"
echo "$r" | grep -q '"queue-pairs":1' || fail "queue pairs"
ok "restored shadow as sent"
wait_for 5 sh -c "pcap-check /tmp/vm0.pcap 1 'ether proto 0x88b5 and ether src 02:00:00:00:00:a1'" ||
    fail "the frame from ASID 0 did not reach the TAP"
ok "frame from ASID 0 at the TAP"

# The VLAN filter: the driver added VLAN 5 and turned promiscuous mode
# off. Tagged frames to its MAC pass only with id 5; untagged ones pass.
frame-send tap0 02:00:00:00:00:a1 5 || fail "frame-send"
frame-send tap0 02:00:00:00:00:a1 6
frame-send tap0 02:00:00:00:00:a1 -
frame-send tap0 02:00:00:00:00:b2 -
wait_for 5 sh -c "grep -c 'received 60 bytes' /tmp/driver.out | grep -qx 2" ||
    { cat /tmp/driver.out; fail "frames not received"; }
sleep 0.5
grep 'received' /tmp/driver.out
[ "$(grep -c 'received 60 bytes, vlan 5$' /tmp/driver.out)" = 1 ] || fail "VLAN 5 frame"
[ "$(grep -c 'received 60 bytes, vlan -1$' /tmp/driver.out)" = 1 ] || fail "untagged frame"
grep -q 'vlan 6' /tmp/driver.out && fail "VLAN 6 passed the filter"
report_has '"rx-filtered":[2-9]' || fail "filtered frames not counted: $(report)"
ok "VLAN filter: id 5 and untagged pass, id 6 and other MACs dropped"

# Suspend through the management socket, then export: the indices are
# final (every popped chain completed), and the state says so.
mgmt-client $R/m.sock '{"execute":"suspend"}' \
    '{"execute":"export-state","arguments":{"file":"state.json"}}' \
    '{"execute":"export-state"}' >/tmp/mgmt.out
grep -c '"return":{}' /tmp/mgmt.out | grep -qx 2 || fail "suspend/export: $(cat /tmp/mgmt.out)"
grep -q '"suspended" : true' $R/state.json || fail "state not suspended: $(cat $R/state.json)"
tr -d ' \n' <$R/state.json >/tmp/state.flat
grep -q '"version":1,"device":{"name":"vm0","mac":"02:' /tmp/state.flat || fail "identity"
grep -q '"shadow":{"mac":"02:00:00:00:00:a1"' /tmp/state.flat || fail "shadow in the state"
grep -q '"vlans":\[5\]' /tmp/state.flat || fail "VLAN 5 in the state"
grep -q '"group-asids":\[0,1\]' /tmp/state.flat || fail "control queue group in ASID 1"
# The TX vq of pair 0 (index 1) carried the frame: its indices agree.
grep -q '{"index":1,"ready":true,"size":64,"avail-index":\([0-9]*\),"used-index":\1}' \
    /tmp/state.flat || fail "vq 1 indices: $(cat /tmp/state.flat)"
grep -q '"index":1,"ready":true,"size":64,"avail-index":0,' /tmp/state.flat &&
    fail "vq 1 consumed nothing"
ok "suspended; exported state has identity, ASIDs, shadow, final indices"
frame-send tap0 02:00:00:00:00:a1 -
sleep 0.5
[ "$(grep -c 'received 60 bytes, vlan -1$' /tmp/driver.out)" = 1 ] ||
    fail "a suspended device delivered a frame"
ok "a suspended device delivers nothing"

kill "$driver"
wait "$driver" 2>/dev/null
# The VMM closing vhost-vdpa resets the device: the shadow is back to its
# defaults.
wait_for 5 report_has '"rx-mode":\{"promisc":true,"allmulti":false' ||
    fail "no reset after the VMM left: $(report)"
ok "VMM gone: device reset"
# The MAC the driver set does not outlive the reset in config space.
mgmt-client $R/m.sock '{"execute":"export-state"}' | tr -d ' ' >/tmp/after.out
made=$(sed -n 's/.*"device":{"name":"vm0","mac":"\([^"]*\)".*/\1/p' /tmp/after.out)
[ -n "$made" ] && grep -q "\"config\":{\"mac\":\"$made\"" /tmp/after.out ||
    fail "config space after reset: $(cat /tmp/after.out)"
ok "config space has the MAC the device was made with again"
stop_dev
exit 0
