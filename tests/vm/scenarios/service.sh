# service.sh - vduse-net as systemd runs it (vduse-net@.service), without
# systemd: service-run plays the notify socket and the journal.
# READY=1 comes only once the netdev or vhost-vdpa node exists, with the
# STATUS line, STOPPING=1 on SIGTERM; log messages in the journal carry
# VDUSE_NET_DEVICE; the capabilities the man page names are enough
# (CAP_NET_ADMIN, CAP_CHOWN for mgmt-group) and needed; a --config file
# gives the same device as the same options on the command line.
. /lib.sh

# run_service LOG ARGS...: vduse-net under service-run, in the background
# (SVC), with only the unit's capabilities when setpriv is here.
# (util-linux's, by its path: busybox's sh would run its own applet.)
SETPRIV=/usr/bin/setpriv
caps=
if [ -x $SETPRIV ]; then
    caps="$SETPRIV --bounding-set -all,+net_admin,+chown --"
else
    echo "# no setpriv in the VM: capabilities not limited"
fi
run_service() {
    log=$1
    shift
    : >"$log"
    $caps service-run -j "$log" vduse-net "$@" >"$log.out" 2>&1 &
    SVC=$!
}

# stop_service LOG: SIGTERM, exit 0, STOPPING=1 after READY=1.
stop_service() {
    kill -TERM $SVC
    wait $SVC
    rc=$?
    [ $rc = 0 ] || { cat "$1" "$1.out"; fail "exit $rc after SIGTERM"; }
    grep -n '^notify: ' "$1" | tail -n 1 | grep -q 'notify: STOPPING=1 | STATUS=stopping$' ||
        { cat "$1"; fail "no STOPPING=1 after the last notification"; }
    ok "SIGTERM: STOPPING=1 sent, exit 0"
}

echo "netops:x:4242:" >>/etc/group

# A netdev: READY=1 once it exists.
L=$R/svc.log
run_service $L --name vnet0 --tap tap0 --mgmt $R/vnet0.sock --mgmt-group netops
wait_for 30 grep -q '^notify: READY=1' $L || { cat $L $L.out; fail "no READY=1"; }
cat $L
ready=$(grep '^notify: READY=1' $L)
dev=$(echo "$ready" | sed -n 's/^notify: READY=1 | STATUS=ready: netdev \([^ ]*\)$/\1/p')
[ -n "$dev" ] || fail "READY=1 without STATUS=ready: netdev NAME: $ready"
[ "$(grep -c '^notify: READY=1' $L)" = 1 ] || fail "READY=1 more than once"
grep '^ready-snapshot: ' $L | grep -q " $dev " ||
    fail "READY=1 came before netdev $dev existed: $(grep '^ready-snapshot' $L)"
ok "READY=1 with STATUS=ready: netdev $dev, which existed when it arrived"
grep -q "vnet0 ready: netdev $dev" $L.out || fail "no ready line on stdout: $(cat $L.out)"
[ "$(stat -c %G $R/vnet0.sock)" = netops ] || fail "mgmt-group under CAP_CHOWN: $(ls -l $R/vnet0.sock)"
ok "only CAP_NET_ADMIN and CAP_CHOWN: device up, socket of group netops"
# A library's message in the journal, with the device's name.
vduse-netctl $R/vnet0.sock status >/dev/null || fail "vduse-netctl status"
wait_for 5 grep -q '^journal: .*MESSAGE=mgmt: client [0-9]*: pid [0-9]* uid 0 connected' $L ||
    { cat $L; fail "no journal message for the connection"; }
grep '^journal: .*MESSAGE=mgmt: client' $L | grep -q '| VDUSE_NET_DEVICE=vnet0' ||
    fail "journal message without VDUSE_NET_DEVICE=vnet0: $(grep '^journal:' $L)"
ok "journal: $(grep '^journal: .*MESSAGE=mgmt: client' $L | head -n 1 | cut -c1-160)"
stop_service $L

