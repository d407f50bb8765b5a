# vmm-bookworm.sh - Debian bookworm's QEMU (7.2, this host's) as the VMM:
# inside the test VM it boots a guest of its own on a vduse-net device
# (-netdev vhost-vdpa), and what the guest does through its virtio-net
# driver is checked in vduse-net's shadow: DHCP, ping, iperf3 both ways,
# MAC change, multicast join, two queue pairs (vmm-lib.sh). QEMU 7.2
# leaves the control queue in ASID 0 (it isolates it only for x-svq=on
# setups), so the shadow is fed from ASID 0 here.
# vm-qemu: bookworm
# vm-memory: 2048
# vm-timeout: 900
. /lib.sh
. /vmm-lib.sh

vmm_guest_checks 0 3
exit 0
