#!/bin/bash
# summoner-exec.sh: the exec backend end to end, with real DNS queries
# (kdig): the tender itself as a command booting hello.hvt (ready-after,
# console capture, idle stop, inspect's plain "not available" line); shell
# scripts that end in each way (exit 0, exit 3, SIGSEGV, SIGKILL from
# outside the summoner, never ready, a command that does not exist or is
# not executable, a flood on stdout) with the journal's decision and state
# for each; and a script that speaks the UDP heartbeat protocol with its
# {token}, becomes ready by READY=1, beats, and is restarted by its policy
# when it exits 3.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/daemon.bash"

H=$ROOT/$G/hello.hvt


# sql QUERY: one query on the journal.
sql() { sqlite3 "$STATE/journal.db" "$1"; }
# decision SVC: "event action" of the service's first decision.
decision() { sql "select event || ' ' || action from decisions where service='$1' order by seq limit 1"; }
# last_state SVC: the state the journal last recorded for SVC#1.
last_state() { sql "select to_state from transitions where service='$1' and id=1 order by seq desc limit 1"; }
# wait_sql QUERY WANT [TENTHS]: poll the journal until QUERY gives WANT.
wait_sql() {
	for _ in $(seq "${3:-50}"); do
		[ "$(sql "$1" 2>/dev/null)" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# ---- (1) the tender as the command: hello.hvt over DNS ----
if have_kvm; then
	start tender "$(svc hello 'backend exec' \
		"command \"$ROOT/$TENDER --mem={memory} {image} {args}\"" \
		"image \"$H\"" 'args "0" "1000"' 'memory 16M' 'address 10.0.0.2' \
		'ready-after 200ms' 'idle-timeout 1s')" || exit 1
	expect_text "tender: the summon is answered once ready-after has passed" \
		"$(q hello.t.test)" '^NOERROR 10\.0\.0\.2$'
	pid=$(ctl -j show hello | jfind pid)
	expect_text "tender: {memory} {image} {args} expand to separate words" \
		"$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" \
		"^$ROOT/$TENDER --mem=16 $H 0 1000 \$"
	[ "$(ps -o pgid= -p "$pid" | tr -d ' ')" = "$pid" ] &&
		pass "tender: the command leads a process group of its own" ||
		fail "tender: process group" "pgid $(ps -o pgid= -p "$pid") for pid $pid"
	wait_log "hello#1 console: Hello, world" 30 &&
		pass "tender: the guest's console is captured" ||
		fail "tender: console" "no 'Hello, world' console line"
	expect_text "tender: inspect says plainly that gdb and cores are not available" \
		"$(ctl inspect hello)" \
		'debugging: +gdb: not available with the exec backend' 'core: not captured by the exec backend'
	if wait_log "hello#1: ready -> stopping .*idle" 40 && gone "$pid" 40 &&
		wait_sql "select to_state from transitions where service='hello' order by seq desc limit 1" stopped; then
		pass "tender: idle stop ends the command (journal: stopped)"
	else
		fail "tender: idle stop" "pid $pid, last state $(last_state hello)"
		sed 's/^/    | /' "$LOG" | tail -15
	fi
	stop_daemon tender
else
	skip "exec: tender" "/dev/kvm is not usable on this host"
fi

# ---- (2) commands that end in every way ----
S=$TMP/scripts
mkdir -p "$S"
# Each becomes ready by ready-after, is summoned, then does its thing.
printf '#!/bin/sh\necho "exit0 says $1"\nsleep 0.5\nexit 0\n' >"$S/exit0"
printf '#!/bin/sh\necho "about to fail" >&2\nsleep 0.5\nexit 3\n' >"$S/exit3"
printf '#!/bin/sh\nsleep 0.5\nkill -SEGV $$\n' >"$S/segv"
printf '#!/bin/sh\nsleep 0.5\nkill -KILL $$\n' >"$S/kill9"
printf '#!/bin/sh\nexec sleep 30\n' >"$S/never"
printf '#!/bin/sh\nexec sleep 29\n' >"$S/quiet"
printf '#!/bin/sh\nexec yes flood-line-0123456789\n' >"$S/flood"
printf '#!/bin/sh\nexec tr "\\\\0" x </dev/zero\n' >"$S/longline"
printf '#!/bin/sh\necho not executable\n' >"$S/noexec"
chmod +x "$S/exit0" "$S/exit3" "$S/segv" "$S/kill9" "$S/never" "$S/quiet" "$S/flood" "$S/longline"

ex() { # ex NAME N COMMAND: an exec service at 10.0.1.N under policy "end"
	svc "$1" 'backend exec' "command \"$3\"" "address 10.0.1.$2" \
		'ready-after 100ms' 'policy end'
}
start ends "$(
	cat <<EOF
policy end {
	ready-timeout 800ms
	default stop
}
policy watched {
	heartbeat every 200ms misses 2
	default stop
}
$(ex exit0 1 "$S/exit0 {instance}")
$(ex exit3 2 "$S/exit3")
$(ex segv 3 "$S/segv")
$(ex kill9 4 "$S/kill9")
$(ex flood 5 "$S/flood")
$(ex longline 6 "$S/longline")
$(ex nosuch 7 "/no/such/command --flag")
$(ex noexec 8 "$S/noexec")
$(svc never 'backend exec' "command \"$S/never\"" 'address 10.0.1.99' \
		'ready-deadline 500ms' 'policy end')
$(svc quiet 'backend exec' "command \"$S/quiet\"" 'address 10.0.1.98' \
		'ready-after 100ms' 'policy watched')
EOF
)" || exit 1

