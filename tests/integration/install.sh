#!/bin/bash
# install.sh: `make install` puts exactly the files docs/install.md lists
# (with DESTDIR and PREFIX=/usr) and `make uninstall` takes them away; an
# install under a scratch PREFIX runs (the daemon finds its tender beside
# it, the example configuration is valid for it), its unit passes
# `systemd-analyze verify` (which also checks the man pages it names), its
# sysusers line is valid, and the bash completion completes commands,
# options and a running summoner's names.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/daemon.bash"

# The documented list, PREFIX replaced, as shell patterns.
doc_files() {
	sed -n '/<!-- install-files -->/,/<!-- \/install-files -->/p' docs/install.md |
		grep '^PREFIX/' | sed "s|^PREFIX|$1|"
}

# The build mode of the tree under test (SANITIZE=1 runs install the
# sanitized binaries): another mode would relink build/ under the suite.
mode=$(ls "$BUILD"/.mode-* 2>/dev/null | sed -n 's/.*\.mode-//p' | head -1)
make() { command make -s SANITIZE="${mode:-0}" BUILD="$BUILD" "$@"; }

D=$TMP/destdir
if ! make -s install DESTDIR="$D" PREFIX=/usr >"$TMP/install.log" 2>&1; then
	fail "make install DESTDIR" "$(tail -5 "$TMP/install.log")"
	exit 0
fi
pats=$(doc_files "$D/usr")
bad=""
while read -r f; do
	m=0
	while read -r p; do
		# shellcheck disable=SC2053
		[[ $f == $p ]] && m=1 && break
	done <<<"$pats"
	[ $m = 1 ] || bad="$bad ${f#"$D"}"
done < <(find "$D" -type f -o -type l)
[ -z "$bad" ] && pass "make install writes only documented files" ||
	fail "undocumented files installed" "$bad"
miss=""
while read -r p; do
	# shellcheck disable=SC2086
	compgen -G "$p" >/dev/null || miss="$miss ${p#"$D"}"
done <<<"$pats"
[ -z "$miss" ] && pass "every documented file is installed" ||
	fail "documented but not installed" "$miss"
n=$(find "$D" -type f | wc -l)
[ "$n" -ge 16 ] && pass "install DESTDIR: $n files" || fail "file count" "$n"
modes=$(stat -c '%a %n' "$D/usr/sbin/summoner" "$D/usr/bin/summonerctl" \
	"$D/usr/libexec/summoner-tender" "$D/usr/lib/systemd/system/summoner.service")
expect_text "installed modes: programs 755, unit 644" "$modes" \
	'^755 .*/sbin/summoner$' '^755 .*/bin/summonerctl$' \
	'^755 .*/libexec/summoner-tender$' '^644 .*summoner.service$'
unit=$D/usr/lib/systemd/system/summoner.service
expect "the unit for PREFIX=/usr" "$unit" '^Type=notify$' \
	'^ExecStart=/usr/sbin/summoner -f /etc/summoner/summoner.conf$' \
	'^User=summoner$' '^WatchdogSec=' '!@[A-Z]+@'
make -s uninstall DESTDIR="$D" PREFIX=/usr >/dev/null 2>&1
left=$(find "$D" -type f -o -type l)
[ -z "$left" ] && pass "make uninstall removes every installed file" ||
	fail "left after uninstall" "$left"

# A real install under a scratch prefix.
P=$TMP/prefix
if ! make -s install PREFIX="$P" >"$TMP/install2.log" 2>&1; then
	fail "make install PREFIX" "$(tail -5 "$TMP/install2.log")"
	exit 0
fi
out=$("$P/sbin/summoner" -n -f "$P/share/doc/summoner/examples/summoner.conf" 2>&1)
expect_text "the example configuration is valid and finds the installed tender" \
	"$out" "^tender \"$P/libexec/summoner-tender\"$" \
	"image \"$P/share/summoner/guests/hello.hvt\""
if command -v systemd-analyze >/dev/null; then
	v=$(MANPATH=$P/share/man SYSTEMD_LOG_LEVEL=notice \
		systemd-analyze verify "$P/lib/systemd/system/summoner.service" 2>&1)
	if [ -z "$v" ]; then
		pass "systemd-analyze verify: the unit is clean (man pages found)"
	else
		fail "systemd-analyze verify" "$v"
	fi
else
	fail "systemd-analyze" "not installed (scripts/install-deps.sh installs systemd)"
fi
if command -v systemd-sysusers >/dev/null; then
	mkdir -p "$TMP/root/etc"
	touch "$TMP/root/etc/passwd" "$TMP/root/etc/group"
	if systemd-sysusers --root="$TMP/root" "$P/lib/sysusers.d/summoner.conf" \
		>"$TMP/sysusers.log" 2>&1 &&
		grep -q '^summoner:x:[0-9]*:[0-9]*:.*:/var/lib/summoner:/usr/sbin/nologin$' \
			"$TMP/root/etc/passwd"; then
		pass "sysusers.d line creates the summoner user"
	else
		fail "sysusers" "$(cat "$TMP/sysusers.log" "$TMP/root/etc/passwd")"
	fi
