# faced: common tasks. `make demo` and `make test` work on a fresh Debian 12 machine with Swift 6.
SWIFT ?= swift
FACED_MODELS ?= $(CURDIR)/Models
export FACED_MODELS

PREFIX ?= /usr
DESTDIR ?=
BINDIR = $(DESTDIR)$(PREFIX)/bin
SHAREDIR = $(DESTDIR)$(PREFIX)/share/faced
UNITDIR = $(DESTDIR)$(PREFIX)/lib/systemd/system
SYSUSERSDIR = $(DESTDIR)$(PREFIX)/lib/sysusers.d
TMPFILESDIR = $(DESTDIR)$(PREFIX)/lib/tmpfiles.d
CONFDIR = $(DESTDIR)/etc/faced
MANDIR = $(DESTDIR)$(PREFIX)/share/man
BASHCOMPDIR = $(DESTDIR)$(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR = $(DESTDIR)$(PREFIX)/share/zsh/vendor-completions
FISHCOMPDIR = $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
# Where ArgumentParser's generate-manual plugin writes; empty lines become paragraph breaks.
MANOUT = .build/plugins/GenerateManual/outputs
EXAMPLE_CONFIG = sed 's|/usr/share/faced/models|$(PREFIX)/share/faced/models|' systemd/faced.toml

.PHONY: setup build release man test asan tsan demo bench soak calibrate fuzz fuzz-smoke clean install uninstall

setup:
	scripts/setup.sh

build: setup
	$(SWIFT) build

release: setup
	$(SWIFT) build -c release
	scripts/check-vector-code.py .build/release

# Man pages from the commands' own help (ArgumentParser's generate-manual plugin), in $(MANOUT).
man: release
	$(SWIFT) package plugin generate-manual --configuration release

# The camera tests boot a VM (../shared/tools/v4l2-vm) that wants both cores: they run after the rest.
# Before the suite: no AVX code outside the detector's AVX2 build, and the test program runs on
# an emulated CPU without AVX.
test: setup
	$(SWIFT) build --build-tests
	scripts/check-vector-code.py .build/debug
	scripts/test-without-avx.sh .build/debug
	$(SWIFT) test --skip-build --skip CameraVMTests
	$(SWIFT) test --skip-build --filter CameraVMTests

# The suite under AddressSanitizer (leaks included) and under ThreadSanitizer, each in a scratch
# path of its own. Every report goes to a file in .build-{asan,tsan}/reports (children's too),
# and the target fails if one was written; known dependency issues are suppressed in
# scripts/sanitizers (see the comments there). The VM camera tests are left out.
SAN_REPORTS = if ls $(1)/reports/* >/dev/null 2>&1; then echo "sanitizer reports in $(1)/reports:"; ls $(1)/reports; exit 1; fi

asan: setup
	$(SWIFT) build --build-tests --sanitize=address --scratch-path .build-asan
	rm -rf .build-asan/reports && mkdir -p .build-asan/reports
	ASAN_OPTIONS=detect_leaks=1:log_path=$(CURDIR)/.build-asan/reports/asan \
	LSAN_OPTIONS=suppressions=$(CURDIR)/scripts/sanitizers/lsan.supp \
	  $(SWIFT) test --skip-build --sanitize=address --scratch-path .build-asan --skip CameraVMTests; \
	  status=$$?; $(call SAN_REPORTS,.build-asan); exit $$status

tsan: setup
	$(SWIFT) build --build-tests --sanitize=thread --scratch-path .build-tsan
	rm -rf .build-tsan/reports && mkdir -p .build-tsan/reports
	TSAN_OPTIONS=halt_on_error=0:second_deadlock_stack=1:log_path=$(CURDIR)/.build-tsan/reports/tsan:suppressions=$(CURDIR)/scripts/sanitizers/tsan.supp \
	  $(SWIFT) test --skip-build --sanitize=thread --scratch-path .build-tsan --skip CameraVMTests; \
	  status=$$?; $(call SAN_REPORTS,.build-tsan); exit $$status

demo: build
	scripts/demo.sh .build/debug

bench: release
	.build/release/facebench speed
	.build/release/facebench pipeline
	.build/release/facebench pipeline --close-up --min-face 160

# faced over a looping replay for MINUTES; RSS, open files and threads sampled every 10 s. Reports, never fails on growth.
MINUTES ?= 30
soak: release
	.build/release/facebench soak --minutes $(MINUTES)

calibrate: release
	.build/release/facebench calibrate --faces-dev ../shared/faces-dev

# libFuzzer targets (Fuzz/, its own package, so `swift build` and `swift test` never build them),
# with AddressSanitizer, one after the other: the decoders, the MJPEG splitter, the config and
# the manifest parsers. Prints executions and coverage; exits 1 on a crash (input in Fuzz/.build/artifacts).
FUZZ_SECONDS ?= 60
fuzz:
	scripts/fuzz.sh $(FUZZ_SECONDS)

fuzz-smoke:
	scripts/fuzz.sh 20

clean:
	rm -rf .build Fuzz/.build

# Installs the release binaries, the models, the unit, the sysusers and tmpfiles snippets, and
# the example config (never over an existing one). Without DESTDIR, as root on a systemd
# machine, it also creates the faced user and /var/lib/faced and reloads systemd.
install: release man
	install -d $(BINDIR) $(SHAREDIR)/models $(UNITDIR) $(SYSUSERSDIR) $(TMPFILESDIR) $(CONFDIR) $(MANDIR)/man1 $(MANDIR)/man8 \
	  $(BASHCOMPDIR) $(ZSHCOMPDIR) $(FISHCOMPDIR)
	install -m 0755 .build/release/faced .build/release/facectl $(BINDIR)/
	sed 's/^$$/.Pp/' $(MANOUT)/facectl/facectl.1 > $(MANDIR)/man1/facectl.1
	sed -e 's/^$$/.Pp/' -e 's/^\.Dt FACED 1$$/.Dt FACED 8/' -e '/^\.Ar subcommand$$/d' $(MANOUT)/faced/faced.1 > $(MANDIR)/man8/faced.8
	chmod 0644 $(MANDIR)/man1/facectl.1 $(MANDIR)/man8/faced.8
	.build/release/facectl --generate-completion-script bash > $(BASHCOMPDIR)/facectl
	.build/release/facectl --generate-completion-script zsh > $(ZSHCOMPDIR)/_facectl
	.build/release/facectl --generate-completion-script fish > $(FISHCOMPDIR)/facectl.fish
	install -m 0644 Models/*.dat $(SHAREDIR)/models/
	sed 's|/usr/bin/faced|$(PREFIX)/bin/faced|' systemd/faced.service > $(UNITDIR)/faced.service
	chmod 0644 $(UNITDIR)/faced.service
	install -m 0644 systemd/faced.sysusers $(SYSUSERSDIR)/faced.conf
	install -m 0644 systemd/faced.tmpfiles $(TMPFILESDIR)/faced.conf
	test -e $(CONFDIR)/faced.toml || $(EXAMPLE_CONFIG) > $(CONFDIR)/faced.toml
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ] && [ "$$(id -u)" = 0 ]; then \
	  systemd-sysusers faced.conf && systemd-tmpfiles --create faced.conf && systemctl daemon-reload; \
	  echo "installed; edit /etc/faced/faced.toml, then: systemctl enable --now faced"; \
	fi

# Removes what install put in place. An edited /etc/faced/faced.toml stays; the gallery in
# /var/lib/faced always stays.
uninstall:
	rm -f $(BINDIR)/faced $(BINDIR)/facectl $(UNITDIR)/faced.service $(SYSUSERSDIR)/faced.conf $(TMPFILESDIR)/faced.conf
	rm -f $(MANDIR)/man1/facectl.1 $(MANDIR)/man8/faced.8 $(BASHCOMPDIR)/facectl $(ZSHCOMPDIR)/_facectl $(FISHCOMPDIR)/facectl.fish
	rm -rf $(SHAREDIR)
	if $(EXAMPLE_CONFIG) | cmp -s - $(CONFDIR)/faced.toml; then rm -f $(CONFDIR)/faced.toml; \
	  else test ! -e $(CONFDIR)/faced.toml || echo "kept $(CONFDIR)/faced.toml: it was edited"; fi
	@# Directories, deepest first, only where empty: under a real / they are not.
	@for d in $(CONFDIR) $(UNITDIR) $(DESTDIR)$(PREFIX)/lib/systemd $(SYSUSERSDIR) $(TMPFILESDIR) $(DESTDIR)$(PREFIX)/lib \
	  $(MANDIR)/man1 $(MANDIR)/man8 $(MANDIR) $(BASHCOMPDIR) $(dir $(BASHCOMPDIR)) $(ZSHCOMPDIR) $(dir $(ZSHCOMPDIR)) \
	  $(FISHCOMPDIR) $(dir $(FISHCOMPDIR)) $(DESTDIR)$(PREFIX)/share $(BINDIR) $(DESTDIR)$(PREFIX) $(patsubst %/,%,$(dir $(DESTDIR)$(PREFIX))) $(DESTDIR)/etc; do \
	  [ -d "$$d" ] && rmdir --ignore-fail-on-non-empty "$$d"; true; done
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ] && [ "$$(id -u)" = 0 ]; then systemctl daemon-reload; fi
