# certctl: one non-recursive Makefile.
#   make            build lib/libcertctl.a and certctl
#   make check      install missing packages, build, run every test, then
#                   run them again under AddressSanitizer + UBSan, then
#                   fuzz every parser briefly (fuzz-short)
#   make fuzz       libFuzzer targets (tests/fuzz/), FUZZ_SECONDS=600 each
#   make check-valgrind  every command test, every certctl under valgrind
#                   memcheck (errors, definite leaks), time limits scaled;
#                   VALGRIND_TESTS="t0002 t0017" for some of them
#   make torture    the long runs of the robustness tests: 200 SIGKILLs in a
#                   mixed workload (t0026), the concurrency test (t0027)
#                   with more processes and rounds
#   make install    PREFIX=/usr/local DESTDIR= (SYSTEMDUNITDIR=: the systemd
#                   units as installed units, not examples)
#   make deb        the Debian package, DEBDIR/certctl_VERSION_ARCH.deb
#                   (scripts/deb/build.sh; DEBDIR=build/deb)
#   make bench      benchmarks (figures and ratios, never pass/fail)
#   make demo       the main job end to end on a throw-away repository

VERSION := 0.1.0
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/vendor-completions
EXAMPLEDIR ?= $(PREFIX)/share/doc/certctl/examples
# Empty: the systemd units are examples (EXAMPLEDIR/systemd).
SYSTEMDUNITDIR ?=
DEBDIR ?= build/deb

ifeq ($(SAN),1)
O ?= build/asan
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
O ?= build
SANFLAGS :=
endif

CC ?= cc
PKGS := libgit2 yaml-0.1 libcurl openssl jansson zlib libpsl
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS = $(shell pkg-config --libs $(PKGS))
CHECK_CFLAGS = $(shell pkg-config --cflags check)
CHECK_LIBS = $(shell pkg-config --libs check)

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wno-unused-parameter
CFLAGS ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(WARN) $(CFLAGS) $(SANFLAGS) \
	-Iinclude -Ilib -DCERTCTL_VERSION='"$(VERSION)"'
ALL_LDFLAGS = $(LDFLAGS) $(SANFLAGS)

