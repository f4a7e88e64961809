# Thin entry points over CMake; see README.md.
#
#   make run [ARCH=x86_64|aarch64] [BUILD=debug|release] [CMDLINE="..."]
#            [IMAGE=FILE|none] [SHARE=DIR [ROOT=virtiofs]]
#                       boots the cowfs image build/image/root.img as the
#                       root filesystem (made by `make image` when missing
#                       or older than image/root/); IMAGE=FILE another
#                       cowfs image, IMAGE=none a ramfs root, no disk
#                       SHARE: the host directory DIR as virtio-fs tag
#                       "share" (mount -t virtiofs share /mnt); with
#                       ROOT=virtiofs it is the root filesystem
#   make check          host suites (ASan+UBSan, TSan for the concurrent
#                       ones, a short fuzz run) and in-kernel
#                       suites on both architectures under QEMU/TCG
#   make stress [STRESS_CUTS=N]
#                       power cuts under QEMU: SIGKILL while karst writes,
#                       boot again and check, N per architecture (500;
#                       make check: 20); prints how many survived
#   make format         clang-format every source file
#   make kernel         build the kernel image only
#   make image          (re)build build/image/root.img from image/root/ with
#                       mkcowfs: the same tree gives the same bytes
#   make bench          print the benchmark figures (never fails on speed):
#                       kernels under TCG (sched, vfs, blk, vm), host ARC/VFS/GEOM
#   make coverage       line coverage of fs/vfs by its host suite (gcovr)
#   make fuzz [FUZZ_TIME=SECONDS]
#                       libFuzzer targets (clang) in build/fuzz/: cowfs images,
#                       GPT/MBR/label tasting, virtqueue used ring; each runs
#                       FUZZ_TIME s (default 60; make check: 8 s, seeds only)
#   make compare        karst beside a Debian Linux guest on the same QEMU:
#                       table, CSV and PNG in build/compare/<arch>/
#                       (COMPARE_ARGS="--runs 3 -w boot,idle" and so on)
#
# Builds go to build/<arch>/ (debug), build/<arch>-release/ and
# build/<arch>-nocowfs/ (release, -DKARST_WITH_COWFS=OFF), host builds
# to build/host/, build/host-san/ (ASan+UBSan) and build/host-tsan/
# (ThreadSanitizer, for the suites labelled "concurrent").

SHELL := /bin/bash
ARCH ?= x86_64
BUILD ?= debug
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMDLINE ?=
FUZZ_TIME ?= 60
FUZZ_FLAGS ?=
STRESS_CUTS ?= 500
SHARE ?=
ROOT ?=
# The root image `make run` boots (ROOT=virtiofs: none by default).
ROOT_IMAGE := build/image/root.img
ifeq ($(ROOT),virtiofs)
IMAGE ?= none
else
IMAGE ?= $(ROOT_IMAGE)
endif

ifeq ($(filter $(ARCH),x86_64 aarch64),)
$(error ARCH must be x86_64 or aarch64, not '$(ARCH)')
endif
ifeq ($(filter $(BUILD),debug release),)
$(error BUILD must be debug or release, not '$(BUILD)')
endif

BUILD_TYPE_debug := Debug
BUILD_TYPE_release := Release
DIR_debug = build/$(1)
DIR_release = build/$(1)-release
kdir = $(call DIR_$(2),$(1))

.PHONY: all deps kernel image run check check-host check-kernel stress format bench coverage \
	compare compare-smoke fuzz clean FORCE

all: kernel

deps:
	@tools/setup-deps --quiet

# $(call build_kernel,arch,build)
define build_kernel
	@cmake -S . -B $(call kdir,$(1),$(2)) -DKARST_ARCH=$(1) \
		-DCMAKE_BUILD_TYPE=$(BUILD_TYPE_$(2)) >/dev/null
	@cmake --build $(call kdir,$(1),$(2)) -j $(JOBS)
endef

