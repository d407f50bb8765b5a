# vmm-migrate.sh - live migration by QEMU itself (the newest Debian ships)
# between two vduse-net devices, with a guest pinging throughout.
#
# Source and destination are each `vduse-net --bus vhost` with vduse-net's
# default features for a VMM, on a TAP of their own, both TAPs on one
# bridge that has the address the guest pings and leases from (udhcpd).
# The source QEMU boots the guest; the destination QEMU waits with
# -incoming; `migrate` on the source's QMP socket moves the guest. Checked:
# the control queue's group in ASID 1 on both sides (QEMU shadows it),
# the migration completes (a refusal, e.g. "vdpa svq does not work with
# features 0x...", is printed verbatim and fails the test), the
# destination's shadow equals the source's (QEMU replays the control
# commands there), the guest announces itself from its new place (a
# gratuitous ARP on the destination's TAP), what the destination's TAP
# queued while it waited is dropped at DRIVER_OK, and every ping is
# answered, the last ones through the destination. Prints the downtime and the
# total time QEMU reports (query-migrate) and the ping count.
# vm-qemu: newest
# vm-memory: 3072
# vm-timeout: 900
. /lib.sh
. /vmm-lib.sh

MAC=02:00:00:00:00:a1
PEER=10.0.3.1
$IP link add br0 type bridge || fail "bridge"
echo 1 >/proc/sys/net/ipv6/conf/br0/disable_ipv6
vmm_serve br0 $PEER

# qmp SOCKET COMMAND...: send QMP commands (after qmp_capabilities) and
# print everything QEMU answers within a second of the last reply.
qmp() {
    s=$1
    shift
    mgmt-client -w 1 "$s" '{"execute":"qmp_capabilities"}' "$@"
}

# migrate_report: which frame went where and when, and what moved the
# rings: every frame to or from the guest and every ARP in both captures
# in time order, the guest's unanswered pings, the links' MACs, QEMU's
# trace and vduse-net's queue lines. Printed when a ping was lost.
migrate_report() {
    for side in src dst; do
        pcap-check -l /tmp/$side.pcap 0 "ether host $MAC or arp" | sed "s/^/$side /"
    done | grep -v frames | sort -k2 -n
    echo "migrate asked at $MIGRATE_T0, completed by $MIGRATE_T1"
    $IP -br link show type bridge
    $IP -br link show dev tap0
    $IP -br link show dev tap1
    tr -d '\r' </tmp/dst.console | grep -a 'not answered' || true
    for side in src dst; do
        grep -a vhost_vdpa /tmp/$side.qemu | sed "s/^/qemu $side: /"
    done
    grep -h -a -e 'vq [0-9]*: ' -e 'status 0x' -e 'DRIVER_OK' "$SRC_LOG.err" |
        sed 's/^/vduse-net src: /'
    grep -h -a -e 'vq [0-9]*: ' -e 'status 0x' -e 'DRIVER_OK' "$DST_LOG.err" |
        sed 's/^/vduse-net dst: /'
}

# Debug lines: each queue's start position and the state QEMU asks for,
# for migrate_report beside QEMU's own trace of the same.
export G_MESSAGES_DEBUG=all
start_dev --name vm0 --mac $MAC --tap tap0 --bridge br0 --bus vhost --queues 2 \
    --mgmt $R/m0 --pcap /tmp/src.pcap
SRC_PID=$DEV_PID
SRC_LOG=$DEV_LOG
src_vhost=$(sed -n 's/.* ready: \(\/dev\/vhost-vdpa-[0-9]*\).*/\1/p' "$SRC_LOG.out")
start_dev --name vm1 --mac $MAC --tap tap1 --bridge br0 --bus vhost --queues 2 \
    --mgmt $R/m1 --pcap /tmp/dst.pcap
DST_LOG=$DEV_LOG
unset G_MESSAGES_DEBUG
dst_vhost=$(sed -n 's/.* ready: \(\/dev\/vhost-vdpa-[0-9]*\).*/\1/p' "$DEV_LOG.out")
[ -c "$src_vhost" ] && [ -c "$dst_vhost" ] || fail "vhost-vdpa devices: '$src_vhost' '$dst_vhost'"
for tap in tap0 tap1; do
    echo 1 >/proc/sys/net/ipv6/conf/$tap/disable_ipv6
