# policies/: the policy language's evaluator and dry run, as a library
# (pure: no I/O, no clock of its own).
POLICIES_SRCS := $(wildcard policies/*.c)
POLICIES_OBJS := $(POLICIES_SRCS:%.c=$(OBJ)/%.o)
POLICIES_LIB := $(OBJ)/libpolicies.a

$(POLICIES_LIB): $(POLICIES_OBJS) $(MODE_STAMP)
	$(call say,AR,$@)
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $(POLICIES_OBJS)

ALL_TARGETS += $(POLICIES_LIB)
