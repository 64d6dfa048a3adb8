#!/bin/bash
# summoner-policy.sh: every policy path end to end, on real KVM guests
# with real DNS clients and real gdb: crash -> restart with back-off (the
# delays observed match the policy), a crash loop -> quarantine after N
# within T, new signature -> quarantine and known -> restart, hang ->
# heartbeat-miss, stall -> stall, exit 0 -> retire, quarantine expiry, a
# replacement answering while the original stays frozen, retired services
# answering as configured, UDP heartbeats with a token, gdb against a
# quarantined instance and its core file, and SIGKILL of the summoner with
# the journal intact and the quarantine re-adopted.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/daemon.bash"


if ! have_kvm; then
	skip policy "/dev/kvm is not usable on this host"
	exit 0
fi

C=$ROOT/$G/crash.hvt
H=$ROOT/$G/hello.hvt
HANG=$ROOT/$G/hang.hvt
STALL=$ROOT/$G/stall.hvt

# ms_of "instance x#1: restarting -> booting (201.3 ms)" lines -> 201 ...
delays() {
	grep -E -- "$1" "$LOG" | sed -E 's/.*\(([0-9]+)\.[0-9] ms\).*/\1/'
}

# within LO HI VALUE
within() { [ "$3" -ge "$1" ] && [ "$3" -le "$2" ]; }

# ---- crash -> restart with exponential back-off ----
start backoff "$(
	cat <<EOF
policy again {
	default restart backoff exponential initial 200ms max 800ms
}
$(svc c "image \"$C\"" 'args "pagefault"' "address 10.0.0.2" "policy again")
EOF
)" || exit 1
ctl summon c >/dev/null 2>&1 || q c.t.test >/dev/null
if wait_log "c#1: restarting -> booting .*restart #4" 60; then
	got=$(delays "c#1: restarting -> booting" | head -4 | tr '\n' ' ')
	set -- $got
	if within 200 260 "$1" && within 400 460 "$2" &&
		within 800 860 "$3" && within 800 860 "$4"; then
		pass "crash -> restart: back-off 200, 400, 800, 800 ms (max) observed: $got"
	else
		fail "crash -> restart: back-off" "delays $got, want 200 400 800 800 (+60)"
	fi
else
	fail "crash -> restart" "no fourth restart in 6 s"
	sed 's/^/    | /' "$LOG" | tail -20
fi
expect_text "crash -> restart: each decision is logged with its latency" \
	"$(grep -m1 'exception -> restart in' "$LOG")" \
	'c#1: exception -> restart in [0-9]+ us: rule'
stop_daemon backoff

# ---- a crash loop -> quarantine after 3 within 10 s ----
start loop "$(
	cat <<EOF
policy loop {
	on any-fault 3 within 10s quarantine ttl 1h then stop
	default restart backoff fixed initial 50ms
}
$(svc c "image \"$C\"" 'args "pagefault"' "address 10.0.0.2" "policy loop")
EOF
)" || exit 1
ctl summon c >/dev/null 2>&1
if wait_log "c#1: faulted -> quarantined" 50; then
	n=$(count "c#1: exception -> restart")
	[ "$n" = 2 ] && pass "crash loop: two restarts, quarantined at the third fault within 10 s" ||
		fail "crash loop" "$n restarts before the quarantine, want 2"
else
	fail "crash loop -> quarantine" "not quarantined"
	sed 's/^/    | /' "$LOG" | tail -20
fi
stop_daemon loop

# ---- new signature -> quarantine; known -> restart; expiry ----
start sig "$(
	cat <<EOF
policy sig {
	on any-fault new-signature quarantine ttl 1s then restart
	on any-fault known-signature restart backoff fixed initial 100ms
	default stop
}
$(svc c "image \"$C\"" 'args "pagefault"' "address 10.0.0.2" "policy sig")
EOF
)" || exit 1
ctl summon c >/dev/null 2>&1
if wait_log "c#1: faulted -> quarantined" 50 &&
	wait_log "c#1: quarantined -> restarting .*quarantine expired" 30 &&
	wait_log "c#1: exception -> restart in" 50; then
	pass "new signature -> quarantine; it expires after its ttl (then restart); the same fault again is known -> restart"
else
	fail "signatures" "quarantine/expiry/known restart not seen"
	sed 's/^/    | /' "$LOG" | tail -20
fi
stop_daemon sig

# ---- hang -> heartbeat-miss; stall -> stall ----
start health "$(
	cat <<EOF
