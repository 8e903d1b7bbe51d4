# pushwire — see README.md.  `make` builds ./pushwire; `make test` installs
# what is missing (make deps), builds, and runs every suite.

PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
MANDIR   ?= $(PREFIX)/share/man
DESTDIR  ?=
CC       ?= cc
CFLAGS   ?= -O2 -g
WARN      = -Wall -Wextra -Werror
CPPFLAGS += -D_GNU_SOURCE -Isrc -Icmd
STD       = -std=c11
LIBS      = -luv -lcurl -lhiredis -lssl -lcrypto -lz -lm -lpthread
PURE_LIBS = -lcrypto -lz -lm
FUZZ_SECONDS ?= 60

# src/ in layers, one library each; the binary links them all.  proto/ is
# pure (no libuv, no curl, no sockets): it compiles with -Isrc/proto only and
# every unit test and fuzzer links it with -lz -lcrypto -lm and nothing else,
# so a proto module that reached for I/O would not link.
LAYERS := proto host tls client server
PROTO_CPPFLAGS = -D_GNU_SOURCE -Isrc/proto
LAYER_SRC = $(sort $(wildcard src/$(1)/*.c))
CMD  := $(sort $(wildcard cmd/*.c))
UNIT := $(sort $(wildcard tests/unit/test_*.c))
FUZZ := $(sort $(wildcard tests/fuzz/fuzz_*.c))
BENCH_C := $(sort $(wildcard bench/*.c))
APPLETS = $(shell sed -n 's/^ *X(\([a-z]*\)).*/\1/p' cmd/applets.h)

# Two builds side by side: rel (the binary) and asan (the suite runs it too).
B        = build/rel
BA       = build/asan
ASANFLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
# and a ThreadSanitizer binary for the tests of serve --workers (threads)
BT        = build/tsan
TSANFLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=thread

all: pushwire

# --- dependency check: tell the user what to do when a header is missing ---
HEADERS_OK := $(B)/.headers-ok
$(HEADERS_OK):
	@mkdir -p $(B)
	@printf '#include <uv.h>\n#include <curl/curl.h>\n#include <openssl/sha.h>\n#include <zlib.h>\n#include <hiredis/hiredis.h>\n' \
	  | $(CC) -E -x c - >/dev/null 2>&1 || { \
	  echo "pushwire: build headers are missing (libuv, libcurl, OpenSSL, zlib, hiredis): run 'make deps'" >&2; exit 1; }
	@touch $@

# --- the binary ---
$(B)/src/proto/%.o: src/proto/%.c $(HEADERS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(PROTO_CPPFLAGS) $(CFLAGS) $(WARN) -MMD -MP -c $< -o $@

$(BA)/src/proto/%.o: src/proto/%.c $(HEADERS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(PROTO_CPPFLAGS) $(ASANFLAGS) $(WARN) -MMD -MP -c $< -o $@

$(B)/%.o: %.c $(HEADERS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(CPPFLAGS) $(CFLAGS) $(WARN) -MMD -MP -c $< -o $@

$(BA)/%.o: %.c $(HEADERS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(CPPFLAGS) $(ASANFLAGS) $(WARN) -MMD -MP -c $< -o $@

$(BT)/src/proto/%.o: src/proto/%.c $(HEADERS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(PROTO_CPPFLAGS) $(TSANFLAGS) $(WARN) -MMD -MP -c $< -o $@

$(BT)/%.o: %.c $(HEADERS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(CPPFLAGS) $(TSANFLAGS) $(WARN) -MMD -MP -c $< -o $@

# one archive per layer: build/<variant>/libpw<layer>.a
define LAYER_LIB
$(B)/libpw$(1).a: $$(patsubst %.c,$(B)/%.o,$$(call LAYER_SRC,$(1)))
	rm -f $$@ && ar rcs $$@ $$^
$(BA)/libpw$(1).a: $$(patsubst %.c,$(BA)/%.o,$$(call LAYER_SRC,$(1)))
	rm -f $$@ && ar rcs $$@ $$^
$(BT)/libpw$(1).a: $$(patsubst %.c,$(BT)/%.o,$$(call LAYER_SRC,$(1)))
	rm -f $$@ && ar rcs $$@ $$^
endef
$(foreach l,$(LAYERS),$(eval $(call LAYER_LIB,$(l))))
# link order: upper layers first
ALL_LIBS = server client tls host proto
LIBS_OF = $(foreach l,$(ALL_LIBS),$(1)/libpw$(l).a)

pushwire: $(CMD:%.c=$(B)/%.o) $(call LIBS_OF,$(B))
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

$(BA)/pushwire: $(CMD:%.c=$(BA)/%.o) $(call LIBS_OF,$(BA))
	$(CC) $(ASANFLAGS) -o $@ $^ $(LIBS)

$(BT)/pushwire: $(CMD:%.c=$(BT)/%.o) $(call LIBS_OF,$(BT))
	$(CC) $(TSANFLAGS) -o $@ $^ $(LIBS)

# --- unit tests: one program per tests/unit/test_*.c.  A test of a pure
# module links libpwproto.a alone; a test of an I/O-layer module names its
# layer below and links that layer and proto.  Either way only $(PURE_LIBS):
# no libuv, no curl. ---
LAYER_test_backlog = server
LAYER_test_feed = server
LAYER_test_iptable = server
LAYER_test_keyring = server
LAYER_test_slab = server
LAYER_test_limits = host
LAYER_test_tls = tls
LAYER_fuzz_portcheck = host
LAYER_fuzz_tls = tls
# the tls layer is OpenSSL's libssl over memory: its test links libssl too
XLIBS_tls = -lssl -lpthread
TEST_LIBS = $(if $(LAYER_$(1)),$(2)/libpw$(LAYER_$(1)).a) $(2)/libpwproto.a
.SECONDEXPANSION:
$(B)/tests/%: $(B)/tests/unit/%.o $$(call TEST_LIBS,$$*,$(B))
	$(CC) $(CFLAGS) -o $@ $^ $(XLIBS_$(LAYER_$*)) $(PURE_LIBS)
$(BA)/tests/%: $(BA)/tests/unit/%.o $$(call TEST_LIBS,$$*,$(BA))
	$(CC) $(ASANFLAGS) -o $@ $^ $(XLIBS_$(LAYER_$*)) $(PURE_LIBS)

UNIT_BIN  = $(UNIT:tests/unit/%.c=$(B)/tests/%)
UNIT_ABIN = $(UNIT:tests/unit/%.c=$(BA)/tests/%)

build-tests: pushwire $(UNIT_BIN)
build-asan: $(BA)/pushwire $(UNIT_ABIN)
build-tsan: $(BT)/pushwire

# --- fuzzers (clang libFuzzer): the core is compiled once with the fuzzer's
# instrumentation into build/fuzz/libpw<layer>.a, then each target links proto
# (and its layer, as the unit tests) ---
BF = build/fuzz
FUZZ_BIN = $(FUZZ:tests/fuzz/%.c=$(BF)/%)
FUZZFLAGS = -g -O1 -fsanitize=address,undefined
$(BF)/obj/src/proto/%.o: src/proto/%.c $(HEADERS_OK)
	@mkdir -p $(dir $@)
	clang $(STD) $(PROTO_CPPFLAGS) $(FUZZFLAGS) -fsanitize=fuzzer-no-link $(WARN) -MMD -MP -c $< -o $@
$(BF)/obj/%.o: %.c $(HEADERS_OK)
	@mkdir -p $(dir $@)
	clang $(STD) $(CPPFLAGS) $(FUZZFLAGS) -fsanitize=fuzzer-no-link $(WARN) -MMD -MP -c $< -o $@
$(BF)/libpwproto.a: $(patsubst %.c,$(BF)/obj/%.o,$(call LAYER_SRC,proto))
	rm -f $@ && ar rcs $@ $^
$(BF)/libpwhost.a: $(patsubst %.c,$(BF)/obj/%.o,$(call LAYER_SRC,host))
	rm -f $@ && ar rcs $@ $^
$(BF)/libpwtls.a: $(patsubst %.c,$(BF)/obj/%.o,$(call LAYER_SRC,tls))
	rm -f $@ && ar rcs $@ $^
$(BF)/fuzz_%: tests/fuzz/fuzz_%.c $$(call TEST_LIBS,fuzz_$$*,$(BF))
	clang $(STD) $(CPPFLAGS) $(FUZZFLAGS) -fsanitize=fuzzer $(WARN) $< $(call TEST_LIBS,fuzz_$*,$(BF)) -o $@ $(XLIBS_$(LAYER_fuzz_$*)) $(PURE_LIBS)

build-fuzz: $(FUZZ_BIN)
fuzz: deps-auto build-fuzz
	@for f in $(FUZZ_BIN); do n=$${f##*/}; mkdir -p build/fuzz/corpus-$$n; \
	  echo "fuzz: $$n for $(FUZZ_SECONDS)s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -max_len=4096 build/fuzz/corpus-$$n tests/fuzz/corpus/$${n#fuzz_} >build/fuzz/$$n.log 2>&1 \
	    || { tail -40 build/fuzz/$$n.log; exit 1; }; tail -1 build/fuzz/$$n.log; done

# --- bench ---
BENCH_BIN = $(BENCH_C:bench/%.c=$(B)/bench/%)
$(B)/bench/%: bench/%.c $(B)/libpwtls.a $(B)/libpwproto.a $(HEADERS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(CPPFLAGS) -O2 -g $(WARN) $< $(B)/libpwtls.a $(B)/libpwproto.a -o $@ -lssl $(PURE_LIBS)
bench: deps-auto pushwire $(BENCH_BIN)
	bench/run

# --- set-up, run, test ---
deps:
	tools/deps.sh install

deps-auto:
	@tools/deps.sh check || tools/deps.sh install

run: deps-auto pushwire
	./pushwire serve --channel news

# the four builds in one make: -j2 stays busy across them (as four makes,
# each one's last link ran on one core)
test: deps-auto
	$(MAKE) -j2 pushwire build-tests build-asan build-tsan build-fuzz
	tests/run

# regenerate man page SYNOPSIS/OPTIONS blocks and completions from the tables
docs: pushwire
	tools/gendocs.sh

# --- install ---
install: pushwire
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 755 pushwire $(DESTDIR)$(BINDIR)/pushwire
	install -m 644 man/*.1 $(DESTDIR)$(MANDIR)/man1/
	install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
	  $(DESTDIR)$(PREFIX)/share/zsh/site-functions $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 644 completions/pushwire.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/pushwire
	install -m 644 completions/_pushwire $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_pushwire
	install -m 644 completions/pushwire.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/pushwire.fish
	for a in $(APPLETS); do \
	  ln -sf pushwire $(DESTDIR)$(PREFIX)/share/bash-completion/completions/pushwire-$$a; \
	  ln -sf pushwire.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/pushwire-$$a.fish; done

install-links:
	install -d $(DESTDIR)$(BINDIR)
	for a in $(APPLETS); do ln -sf pushwire $(DESTDIR)$(BINDIR)/pushwire-$$a; done

# --- the systemd unit and the Debian package (packaging/) ---
# `make install` also installs the unit for `pushwire serve` into UNITDIR
# (systemd reads /usr/local/lib/systemd/system and /usr/lib/systemd/system);
# the unit reads /etc/default/pushwire, which install leaves alone.
UNITDIR ?= $(PREFIX)/lib/systemd/system
install: install-unit
install-unit:
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|@BINDIR@|$(BINDIR)|g' packaging/pushwire.service.in >$(DESTDIR)$(UNITDIR)/pushwire.service
	chmod 644 $(DESTDIR)$(UNITDIR)/pushwire.service

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/pushwire $(DESTDIR)$(UNITDIR)/pushwire.service
	for a in $(APPLETS); do rm -f $(DESTDIR)$(BINDIR)/pushwire-$$a \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions/pushwire-$$a \
	  $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/pushwire-$$a.fish; done
	rm -f $(patsubst man/%,$(DESTDIR)$(MANDIR)/man1/%,$(wildcard man/*.1)) \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions/pushwire \
	  $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_pushwire \
	  $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/pushwire.fish

# `make deb` compiles its own binary under DEB_DIR/obj with all of Debian's
# hardening flags (dpkg-buildflags), leaving ./pushwire alone, and writes
# DEB_DIR/pushwire_VERSION_ARCH.deb (the version is PW_VERSION in cmd/main.c).
DEB_DIR ?= build/deb
DEB_B = $(abspath $(DEB_DIR))/obj
DEB_FLAGS = DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get
deb:
	@command -v dpkg-buildflags >/dev/null || { echo "pushwire: make deb needs dpkg-dev: run 'make deps'" >&2; exit 1; }
	$(MAKE) B=$(DEB_B) CFLAGS="$$($(DEB_FLAGS) CPPFLAGS) $$($(DEB_FLAGS) CFLAGS)" \
	  LDFLAGS="$$($(DEB_FLAGS) LDFLAGS)" $(DEB_B)/pushwire
	packaging/mkdeb.sh $(DEB_B)/pushwire $(DEB_DIR)
# the packaged binary, linked with LDFLAGS (the ./pushwire rule takes none)
$(B)/pushwire: $(CMD:%.c=$(B)/%.o) $(call LIBS_OF,$(B))
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)
# a DEB_DIR outside build/ keeps its header dependencies too
-include $(if $(filter-out build/% $(abspath build)/%,$(B)),$(shell find $(B) -type f -name '*.d' 2>/dev/null))

.PHONY: install-unit uninstall deb

clean:
	rm -rf build pushwire

.PHONY: all deps deps-auto run test docs install install-links clean fuzz build-fuzz bench build-tests build-asan build-tsan
.SECONDARY:

-include $(shell find build -name '*.d' -type f 2>/dev/null)
