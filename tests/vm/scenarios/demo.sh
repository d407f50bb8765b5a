# demo.sh - what `make demo` shows: vduse-net serving a virtio-net device
# to the kernel's own driver, its TAP on a bridge, ping and iperf3 through
# it, and the device's counters at the end.
. /lib.sh

echo "== kernel $(uname -r) ($VM_KERNEL kernel)"
$IP link add br0 type bridge
$IP addr add 192.168.50.1/24 dev br0
echo "== vduse-net --name demo0 --tap tap0 --bridge br0 --mtu 9000"
start_dev --name demo0 --tap tap0 --bridge br0 --mtu 9000
dev=$(dev_netdev)
echo "== the device, as the vDPA bus and the virtio-net driver see it"
$VDPA dev show demo0
$VDPA dev config show demo0
move_to_ns "$dev" guest 192.168.50.2/24
wait_for 10 sh -c "$IP netns exec guest $IP link show $dev | grep -q LOWER_UP" ||
    fail "link of $dev not up"
in_ns guest $IP -br addr show "$dev"
echo "== ping through the bridge, the TAP and the device"
check "ping" ping -c 3 -s 1400 192.168.50.2
cat /tmp/check.out
echo "== iperf3, 5 s each way"
in_ns guest iperf3 -s -1 -D
sleep 0.5
check "iperf3 host to device" iperf3 -c 192.168.50.2 -t 5
grep -E "sender|receiver" /tmp/check.out
in_ns guest iperf3 -s -1 -D
sleep 0.5
check "iperf3 device to host" iperf3 -c 192.168.50.2 -t 5 -R
grep -E "sender|receiver" /tmp/check.out
echo "== stopping vduse-net (SIGTERM): its counters"
stop_dev
grep "pair" "$DEV_LOG.err"
exit 0