policy watch {
	heartbeat every 100ms misses 3
	stall after 5 beats
	on heartbeat-miss stop
	on stall stop
	default restart
}
$(svc hang "image \"$HANG\"" "address 10.0.0.3" "policy watch")
$(svc stall "image \"$STALL\"" "address 10.0.0.4" "policy watch")
EOF
)" || exit 1
r=$(q hang.t.test)
expect_text "hang: answered once READY" "$r" "^NOERROR 10.0.0.3$"
if wait_log "hang#1: heartbeat-miss -> stop" 30; then
	pass "hang -> heartbeat-miss -> stop"
	expect_text "hang: the miss is logged with its lateness past the deadline" \
		"$(grep -m1 'hang#1: .*heartbeat-miss: none for' "$LOG")" \
		'us past the deadline'
else
	fail "hang -> heartbeat-miss" "not detected in 3 s"
fi
q stall.t.test >/dev/null
if wait_log "stall#1: stall -> stop" 30; then
	pass "stall -> stall -> stop (progress unchanged for 5 beats)"
else
	fail "stall -> stall" "not detected in 3 s"
fi
stop_daemon health

# ---- UDP heartbeats with the instance's token ----
start udp "$(
	cat <<EOF
policy watch {
	heartbeat every 300ms misses 2
	on heartbeat-miss stop
	default stop
}
$(svc hang "image \"$HANG\"" "address 10.0.0.3" "policy watch")
EOF
)" || exit 1
q hang.t.test >/dev/null
J=$(ctl -j show hang)
tok=$(echo "$J" | jfind token)
hport=$(echo "$J" | jfind heartbeat_port)
for i in $(seq 1 12); do
	printf 'WATCHDOG=1\nX_SEQ=%d\nX_TOKEN=%s' "$((100 + i))" "$tok" | nc -u -w0 127.0.0.1 "$hport"
	printf 'WATCHDOG=1\nX_TOKEN=%032d' 0 | nc -u -w0 127.0.0.1 "$hport"
	sleep 0.15
done
# Read at once: the miss (and the stop) is due 600 ms after the last beat.
J=$(ctl -j show hang)
expect_text "UDP heartbeats with the token keep a hung guest alive past its deadline" \
	"$(count 'hang#1: heartbeat-miss')" "^0$"
beats=$(echo "$J" | jfind beats)
[ "$beats" -ge 12 ] && pass "UDP heartbeats counted ($beats); wrong-token ones ignored" ||
	fail "UDP heartbeats" "beats=$beats"
if wait_log "hang#1: heartbeat-miss -> stop" 20; then
	pass "when the UDP heartbeats stop, the miss is detected"
else
	fail "UDP heartbeats" "no miss after they stopped"
fi
stop_daemon udp

# ---- exit 0 -> retire; retired services answer as configured ----
start retire "$(
	cat <<EOF
policy bye {
	on exit 0 retire answer nxdomain
	default stop
}
policy bye-addr {
	on exit 0 retire answer 192.0.2.99
	default stop
}
policy bye-servfail {
	on exit 0 retire answer servfail
	default stop
}
$(svc one "image \"$H\"" 'args "1" "50"' "address 10.0.0.5" "policy bye")
$(svc two "image \"$H\"" 'args "1" "50"' "address 10.0.0.6" "policy bye-addr")
$(svc three "image \"$H\"" 'args "1" "50"' "address 10.0.0.7" "policy bye-servfail")
EOF
)" || exit 1
for s in one two three; do
	q $s.t.test >/dev/null
done
if wait_log "one#1: exit -> retire" 30 && wait_log "two#1: exit -> retire" 30 &&
	wait_log "three#1: exit -> retire" 30; then
	pass "exit 0 -> retire"
	expect_text "retired: answer nxdomain" "$(q one.t.test)" "^NXDOMAIN$"
	expect_text "retired: answer with the fallback address" "$(q two.t.test)" \
		"^NOERROR 192.0.2.99$"
	expect_text "retired: answer servfail" "$(q three.t.test)" "^SERVFAIL$"
	expect_text "retired: no new boot" "$(count 'one#2')" "^0$"
else
	fail "exit 0 -> retire" "not retired"
	sed 's/^/    | /' "$LOG" | tail -20
fi
stop_daemon retire

# ---- a replacement answers while the original stays frozen ----
start repl "$(
	cat <<EOF
