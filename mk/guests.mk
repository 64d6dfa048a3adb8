# guests/: freestanding unikernels.  Never sanitized: they run on bare KVM.
#
#   guests/runtime/        the minimal runtime, shared by both platforms, plus
#     hvt/                 the hvt platform -> build/guests/libruntime.a
#     virt/                the virt platform -> build/guests/libruntime-virt.a
#   guest-heartbeat/       the heartbeat library -> build/guests/libheartbeat.a
#   guests/netstack/       the network stack -> build/guests/libnetstack.a
#   guests/<name>/*.c      one example unikernel -> build/guests/<name>.hvt
#                          (summoner-tender) and <name>.virt (QEMU microvm)

GUEST_CC := gcc
GUEST_CFLAGS := -std=c17 -O2 -g $(WARN) -MMD -MP \
	-ffreestanding -fno-builtin -nostdinc -isystem $(shell $(GUEST_CC) -print-file-name=include) \
	-fno-stack-protector -fno-pic -fno-pie -mno-red-zone -mcmodel=small \
	-fno-omit-frame-pointer -mno-omit-leaf-frame-pointer -fno-asynchronous-unwind-tables \
	-fcf-protection=none -fno-tree-loop-distribute-patterns -mgeneral-regs-only \
	-Iinclude -Iguests/runtime -Iguest-heartbeat -Iguests/netstack
GUEST_LDBASE := -nostdlib -static -no-pie -Wl,--build-id=none \
	-Wl,-z,max-page-size=0x1000
GUEST_LDFLAGS := $(GUEST_LDBASE) -Wl,-T,guests/runtime/hvt.lds
GUEST_VIRT_LDFLAGS := $(GUEST_LDBASE) -Wl,-T,guests/runtime/virt/virt.lds
GOBJ := $(BUILD)/gobj

$(GOBJ)/%.o: %.c
	$(call say,GCC,$<)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -c -o $@ $<

$(GOBJ)/%.o: %.S
	$(call say,GAS,$<)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -D__ASSEMBLY__ -c -o $@ $<

rt_objs = $(patsubst %,$(GOBJ)/%.o,$(basename $(wildcard $(1)/*.c $(1)/*.S)))
RUNTIME_COMMON_OBJS := $(call rt_objs,guests/runtime)
RUNTIME_OBJS := $(RUNTIME_COMMON_OBJS) $(call rt_objs,guests/runtime/hvt)
RUNTIME_LIB  := $(BUILD)/guests/libruntime.a
RUNTIME_VIRT_OBJS := $(RUNTIME_COMMON_OBJS) $(call rt_objs,guests/runtime/virt)
RUNTIME_VIRT_LIB  := $(BUILD)/guests/libruntime-virt.a

HB_SRCS := $(wildcard guest-heartbeat/*.c)
HB_OBJS := $(HB_SRCS:%.c=$(GOBJ)/%.o)
HB_LIB  := $(BUILD)/guests/libheartbeat.a

NETSTACK_SRCS := $(wildcard guests/netstack/*.c)
NETSTACK_OBJS := $(NETSTACK_SRCS:%.c=$(GOBJ)/%.o)
NETSTACK_LIB  := $(BUILD)/guests/libnetstack.a

$(NETSTACK_LIB): $(NETSTACK_OBJS)
	$(call say,AR,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $^

$(RUNTIME_LIB): $(RUNTIME_OBJS)
	$(call say,AR,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $^

$(RUNTIME_VIRT_LIB): $(RUNTIME_VIRT_OBJS)
	$(call say,AR,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $^

$(HB_LIB): $(HB_OBJS)
	$(call say,AR,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $^

GUEST_NAMES := $(filter-out runtime netstack,$(patsubst guests/%/,%,$(wildcard guests/*/)))
GUEST_IMAGES := $(GUEST_NAMES:%=$(BUILD)/guests/%.hvt) \
	$(GUEST_NAMES:%=$(BUILD)/guests/%.virt)

define guest_rule
$(1)_OBJS := $$(patsubst %.c,$$(GOBJ)/%.o,$$(wildcard guests/$(1)/*.c))
$$(BUILD)/guests/$(1).hvt: $$($(1)_OBJS) $$(RUNTIME_LIB) $$(HB_LIB) $$(NETSTACK_LIB) guests/runtime/hvt.lds
	$$(call say,LD,$$@)
	$$(Q)$$(GUEST_CC) $$(GUEST_LDFLAGS) -o $$@ $$($(1)_OBJS) \
		-Wl,--start-group $$(RUNTIME_LIB) $$(HB_LIB) $$(NETSTACK_LIB) -Wl,--end-group -lgcc
$$(BUILD)/guests/$(1).virt: $$($(1)_OBJS) $$(RUNTIME_VIRT_LIB) $$(HB_LIB) $$(NETSTACK_LIB) guests/runtime/virt/virt.lds
	$$(call say,LD,$$@)
	$$(Q)$$(GUEST_CC) $$(GUEST_VIRT_LDFLAGS) -o $$@ $$($(1)_OBJS) \
		-Wl,--start-group $$(RUNTIME_VIRT_LIB) $$(HB_LIB) $$(NETSTACK_LIB) -Wl,--end-group -lgcc
endef
$(foreach g,$(GUEST_NAMES),$(eval $(call guest_rule,$(g))))

ALL_TARGETS += $(RUNTIME_LIB) $(RUNTIME_VIRT_LIB) $(HB_LIB) $(NETSTACK_LIB) $(GUEST_IMAGES)
