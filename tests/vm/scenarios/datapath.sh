# datapath.sh - the virtio_vdpa netdev in namespace "a", the TAP in the
# root namespace: pings up to the MTU, 200 MB of TCP each way, offloads,
# the capture file read back, and the counters at exit. Three times: with
# packed rings (offered by default, and Linux takes them), with split rings
# (--features -ring-packed), and with split rings without MRG_RXBUF, where
# Linux posts its 17-descriptor "big packets" chains, of which the pair
# maps only what a frame needs; each run checks what the driver negotiated.
. /lib.sh

# datapath LAYOUT [OPTION...]: the whole run, vduse-net started with OPTIONs;
# LAYOUT is packed, split, or split-big (split, MRG_RXBUF not negotiated).
datapath() {
    layout=$1
    shift
    start_dev --name vnet0 --tap tap0 --mtu 9000 --pcap /tmp/cap.pcap "$@"
    dev=$(dev_netdev)
    check_ring_layout "${layout%-big}"
    if [ "$layout" = split-big ]; then
        f=$(cat /sys/bus/virtio/drivers/virtio_net/virtio*/features)
        [ "$(echo "$f" | cut -c16)" = 0 ] ||
            fail "the driver negotiated MRG_RXBUF: $f"
        ok "no MRG_RXBUF: big-packet chains"
    fi
    move_to_ns "$dev" a 10.0.0.1/24
    in_ns a $IP link set "$dev" mtu 9000
    $IP addr add 10.0.0.2/24 dev tap0
    $IP link set tap0 up
    wait_for 10 sh -c "$IP netns exec a $IP link show $dev | grep -q LOWER_UP" ||
        fail "link of $dev not up once the TAP is"
    ok "link up follows the TAP"

    for size in 56 1472 4000 8972; do
        check "ping -s $size" ping -c 2 -W 5 -s $size 10.0.0.1
        check "ping -s $size from the guest side" in_ns a ping -c 2 -W 5 -s $size 10.0.0.2
    done

    features=$(in_ns a ethtool -k "$dev")
    echo "$features" | grep -q "tcp-segmentation-offload: on" ||
        fail "TSO not negotiated: $features"
    ok "TSO on"

    in_ns a iperf3 -s -1 -D
    sleep 0.5
    check "200 MB TCP, TAP to guest" iperf3 -c 10.0.0.1 -n 200M
    tail -n 4 /tmp/check.out
    in_ns a iperf3 -s -1 -D
    sleep 0.5
    check "200 MB TCP, guest to TAP" iperf3 -c 10.0.0.1 -n 200M -R
    tail -n 4 /tmp/check.out

    # Idle: no busy loop. CPU time of every thread over 3 s (clock ticks).
    cpu() { awk '{ print $14 + $15 }' /proc/"$DEV_PID"/stat; }
    before=$(cpu)
    sleep 3
    idle=$(($(cpu) - before))
    [ "$idle" -le 5 ] || fail "vduse-net used $idle ticks in 3 idle seconds"
    ok "idle: $idle clock ticks in 3 s"

    stop_dev
    check "counters printed" grep -q "pair 0: tx [1-9][0-9]* frames" "$DEV_LOG.err"
    grep "pair 0" "$DEV_LOG.err"
    check "capture has the pings" pcap-check /tmp/cap.pcap 16 icmp
    cat /tmp/check.out
    $IP netns del a
    rm -f /tmp/cap.pcap
}

datapath packed
datapath split --features -ring-packed
datapath split-big --features -ring-packed,-mrg-rxbuf
exit 0
