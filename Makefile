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
LIBS      = -luv -lcurl -lssl -lcrypto -lz -lm -lpthread
FUZZ_SECONDS ?= 60

SRC  := $(sort $(wildcard src/*.c))
CMD  := $(sort $(wildcard cmd/*.c))
UNIT := $(sort $(wildcard tests/unit/test_*.c))
FUZZ := $(sort $(wildcard tests/fuzz/fuzz_*.c))
BENCH_C := $(sort $(wildcard bench/*.c))
APPLETS = $(shell sed -n 's/^ *X(\([a-z]*\)).*/\1/p' cmd/applets.h)

# Two builds side by side: rel (the binary) and asan (the suite runs it too).
B        = build/rel
BA       = build/asan
ASANFLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined

all: pushwire

# --- dependency check: tell the user what to do when a header is missing ---
HEADERS_OK := $(B)/.headers-ok
$(HEADERS_OK):
	@mkdir -p $(B)
	@printf '#include <uv.h>\n#include <curl/curl.h>\n#include <openssl/sha.h>\n#include <zlib.h>\n' \
	  | $(CC) -E -x c - >/dev/null 2>&1 || { \
	  echo "pushwire: build headers are missing (libuv, libcurl, OpenSSL, zlib): run 'make deps'" >&2; exit 1; }
	@touch $@

# --- the binary ---
$(B)/%.o: %.c $(HEADERS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(CPPFLAGS) $(CFLAGS) $(WARN) -MMD -MP -c $< -o $@

$(BA)/%.o: %.c $(HEADERS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(CPPFLAGS) $(ASANFLAGS) $(WARN) -MMD -MP -c $< -o $@

$(B)/libpw.a: $(SRC:%.c=$(B)/%.o)
	rm -f $@ && ar rcs $@ $^

$(BA)/libpw.a: $(SRC:%.c=$(BA)/%.o)
	rm -f $@ && ar rcs $@ $^

pushwire: $(CMD:%.c=$(B)/%.o) $(B)/libpw.a
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

$(BA)/pushwire: $(CMD:%.c=$(BA)/%.o) $(BA)/libpw.a
	$(CC) $(ASANFLAGS) -o $@ $^ $(LIBS)

# --- unit tests: one program per tests/unit/test_*.c, linked with the core ---
$(B)/tests/%: $(B)/tests/unit/%.o $(B)/libpw.a
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)
$(BA)/tests/%: $(BA)/tests/unit/%.o $(BA)/libpw.a
	$(CC) $(ASANFLAGS) -o $@ $^ $(LIBS)

UNIT_BIN  = $(UNIT:tests/unit/%.c=$(B)/tests/%)
UNIT_ABIN = $(UNIT:tests/unit/%.c=$(BA)/tests/%)

build-tests: pushwire $(UNIT_BIN)
build-asan: $(BA)/pushwire $(UNIT_ABIN)

# --- fuzzers (clang libFuzzer): the core is compiled once with the fuzzer's
# instrumentation into build/fuzz/libpw.a, then each target links against it ---
BF = build/fuzz
FUZZ_BIN = $(FUZZ:tests/fuzz/%.c=$(BF)/%)
FUZZFLAGS = -g -O1 -fsanitize=address,undefined
$(BF)/obj/%.o: %.c $(HEADERS_OK)
	@mkdir -p $(dir $@)
	clang $(STD) $(CPPFLAGS) $(FUZZFLAGS) -fsanitize=fuzzer-no-link $(WARN) -MMD -MP -c $< -o $@
$(BF)/libpw.a: $(SRC:%.c=$(BF)/obj/%.o)
	rm -f $@ && ar rcs $@ $^
$(BF)/fuzz_%: tests/fuzz/fuzz_%.c $(BF)/libpw.a
	clang $(STD) $(CPPFLAGS) $(FUZZFLAGS) -fsanitize=fuzzer $(WARN) $< $(BF)/libpw.a -o $@ $(LIBS)

build-fuzz: $(FUZZ_BIN)
fuzz: deps-auto build-fuzz
	@for f in $(FUZZ_BIN); do n=$${f##*/}; mkdir -p build/fuzz/corpus-$$n; \
	  echo "fuzz: $$n for $(FUZZ_SECONDS)s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -max_len=4096 build/fuzz/corpus-$$n tests/fuzz/corpus/$${n#fuzz_} >build/fuzz/$$n.log 2>&1 \
	    || { tail -40 build/fuzz/$$n.log; exit 1; }; tail -1 build/fuzz/$$n.log; done

# --- bench ---
BENCH_BIN = $(BENCH_C:bench/%.c=$(B)/bench/%)
$(B)/bench/%: bench/%.c $(B)/libpw.a $(HEADERS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(CPPFLAGS) -O2 -g $(WARN) $< $(B)/libpw.a -o $@ $(LIBS)
bench: deps-auto pushwire $(BENCH_BIN)
	bench/run

# --- set-up, run, test ---
deps:
	tools/deps.sh install

deps-auto:
	@tools/deps.sh check || tools/deps.sh install

run: deps-auto pushwire
	./pushwire serve

test: deps-auto
	$(MAKE) -j2 pushwire build-tests
	$(MAKE) -j2 build-asan
	$(MAKE) -j2 build-fuzz
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
	  ln -sf pushwire $(DESTDIR)$(PREFIX)/share/bash-completion/completions/pushwire-$$a; done

install-links:
	install -d $(DESTDIR)$(BINDIR)
	for a in $(APPLETS); do ln -sf pushwire $(DESTDIR)$(BINDIR)/pushwire-$$a; done

clean:
	rm -rf build pushwire

.PHONY: all deps deps-auto run test docs install install-links clean fuzz build-fuzz bench build-tests build-asan
.SECONDARY:

-include $(shell find build -name '*.d' 2>/dev/null)
