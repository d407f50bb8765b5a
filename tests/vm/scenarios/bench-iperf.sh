# bench-iperf.sh - iperf3 TCP both ways through virtio_vdpa <-> vduse-net
# <-> TAP, and through a veth pair in the same VM and the same run; one
# and two queue pairs; then the control queue's round trip (MAC and
# promiscuous changes one by one, against the same on the veth). Prints
# tables and the targets of issue 12 beside the figures; fails only if
# something does not work, never on speed.
#
# Seconds per iperf3 run: bench_seconds=N on the kernel command line
# (VDUSE_NET_VM_CMDLINE), default 5.
. /lib.sh

T=$(sed -n 's/.*bench_seconds=\([0-9]*\).*/\1/p' /proc/cmdline)
T=${T:-5}
N=1000 # control commands of each kind
RES=/tmp/bench.results
: >$RES
: >/tmp/ctrl.out

# iperf DEST STREAMS [-R]: Gbit/s at the receiver, or 0 if it failed
# twice (seen once under load: a client that never got its test started).
iperf() {
    dest=$1
    streams=$2
    shift 2
    for attempt in 1 2; do
        if timeout $((T + 30)) iperf3 -c "$dest" -t "$T" -P "$streams" -f g "$@" \
            >/tmp/iperf.out 2>&1; then
            # The sender's retransmissions, for measure().
            grep sender /tmp/iperf.out | tail -n 1 |
                awk '{ for (i = 1; i <= NF; i++) if ($i == "Gbits/sec") print $(i + 1) }' \
                >/tmp/iperf.retr
            grep receiver /tmp/iperf.out | tail -n 1 |
                awk '{ for (i = 1; i <= NF; i++) if ($i == "Gbits/sec") print $(i - 1) }'
            return
        fi
        echo "iperf3 -c $dest -P $streams $* failed (attempt $attempt):" >&2
        tail -n 3 /tmp/iperf.out >&2
        sleep 1
    done
    echo 0
}

# drops: frames tap0 dropped on its way to vduse-net (its queue full).
drops() {
    cat /sys/class/net/tap0/statistics/tx_dropped 2>/dev/null || echo 0
}

# measure NAME DEST STREAMS: both ways, recorded as "NAME STREAMS IN OUT"
# (IN: into the guest side, OUT: out of it).
measure() {
    : >/tmp/iperf.retr
    d0=$(drops)
    in=$(iperf "$2" "$3")
    d1=$(drops)
    rin=$(cat /tmp/iperf.retr)
    out=$(iperf "$2" "$3" -R)
    rout=$(cat /tmp/iperf.retr)
    echo "$1 $3 ${in:-0} ${out:-0}" >>$RES
    ok "$1, $3 stream(s): TAP->guest $in Gbit/s (${rin:-?} retransmits, $((d1 - d0)) frames dropped by tap0), guest->TAP $out Gbit/s (${rout:-?} retransmits)"
}

# get NAME STREAMS FIELD: a recorded figure (FIELD 3: in, 4: out).
get() {
    awk -v n="$1" -v s="$2" -v f="$3" '$1 == n && $2 == s { print $f }' $RES
}

# ratio A B: A / B with two decimals (0 when B is 0).
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "0.00" }'
}

# verdict VALUE LIMIT: met if VALUE >= LIMIT.
verdict() {
    awk -v v="$1" -v l="$2" 'BEGIN { print (v >= l) ? "met" : "NOT MET" }'
}

# The veth pair: veth0 here, veth1 in namespace b, each side an endpoint.
$IP link add veth0 type veth peer name veth1 || fail "veth pair"
move_to_ns veth1 b 10.1.0.1/24
$IP addr add 10.1.0.2/24 dev veth0
$IP link set veth0 up
in_ns b iperf3 -s -D
check "ping through the veth" ping -c 2 -W 5 10.1.0.1

# start_vduse QUEUES: the device, its netdev in namespace a, the TAP here.
start_vduse() {
    start_dev --name vnet0 --tap tap0 --queues "$1"
    dev=$(dev_netdev)
    move_to_ns "$dev" a 10.0.0.1/24
    $IP addr add 10.0.0.2/24 dev tap0
    $IP link set tap0 up
    wait_for 10 sh -c "$IP netns exec a $IP link show $dev | grep -q LOWER_UP" ||
        fail "link of $dev not up"
    check "ping through vduse-net ($1 queue pair(s))" ping -c 2 -W 5 10.0.0.1
    rm -f /tmp/iperf-a.pid
    in_ns a iperf3 -s -D -I /tmp/iperf-a.pid
    wait_for 5 test -s /tmp/iperf-a.pid || fail "iperf3 server in a"
}

