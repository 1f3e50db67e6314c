# faced: common tasks. `make demo` and `make test` work on a fresh Debian 12 machine with Swift 6.
SWIFT ?= swift
FACED_MODELS ?= $(CURDIR)/Models
export FACED_MODELS

.PHONY: setup build release test demo bench calibrate clean

setup:
	scripts/setup.sh

build: setup
	$(SWIFT) build

release: setup
	$(SWIFT) build -c release

# The camera tests boot a VM (../shared/tools/v4l2-vm) that wants both cores: they run after the rest.
test: setup
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --skip CameraVMTests
	$(SWIFT) test --skip-build --filter CameraVMTests

demo: build
	scripts/demo.sh .build/debug

bench: release
	.build/release/facebench speed
	.build/release/facebench pipeline
	.build/release/facebench pipeline --close-up --min-face 160

calibrate: release
	.build/release/facebench calibrate --faces-dev ../shared/faces-dev

clean:
	rm -rf .build
