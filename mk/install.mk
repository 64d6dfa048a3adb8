# make install / make uninstall: the files docs/install.md lists, under
# $(DESTDIR)$(PREFIX) (PREFIX /usr/local by default).  No file under /etc
# is written: the example configuration goes to the documentation
# directory, and the operator copies it (docs/install.md).  The daemon
# finds the tender installed beside it, whatever PREFIX was.
PREFIX     ?= /usr/local
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
BINDIR     := $(PREFIX)/bin
SBINDIR    := $(PREFIX)/sbin
LIBEXECDIR := $(PREFIX)/libexec
MANDIR     := $(PREFIX)/share/man
DATADIR    := $(PREFIX)/share/summoner
DOCDIR     := $(PREFIX)/share/doc/summoner
UNITDIR    := $(PREFIX)/lib/systemd/system
SYSUSERSDIR := $(PREFIX)/lib/sysusers.d
COMPLDIR   := $(PREFIX)/share/bash-completion/completions

.PHONY: install uninstall

INSTALL_GUESTS := $(wildcard $(BUILD)/guests/*.hvt $(BUILD)/guests/*.virt)
INSTALL_MAN5   := $(wildcard man/*.5)
INSTALL_MAN8   := $(wildcard man/*.8)
INSTALL_DOCS   := README.md $(wildcard docs/*.md)

# Paths substituted into the unit, the example configuration.
SUBST := sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	-e 's|@LIBEXECDIR@|$(LIBEXECDIR)|g' -e 's|@DATADIR@|$(DATADIR)|g' \
	-e 's|@DOCDIR@|$(DOCDIR)|g'

# $(call install_some,FILES,DIR): mode 0644, nothing when FILES is empty.
install_some = $(if $(1),install -m 0644 $(1) $(2)/,true)

install: all
	$(call say,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) \
		$(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DATADIR)/guests \
		$(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(COMPLDIR)
	$(Q)install -m 0755 $(SUMMONER_BIN) $(DESTDIR)$(SBINDIR)/summoner
	$(Q)install -m 0755 $(BUILD)/summoner-tender \
		$(DESTDIR)$(LIBEXECDIR)/summoner-tender
	$(Q)install -m 0755 $(SUMMONERCTL_BIN) $(DESTDIR)$(BINDIR)/summonerctl
	$(Q)$(call install_some,$(INSTALL_MAN5),$(DESTDIR)$(MANDIR)/man5)
	$(Q)$(call install_some,$(INSTALL_MAN8),$(DESTDIR)$(MANDIR)/man8)
	$(Q)$(call install_some,$(INSTALL_GUESTS),$(DESTDIR)$(DATADIR)/guests)
	$(Q)install -m 0644 $(INSTALL_DOCS) $(DESTDIR)$(DOCDIR)/
	$(Q)$(SUBST) dist/summoner.conf.in > \
		$(DESTDIR)$(DOCDIR)/examples/summoner.conf
	$(Q)chmod 0644 $(DESTDIR)$(DOCDIR)/examples/summoner.conf
	$(Q)install -m 0644 config/policies.conf \
		$(DESTDIR)$(DOCDIR)/examples/policies.conf
	$(Q)$(SUBST) dist/summoner.service.in > \
		$(DESTDIR)$(UNITDIR)/summoner.service
	$(Q)chmod 0644 $(DESTDIR)$(UNITDIR)/summoner.service
	$(Q)install -m 0644 dist/sysusers.conf \
		$(DESTDIR)$(SYSUSERSDIR)/summoner.conf
	$(Q)install -m 0644 dist/summonerctl.bash \
		$(DESTDIR)$(COMPLDIR)/summonerctl

# Removes exactly what install wrote (and the directories of our own).
uninstall:
	$(call say,UNINST,$(DESTDIR)$(PREFIX))
	$(Q)rm -f $(DESTDIR)$(SBINDIR)/summoner \
		$(DESTDIR)$(LIBEXECDIR)/summoner-tender \
		$(DESTDIR)$(BINDIR)/summonerctl \
		$(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(INSTALL_MAN5))) \
		$(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(INSTALL_MAN8))) \
		$(DESTDIR)$(UNITDIR)/summoner.service \
		$(DESTDIR)$(SYSUSERSDIR)/summoner.conf \
		$(DESTDIR)$(COMPLDIR)/summonerctl
	$(Q)rm -rf $(DESTDIR)$(DATADIR) $(DESTDIR)$(DOCDIR)
