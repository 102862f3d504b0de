# sockgate build. Everything lands in build/; `make help` lists the targets.
# Sources are found by wildcard, so a new module needs no edit here.

B        := build
CC       ?= cc
CLANG    ?= clang
BPFTOOL  ?= bpftool
ARCH     := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
FUZZ_SECONDS ?= 60

ifeq ($(V),1)
Q :=
else
Q := @
endif

WARN     := -Wall -Wextra -Werror
# One include path per area, so a header is named by its file alone.
AGENT_DIRS := user/agent $(sort $(dir $(wildcard user/agent/*/*.c)))
CORE_DIRS  := user/core $(sort $(dir $(wildcard user/core/*/*.c)))
INCLUDES := -Iinclude -Iuser/common $(addprefix -I,$(patsubst %/,%,$(CORE_DIRS) $(AGENT_DIRS))) -I$(B)
BASEFLAGS := -std=gnu11 -D_GNU_SOURCE $(WARN) $(INCLUDES) -g -MMD -MP
# CPPFLAGS, CFLAGS and LDFLAGS are the caller's (dpkg-buildflags sets them for the
# Debian package); these defaults harden a plain `make` the same way: fortify, stack
# protector, full RELRO with BIND_NOW. PIE is always on (-fPIE/-pie below).
CPPFLAGS ?= -D_FORTIFY_SOURCE=2
CFLAGS   ?= -O2 -fstack-protector-strong
LDFLAGS  ?= -Wl,-z,relro -Wl,-z,now
PIE_CFLAGS  := -fPIE
PIE_LDFLAGS := -pie
# The flags the objects were built with: a change (make CFLAGS=..., the package build)
# rebuilds them, so an install never ships objects built with other flags.
FLAGS_STAMP := $(B)/.flags
$(shell mkdir -p $(B) && echo '$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS)' | cmp -s - $(FLAGS_STAMP) || \
	echo '$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS)' > $(FLAGS_STAMP))
LDLIBS   := -lbpf -lelf -lz -lyaml $(shell pkg-config --libs libcares 2>/dev/null || echo -lcares)
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
TEST_DATA := $(abspath tests/data)

