# vmm-newest.sh - the newest QEMU Debian ships (sid's, fetched by
# fetch-qemu.sh and run through its own loader and libraries) as the VMM:
# the checks of vmm-bookworm (vmm-lib.sh), with the control queue's group
# required in ASID 1: this QEMU shadows the control queue in an address
# space of its own when the device offers only features its shadow
# virtqueue handles (vduse-net's default with --bus vhost). No iperf3:
# this QEMU runs the nested guest about 1.6 times slower than bookworm's
# (its DHCP lease at 218 s against 136 s, /tmp/ci15), its data path is
# the same vhost-vdpa passthrough, and vmm-bookworm measures it.
# vm-qemu: newest
# vm-memory: 2048
# vm-timeout: 900
. /lib.sh
. /vmm-lib.sh

vmm_guest_checks 1 0
exit 0