for n in exit0 exit3 segv kill9; do
	r=$(q $n.t.test)
	[[ $r == NOERROR\ 10.0.1.* ]] || fail "$n: summon" "answer $r"
done
# Ready by ready-after, it owes no heartbeat: the policy's watch (every
# 200 ms, 2 misses) must not fire on a command that never sends one.
r=$(q quiet.t.test)
sleep 1.2
if [[ $r == NOERROR* ]] && wait_log 'quiet#1: booting -> ready' 5 &&
	! grep -q 'quiet#1.*heartbeat-miss' "$LOG"; then
	pass "ready-after: no heartbeat-miss for a command that sends none (1.2 s, 200 ms x 2 watch)"
else
	fail "ready-after heartbeat watch" "answer $r; $(grep 'quiet#1' "$LOG" | tail -3)"
fi
wait_sql "select count(*) from decisions where service in ('exit0','exit3','segv','kill9')" 4 40 ||
	fail "ends: decisions" "not all four decided in 4 s"

expect_text "exit 0: a clean exit (exit -> stop; ready -> stopping -> stopped)" \
	"$(decision exit0) $(last_state exit0)
$(grep 'exit0#1: ready -> stopping' "$LOG")" \
	'^exit stop stopped$' 'the guest exited with status 0'
expect_text "exit 0: {instance} expanded, stdout captured as console" \
	"$(grep 'exit0#1 console:' "$LOG")" 'console: exit0 says exit0#1$'
expect_text "exit 3: an exit fault with the status, stderr captured" \
	"$(decision exit3) $(last_state exit3)
$(grep -E 'exit3#1: ready -> faulted|exit3#1 (console|log)' "$LOG")" \
	'^exit stop stopped$' 'ready -> faulted .*status 3' 'log: command [0-9]+ exited with status 3' \
	'console: about to fail'
expect_text "SIGSEGV: a crash naming the signal (tender-died, faulted)" \
	"$(decision segv) $(last_state segv)
$(grep -E 'segv#1: ready -> faulted|segv#1 log' "$LOG")" \
	'^tender-died stop stopped$' 'ready -> faulted .*signal 11' 'log: command [0-9]+ killed by SIGSEGV \(a crash'
expect_text "SIGKILL from outside the summoner: a host error naming the signal" \
	"$(decision kill9) $(last_state kill9)
$(grep 'kill9#1: ready -> faulted' "$LOG")" \
	'^host-error stop stopped$' 'killed by SIGKILL, not by the summoner'
n=$(ctl -j show kill9 | jfind faults)
[ "$n" = 1 ] && pass "SIGKILL: show -j counts the service's fault" ||
	fail "SIGKILL: show -j faults" "$n"

# Never ready: the policy's ready-timeout ends it (the ready-deadline
# only answers the held query SERVFAIL; the boot goes on until then).
r=$(q never.t.test)
if wait_sql "select event || ' ' || action from decisions where service='never'" "ready-timeout stop" 30 &&
	wait_sql "select to_state from transitions where service='never' order by seq desc limit 1" stopped 40; then
	pass "never ready: ready-timeout, stopped (the held query: $r)"
else
	fail "never ready" "decision '$(decision never)', state $(last_state never)"
fi
pgrep -f "$S/never|sleep 30" >/dev/null && fail "never ready: process" "sleep 30 still runs" ||
	pass "never ready: its process group was terminated"

# Spawn failures: a clear boot failure, the query refused.
expect_text "no such command: a boot failure naming the command and errno" \
	"$(q nosuch.t.test)
$(grep 'nosuch#1: boot failed' "$LOG")" \
	'^SERVFAIL' 'boot failed: cannot run /no/such/command: No such file or directory'
expect_text "not executable: a boot failure with EACCES" \
	"$(q noexec.t.test)
$(grep 'noexec#1: boot failed' "$LOG")" \
	'^SERVFAIL' "boot failed: cannot run $S/noexec: Permission denied"