fi

# Completion: the commands are summonerctl's own, names the daemon's.
comp() {
	bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1));
		_summonerctl; printf "%s\n" "${COMPREPLY[@]}"' _ \
		"$P/share/bash-completion/completions/summonerctl" "$@" | sort | tr '\n' ' '
}
want=$("$BUILD/summonerctl" --help | sed -n '/^Commands:/,/^$/p' |
	awk 'NR > 1 && NF { print $1 }' | sort | tr '\n' ' ')
got=$(comp summonerctl "")
[ -n "$want" ] && [ "$got" = "$want" ] &&
	pass "completion: every command of summonerctl --help" ||
	fail "completion commands" "got '$got', --help has '$want'"
got=$(comp summonerctl logs -)
[ "$got" = "-f -h -n " ] && pass "completion: a command's options" ||
	fail "completion options" "'$got'"
start comp "$(svc hello "image $G/hello.hvt")
$(svc echo "image $G/hello.hvt")" || exit 0
q hello.t.test >/dev/null
PATH=$P/bin:$PATH
export PATH
got=$(comp summonerctl -s "$STATE/control.sock" inspect "")
expect_text "completion: names from the running summoner" "$got" \
	'(^| )hello( |$)' '(^| )echo( |$)' 'hello#1'
stop_daemon comp

# The unit's privileges are enough: the installed daemon run as an
# unprivileged uid with only the unit's group and capabilities (setpriv
# does what systemd would), in a network namespace of our own, binds port
# 53, makes its bridge and a tap, boots a networked guest and serves it.
unit=$P/lib/systemd/system/summoner.service
caps=$(sed -n 's/^AmbientCapabilities=//p' "$unit" | tr 'A-Z' 'a-z' |
	sed 's/cap_/+/g; s/ /,/g')
grp=$(sed -n 's/^SupplementaryGroups=//p' "$unit")
gid=$(getent group "$grp" | cut -d: -f3)
if ! have_kvm || [ -z "$gid" ] || ! command -v setpriv >/dev/null; then
	skip "unit privileges" "needs /dev/kvm, group $grp and setpriv"
	exit 0
fi
ns=sm-inst-$$
ip netns add "$ns" && ip netns exec "$ns" ip link set lo up
trap 'ip netns del "$ns" 2>/dev/null; cleanup' EXIT
uid=64000
st=$TMP/ustate
mkdir -p "$st" && chown "$uid:$uid" "$st" && chmod 700 "$st"
chmod 755 "$TMP"
cat >"$TMP/u.conf" <<CONF
listen on 127.0.0.1 port 53
state-dir "$st"
bridge sm-ibr address 10.81.0.1 prefix 24
zone t.test. {
	soa { mname ns1 rname hostmaster serial 1 refresh 1h retry 15m expire 7d minimum 1m }
	ns ns1
}
service www {
	zone t.test.
	image "$P/share/summoner/guests/www.hvt"
	args "{instance}"
	memory 16M
	net service
	address 10.81.0.3 prefix 24
}
CONF
chmod 644 "$TMP/u.conf"
ip netns exec "$ns" setpriv --reuid=$uid --regid=$uid --groups="$gid" \
	--inh-caps="$caps" --ambient-caps="$caps" --bounding-set="-all,$caps" \
	"$P/sbin/summoner" -d -f "$TMP/u.conf" >"$TMP/u.log" 2>&1 &
upid=$!
PIDS+=("$upid")
for _ in $(seq 100); do
	grep -q "summoner started" "$TMP/u.log" && break
	kill -0 "$upid" 2>/dev/null || break
	sleep 0.05
done
a=$(ip netns exec "$ns" kdig @127.0.0.1 www.t.test +short +timeout=5 +retry=0)
page=$(ip netns exec "$ns" curl -s -m 5 http://10.81.0.3/)
user=$(ps -o user= -p "$(pgrep -P "$upid" | head -1)" 2>/dev/null)
if [ "$a" = 10.81.0.3 ] && [[ $page == *"www#1"* ]] && [ "$user" = "$uid" ]; then
	pass "the unit's user, group and capabilities ($caps) suffice: port 53, bridge, tap, guest served"
else
	fail "unit privileges" "answer '$a', page '${page:0:40}', tender user '$user'"
	sed 's/^/    | /' "$TMP/u.log" | head -20
fi
kill -TERM "$upid"
for _ in $(seq 100); do kill -0 "$upid" 2>/dev/null || break; sleep 0.05; done
reject "no permission errors in its log" "$TMP/u.log" \
	'[Pp]ermission denied|not permitted'
