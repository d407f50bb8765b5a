# vmm-guest.sh - the second-level guest's part of the VMM scenarios
#
# Runs as /scenario.sh in the guest that QEMU, inside the test VM, boots
# on a vduse-net device (vmm-lib.sh builds its initramfs: mkinitramfs.sh's
# /init, this file, lib.sh, scenario.env). The test VM reads its console:
# each step prints "GUEST-STEP NAME ..." when done, and the test VM checks
# what that step should have changed in vduse-net's shadow. A failed step
# prints FAIL and the guest powers off (VM-RESULT: FAIL).
#
# scenario.env sets GUEST_MODE and what the mode needs:
#   checks   (vmm-bookworm, vmm-newest) DHCP from the TAP side (GUEST_PEER
#            runs udhcpd), ping, iperf3 both ways for GUEST_IPERF_SECONDS
#            (figures in Gbit/s; none when 0), a MAC change to
#            GUEST_NEW_MAC, a multicast join of GUEST_GROUP,
#            `ethtool -L eth0 combined 2` when GUEST_PAIRS=2; GUEST_CTRL_VQ=0 (a device without control queue)
#            expects what cannot work without it to be refused or to stay
#            local to the guest.
#   migrate  (vmm-migrate) DHCP, then pings of GUEST_PEER, one at a time
#            0.1 s apart, until a TCP connection on port 5000 says stop
#            (after the move): "GUEST-STEP ping-done SENT ANSWERED".
# shellcheck shell=sh
. /lib.sh

dev=eth0

# step NAME [WORDS...]: tell the test VM a step is done.
step() {
    echo "GUEST-STEP $*"
}

# dhcp: a lease from udhcpd on the TAP side; address and route set by
# our own udhcpc script (busybox ships none).
dhcp() {
    cat >/tmp/udhcpc.script <<'EOF'
#!/bin/sh
case $1 in
bound | renew)
    /usr/sbin/ip addr flush dev "$interface"
    /usr/sbin/ip addr add "$ip/${mask:-24}" dev "$interface"
    echo "$ip" >/tmp/lease
    ;;
esac
EOF
    chmod +x /tmp/udhcpc.script
    check "udhcpc: a lease" udhcpc -i $dev -n -q -t 10 -T 3 -s /tmp/udhcpc.script
    step dhcp "$(cat /tmp/lease)"
}

# iperf_figure OUTPUT: the receiver's rate from iperf3 -f m, in Gbit/s
# (under TCG in TCG it is a few Mbit/s: three decimals would print 0).
iperf_figure() {
    sed -n 's/.* \([0-9.]*\) Mbits\/sec.*receiver$/\1/p' "$1" | tail -n 1 |
        awk '{ printf "%.5f", $1 / 1000 }'
}

wait_for 30 test -e /sys/class/net/$dev || fail "no $dev in the guest"
$IP link set $dev up || fail "$dev up"
echo "guest: $dev $(cat /sys/class/net/$dev/address), features $(cat /sys/class/net/$dev/device/features 2>/dev/null)"
dhcp

case $GUEST_MODE in
checks)
    check "ping $GUEST_PEER" ping -c 3 -W 5 "$GUEST_PEER"
    step ping
    t=$GUEST_IPERF_SECONDS
    if [ "$t" -gt 0 ]; then
        check "iperf3 to the TAP side" iperf3 -c "$GUEST_PEER" -t "$t" -f m --logfile /tmp/tx
        check "iperf3 from the TAP side" iperf3 -c "$GUEST_PEER" -t "$t" -f m -R --logfile /tmp/rx
        step iperf "guest->tap $(iperf_figure /tmp/tx) Gbit/s, tap->guest $(iperf_figure /tmp/rx) Gbit/s"
    fi

    check "MAC change" $IP link set $dev address "$GUEST_NEW_MAC"
    # The TAP side learns the new MAC from the guest's ARP request.
    check "ping from $GUEST_NEW_MAC" ping -c 2 -W 5 "$GUEST_PEER"
    step mac "$GUEST_NEW_MAC"

    check "join $GUEST_GROUP" $IP addr add "$GUEST_GROUP/32" dev $dev autojoin
    grep -q "$(echo "$GUEST_GROUP" | awk -F. '{ printf "%02X%02X%02X%02X", $4, $3, $2, $1 }')" \
        /proc/net/igmp || fail "$GUEST_GROUP not in /proc/net/igmp"
    step multicast "$GUEST_GROUP"

    if [ "$GUEST_PAIRS" = 2 ]; then
        check "ethtool -L $dev combined 2" ethtool -L $dev combined 2
        ethtool -l $dev | sed -n '/Current/,$p' | grep -q 'Combined:[[:space:]]*2' ||
            fail "combined is not 2: $(ethtool -l $dev)"
        check "ping on two queue pairs" ping -c 2 -W 5 "$GUEST_PEER"
        step pairs 2
    elif [ "$GUEST_CTRL_VQ" = 0 ]; then
        # Without a control queue there is one queue pair.
        if ethtool -L $dev combined 2 >/tmp/ethtool.out 2>&1; then
            fail "ethtool -L combined 2 worked without a control queue"
        fi
        ok "ethtool -L combined 2 refused: $(cat /tmp/ethtool.out)"
        step pairs 1
    fi
    ;;
migrate)
    # One ping at a time, each waiting up to 3 s for its answer: the
    # count is exact (no ping in flight when the loop ends).
    # The first answer may take a while under TCG in TCG (ARP first).
    tries=10
    until ping -c 1 -W 3 "$GUEST_PEER" >/dev/null 2>&1; do
        tries=$((tries - 1))
        [ $tries -gt 0 ] || fail "no answer from $GUEST_PEER in 10 pings"
    done
    step pinging
    # The test VM connects when the guest is on the destination.
    (nc -l -p 5000 >/dev/null 2>&1; touch /tmp/stop) &
    sent=0
    answered=0
    while [ ! -e /tmp/stop ] && [ $sent -lt 100000 ]; do
        sent=$((sent + 1))
        if ping -c 1 -W 3 "$GUEST_PEER" >/dev/null 2>&1; then
            answered=$((answered + 1))
        else
            echo "guest: ping $sent not answered at $(cut -d' ' -f1 /proc/uptime) s"
        fi
        sleep 0.1
    done
    step ping-done $sent $answered
    ;;
*)
    fail "unknown GUEST_MODE '$GUEST_MODE'"
    ;;
esac
step done
exit 0