# A vhost-vdpa node: READY=1 once /dev/vhost-vdpa-N exists.
run_service $L --name vm0 --tap tap0 --bus vhost
wait_for 30 grep -q '^notify: READY=1' $L || { cat $L $L.out; fail "no READY=1 (vhost)"; }
node=$(grep '^notify: READY=1' $L | sed -n 's/^notify: READY=1 | STATUS=ready: \/dev\/\(vhost-vdpa-[0-9]*\)$/\1/p')
[ -n "$node" ] || fail "vhost: $(grep '^notify:' $L)"
grep '^ready-snapshot: ' $L | grep -q "dev:.* $node" ||
    fail "READY=1 came before /dev/$node existed: $(grep '^ready-snapshot' $L)"
ok "READY=1 with STATUS=ready: /dev/$node, which existed when it arrived"
stop_service $L

# The capabilities are needed, not only enough: one line, exit 1 (besides
# the notice that this kernel cannot load the RSS steering program).
errors() { grep -v -c 'RSS not offered' "$1"; }
if [ -n "$caps" ]; then
    $SETPRIV --bounding-set -all,+net_admin -- vduse-net --name vnet0 --tap tap0 \
        --mgmt $R/vnet0.sock --mgmt-group netops >/tmp/nocap.out 2>&1
    rc=$?
    [ $rc = 1 ] && [ "$(errors /tmp/nocap.out)" = 1 ] ||
        fail "mgmt-group without CAP_CHOWN: exit $rc: $(cat /tmp/nocap.out)"
    ok "without CAP_CHOWN, mgmt-group: $(cat /tmp/nocap.out)"
    $SETPRIV --bounding-set -all,+chown -- vduse-net --name vnet0 --tap tap0 \
        >/tmp/nocap.out 2>&1
    rc=$?
    [ $rc = 1 ] && [ "$(errors /tmp/nocap.out)" = 1 ] ||
        fail "without CAP_NET_ADMIN: exit $rc: $(cat /tmp/nocap.out)"
    ok "without CAP_NET_ADMIN: $(cat /tmp/nocap.out)"
    [ "$(ls /dev/vduse)" = control ] || fail "left behind: $(ls /dev/vduse)"
fi

# A configuration file gives the same device as the same options.
mkdir -p /etc/vduse-net
cat >/etc/vduse-net/vnet1.conf <<CONF
# as vduse-net@vnet1.service reads it
[vduse-net]
name = vnet1
tap = tap1
mtu = 9000
queues = 2
mac = 02:00:00:00:00:31
features = -guest-ecn,-host-ecn
mgmt = $R/vnet1.sock
CONF
# device_of SOCKET: the device's identity and the driver's view of it.
device_of() {
    vduse-netctl --json "$1" state | grep -o '"device":{[^}]*}'
    vduse-netctl --json "$1" status | sed 's/"netdev":"[^"]*"//'
    $IP link show "$(vduse-netctl --json "$1" status | sed -n 's/.*"netdev":"\([^"]*\)".*/\1/p')" |
        grep -o -e 'mtu [0-9]*' -e 'link/ether [0-9a-f:]*'
    ls /sys/class/net/"$(vduse-netctl --json "$1" status | sed -n 's/.*"netdev":"\([^"]*\)".*/\1/p')"/queues
}
run_service $L --config /etc/vduse-net/vnet1.conf
wait_for 30 grep -q '^notify: READY=1' $L || { cat $L $L.out; fail "no READY=1 (--config)"; }
device_of $R/vnet1.sock >/tmp/from-file
stop_service $L
run_service $L --name vnet1 --tap tap1 --mtu 9000 --queues 2 --mac 02:00:00:00:00:31 \
    --features -guest-ecn,-host-ecn --mgmt $R/vnet1.sock
wait_for 30 grep -q '^notify: READY=1' $L || { cat $L $L.out; fail "no READY=1 (options)"; }
device_of $R/vnet1.sock >/tmp/from-options
stop_service $L
cat /tmp/from-file
grep -q '"mtu":9000,"queue-pairs":2' /tmp/from-file || fail "the file's options not applied"
grep -q 'link/ether 02:00:00:00:00:31' /tmp/from-file || fail "the file's MAC not applied"
cmp /tmp/from-file /tmp/from-options || {
    diff /tmp/from-file /tmp/from-options
    fail "--config and the same options give different devices"
}
ok "--config /etc/vduse-net/vnet1.conf: the same device as its options"
exit 0