LIB_SRC := $(sort $(wildcard lib/*.c))
CMD_SRC := $(sort $(wildcard cmd/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(O)/%.o)
CMD_OBJ := $(CMD_SRC:%.c=$(O)/%.o)
UNIT_OBJ := $(UNIT_SRC:%.c=$(O)/%.o)
HEADERS := $(wildcard include/*.h include/certctl/*.h lib/*.h cmd/*.h)


.PHONY: all check deps deps-build test test-unit test-cli test-asan install uninstall bench demo clean
.PHONY: deb
.PHONY: fuzz fuzz-short fuzz-build torture check-valgrind
.DELETE_ON_ERROR:

all: $(O)/certctl

$(O)/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

$(O)/tests/unit/%.o: tests/unit/%.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) $(CHECK_CFLAGS) -c -o $@ $<

$(O)/libcertctl.a: $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(O)/certctl: $(CMD_OBJ) $(O)/libcertctl.a
	$(CC) $(ALL_LDFLAGS) -o $@ $(CMD_OBJ) $(O)/libcertctl.a $(PKG_LIBS)

$(O)/test-unit: $(UNIT_OBJ) $(O)/libcertctl.a
	$(CC) $(ALL_LDFLAGS) -o $@ $(UNIT_OBJ) $(O)/libcertctl.a $(PKG_LIBS) $(CHECK_LIBS)

deps:
	@scripts/deps.sh all

deps-build:
	@scripts/deps.sh build

# The README's test command: everything a fresh Debian machine needs.
check: deps
	$(MAKE) test
	$(MAKE) test-asan
	$(MAKE) fuzz-short

test: test-unit test-cli

test-unit: $(O)/test-unit
	$(O)/test-unit

test-cli: $(O)/certctl
	CERTCTL=$(CURDIR)/$(O)/certctl tests/cli/run.sh

test-asan:
	$(MAKE) SAN=1 test

# Slow (valgrind runs certctl 20 to 50 times slower): not part of make check.
check-valgrind: $(O)/certctl
	tests/valgrind/run.sh $(O)/certctl $(VALGRIND_TESTS)

# make check runs t0026 and t0027 short; these are their long runs.
TORTURE_KILLS ?= 200
TORTURE_ROUNDS ?= 5
torture: $(O)/certctl
	CERTCTL=$(CURDIR)/$(O)/certctl CERTCTL_CRASH_KILLS=$(TORTURE_KILLS) \
		CERTCTL_CONCURRENCY_ROUNDS=$(TORTURE_ROUNDS) CERTCTL_TEST_TIMEOUT=3600 \
		tests/cli/run.sh t0026 t0027

install: $(O)/certctl
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	install -m 0755 $(O)/certctl $(DESTDIR)$(BINDIR)/certctl
	install -m 0644 man/*.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 man/*.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 man/*.7 $(DESTDIR)$(MANDIR)/man7/
	install -m 0644 contrib/completion/certctl.bash $(DESTDIR)$(BASHCOMPDIR)/certctl
	install -m 0644 contrib/completion/_certctl $(DESTDIR)$(ZSHCOMPDIR)/_certctl
	install -d $(DESTDIR)$(EXAMPLEDIR)/deploy/hooks
	install -m 0644 contrib/deploy/README contrib/deploy/*.yaml $(DESTDIR)$(EXAMPLEDIR)/deploy/
	install -m 0755 contrib/deploy/hooks/*.sh $(DESTDIR)$(EXAMPLEDIR)/deploy/hooks/
ifeq ($(SYSTEMDUNITDIR),)
	install -d $(DESTDIR)$(EXAMPLEDIR)/systemd
	install -m 0644 contrib/systemd/*.service contrib/systemd/*.timer $(DESTDIR)$(EXAMPLEDIR)/systemd/
else
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	install -m 0644 contrib/systemd/*.service contrib/systemd/*.timer $(DESTDIR)$(SYSTEMDUNITDIR)/
endif
	install -d $(DESTDIR)$(EXAMPLEDIR)/cron
	install -m 0644 contrib/cron/certctl $(DESTDIR)$(EXAMPLEDIR)/cron/
	install -d $(DESTDIR)$(EXAMPLEDIR)/monitoring
	install -m 0644 contrib/monitoring/* $(DESTDIR)$(EXAMPLEDIR)/monitoring/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/certctl $(DESTDIR)$(BASHCOMPDIR)/certctl $(DESTDIR)$(ZSHCOMPDIR)/_certctl
	rm -rf $(DESTDIR)$(EXAMPLEDIR)
	$(if $(SYSTEMDUNITDIR),cd contrib/systemd && for f in *.service *.timer; do \
		rm -f $(DESTDIR)$(SYSTEMDUNITDIR)/$$f; done)
	cd man && for f in *.1; do rm -f $(DESTDIR)$(MANDIR)/man1/$$f; done
	cd man && for f in *.5; do rm -f $(DESTDIR)$(MANDIR)/man5/$$f; done
	cd man && for f in *.7; do rm -f $(DESTDIR)$(MANDIR)/man7/$$f; done

# The Debian package: certctl built again with Debian's build flags
# (hardening) in build/deb/obj, installed under /usr into a staging tree,
# packaged with dpkg-deb into DEBDIR.
deb:
	@scripts/deps.sh deb
	MAKE='$(MAKE)' scripts/deb/build.sh $(VERSION) $(DEBDIR)

bench:
	@scripts/deps.sh all
	@-scripts/deps.sh bench
	$(MAKE) $(O)/certctl
	CERTCTL=$(CURDIR)/$(O)/certctl scripts/bench/run.sh

# Works on a fresh Debian machine: installs what the build needs first.
demo:
	@scripts/deps.sh build
	$(MAKE) $(O)/certctl
	CERTCTL=$(CURDIR)/$(O)/certctl scripts/demo.sh

clean:
	rm -rf build

# The in-process issuance limit (OpenSSL only) that scripts/bench/b0002-issue.sh
# compares certctl issue with; the script builds it with `make build/bench-issue-inproc`.
$(O)/bench-issue-inproc: scripts/bench/issue-inproc.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(shell pkg-config --cflags openssl) -o $@ $< $(ALL_LDFLAGS) $(shell pkg-config --libs openssl)

# The kernel's share of a connect scan (connect and close, nothing else),
# for scripts/bench/b0005-discover.sh (`make build/bench-connect-floor`).
$(O)/bench-connect-floor: scripts/bench/connect-floor.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(ALL_LDFLAGS) -lpthread

# The verifier in one process next to X509_verify_cert alone, for
# scripts/bench/b0006-verify.sh (`make build/bench-verify-inproc`).
$(O)/bench-verify-inproc: scripts/bench/verify-inproc.c $(O)/libcertctl.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -o $@ $< $(ALL_LDFLAGS) $(O)/libcertctl.a $(PKG_LIBS)

# Fuzzing: libFuzzer targets tests/fuzz/fuzz_NAME.c over the library built
# with clang, ASan and UBSan into build/fuzz/ (seeds: tests/fuzz/corpus/NAME).
#   make fuzz        each target FUZZ_SECONDS; new inputs in build/fuzz/corpus-NAME
#   make fuzz-short  each target FUZZ_SHORT_SECONDS over the seeds (make check)
# Findings land in build/fuzz/findings/, logs in build/fuzz/logs/.
FUZZ_CC ?= clang
FUZZ_O ?= build/fuzz
FUZZ_SECONDS ?= 600
FUZZ_SHORT_SECONDS ?= 15
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(WARN) -g -O1 $(FUZZ_SAN) \
	-Iinclude -Ilib -DCERTCTL_VERSION='"$(VERSION)"'
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=%)
FUZZ_BIN := $(FUZZ_NAMES:%=$(FUZZ_O)/fuzz_%)
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FUZZ_O)/%.o)

# clang, unlike gcc, counts vsnprintf(fmt) in the library's printf-style
# helpers as -Wformat-nonliteral (part of -Wformat=2); the callers are checked.
$(FUZZ_O)/lib/%.o: lib/%.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Wno-format-nonliteral -fsanitize=fuzzer-no-link $(PKG_CFLAGS) \
		-c -o $@ $<

$(FUZZ_O)/libcertctl.a: $(FUZZ_LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_O)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_O)/libcertctl.a $(HEADERS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(PKG_CFLAGS) -o $@ $< $(FUZZ_O)/libcertctl.a \
		$(PKG_LIBS)

fuzz-build: $(FUZZ_BIN)

fuzz: fuzz-build
	FUZZ_O=$(FUZZ_O) tests/fuzz/run.sh long $(FUZZ_SECONDS) $(FUZZ_NAMES)

fuzz-short: fuzz-build
	FUZZ_O=$(FUZZ_O) tests/fuzz/run.sh short $(FUZZ_SHORT_SECONDS) $(FUZZ_NAMES)
