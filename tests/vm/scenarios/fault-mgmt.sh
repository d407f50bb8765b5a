# fault-mgmt.sh - the management socket under abuse while the guest's
# driver makes events: 100 clients at once, a line of exactly 1 MiB (the
# newline not counted) and one a byte over, clients that ask and never read. The daemon answers
# every polite client, refuses the long line or hangs up on the one over
# the bound, drops the clients that do not read once 4 MiB waits for them,
# and keeps serving the device (ping) and the others, idle afterwards,
# its memory back where it was.
. /lib.sh

M=$R/m.sock
start_dev --name vnet0 --tap tap0 --mgmt $M
dev=$(dev_netdev)
move_to_ns "$dev" a 10.0.0.1/24
$IP addr add 10.0.0.2/24 dev tap0
$IP link set tap0 up
wait_for 10 sh -c "$IP netns exec a $IP link show $dev | grep -q LOWER_UP" ||
    fail "link not up"
check "ping before" ping -c 2 -W 5 10.0.0.1
rss() { awk '/^VmRSS/ { print $2 }' /proc/"$DEV_PID"/status; }
rss0=$(rss)

# Events all along: the driver changes its MAC through the control queue.
(
    i=0
    while [ -e /tmp/churn ]; do
        i=$(((i + 1) % 200))
        in_ns a $IP link set "$dev" address "02:00:00:00:01:$(printf %02x $i)"
    done
) &
touch /tmp/churn
churn=$!
ping -i 0.2 -w 60 10.0.0.1 >/tmp/ping.out 2>&1 &

# Two clients that never read, in the background meanwhile.
mgmt-stress stall $M 60 >/tmp/stall1.out 2>&1 &
s1=$!
mgmt-stress stall $M 60 >/tmp/stall2.out 2>&1 &
s2=$!

out=$(mgmt-stress many $M 100) || fail "100 clients: $out"
ok "100 clients at once: $out"

# The bound is 1 MiB without the newline.
out=$(mgmt-stress long $M 1048577)
case $out in
'{"return"'* | '{"error"'*) ok "a line of exactly 1 MiB is answered: $out" ;;
*) fail "a line of 1 MiB: $out" ;;
esac
out=$(mgmt-stress long $M 1048578)
[ "$out" = disconnected ] || fail "a line over 1 MiB: $(echo "$out" | cut -c1-100)"
ok "a line a byte over 1 MiB: disconnected"
grep -q "line over" "$DEV_LOG.err" || fail "no log line for the long line"

for s in $s1 $s2; do
    wait $s || fail "a client that never reads was not dropped: $(cat /tmp/stall1.out /tmp/stall2.out)"
done
ok "clients that never read: $(cat /tmp/stall1.out) / $(cat /tmp/stall2.out)"
out=$(mgmt-stress many $M 100) || fail "100 clients after the abuse: $out"
ok "100 clients again: $out"
rm /tmp/churn
wait $churn
killall ping 2>/dev/null
sleep 1
got=$(grep -c 'bytes from' /tmp/ping.out)
[ "${got:-0}" -gt 0 ] || fail "no ping answered during the abuse: $(tail -n 3 /tmp/ping.out)"
ok "ping under the abuse (the MAC changing all along): $got replies"
# The guest's MAC changed under the host's neighbour entry, which may
# still name an older one (the device filters those frames): ask again.
$IP neigh flush dev tap0
check "ping after" ping -c 2 -W 5 10.0.0.1
kill -0 "$DEV_PID" || fail "vduse-net died"
cpu() { awk '{ print $14 + $15 }' /proc/"$DEV_PID"/stat; }
before=$(cpu)
sleep 2
used=$(($(cpu) - before))
[ "$used" -le 10 ] || fail "vduse-net used $used ticks in 2 idle s"
rss1=$(rss)
ok "idle afterwards ($used ticks in 2 s); VmRSS $rss0 kB before, $rss1 kB after"
[ "$rss1" -le $((rss0 + 16384)) ] || fail "VmRSS grew from $rss0 to $rss1 kB"
stop_dev
exit 0
