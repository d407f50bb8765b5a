# vmm-newest.sh - the newest QEMU Debian ships (sid's, fetched by
# fetch-qemu.sh and run through its own loader and libraries) as the VMM:
# the checks of vmm-bookworm (vmm-lib.sh), with the control queue's group
# required in ASID 1: this QEMU shadows the control queue in an address
# space of its own when the device offers only features its shadow
# virtqueue handles (vduse-net's default with --bus vhost).
# vm-qemu: newest
# vm-memory: 2048
# vm-timeout: 600
. /lib.sh
. /vmm-lib.sh

vmm_guest_checks 1
exit 0