# Floods: lines (yes) and one endless line (tr): the daemon stays
# responsive and its memory bounded; a stop still ends them.
rss() { awk '/^VmRSS/ {print $2}' "/proc/$DPID/status"; }
before=$(rss)
q flood.t.test >/dev/null
q longline.t.test >/dev/null
t0=$(date +%s%N)
for _ in $(seq 20); do
	r=$(q exit0.t.test)
	sleep 0.1
done
after=$(rss)
[ $((after - before)) -lt 20000 ] &&
	pass "flood: daemon memory bounded (RSS ${before} -> ${after} kB over 2 s of two floods)" ||
	fail "flood: memory" "RSS ${before} -> ${after} kB"
expect_text "flood: DNS still answered during the flood" "$r" '^NOERROR 10\.0\.1\.'
wait_log "flood#1: [0-9]+ console lines not logged" 30 &&
	pass "flood: console lines beyond the burst are counted, not logged" ||
	fail "flood: rate limit" "no 'lines not logged'"
expect_text "flood: an endless line is cut into bounded console lines" \
	"$(grep -m1 'longline#1 console:' "$LOG" | sed 's/.*console: //' | wc -c)" '^51[0-9]$'
fp=$(ctl -j show flood | jfind pid)
lp=$(ctl -j show longline | jfind pid)
ctl stop flood >/dev/null
ctl stop longline >/dev/null
if gone "$fp" 40 && gone "$lp" 40 &&
	wait_sql "select to_state from transitions where service='flood' order by seq desc limit 1" stopped 30; then
	pass "flood: stop ends the flooding commands (SIGTERM to their groups)"
else
	fail "flood: stop" "pids $fp $lp, state $(last_state flood)"
fi
stop_daemon ends

# ---- (3) UDP heartbeats with the token; restart on exit 3 ----
cat >"$S/beater" <<'EOF'
#!/bin/bash
# beater TOKEN HOST:PORT: READY, five heartbeats, exit 3.  Each message
# goes to socat whole (a here-string): bash's own /dev/udp would send
# printf's output line by line, one datagram each.
hb() { socat -u - "UDP-SENDTO:$2" <<<"$1"; }
tok=$1
hb "$(printf 'READY=1\nX_TOKEN=%s' "$tok")" "$2"
for i in 1 2 3 4 5; do
	sleep 0.2
	hb "$(printf 'WATCHDOG=1\nSTATUS=beating\nX_PROGRESS=%d\nX_CONNS=7\nX_TOKEN=%s' "$i" "$tok")" "$2"
done
exit 3
EOF
chmod +x "$S/beater"
start udp "$(
	cat <<EOF
policy again {
	on exit 3 restart backoff fixed initial 100ms
	default stop
}
$(svc beat 'backend exec' "command \"$S/beater {token} {heartbeat}\"" \
		'address 10.0.2.2' 'ready-deadline 2s' 'policy again')
EOF
)" || exit 1
t0=$(date +%s%N)
expect_text "udp: READY=1 with the token answers the summon (no ready-after)" \
	"$(q beat.t.test)" '^NOERROR 10\.0\.2\.2$'
J=$(ctl -j show beat)
tok=$(echo "$J" | jfind token)
pid=$(echo "$J" | jfind pid)
expect_text "udp: {token} is the instance's token" \
	"$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" " $tok 127\.0\.0\.1:[0-9]+ \$"
for _ in $(seq 30); do
	J=$(ctl -j show beat)
	[ "$(echo "$J" | jfind beats)" -ge 3 ] 2>/dev/null && break
	sleep 0.1
done
expect_text "udp: heartbeats counted with their X_CONNS and STATUS" \
	"beats=$(echo "$J" | jfind beats) conns=$(echo "$J" | jfind conns) status=$(echo "$J" | jfind status)" \
	'^beats=[3-9] conns=7 status=beating$'
if wait_log "beat#1: restarting -> booting" 40; then
	pass "udp: exit 3 -> restart by the policy"
else
	fail "udp: restart" "no restart"
	sed 's/^/    | /' "$LOG" | tail -15
fi
expect_text "udp: the journal has exit -> restart" "$(decision beat)" '^exit restart$'
kind=""
for _ in $(seq 30); do
	kind=$(ctl -j show beat | jfind fault_kind)
	[ "$kind" = exit ] && break
	sleep 0.1
done
expect_text "udp: show -j names the fault kind exit" "$kind" '^exit$'
wait_log "beat#1: booting -> ready .*" 30 &&
	[ "$(grep -c 'beat#1: booting -> ready' "$LOG")" -ge 2 ] &&
	pass "udp: the restarted command becomes ready again by UDP" ||
	fail "udp: ready again" "$(grep -c 'beat#1: booting -> ready' "$LOG") readies"
stop_daemon udp
