# Makefile - convenience targets over meson/ninja, in the manner of QEMU's
#
#   make            build (runs ./configure first if needed)
#   make check      build and run every test (unit and VM)
#   make check-unit build and run the host-level tests only
#   make demo       boot the test VM and show vduse-net serving a device
#   make install    install under the prefix ./configure was given
#                   (DESTDIR=... to stage it elsewhere)
#   make clean      remove what the build produced

BUILD ?= build
MESON_TEST_ARGS ?=

.PHONY: all check check-unit demo install clean distclean

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

clean:
	-ninja -C $(BUILD) clean

distclean:
	rm -rf $(BUILD)