kernel: deps
	$(call build_kernel,$(ARCH),$(BUILD))

ifneq ($(ROOT),)
ifneq ($(ROOT),virtiofs)
$(error ROOT must be virtiofs (with SHARE=DIR), not '$(ROOT)')
endif
ifeq ($(SHARE),)
$(error ROOT=virtiofs needs SHARE=DIR)
endif
endif
RUN_CMDLINE = $(strip $(if $(ROOT),fstab="share / virtiofs") $(CMDLINE))
# IMAGE=FILE is the root (vtbd0) unless ROOT=virtiofs, then just a disk.
RUN_DISK = $(if $(filter none,$(IMAGE)),,$(if $(ROOT),--disk,--root-image) '$(IMAGE)')

# The root image, by tools/karst-image: image/root/ with fixed time stamps
# and modes, so the same tree gives the same bytes.
IMAGE_TREE := $(shell find image/root 2>/dev/null)
define build_image
	@cmake -S . -B build/host -DKARST_ARCH=host >/dev/null
	@cmake --build build/host -j $(JOBS) --target mkcowfs >/dev/null
	@mkdir -p $(dir $(ROOT_IMAGE))
	@tools/karst-image $(ROOT_IMAGE)
	@echo "image: $(ROOT_IMAGE) from image/root/ (xxh64 $$(xxhsum $(ROOT_IMAGE) | cut -d' ' -f1))"
endef

image: deps
	$(call build_image)

$(ROOT_IMAGE): $(IMAGE_TREE)
	$(call build_image)

run: kernel $(if $(filter $(ROOT_IMAGE),$(IMAGE)),$(ROOT_IMAGE))
	@tools/karst-run --arch $(ARCH) --build $(BUILD) $(if $(SHARE),--share '$(SHARE):share') \
		$(RUN_DISK) $(if $(RUN_CMDLINE),-e '$(RUN_CMDLINE)')

# The two architectures' kernel phases run side by side (each QEMU is one
# busy host thread), each into its own log, printed whole when both end.
check: deps
	@mkdir -p build; start=$$(date +%s); \
	timed() { t=$$(date +%s); "$${@:2}" && echo "make check: phase $$1 took $$(( $$(date +%s) - t )) s"; }; \
	mk() { $(MAKE) --no-print-directory "$$@"; }; \
	kernels() { timed check-kernel-x86_64 mk check-kernel ARCH=x86_64 >build/check-x86_64.log 2>&1 & a=$$!; \
		timed check-kernel-aarch64 mk check-kernel ARCH=aarch64 >build/check-aarch64.log 2>&1 & b=$$!; \
		wait $$a; ra=$$?; wait $$b; rb=$$?; \
		cat build/check-x86_64.log build/check-aarch64.log; [ $$ra = 0 ] && [ $$rb = 0 ]; }; \
	{ timed check-host mk check-host && timed kernels kernels && \
	  timed compare-smoke mk compare-smoke; } 2>&1 | tee build/check.log; \
	rc=$${PIPESTATUS[0]}; \
	echo "make check: $$(( $$(date +%s) - start )) s, status $$rc" | tee -a build/check.log; \
	tools/check-summary build/check.log $$rc

check-host: deps
	@cmake -S . -B build/host -DKARST_ARCH=host >/dev/null
	@cmake --build build/host -j $(JOBS)
	@cmake -S . -B build/host-san -DKARST_ARCH=host -DKARST_SANITIZE=address,undefined >/dev/null
	@cmake --build build/host-san -j $(JOBS)
	@cd build/host-san && ctest --output-on-failure -j $(JOBS)
	@cmake -S . -B build/host-tsan -DKARST_ARCH=host -DKARST_SANITIZE=thread >/dev/null
	@cmake --build build/host-tsan -j $(JOBS) --target karst_concurrent_tests
	@cd build/host-tsan && ctest --output-on-failure -j $(JOBS) -L concurrent
	@$(MAKE) --no-print-directory fuzz FUZZ_TIME=8 FUZZ_FLAGS=--fresh

