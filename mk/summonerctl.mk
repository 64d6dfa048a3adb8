# summonerctl/: the operator's command-line tool, one file per command
# (summonerctl/cmd-*.c) listed in one table.  It talks JSON over the
# daemon's control socket (docs/control-socket.md).
SUMMONERCTL_SRCS := $(wildcard summonerctl/*.c)
SUMMONERCTL_OBJS := $(SUMMONERCTL_SRCS:%.c=$(OBJ)/%.o)
SUMMONERCTL_BIN  := $(BUILD)/summonerctl

ifneq ($(SUMMONERCTL_OBJS),)
$(SUMMONERCTL_BIN): $(SUMMONERCTL_OBJS) $(MODE_STAMP)
	$(call say,LD,$@)
	$(Q)$(HOST_CC) $(HOST_LDFLAGS) -o $@ $(SUMMONERCTL_OBJS) -ljson-c $(HOST_LIBS)

ALL_TARGETS += $(SUMMONERCTL_BIN)
endif
