# vhost-hash.sh - hash reports through vhost_vdpa (tests/tools/vhost-driver
# --hash): a VMM that names hash-report gets it, its headers are 20 bytes
# both ways, its HASH_CONFIG from ASID 1 is answered OK and shadowed, and
# each frame it receives carries the hash the RSS suite gives for its flow
# (TCPv4 66.9.149.187:2794 -> 161.142.100.80:1766 under the suite's key:
# 0x51ccc178, report 2), or none for a frame of no hash type (report 0).
. /lib.sh

start_dev --name vh0 --tap tap0 --bus vhost --features +hash-report \
    --pcap /tmp/vh0.pcap --mgmt $R/m.sock
path=$(sed -n 's/.* ready: \(\/dev\/vhost-vdpa-[0-9]*\).*/\1/p' "$DEV_LOG.out")
echo 1 >/proc/sys/net/ipv6/conf/tap0/disable_ipv6 # no chatter from the TAP side
$IP link set tap0 up
vhost_driver_hold --hash "$path" 02:00:00:00:00:a1 5
ok "HASH_REPORT negotiated; HASH_CONFIG from ASID 1 answered OK"
report_has '"hash-config":\{"enabled":true,"hash-types":63,"key":"6d5a56da255b0ec2' ||
    fail "HASH_CONFIG not shadowed: $(report)"
ok "HASH_CONFIG shadowed"
# The driver's TX frame had a 20-byte header; the TAP got the frame alone.
wait_for 5 sh -c "pcap-check /tmp/vh0.pcap 1 'ether proto 0x88b5 and ether src 02:00:00:00:00:a1'" ||
    fail "the frame with a 20-byte header did not reach the TAP whole"
ok "TX: the 8 hash bytes cut, the frame at the TAP"

frame-send tap0 02:00:00:00:00:a1 - 1 tcp4 || fail "frame-send tcp4"
frame-send tap0 02:00:00:00:00:a1 - || fail "frame-send"
wait_for 5 grep -q 'report 0$' /tmp/driver.out ||
    { cat /tmp/driver.out; fail "frames not received"; }
grep 'received' /tmp/driver.out
grep -q 'received 60 bytes, vlan -1, hash 0x51ccc178 report 2$' /tmp/driver.out ||
    fail "the TCPv4 frame's hash report"
grep -q 'received 60 bytes, vlan -1, hash 0x00000000 report 0$' /tmp/driver.out ||
    fail "the non-IP frame's report"
ok "RX: the suite's hash and TCPv4 for its flow, none for a non-IP frame"
kill "$driver"
wait "$driver" 2>/dev/null
stop_dev
exit 0