fuzz: deps
	@CC=clang cmake -S . -B build/fuzz -DKARST_ARCH=host -DKARST_FUZZ=ON \
		-DKARST_SANITIZE=address,undefined,fuzzer-no-link \
		"-DKARST_ONLY=fs/arc;fs/cowfs;fs/vfs;pagecache;tests/unit/vm;tests/fuzz" >/dev/null
	@cmake --build build/fuzz -j $(JOBS) --target fuzz_cowfs fuzz_geom fuzz_virtq
	@tests/fuzz/run-fuzz $(FUZZ_FLAGS) build/fuzz $(FUZZ_TIME)

check-kernel: deps
	$(call build_kernel,$(ARCH),release)
	$(call build_kernel,$(ARCH),debug)
	@tests/kernel/run-ktests --arch $(ARCH) --build release --suite-only
	@tests/kernel/run-ktests --arch $(ARCH) --build debug
	@cmake -S . -B build/host -DKARST_ARCH=host >/dev/null
	@cmake --build build/host -j $(JOBS) --target mkcowfs cowfs >/dev/null
	@tests/kernel/run-powercut --arch $(ARCH) --build debug --cuts 20
	@cmake -S . -B build/$(ARCH)-nocowfs -DKARST_ARCH=$(ARCH) -DCMAKE_BUILD_TYPE=Release \
		-DKARST_WITH_COWFS=OFF >/dev/null
	@cmake --build build/$(ARCH)-nocowfs -j $(JOBS)
	@tests/kernel/run-ktests --arch $(ARCH) --without-cowfs build/$(ARCH)-nocowfs

stress: deps
	$(call build_kernel,x86_64,debug)
	$(call build_kernel,aarch64,debug)
	@cmake -S . -B build/host -DKARST_ARCH=host >/dev/null
	@cmake --build build/host -j $(JOBS) --target mkcowfs cowfs >/dev/null
	@tests/kernel/run-powercut --arch all --build debug --cuts $(STRESS_CUTS)

bench: deps
	$(call build_kernel,x86_64,release)
	$(call build_kernel,aarch64,release)
	@cmake -S . -B build/host-release -DKARST_ARCH=host -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build build/host-release -j $(JOBS) --target arcsim vfs_bench bench_geom geomtool >/dev/null
	@tools/karst-bench
	@echo "== host (release): ARC"
	@build/host-release/tools/arcsim/arcsim --bench
	@echo "== host (release): ARC, LRU and OPT on ../shared/traces/cloudPhysicsIO.txt"
	@build/host-release/tools/arcsim/arcsim ../shared/traces/cloudPhysicsIO.txt
	@echo "== host (release): VFS"
	@build/host-release/tests/unit/vfs/vfs_bench 2
	@echo "== host (release): GEOM"
	@build/host-release/tests/unit/geom/bench_geom

compare: deps
	@tools/setup-deps --quiet --compare
	$(call build_kernel,$(ARCH),release)
	@cmake -S . -B build/host -DKARST_ARCH=host >/dev/null
	@cmake --build build/host -j $(JOBS) --target mkcowfs
	@tools/karst-compare --arch $(ARCH) $(COMPARE_ARGS)

# One boot of each guest, boot and idle figures only: keeps karst-compare
# working (the Linux side is skipped, with its reason, when the Debian
# packages cannot be fetched).
compare-smoke: deps
	$(call build_kernel,x86_64,release)
	@tools/karst-compare --arch x86_64 --smoke

coverage: deps
	@cmake -S . -B build/host-cov -DKARST_ARCH=host -DKARST_COVERAGE=ON >/dev/null
	@cmake --build build/host-cov -j $(JOBS) --target coverage

format:
	@git ls-files '*.c' '*.h' | xargs clang-format -i

clean:
	rm -rf build/x86_64* build/aarch64* build/host*
