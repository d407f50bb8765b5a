# Makefile - convenience targets over meson/ninja, in the manner of QEMU's
#
#   make            build (runs ./configure first if needed)
#   make check      build and run every test (unit and VM)
#   make check-unit build and run the host-level tests only
#   make demo       boot the test VM and show vduse-net serving a device
#   make bench      build and run the benchmarks (host level, then VM level;
#                   docs/performance.md); BENCH_SECONDS=1 BENCH_VM_SECONDS=2
#                   for a short run; the VM ones need VDUSE_NET_TEST_KERNEL
#   make clean      remove what the build produced

BUILD ?= build
MESON_TEST_ARGS ?=
# Seconds per host-level row, and per iperf3 run in the VM.
BENCH_SECONDS ?= 2
BENCH_VM_SECONDS ?= 5

.PHONY: all check check-unit demo bench clean distclean

all: $(BUILD)/build.ninja
	ninja -C $(BUILD)

$(BUILD)/build.ninja:
	./configure --builddir=$(BUILD)

check: all
	meson test -C $(BUILD) --print-errorlogs $(MESON_TEST_ARGS)

check-unit: all
	meson test -C $(BUILD) --print-errorlogs --suite unit $(MESON_TEST_ARGS)

demo: all
	tests/vm/demo.sh $(BUILD)/vduse-net

# The suite bench is outside meson's default test setup: only this runs it.
# Each benchmark prints its table; none fails on speed.
bench: all
	BENCH_SECONDS=$(BENCH_SECONDS) \
	VDUSE_NET_VM_CMDLINE="tsc=unstable bench_seconds=$(BENCH_VM_SECONDS)" \
	VDUSE_NET_VM_TIMEOUT=560 \
	meson test -C $(BUILD) --setup bench --suite bench --print-errorlogs \
		$(MESON_TEST_ARGS)

clean:
	-ninja -C $(BUILD) clean

distclean:
	rm -rf $(BUILD)