# stop_vduse: the iperf3 server in a, then the device; its counters
# (dropped frames on either side explain a TCP stream that stalls).
stop_vduse() {
    kill "$(cat /tmp/iperf-a.pid)" 2>/dev/null
    stop_dev
    grep ' pair [0-9]*: ' "$DEV_LOG.err" | sed 's/^/counters: /'
}

start_vduse 1
measure veth 10.1.0.1 1
measure vduse-1 10.0.0.1 1
measure vduse-1 10.0.0.1 4
measure veth 10.1.0.1 4

# The control queue: each command timed by ctrl-rtt (tests/bench), MAC
# changes and promiscuous on/off (no config-space change: tells a cost of
# the MAC command from one of every command); the same on the veth is the
# cost of the ioctl and rtnetlink alone.
for what in mac promisc; do
    in_ns a ctrl-rtt $what "$dev" $N >>/tmp/ctrl.out ||
        fail "$what through the control queue"
    in_ns b ctrl-rtt $what veth1 $N >>/tmp/ctrl.out || fail "$what on the veth"
done
ok "control queue timed"
stop_vduse

start_vduse 2
combined=$(in_ns a ethtool -l "$dev" | awk '/^Current/ { c = 1 } c && /^Combined/ { print $2 }')
[ "$combined" = 2 ] || check "two combined channels" in_ns a ethtool -L "$dev" combined 2
measure vduse-2 10.0.0.1 4
measure veth 10.1.0.1 4
stop_vduse

# The veth at 4 streams ran twice, beside each device: the mean of the
# runs that worked.
v4in=$(awk '$1 == "veth" && $2 == 4 && $3 > 0 { s += $3; n++ } END { printf "%.2f", n ? s / n : 0 }' $RES)
v4out=$(awk '$1 == "veth" && $2 == 4 && $4 > 0 { s += $4; n++ } END { printf "%.2f", n ? s / n : 0 }' $RES)
v1in=$(get veth 1 3)
v1out=$(get veth 1 4)

echo "BENCH: VM level: iperf3 TCP, $T s per run, kernel $(uname -r), $(nproc) vCPUs (TCG), MTU 1500"
echo "BENCH: path               streams  TAP->guest  guest->TAP   (Gbit/s; veth: into / out of namespace b)"
while read -r name streams in out; do
    case $name in
    veth) label="veth" ;;
    vduse-1) label="vduse-net 1 pair" ;;
    vduse-2) label="vduse-net 2 pairs" ;;
    esac
    printf 'BENCH: %-18s %7s  %10s  %10s\n' "$label" "$streams" "$in" "$out"
done <$RES
r1in=$(ratio "$(get vduse-1 1 3)" "$v1in")
r1out=$(ratio "$(get vduse-1 1 4)" "$v1out")
r4in=$(ratio "$(get vduse-1 4 3)" "$v4in")
r4out=$(ratio "$(get vduse-1 4 4)" "$v4out")
r24in=$(ratio "$(get vduse-2 4 3)" "$(get vduse-1 4 3)")
r24out=$(ratio "$(get vduse-2 4 4)" "$(get vduse-1 4 4)")
echo "BENCH: targets (issue 12), ratios from this run:"
printf 'BENCH:   %-44s %5sx %s\n' "TAP->guest >= 0.6x veth (1 pair, 1 stream)" "$r1in" "$(verdict "$r1in" 0.6)"
printf 'BENCH:   %-44s %5sx %s\n' "guest->TAP >= 0.6x veth (1 pair, 1 stream)" "$r1out" "$(verdict "$r1out" 0.6)"
printf 'BENCH:   %-44s %5sx %s\n' "TAP->guest >= 0.6x veth (1 pair, 4 streams)" "$r4in" "$(verdict "$r4in" 0.6)"
printf 'BENCH:   %-44s %5sx %s\n' "guest->TAP >= 0.6x veth (1 pair, 4 streams)" "$r4out" "$(verdict "$r4out" 0.6)"
printf 'BENCH:   %-44s %5sx %s\n' "2 pairs >= 1 pair, TAP->guest (4 streams)" "$r24in" "$(verdict "$r24in" 1)"
printf 'BENCH:   %-44s %5sx %s\n' "2 pairs >= 1 pair, guest->TAP (4 streams)" "$r24out" "$(verdict "$r24out" 1)"
echo "BENCH: control queue: $N commands each, timed one by one in the guest (ioctl to return):"
while read -r what ifname n p50 p99 max mean _; do
    printf 'BENCH:   %-8s %-6s %s %s %s %s %s us\n' "$what" "$ifname" "$n" "$p50" "$p99" "$max" "$mean"
done </tmp/ctrl.out
exit 0