done

vmm_guest_initrd /tmp/guest.cpio.gz GUEST_MODE=migrate GUEST_PEER=$PEER
VMM_T0=$(cut -d' ' -f1 /proc/uptime)
# What QEMU does to the rings: suspend, the bases it reads and sets.
TRACE="-trace vhost_vdpa_suspend -trace vhost_vdpa_get_vring_base -trace vhost_vdpa_set_dev_vring_base -trace vhost_vdpa_reset_device"
vmm_qemu dst "$dst_vhost" /tmp/guest.cpio.gz $MAC -incoming unix:$R/migrate.sock $TRACE
DST_QEMU=$QEMU_PID
vmm_qemu src "$src_vhost" /tmp/guest.cpio.gz $MAC $TRACE
SRC_QEMU=$QEMU_PID
vmm_step dhcp /tmp/src.console $GUEST_BOOT_LIMIT
guest_ip=$(tr -d '\r' </tmp/src.console | sed -n 's/^GUEST-STEP dhcp \([0-9.]*\)$/\1/p')
vmm_step pinging /tmp/src.console
ok "guest up on the source after $(vmm_elapsed) s, $guest_ip pinging $PEER, one ping every 0.1 s"
# echoes DEVICE N: at least N of the guest's echo requests went through
# DEVICE (its capture file).
ECHO="icmp[icmptype] = icmp-echo and ether src $MAC"
echoes() { pcap-check /tmp/"$1".pcap "$2" "$ECHO" >/dev/null 2>&1; }
wait_for 60 echoes src 3 || fail "fewer than 3 pings through the source in 60 s"
ok "pinging through the source: $(pcap-check /tmp/src.pcap 0 "$ECHO")"

vmm_state_has $R/m0 '"group-asids":\[0,1\]' ||
    fail "source: control queue not in ASID 1: $(vmm_state $R/m0)"
ok "source: control queue's group in ASID 1"
src_shadow=$(vmm_shadow $R/m0)
echo "source shadow: $src_shadow"
[ -n "$src_shadow" ] || fail "no shadow from the source: $(vmm_state $R/m0)"

# migrate, then poll query-migrate until it ends (180 s at most).
MIGRATE_T0=$(date +%s)
qmp $R/src.qmp '{"execute":"migrate","arguments":{"uri":"unix:'$R'/migrate.sock"}}' \
    >/tmp/migrate.out
