#!/bin/bash
# summoner-systemd.sh: the daemon as a Type=notify service, against a real
# notification socket (what systemd gives a unit in NOTIFY_SOCKET): READY=1
# only once DNS is answered, MAINPID, WATCHDOG=1 at half of WATCHDOG_USEC
# from the event loop (and none while the loop is stopped), RELOADING=1
# then READY=1 around a reload, with a status saying whether it was taken,
# STOPPING=1 on SIGTERM; and journal priority prefixes on stderr exactly
# when JOURNAL_STREAM names stderr.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/daemon.bash"

NOTES=$TMP/notify.txt
# A datagram listener on the socket: one line per message, "TIME MSG"
# with the message's newlines as '|'.
/usr/bin/python3 - "$TMP/notify.sock" "$NOTES" <<'PYEND' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as out:
    while True:
        d = s.recv(4096).decode(errors="replace").replace("\n", "|")
        out.write("%.3f %s\n" % (time.monotonic(), d))
PYEND
PIDS+=($!)
disown # killed by cleanup(); no job notice
for _ in $(seq 50); do [ -S "$TMP/notify.sock" ] && break; sleep 0.1; done

# wait_note REGEX [TENTHS]: until a message matching REGEX arrived.
wait_note() {
	for _ in $(seq "${2:-50}"); do
		grep -Eq -- "$1" "$NOTES" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
notes() { grep -Ec -- "$1" "$NOTES" 2>/dev/null || true; }

export NOTIFY_SOCKET=$TMP/notify.sock
export WATCHDOG_USEC=400000 # pings every 200 ms
start sd "$(svc hello "image $G/hello.hvt")" || exit 0

if wait_note 'READY=1'; then
	# READY=1 came after the start: the zone must answer now.
	r=$(q t.test SOA)
	if [[ $r == NOERROR* ]]; then
		pass "READY=1 sent, and DNS answers at that point"
	else
		fail "READY=1" "SOA after READY=1: $r"
	fi
else
	fail "READY=1" "never sent"
	sed 's/^/    | /' "$NOTES" | head
fi
expect "READY=1 names the daemon as MAINPID" "$NOTES" \
	"READY=1\\|STATUS=serving\\|MAINPID=$DPID"

# Watchdog: about 5 pings a second; none while the loop is stopped.
n0=$(notes 'WATCHDOG=1')
sleep 1.5
n1=$(notes 'WATCHDOG=1')
if [ $((n1 - n0)) -ge 3 ] && [ $((n1 - n0)) -le 12 ]; then
	pass "WATCHDOG=1 at half of WATCHDOG_USEC ($((n1 - n0)) in 1.5 s)"
else
	fail "watchdog pings" "$((n1 - n0)) in 1.5 s (expected about 7)"
fi
kill -STOP "$DPID"
n0=$(notes 'WATCHDOG=1')
sleep 0.8
n1=$(notes 'WATCHDOG=1')
kill -CONT "$DPID"
if [ "$n1" = "$n0" ]; then
	pass "no WATCHDOG=1 while the daemon's loop is stopped"
else
	fail "watchdog while stopped" "$((n1 - n0)) pings"
fi
wait_note 'WATCHDOG=1' >/dev/null

# A reload that is taken, then one that is refused.
: >"$NOTES"
kill -HUP "$DPID"
if wait_note 'READY=1\|STATUS=serving; configuration reloaded' &&
	[ "$(grep -n 'RELOADING=1' "$NOTES" | head -1 | cut -d: -f1)" -lt \
		"$(grep -n 'READY=1' "$NOTES" | head -1 | cut -d: -f1)" ]; then
	pass "SIGHUP: RELOADING=1 (with MONOTONIC_USEC), then READY=1 saying reloaded"
else
	fail "reload notifications" "$(tr '\n' ' ' <"$NOTES")"
fi
expect "RELOADING=1 carries MONOTONIC_USEC" "$NOTES" 'RELOADING=1\|MONOTONIC_USEC=[0-9]+'
echo "service broken {" >>"$CONF"
: >"$NOTES"
kill -HUP "$DPID"
if wait_note 'READY=1\|STATUS=serving; reload refused'; then
	pass "a refused reload: READY=1 with a status saying so"
else
	fail "refused reload" "$(tr '\n' ' ' <"$NOTES")"
fi
r=$(q t.test SOA)
[[ $r == NOERROR* ]] && pass "still answering after the refused reload" ||
	fail "answer after refused reload" "$r"

kill -TERM "$DPID"
if wait_note 'STOPPING=1'; then
	pass "SIGTERM: STOPPING=1"
else
	fail "STOPPING=1" "not sent"
fi
for _ in $(seq 100); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.05; done
unset NOTIFY_SOCKET WATCHDOG_USEC

# JOURNAL_STREAM: priorities only when it names stderr.
jlog=$TMP/journal.log
: >"$jlog"
js=$(stat -c '%d:%i' "$jlog")
printf 'listen on 127.0.0.1 port 1\nservice x {\n' >"$TMP/bad.conf"
JOURNAL_STREAM=$js "$SUMMONER" -f "$TMP/bad.conf" 2>>"$jlog" >/dev/null
JOURNAL_STREAM=$js "$SUMMONER" -n -f "$CONF" 2>>"$jlog" >/dev/null
# A start that fails after logging at info level: the port is taken.
JOURNAL_STREAM=$js "$SUMMONER" -f "$CONF" 2>>"$jlog" >/dev/null &
p=$!
PIDS+=("$p")
for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
kill -TERM "$p" 2>/dev/null
expect "JOURNAL_STREAM naming stderr: lines carry <priority>" "$jlog" \
	'^<[0-7]>' '!^summoner: '
other=$TMP/other.log
: >"$other"
JOURNAL_STREAM=1:1 "$SUMMONER" -f "$TMP/bad.conf" 2>>"$other" >/dev/null
expect "JOURNAL_STREAM naming another file: plain lines" "$other" \
	'.' '!^<[0-7]>'