policy keep {
	on any-fault quarantine ttl 1h then stop replacement max 1
	default stop
}
$(svc c "image \"$C\"" 'args "pagefault"' "address 10.0.0.8" "policy keep")
EOF
)" || exit 1
q c.t.test >/dev/null
if wait_log "c#1: faulted -> quarantined" 50; then
	r=$(q c.t.test)
	expect_text "replacement: answers DNS while c#1 is quarantined" "$r" \
		"^NOERROR 10.0.0.8$"
	wait_log "c#2: exception -> stop" 50
	expect_text "replacement: the cap of 1 quarantine falls through to the next rule" \
		"$(grep -m1 'c#2: exception -> ' "$LOG")" "exception -> stop"
	st=$(ctl -j inspect c#1 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin).get("state",""))' 2>/dev/null)
	expect_text "replacement: the original stays quarantined" "$st" "^quarantined$"
else
	fail "replacement" "c#1 was not quarantined"
	sed 's/^/    | /' "$LOG" | tail -20
fi
stop_daemon repl

# ---- quarantine: gdb on the live stub and on the core; SIGKILL ----
start gdb "$(
	cat <<EOF
policy q {
	on any-fault quarantine ttl 1h then stop
	default stop
}
$(svc crash "image \"$C\"" 'args "pagefault"' "address 10.0.0.9" "policy q")
EOF
)" || exit 1
q crash.t.test >/dev/null
if wait_log "crash#1: quarantined, gdb stub at" 50; then
	J=$(ctl -j inspect crash)
	sock=$(echo "$J" | python3 -c 'import json,sys; print(json.load(sys.stdin)["gdb"])')
	core=$(echo "$J" | python3 -c 'import json,sys; print(json.load(sys.stdin)["core"])')
	expect_text "inspect: backtrace names crash_pagefault first" \
		"$(echo "$J" | python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)["backtrace"]))')" \
		"^crash_pagefault"
	out=$(timeout 30 gdb -batch -nx -ex "target remote $sock" -ex bt \
		-ex 'info registers r12 r13 r14 r15' -ex detach "$C" 2>&1)
	expect_text "gdb on the quarantined instance: bt names the faulting function" "$out" \
		"crash_pagefault"
	expect_text "gdb on the quarantined instance: r12 as the guest set it" "$out" \
		"r12 +0x1212121212121212"
	expect_text "gdb on the quarantined instance: r15 as the guest set it" "$out" \
		"r15 +0x1515151515151515"
	out=$(timeout 30 gdb -batch -nx -ex bt -ex 'info registers r12 r13 r14 r15' \
		"$C" "$core" 2>&1)
	expect_text "gdb on the core: bt names the faulting function" "$out" "crash_pagefault"
	expect_text "gdb on the core: r13 as the guest set it" "$out" "r13 +0x1313131313131313"

	# SIGKILL the summoner: the quarantined tender lives on, the journal
	# keeps everything, a new summoner re-adopts it.
	tpid=$(pgrep -P "$DPID" -f summoner-tender | head -1)
	kill -KILL "$DPID"
	wait "$DPID" 2>/dev/null
	sleep 0.2
	if kill -0 "$tpid" 2>/dev/null; then
		pass "SIGKILL of the summoner: the quarantined tender lives on"
	else
		fail "SIGKILL" "the quarantined tender died with the summoner"
	fi
	n=$(sqlite3 "$STATE/journal.db" "select count(*) from faults where service='crash'")
	expect_text "journal: the fault survived SIGKILL" "$n" "^1$"
	n=$(sqlite3 "$STATE/journal.db" "select count(*) from decisions where service='crash'")
	expect_text "journal: the decision survived SIGKILL" "$n" "^1$"
	LOG=$TMP/gdb2.log
	"$SUMMONER" -d -f "$CONF" >"$LOG" 2>&1 &
	DPID=$!
	PIDS+=("$DPID" "$tpid")
	wait_log "summoner started" 50
	expect_text "restart: the quarantined instance is re-adopted" \
		"$(grep -m1 'quarantined tender' "$LOG")" "crash#1: quarantined tender \(pid $tpid\) re-adopted"
	st=$(ctl -j inspect crash 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin).get("state",""))' 2>/dev/null)
	expect_text "restart: still quarantined" "$st" "^quarantined$"
	out=$(timeout 30 gdb -batch -nx -ex "target remote $sock" -ex bt -ex detach "$C" 2>&1)
	expect_text "restart: gdb still reaches the frozen VM" "$out" "crash_pagefault"
	ctl release crash >/dev/null
	for _ in $(seq 50); do kill -0 "$tpid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$tpid" 2>/dev/null; then
		fail "release of a re-adopted quarantine" "tender $tpid still runs"
	else
		pass "release of a re-adopted quarantine ends its tender"
	fi
	expect_text "a new boot after the restart gets a new id" \
		"$(q crash.t.test >/dev/null; wait_log 'crash#2' 30 && echo ok)" "^ok$"
else
	fail "quarantine for gdb" "no gdb stub"
	sed 's/^/    | /' "$LOG" | tail -20
fi
stop_daemon gdb
