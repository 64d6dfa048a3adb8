# summoner/: the daemon.  Everything but main.c goes into libsummoner.a so
# that unit tests link the pieces; parse.y is compiled by bison into the
# object directory.
SUMMONER_SRCS := $(filter-out summoner/main.c,$(wildcard summoner/*.c))
SUMMONER_OBJS := $(SUMMONER_SRCS:%.c=$(OBJ)/%.o)
ifneq ($(wildcard summoner/parse.y),)
SUMMONER_OBJS += $(OBJ)/summoner/parse.o
endif
SUMMONER_LIB := $(OBJ)/libsummoner.a
SUMMONER_LIBS := -lldns -lmnl

$(OBJ)/summoner/parse.c: summoner/parse.y
	$(call say,BISON,$<)
	$(Q)mkdir -p $(dir $@)
	$(Q)bison -o $@ $<

# Generated code: compiled with the same flags, found next to its header.
$(OBJ)/summoner/parse.o: $(OBJ)/summoner/parse.c
	$(call say,CC,$<)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -Isummoner -c -o $@ $<

$(SUMMONER_LIB): $(SUMMONER_OBJS) $(MODE_STAMP)
	$(call say,AR,$@)
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $(SUMMONER_OBJS)

ifneq ($(SUMMONER_OBJS),)
ALL_TARGETS += $(SUMMONER_LIB)
else
SUMMONER_LIB :=
endif

# The daemon itself.  The control protocol's framing (tender/ctlproto.c)
# comes from libtender.a: one implementation for both ends.
SUMMONER_BIN := $(BUILD)/summoner
SUMMONER_LIBS += -levent -lsqlite3 -ljson-c -lsystemd
# libvirt (summoner/virt_*.c): the C API, libvirt-qemu for monitor
# commands, and libevent's pthreads support since libvirt calls the event
# loop's functions from the threads that call libvirt.
VIRT_CFLAGS := $(shell pkg-config --cflags libvirt libvirt-qemu libxml-2.0 2>/dev/null)
# libelf: the image's symbols for a libvirt guest's backtrace; libxml2: a
# defined domain's serial ports, from its XML.
VIRT_LIBS := $(shell pkg-config --libs libvirt libvirt-qemu libxml-2.0 2>/dev/null) -levent_pthreads -lelf
SUMMONER_LIBS += $(VIRT_LIBS)
$(OBJ)/summoner/virt_%.o: HOST_CFLAGS += $(VIRT_CFLAGS)
$(OBJ)/summoner/libvirt_%.o $(OBJ)/summoner/backend_libvirt.o: HOST_CFLAGS += $(VIRT_CFLAGS)

$(SUMMONER_BIN): $(OBJ)/summoner/main.o $(SUMMONER_LIB) $(POLICIES_LIB) \
		$(HEALTH_LIB) $(TENDER_LIB) $(MODE_STAMP)
	$(call say,LD,$@)
	$(Q)$(HOST_CC) $(HOST_LDFLAGS) -o $@ $(OBJ)/summoner/main.o \
		$(SUMMONER_LIB) $(POLICIES_LIB) $(TENDER_LIB) $(HEALTH_LIB) \
		$(SUMMONER_LIBS) $(HOST_LIBS)

ALL_TARGETS += $(SUMMONER_BIN)
