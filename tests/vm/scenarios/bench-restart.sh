# bench-restart.sh - how long the kernel's driver goes without frames when
# vduse-net is killed with -9 and started again with --state-file: from
# the kill to the take-over line, and to the first ping reply through the
# new process (the TAP made again and given its address by this script,
# as restart.sh does). Several rounds; prints a table, fails only if the
# restart does not work, never on time. The clock is /proc/uptime (10 ms),
# the reply is polled by one ping a time (a few ms each under TCG).
. /lib.sh

ROUNDS=5
S=/tmp/vnet0.state
RES=/tmp/restart.results
: >$RES

# now: seconds since boot, 10 ms resolution (busybox date has no %N).
now() {
    cut -d ' ' -f 1 /proc/uptime
}

# tap_up: the TAP as an IP endpoint (its MAC fixed: the guest caches it).
tap_up() {
    $IP link set tap0 address 02:00:00:00:00:99
    $IP addr add 10.0.0.2/24 dev tap0
    $IP link set tap0 up
}

start_dev --name vnet0 --tap tap0 --state-file $S
dev=$(dev_netdev)
move_to_ns "$dev" a 10.0.0.1/24
tap_up
wait_for 10 sh -c "$IP netns exec a $IP link show $dev | grep -q LOWER_UP" ||
    fail "link not up"
check "ping before" ping -c 2 -W 5 10.0.0.1
wait_for 5 test -s $S || fail "no state file"

round=1
while [ $round -le $ROUNDS ]; do
    t0=$(now)
    kill -9 "$DEV_PID"
    wait "$DEV_PID" 2>/dev/null
    DEV_LOG=/tmp/vduse-net.restart.$round
    vduse-net --name vnet0 --tap tap0 --state-file $S >"$DEV_LOG.out" 2>"$DEV_LOG.err" &
    DEV_PID=$!
    wait_for 20 grep -q 'taken over' "$DEV_LOG.out" || { dev_log; fail "no take-over"; }
    t1=$(now)
    tap_up
    tries=0
    until ping -c 1 -W 1 10.0.0.1 >/dev/null 2>&1; do
        tries=$((tries + 1))
        [ $tries -lt 100 ] || fail "no reply after the restart"
    done
    t2=$(now)
    echo "$round $t0 $t1 $t2" >>$RES
    ok "round $round: taken over after $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }') s, first reply after $(awk -v a="$t0" -v b="$t2" 'BEGIN { print b - a }') s"
    round=$((round + 1))
done
stop_dev

echo "BENCH: restart: kill -9, then vduse-net --state-file again ($ROUNDS rounds, kernel $(uname -r), TCG)"
echo "BENCH: round  to take-over (s)  to first reply (s)"
awk '{ printf "BENCH: %5d  %16.2f  %18.2f\n", $1, $3 - $2, $4 - $2
       a += $3 - $2; b += $4 - $2 }
     END { printf "BENCH: mean   %16.2f  %18.2f\n", a / NR, b / NR }' $RES
exit 0
