# health/: host-side health code (heartbeat parser, ...) as a library.
HEALTH_SRCS := $(wildcard health/*.c)
HEALTH_OBJS := $(HEALTH_SRCS:%.c=$(OBJ)/%.o)
HEALTH_LIB := $(OBJ)/libhealth.a

$(HEALTH_LIB): $(HEALTH_OBJS) $(MODE_STAMP)
	$(call say,AR,$@)
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $(HEALTH_OBJS)

ALL_TARGETS += $(HEALTH_LIB)