if grep -q '"error"' /tmp/migrate.out; then
    echo "QEMU refused to migrate: $(sed -n 's/.*"desc": *"\([^"]*\)".*/\1/p' /tmp/migrate.out)"
    fail "migrate: $(grep '"error"' /tmp/migrate.out)"
fi
end=$(($(cut -d. -f1 /proc/uptime) + 180))
status=
while [ "$(cut -d. -f1 /proc/uptime)" -lt $end ]; do
    qmp $R/src.qmp '{"execute":"query-migrate"}' >/tmp/query.out
    status=$(sed -n 's/.*"return": *{.*"status": *"\([a-z-]*\)".*/\1/p' /tmp/query.out | tail -n 1)
    case $status in
    completed | failed | cancelled) break ;;
    esac
    sleep 0.5
done
MIGRATE_T1=$(date +%s)
grep '"return"' /tmp/query.out
if [ "$status" != completed ]; then
    echo "QEMU's migration ended '$status': $(sed -n 's/.*"error-desc": *"\([^"]*\)".*/\1/p' /tmp/query.out)"
    vmm_console /tmp/src.console
    fail "migration $status"
fi
downtime=$(sed -n 's/.*"downtime": *\([0-9]*\).*/\1/p' /tmp/query.out | tail -n 1)
total=$(sed -n 's/.*"total-time": *\([0-9]*\).*/\1/p' /tmp/query.out | tail -n 1)
echo "migration: completed, downtime $downtime ms, total time $total ms (query-migrate)"
ok "QEMU migrated the guest"

# DRIVER_OK (4) set by the destination's QEMU.
dst_started() {
    st=$(vmm_state $R/m1 | sed -n 's/.*"driver":{"status":\([0-9]*\),.*/\1/p')
    [ $((${st:-0} & 4)) = 4 ]
}
wait_for 20 dst_started || fail "destination not started: $(vmm_state $R/m1)"
vmm_state_has $R/m1 '"group-asids":\[0,1\]' ||
    fail "destination: control queue not in ASID 1: $(vmm_state $R/m1)"
ok "destination: driver running, control queue's group in ASID 1"
# What the bridge flooded into tap1 while the destination waited (the
# guest's DHCP, the bridge's ARP with the MAC it had then) is not handed
# to the guest at DRIVER_OK: it was believed, and pings went astray.
stale=$(sed -n 's/.*pair [0-9]*: \([0-9]*\) frames from before DRIVER_OK dropped.*/\1/p' \
    "$DST_LOG.err" | awk '{ s += $1 } END { print s + 0 }')
dropped=$(mgmt-client $R/m1 '{"execute":"query-stats"}' | tr ',{' '\n\n' |
    sed -n 's/^ *"rx-dropped": *\([0-9]*\).*/\1/p' | head -n 1)
[ "$stale" -gt 0 ] && [ "${dropped:-0}" -ge "$stale" ] ||
    fail "destination: '$stale' frames queued before DRIVER_OK dropped, rx-dropped '$dropped'"
ok "destination: $stale frames its TAP queued before DRIVER_OK dropped (pair 0 rx-dropped $dropped)"
norm() { sed 's/"announce-acks":[0-9]*//'; }
wait_for 20 sh -c "[ \"\$(. /lib.sh; . /vmm-lib.sh; vmm_shadow $R/m1 | sed 's/\"announce-acks\":[0-9]*//')\" = '$(echo "$src_shadow" | norm)' ]" ||
    fail "shadows differ: source $src_shadow, destination $(vmm_shadow $R/m1)"
ok "destination's shadow equals the source's"

# The guest, now on the destination, is told to stop pinging.
# Under TCG in TCG the guest takes a while to run again on the other side;
# the ping goes on there before it is told to stop.
wait_for 90 echoes dst 3 || fail "fewer than 3 pings through the destination in 90 s"
ok "pinging through the destination: $(pcap-check /tmp/dst.pcap 0 "$ECHO")"
tell_stop() { echo stop | nc -w 5 "$guest_ip" 5000; }
wait_for 90 tell_stop || {
    vmm_console /tmp/dst.console
    echo "bridge fdb: $(bridge fdb show br br0 | grep -i "$MAC")"
    pcap-check /tmp/dst.pcap 0 "ether src $MAC" 2>&1 | tail -n 1
    fail "no TCP connection to the guest at $guest_ip:5000 in 90 s"
}
QEMU_PID=$DST_QEMU
vmm_step ping-done /tmp/dst.console
set -- $(tr -d '\r' </tmp/dst.console | sed -n 's/^GUEST-STEP ping-done \([0-9]*\) \([0-9]*\)$/\1 \2/p')
sent=${1:-0}
answered=${2:-0}
echo "ping: $answered of $sent answered across the migration"
REPLY="icmp[icmptype] = icmp-echoreply and ether dst $MAC"
for side in src dst; do
    echo "$side: requests $(pcap-check /tmp/$side.pcap 0 "$ECHO"), replies $(pcap-check /tmp/$side.pcap 0 "$REPLY")"
done
echo "bridge fdb: $(bridge fdb show br br0 | grep -i "$MAC" | tr '\n' ' ')"
[ "$sent" -ge 6 ] && [ "$answered" = "$sent" ] ||
    { migrate_report; fail "pings lost: $answered of $sent answered"; }
ok "every ping answered, the last ones through the destination"
# Gratuitous: sender and target address are the guest's own.
pcap-check /tmp/dst.pcap 1 "arp src host $guest_ip and arp dst host $guest_ip" >/tmp/garp.out 2>&1 ||
    { cat /tmp/garp.out; fail "no gratuitous ARP from the guest on the destination's TAP"; }
ok "the guest announced itself on the destination: $(cat /tmp/garp.out)"

vmm_step done /tmp/dst.console
QEMU_PID=$SRC_QEMU
vmm_stop_qemu
QEMU_PID=$DST_QEMU
vmm_stop_qemu
kill -TERM "$SRC_PID"
wait "$SRC_PID" || fail "the source vduse-net exited with $?"
stop_dev
exit 0
