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
#   make clean      remove what the build produced

BUILD ?= build
MESON_TEST_ARGS ?=
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_SEED ?= 1
FUZZ_TARGETS ?= virtq ctrlvq state mgmt datapath

.PHONY: all check check-unit demo install fuzz clean distclean

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

clean:
	-ninja -C $(BUILD) clean

distclean:
	rm -rf $(BUILD) $(FUZZ_BUILD)
