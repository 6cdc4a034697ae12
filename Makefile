# Sentinel's entry points. Two commands do everything on a fresh Debian 12 machine:
#
#   make demo   install missing packages, build, make a demo model and images, run them
#   make test   install missing packages (test tools too), build, run every test: the unit
#               tests, the same tests under AddressSanitizer + UBSan, then the fuzzers briefly
#
# Other targets: deps, build, unit, asan, fuzz, bundle, clean, help. Build trees are kept between
# runs, so a second `make test` only rebuilds what changed. CMake does the real work; this file
# only orders the steps. Variables: BUILD_DIR, ASAN_DIR, BUNDLE_DIR, JOBS, CMAKE_ARGS, FUZZ_SECONDS.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

BUILD_DIR ?= build
ASAN_DIR ?= build-asan
BUNDLE_DIR ?= $(BUILD_DIR)-bundle
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?=
FUZZ_SECONDS ?= 60
DEMO_DIR := $(BUILD_DIR)/demo
BIN := $(BUILD_DIR)/bin

# Tests need Criterion; `make demo` on a machine without it builds without the tests, and the
# same tree gains them once `make test` has installed Criterion.
HAVE_CRITERION = $(shell pkg-config --exists criterion 2>/dev/null && echo ON || echo OFF)

section = @printf '\n==== %s ====\n' "$(1)"

.PHONY: help deps deps-test build build-tests demo test unit asan fuzz bundle clean

help:
	@echo "Sentinel - make targets:"
	@echo "  make demo    install missing packages, build, run a ResNet-18 demo (device auto: GPU if usable, else CPU)"
	@echo "  make test    install missing packages, build, run unit + sanitizer tests and the fuzzers"
	@echo "  make deps    install missing build packages (scripts/install-deps.sh)"
	@echo "  make build   configure ($(BUILD_DIR)/, Release) and build"
	@echo "  make unit    build with tests and run ctest in $(BUILD_DIR)/"
	@echo "  make asan    build and run the tests under ASan+UBSan in $(ASAN_DIR)/"
	@echo "  make fuzz    run the .sgraph and ONNX fuzzers for FUZZ_SECONDS each (default 60) (scripts/fuzz.sh)"
	@echo "  make bundle  relocatable folder + tarball of programs, tests and libraries for a GPU machine"
	@echo "  make clean   remove $(BUILD_DIR)/, $(ASAN_DIR)/ and build-fuzz/"

deps:
	$(call section,dependencies)
	bash scripts/install-deps.sh build

deps-test:
	$(call section,dependencies (build and test))
	bash scripts/install-deps.sh test

build: deps
	$(call section,build: $(BUILD_DIR)/ (Release))
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release -DSENTINEL_BUILD_TESTS=$(HAVE_CRITERION) $(CMAKE_ARGS)
	cmake --build $(BUILD_DIR) -j $(JOBS)

build-tests: deps-test
	$(call section,build: $(BUILD_DIR)/ (Release, with tests))
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release -DSENTINEL_BUILD_TESTS=ON $(CMAKE_ARGS)
	cmake --build $(BUILD_DIR) -j $(JOBS)

demo: build
	$(call section,demo: a ResNet-18 (random weights) and 8 generated images)
	mkdir -p $(DEMO_DIR)
	$(BIN)/sentinel-zoo resnet18 -o $(DEMO_DIR)/resnet18.sgraph
	$(BIN)/sentinel-mkimages $(DEMO_DIR)/images --count 8
	$(call section,demo: sentinel-run)
	$(BIN)/sentinel-run $(DEMO_DIR)/resnet18.sgraph $(DEMO_DIR)/images --top 5 --stats

# Every step must pass; make stops at the first failure and exits non-zero.
test: build-tests
	$(call section,unit tests ($(BUILD_DIR)/))
	cd $(BUILD_DIR) && ctest --output-on-failure
	$(MAKE) --no-print-directory asan-run
	$(MAKE) --no-print-directory fuzz-run
	$(call section,all tests passed)

unit: build-tests
	$(call section,unit tests ($(BUILD_DIR)/))
	cd $(BUILD_DIR) && ctest --output-on-failure

# RelWithDebInfo: optimised enough that the numeric tests stay quick under ASan, with line
# numbers in reports. Leak checking is on; UBSan stops at the first report with a stack.
asan: deps-test
	$(MAKE) --no-print-directory asan-run
asan-run:
	$(call section,build: $(ASAN_DIR)/ (AddressSanitizer + UndefinedBehaviorSanitizer))
	cmake -S . -B $(ASAN_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DSENTINEL_SANITIZE=address,undefined -DSENTINEL_BUILD_TESTS=ON $(CMAKE_ARGS)
	cmake --build $(ASAN_DIR) -j $(JOBS)
	$(call section,tests under ASan + UBSan ($(ASAN_DIR)/))
	cd $(ASAN_DIR) && ASAN_OPTIONS=detect_leaks=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure

fuzz: deps-test
	$(MAKE) --no-print-directory fuzz-run
fuzz-run:
	$(call section,fuzzing: scripts/fuzz.sh $(FUZZ_SECONDS))
	bash scripts/fuzz.sh $(FUZZ_SECONDS)
	$(call section,fuzzing: scripts/fuzz.sh $(FUZZ_SECONDS) onnx)
	bash scripts/fuzz.sh $(FUZZ_SECONDS) onnx

# The bundle is built without FFmpeg: on Debian 12, ldd of libavformat, libavcodec, libavdevice,
# libavutil and libswscale lists 191 libraries the bundle does not already carry, about 250 MB
# with FFmpeg's own (73 MB after xz), past the 64 MiB a GPU server copy may carry; video input
# on such a server means building there with FFmpeg installed.
bundle: deps-test
	$(call section,bundle: $(BUNDLE_DIR)/bundle.tar.xz (Release, tests, no FFmpeg))
	cmake -S . -B $(BUNDLE_DIR) -DCMAKE_BUILD_TYPE=Release -DSENTINEL_BUILD_TESTS=ON \
	  -DSENTINEL_FFMPEG=OFF $(CMAKE_ARGS)
	cmake --build $(BUNDLE_DIR) -j $(JOBS) --target bundle

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(BUNDLE_DIR) build-fuzz

.PHONY: asan-run fuzz-run
