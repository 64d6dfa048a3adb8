# tests/: one cmocka binary per module (tests/unit/test_<module>.c ->
# build/tests/test_<module>), linked against the host libraries, and the
# tools the integration tests and benchmarks drive (tests/tools/<name>.c ->
# build/tests/<name>).
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
# test_netstack links the guests' network stack compiled for the host
# (below), not the host libraries.
NETSTACK_TEST := $(BUILD)/tests/test_netstack
UNIT_BINS := $(filter-out $(NETSTACK_TEST),$(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS)))
TOOL_SRCS := $(filter-out tests/tools/dnsbench.c tests/tools/virtprobe.c,$(wildcard tests/tools/*.c))
TOOL_BINS := $(patsubst tests/tools/%.c,$(BUILD)/tests/%,$(TOOL_SRCS))
# dnsbench drives the DNS engine, so it links the summoner's library.
DNSBENCH := $(BUILD)/tests/dnsbench

$(UNIT_BINS): $(BUILD)/tests/%: $(OBJ)/tests/unit/%.o $(SUMMONER_LIB) $(POLICIES_LIB) $(TENDER_LIB) $(HEALTH_LIB) $(MODE_STAMP)
	$(call say,LD,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(HOST_LDFLAGS) -o $@ $< $(SUMMONER_LIB) $(POLICIES_LIB) $(TENDER_LIB) $(HEALTH_LIB) -lcmocka $(SUMMONER_LIBS) $(HOST_LIBS)

$(TOOL_BINS): $(BUILD)/tests/%: $(OBJ)/tests/tools/%.o $(TENDER_LIB) $(HEALTH_LIB) $(MODE_STAMP)
	$(call say,LD,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(HOST_LDFLAGS) -o $@ $< $(TENDER_LIB) $(HEALTH_LIB) $(HOST_LIBS)

$(DNSBENCH): $(OBJ)/tests/tools/dnsbench.o $(SUMMONER_LIB) $(POLICIES_LIB) $(TENDER_LIB) $(HEALTH_LIB) $(MODE_STAMP)
	$(call say,LD,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(HOST_LDFLAGS) -o $@ $< $(SUMMONER_LIB) $(POLICIES_LIB) $(TENDER_LIB) $(HEALTH_LIB) $(SUMMONER_LIBS) $(HOST_LIBS)

ALL_TARGETS += $(UNIT_BINS) $(TOOL_BINS) $(DNSBENCH)

# virtprobe drives libvirt through summoner/virt_*.c
# (tests/integration/libvirt-events.sh).
VIRTPROBE := $(BUILD)/tests/virtprobe
$(OBJ)/tests/tools/virtprobe.o: HOST_CFLAGS += $(VIRT_CFLAGS) -Isummoner
$(OBJ)/tests/unit/test_virt_event.o: HOST_CFLAGS += $(VIRT_CFLAGS)
$(VIRTPROBE): $(OBJ)/tests/tools/virtprobe.o $(SUMMONER_LIB) $(MODE_STAMP)
	$(call say,LD,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(HOST_LDFLAGS) -o $@ $< $(SUMMONER_LIB) $(SUMMONER_LIBS) $(HOST_LIBS)
ALL_TARGETS += $(VIRTPROBE)

# The journal's write-cost benchmark (tests/bench/journal runs it).
JOURNALBENCH := $(BUILD)/tests/journalbench
$(JOURNALBENCH): $(OBJ)/tests/bench/journal.o $(SUMMONER_LIB) $(POLICIES_LIB) $(MODE_STAMP)
	$(call say,LD,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(HOST_LDFLAGS) -o $@ $< $(SUMMONER_LIB) $(POLICIES_LIB) $(TENDER_LIB) $(HEALTH_LIB) $(SUMMONER_LIBS) $(HOST_LIBS)
ALL_TARGETS += $(JOURNALBENCH)

# The guests' network stack is freestanding C that also builds as host C:
# its test links host objects of the same sources (sanitized with
# SANITIZE=1, which the guest build never is).
NETSTACK_HOST_OBJS := $(NETSTACK_SRCS:%.c=$(OBJ)/%.o)
$(NETSTACK_TEST): $(OBJ)/tests/unit/test_netstack.o $(NETSTACK_HOST_OBJS) $(MODE_STAMP)
	$(call say,LD,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(HOST_LDFLAGS) -o $@ $< $(NETSTACK_HOST_OBJS) -lcmocka
ALL_TARGETS += $(NETSTACK_TEST)
