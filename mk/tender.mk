# tender/: summoner-tender.  Everything but main.c goes into libtender.a so
# that unit tests (and later the summoner, for ctlproto) link the pieces.
TENDER_SRCS := $(filter-out tender/main.c,$(wildcard tender/*.c))
TENDER_OBJS := $(TENDER_SRCS:%.c=$(OBJ)/%.o)
TENDER_LIB := $(OBJ)/libtender.a
TENDER_BIN  := $(BUILD)/summoner-tender

# Static: no dynamic loader at start-up and half the resident size (a
# tender is started per summon and lives as long as its guest).  The
# sanitizers need the dynamic runtime, so SANITIZE=1 links dynamically.
ifeq ($(SANITIZE),1)
TENDER_LDFLAGS :=
else
TENDER_LDFLAGS := -static
endif

$(TENDER_LIB): $(TENDER_OBJS) $(MODE_STAMP)
	$(call say,AR,$@)
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $(TENDER_OBJS)

$(TENDER_BIN): $(OBJ)/tender/main.o $(TENDER_LIB) $(HEALTH_LIB) $(MODE_STAMP)
	$(call say,LD,$@)
	$(Q)$(HOST_CC) $(HOST_LDFLAGS) $(TENDER_LDFLAGS) -o $@ $(OBJ)/tender/main.o $(TENDER_LIB) $(HEALTH_LIB) $(HOST_LIBS)

ALL_TARGETS += $(TENDER_LIB) $(TENDER_BIN)
