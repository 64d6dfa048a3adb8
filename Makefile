# summoner: one `make` builds everything into build/.
#
#   make              build the tender, the guests, libraries and tests
#   make test         install missing packages, build, run every test
#   make run          install, build, start libvirtd if none answers, and
#                     run the summoner on config/summoner.conf (127.0.0.1
#                     port 5353) until Ctrl-C
#   make install      install under PREFIX (/usr/local), DESTDIR for staging;
#                     make uninstall removes it (docs/install.md)
#   make lint         check formatting with clang-format
#   make bench        run the benchmarks under tests/bench/
#   make SANITIZE=1   host-side code built with ASan + UBSan (guests stay
#                     freestanding); objects go to their own directory
#   make V=1          show the commands
#
# Each component has its own mk/<component>.mk; this file holds what they
# share.

BUILD    ?= build
SANITIZE ?= 0
V        ?= 0

ifeq ($(V),1)
Q :=
say = @true
else
Q := @
say = @printf '  %-7s %s\n' $(1) $(2);
endif

CC      ?= cc
AR      ?= ar
HOST_CC := $(CC)

WARN := -Wall -Wextra -Wshadow -Wpointer-arith -Wcast-qual -Wwrite-strings \
	-Wstrict-prototypes -Wmissing-prototypes -Werror

HOST_CFLAGS := -std=c17 -D_GNU_SOURCE -O2 -g $(WARN) -MMD -MP \
	-Iinclude -I. -fno-omit-frame-pointer
HOST_LDFLAGS :=
HOST_LIBS := -lpthread

ifeq ($(SANITIZE),1)
HOST_CFLAGS  += -fsanitize=address,undefined -fno-sanitize-recover=all
HOST_LDFLAGS += -fsanitize=address,undefined
OBJ := $(BUILD)/obj-san
else
OBJ := $(BUILD)/obj
endif

# A build-mode stamp: switching SANITIZE relinks every host binary.
MODE_STAMP := $(BUILD)/.mode-$(SANITIZE)
$(MODE_STAMP):
	$(Q)mkdir -p $(BUILD)
	$(Q)rm -f $(BUILD)/.mode-*
	$(Q)touch $@

# Host objects: $(OBJ)/<dir>/<file>.o from <dir>/<file>.c
$(OBJ)/%.o: %.c
	$(call say,CC,$<)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -c -o $@ $<

# Build a static library: $(call host_lib,target,objects)
$(BUILD)/%.a:
	$(call say,AR,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $^

ALL_TARGETS :=
TEST_BINS :=

include mk/health.mk
include mk/policies.mk
include mk/tender.mk
include mk/summoner.mk
include mk/summonerctl.mk
include mk/guests.mk
include mk/tests.mk
include mk/install.mk

.DEFAULT_GOAL := all
.PHONY: all deps test run lint format bench clean

all: $(ALL_TARGETS)

deps:
	$(Q)scripts/install-deps.sh

test: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/run-tests.sh $(BUILD)

# libvirtd-up.sh starts libvirtd and virtlogd for hello-virt when
# qemu:///system does not answer, and stops what it started once the
# summoner exits (Ctrl-C); without them the other services still run.
run: deps
	$(Q)$(MAKE) --no-print-directory all
	scripts/libvirtd-up.sh run $(BUILD)/libvirtd --for hello-virt -- \
		$(BUILD)/summoner -f config/summoner.conf

bench: all
	$(Q)tests/bench/boot $(BUILD)
	$(Q)tests/bench/summon $(BUILD)
	$(Q)tests/bench/qps $(BUILD)
	$(Q)tests/bench/supervise $(BUILD)
	$(Q)tests/bench/journal $(BUILD)
	$(Q)tests/bench/first-byte $(BUILD)
	$(Q)tests/bench/backends $(BUILD)

LINT_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
lint:
	$(Q)clang-format --dry-run --Werror $(LINT_FILES) && echo "lint: clean"

format:
	$(Q)clang-format -i $(LINT_FILES)

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