COMMON_SRCS := $(wildcard user/common/*.c)
CORE_SRCS   := $(wildcard user/core/*.c user/core/*/*.c)
AGENT_SRCS  := $(wildcard user/agent/*.c user/agent/*/*.c)
CLI_SRCS    := $(wildcard user/cli/*.c)
BENCH_SRCS  := $(wildcard user/bench/*.c)
BPF_SRCS    := $(wildcard bpf/*.bpf.c)
UNIT_SRCS   := $(wildcard tests/unit/*.c)
BPFTEST_SRCS := $(wildcard tests/bpf/*.c)
FUZZ_SRCS   := $(wildcard tests/fuzz/fuzz_*.c)
TOOL_SRCS   := $(wildcard tests/tools/*.c)

LIB_SRCS  := $(COMMON_SRCS) $(CORE_SRCS)
LIB_OBJS  := $(LIB_SRCS:%.c=$(B)/obj/%.o)
AGENT_OBJS := $(AGENT_SRCS:%.c=$(B)/obj/%.o)
CLI_OBJS  := $(CLI_SRCS:%.c=$(B)/obj/%.o)
BENCH_OBJS := $(BENCH_SRCS:%.c=$(B)/obj/%.o)
BPF_OBJS  := $(BPF_SRCS:bpf/%.bpf.c=$(B)/bpf/%.bpf.o)
SKELS     := $(BPF_SRCS:bpf/%.bpf.c=$(B)/%.skel.h)
TEST_LIB_OBJS := $(LIB_SRCS:%.c=$(B)/test/obj/%.o)
UNIT_OBJS := $(UNIT_SRCS:%.c=$(B)/test/obj/%.o)
BPFTEST_OBJS := $(BPFTEST_SRCS:%.c=$(B)/test/obj/%.o)
# The BPF tests drive the agent's own dataplane code, all of it but main().
AGENT_LIB_OBJS := $(filter-out $(B)/test/obj/user/agent/main.o,$(AGENT_SRCS:%.c=$(B)/test/obj/%.o))
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=$(B)/fuzz/obj/%.o)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(B)/fuzz/%)
TOOL_BINS := $(TOOL_SRCS:tests/tools/%.c=$(B)/test/%)

BINS := $(B)/sockgated $(if $(CLI_SRCS),$(B)/sockgate) $(if $(BENCH_SRCS),$(B)/sockgate-bench)

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all deps test test-unit test-bpf test-e2e bench bench-quick bench-guard bench-synflood fuzz \
	soak soak-quick demo check format clean help

all: $(BINS) $(BPF_OBJS)

help:
	@echo "make            build build/sockgated, the CLI, build/sockgate-bench and the BPF objects"
	@echo "make deps       install missing Debian packages (root)"
	@echo "make test       deps + build + unit (ASan/UBSan), BPF and e2e tests"
	@echo "make test-unit  Criterion unit tests only (no root)"
	@echo "make fuzz       libFuzzer targets, FUZZ_SECONDS=$(FUZZ_SECONDS) each"
	@echo "make soak       100000 checked streams through both dataplanes under loss, memory and"
	@echo "                CPU pressure (root, < 1 h; SOAK_STREAMS, SOAK_SECONDS; tests/soak/README.md)"
	@echo "make soak-quick the same with 5000 streams, < 4 min (part of make test)"
	@echo "make bench      sockgate vs direct, HAProxy, NGINX, sniproxy (root, < 20 min; docs/BENCHMARKS.md)"
	@echo "make bench-quick  the same, one short repeat (< 3 min)"
	@echo "make bench-guard  ns/packet of the XDP guard per verdict path (root; docs/BENCHMARKS.md)"
	@echo "make bench-synflood  SYN flood: kernel cookies vs guard vs XDP cookies (root, ~1 min)"
	@echo "make demo       deps + build + the reference scenario"
	@echo "make check      no include cycles in the agent, clang-format and clang --analyze"
	@echo "make install    install into DESTDIR/PREFIX (default /usr/local; sbindir, mandir, sysconfdir...)"
	@echo "make uninstall  remove what make install put there"
	@echo "make deb        the Debian package into build/deb/, then lintian (docs/INSTALL.md)"
	@echo "make clean      remove build/"
	@echo "V=1 shows full commands"

deps:
	$(Q)bash scripts/install-deps.sh

$(B) $(B)/bpf:
	$(Q)mkdir -p $@

# --- BPF -----------------------------------------------------------------
$(B)/vmlinux.h: | $(B)
	@echo "  GEN     $@"
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(B)/bpf/%.bpf.o: bpf/%.bpf.c $(B)/vmlinux.h | $(B)/bpf
	@echo "  BPF     $@"
	$(Q)$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -I$(B) -Iinclude -Ibpf \
		$(WARN) -MMD -MP -c $< -o $@

$(B)/%.skel.h: $(B)/bpf/%.bpf.o
	@echo "  SKEL    $@"
	$(Q)$(BPFTOOL) gen skeleton $< name sg_$* > $@.tmp && mv $@.tmp $@

# --- user space ------------------------------------------------------------
$(B)/obj/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(CPPFLAGS) $(BASEFLAGS) $(PIE_CFLAGS) $(CFLAGS) -c $< -o $@

$(AGENT_OBJS) $(CLI_OBJS) $(BPFTEST_OBJS) $(AGENT_LIB_OBJS): | $(SKELS)

$(B)/sockgated: $(AGENT_OBJS) $(LIB_OBJS) $(FLAGS_STAMP)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(PIE_LDFLAGS) $(LDFLAGS) $(filter %.o,$^) -o $@ $(LDLIBS)

$(B)/sockgate: $(CLI_OBJS) $(LIB_OBJS) $(FLAGS_STAMP)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(PIE_LDFLAGS) $(LDFLAGS) $(filter %.o,$^) -o $@ $(LDLIBS)

# The benchmark's traffic tool; OpenSSL only for its real-TLS workload.
$(B)/sockgate-bench: $(BENCH_OBJS) $(LIB_OBJS) $(FLAGS_STAMP)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(PIE_LDFLAGS) $(LDFLAGS) -pthread $(filter %.o,$^) -o $@ $(LDLIBS) -lssl -lcrypto

# --- tests (ASan/UBSan) ------------------------------------------------------
$(B)/test/obj/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC-SAN  $@"
	$(Q)$(CC) $(BASEFLAGS) -O1 $(SANFLAGS) -DSG_TEST_DATA='"$(TEST_DATA)"' -c $< -o $@

$(B)/test/unit-tests: $(UNIT_OBJS) $(TEST_LIB_OBJS)
	@echo "  LD-SAN  $@"
	$(Q)$(CC) $(SANFLAGS) $^ -o $@ -lcriterion $(LDLIBS)

$(B)/test/bpf-tests: $(BPFTEST_OBJS) $(AGENT_LIB_OBJS) $(TEST_LIB_OBJS)
	@echo "  LD-SAN  $@"
	$(Q)$(CC) $(SANFLAGS) $^ -o $@ -lcriterion $(LDLIBS)

# Test tools (traffic generators for e2e, benchmarks) are optimised, not sanitized: they
# must outrun the gateway they measure.
$(B)/test/%: tests/tools/%.c | $(SKELS)
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(BASEFLAGS) -O2 -pthread $< -o $@ $(LDLIBS)

TEST_BINS := $(B)/test/unit-tests $(if $(BPFTEST_SRCS),$(B)/test/bpf-tests) $(TOOL_BINS)

test: deps
	$(Q)$(MAKE) --no-print-directory all $(TEST_BINS)
	$(Q)bash tests/run.sh

test-unit: $(B)/test/unit-tests
	$(Q)bash tests/run.sh unit

test-bpf: all $(B)/test/bpf-tests
	$(Q)bash tests/run.sh bpf

test-e2e: all $(TOOL_BINS)
	$(Q)bash tests/run.sh e2e

# The comparison with the direct path and the other gateways (docs/BENCHMARKS.md).
# BENCH_ARGS passes options to scripts/bench.sh, e.g. BENCH_ARGS="--reps 5".
bench:
	$(Q)bash scripts/install-deps.sh --bench
	$(Q)$(MAKE) --no-print-directory all
	$(Q)bash scripts/bench.sh $(BENCH_ARGS)

bench-quick:
	$(Q)bash scripts/install-deps.sh --bench
	$(Q)$(MAKE) --no-print-directory all
	$(Q)bash scripts/bench.sh --quick $(BENCH_ARGS)

# The XDP guard's cost per packet on each verdict path (BPF_PROG_TEST_RUN).
bench-guard: $(B)/test/guard_bench
	$(Q)$(B)/test/guard_bench

# What a SYN flood costs with kernel SYN cookies, the guard, and XDP cookies.
bench-synflood: all $(TOOL_BINS)
	$(Q)bash tests/bench/syn_flood.sh 1000000 100000

# Rare corruption hunting (tests/soak/README.md): checked streams through every dataplane
# under packet loss, memory and CPU pressure. SOAK_STREAMS, SOAK_SECONDS etc. pass through.
soak: deps
	$(Q)$(MAKE) --no-print-directory all $(B)/test/sgflow
	$(Q)bash tests/soak/soak.sh

soak-quick: deps
	$(Q)$(MAKE) --no-print-directory all $(B)/test/sgflow
	$(Q)bash tests/soak/soak.sh --quick

# --- fuzzing (libFuzzer, clang) --------------------------------------------
FUZZFLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer

$(B)/fuzz/obj/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC-FUZZ $@"
	$(Q)$(CLANG) $(BASEFLAGS) -O1 $(FUZZFLAGS) -c $< -o $@

$(B)/fuzz/%: $(B)/fuzz/obj/tests/fuzz/%.o $(FUZZ_LIB_OBJS)
	@echo "  LD-FUZZ $@"
	$(Q)$(CLANG) -fsanitize=fuzzer,address,undefined $^ -o $@ $(LDLIBS)

fuzz: $(FUZZ_BINS)
	$(Q)FUZZ_SECONDS=$(FUZZ_SECONDS) bash tests/fuzz/run.sh $(FUZZ_BINS)

# --- install (GNU directory variables; DESTDIR for staging) -----------------
PREFIX        ?= /usr/local
prefix        ?= $(PREFIX)
exec_prefix   ?= $(prefix)
sbindir       ?= $(exec_prefix)/sbin
datarootdir   ?= $(prefix)/share
mandir        ?= $(datarootdir)/man
docdir        ?= $(datarootdir)/doc/sockgate
sysconfdir    ?= $(prefix)/etc
bashcompdir   ?= $(datarootdir)/bash-completion/completions
systemdunitdir ?= $(prefix)/lib/systemd/system
sysusersdir   ?= $(prefix)/lib/sysusers.d
INSTALL       ?= install
INSTALL_PROGRAM ?= $(INSTALL) -m 0755
INSTALL_DATA  ?= $(INSTALL) -m 0644

.PHONY: install uninstall deb

# The BPF objects are compiled into sockgated (skeletons): only the two binaries ship.
# sockgate-bench is a test tool and is not installed. The unit's paths follow sbindir
# and sysconfdir. The example configuration is installed only where none exists yet.
install: $(B)/sockgated $(B)/sockgate
	$(INSTALL) -d $(DESTDIR)$(sbindir) $(DESTDIR)$(mandir)/man5 $(DESTDIR)$(mandir)/man8 \
		$(DESTDIR)$(bashcompdir) $(DESTDIR)$(systemdunitdir) $(DESTDIR)$(sysusersdir) \
		$(DESTDIR)$(docdir)/examples $(DESTDIR)$(sysconfdir)/sockgate
	$(INSTALL_PROGRAM) $(B)/sockgated $(B)/sockgate $(DESTDIR)$(sbindir)/
	$(INSTALL_DATA) man/sockgated.8 man/sockgate.8 $(DESTDIR)$(mandir)/man8/
	$(INSTALL_DATA) man/sockgate.yaml.5 $(DESTDIR)$(mandir)/man5/
	$(INSTALL_DATA) completion/sockgate.bash $(DESTDIR)$(bashcompdir)/sockgate
	ln -sf sockgate $(DESTDIR)$(bashcompdir)/sockgated
	sed -e 's|@sbindir@|$(sbindir)|g' -e 's|@sysconfdir@|$(sysconfdir)|g' \
		systemd/sockgated.service.in > $(DESTDIR)$(systemdunitdir)/sockgated.service
	chmod 0644 $(DESTDIR)$(systemdunitdir)/sockgated.service
	$(INSTALL_DATA) systemd/sockgate.sysusers $(DESTDIR)$(sysusersdir)/sockgate.conf
	$(INSTALL_DATA) systemd/sockgate.yaml $(DESTDIR)$(docdir)/examples/sockgate.yaml
	$(INSTALL_DATA) LICENSE LICENSES/GPL-2.0.txt LICENSES/BSD-2-Clause.txt $(DESTDIR)$(docdir)/
	[ -e $(DESTDIR)$(sysconfdir)/sockgate/sockgate.yaml ] || \
		$(INSTALL_DATA) systemd/sockgate.yaml $(DESTDIR)$(sysconfdir)/sockgate/sockgate.yaml

uninstall:
	rm -f $(DESTDIR)$(sbindir)/sockgated $(DESTDIR)$(sbindir)/sockgate \
		$(DESTDIR)$(mandir)/man8/sockgated.8 $(DESTDIR)$(mandir)/man8/sockgate.8 \
		$(DESTDIR)$(mandir)/man5/sockgate.yaml.5 \
		$(DESTDIR)$(bashcompdir)/sockgate $(DESTDIR)$(bashcompdir)/sockgated \
		$(DESTDIR)$(systemdunitdir)/sockgated.service $(DESTDIR)$(sysusersdir)/sockgate.conf
	rm -rf $(DESTDIR)$(docdir)

# The Debian package, unsigned, into build/deb/ (debian/; docs/INSTALL.md).
deb:
	$(Q)bash scripts/build-deb.sh

# --- demo, checks ------------------------------------------------------------
demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)bash scripts/demo.sh

check:
	$(Q)bash scripts/include-graph.sh
	$(Q)bash scripts/check-doc-refs.sh
	$(Q)clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')
	$(Q)for f in $(LIB_SRCS) $(AGENT_SRCS) $(CLI_SRCS) $(BENCH_SRCS); do \
		$(CLANG) --analyze -Xanalyzer -analyzer-output=text $(BASEFLAGS) -I$(B) $$f -o /dev/null || exit 1; done

format:
	$(Q)clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(B)

-include $(shell find $(B) -name '*.d' 2>/dev/null)
