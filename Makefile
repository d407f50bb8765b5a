# Makefile - convenience targets over meson/ninja, in the manner of QEMU's
#
#   make            build (runs ./configure first if needed)
#   make check      build and run every test (unit and VM)
#   make check-unit build and run the host-level tests only
#   make demo       boot the test VM and show vduse-net serving a device
#   make install    install under the prefix ./configure was given
#                   (DESTDIR=... to stage it elsewhere)
#   make fuzz       build the libFuzzer targets (clang, ASan, UBSan) in
#                   build-fuzz and run each for FUZZ_SECONDS (default 60)
#                   with seed FUZZ_SEED (default 1); FUZZ_TARGETS to pick
#   make bench      build and run the benchmarks (host level, then VM level;
#                   docs/performance.md); BENCH_SECONDS=1 BENCH_VM_SECONDS=2
#                   for a short run; the VM ones need VDUSE_NET_TEST_KERNEL
#   make clean      remove what the build produced

BUILD ?= build
MESON_TEST_ARGS ?=
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_SEED ?= 1
FUZZ_TARGETS ?= virtq ctrlvq state mgmt datapath
# Seconds per host-level row, and per iperf3 run in the VM.
BENCH_SECONDS ?= 2
BENCH_VM_SECONDS ?= 5

.PHONY: all check check-unit demo install fuzz bench clean distclean

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

install: all
	meson install -C $(BUILD) --no-rebuild $(if $(DESTDIR),--destdir $(DESTDIR))

fuzz: $(FUZZ_BUILD)/build.ninja
	ninja -C $(FUZZ_BUILD)
	tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_SEED) $(FUZZ_TARGETS)

$(FUZZ_BUILD)/build.ninja:
	./configure --builddir=$(FUZZ_BUILD) --enable-fuzzing

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
	rm -rf $(BUILD) $(FUZZ_BUILD)
