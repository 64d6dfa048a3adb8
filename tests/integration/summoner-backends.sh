#!/bin/bash
# summoner-backends.sh: the end-to-end policy scenarios of
# summoner-policy.sh, each one body run against every backend (hvt, exec,
# libvirt) with only the service stanza differing:
#
#   hvt      build/guests/GUEST.hvt under our own tender;
#   exec     the tender itself as the `command`, under a relay that turns
#            its stderr event lines into UDP heartbeats with the
#            instance's token (READY=1, WATCHDOG=1 with X_SEQ/X_PROGRESS),
#            so readiness and heartbeats reach the summoner as any
#            command's would; a guest fault reaches it only as the
#            tender's exit status 80;
#   libvirt  build/guests/GUEST.virt as a transient QEMU microvm domain
#            from the built-in template (libvirt.bash starts libvirtd
#            when none answers).
#
# Scenarios: crash -> restart (a restarted boot answers DNS), a crash loop
# -> quarantine after 3 within 1m (exec: stop, since nothing is left to
# freeze, and inspect says why), gdb on the quarantined VM and its core,
# exit 0 -> retire and the retired answer, hang -> heartbeat-miss ->
# quarantine (a frozen VM on every backend; gdb where there is a stub),
# stall -> stall -> quarantine that expires after its ttl, idle stop;
# summonerctl show/inspect/logs/faults and the journal's rows for each.
#
# BACKENDS="hvt exec" and SCENARIOS="loop idle" run subsets; LV_KEEP=1
# keeps $TMP (the daemons' logs and journals).  About a minute in all:
# most of it libvirt's domain creates and destroys (0.5-2 s each).
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/daemon.bash"
. "$(dirname "$0")/libvirt.bash"

BACKENDS=${BACKENDS:-hvt exec libvirt}
SCENARIOS=${SCENARIOS:-restart loop retire health idle}
sql() { sqlite3 "$STATE/journal.db" "$1" 2>/dev/null; }

# Every service here is named bk*, so that the summoner-bk* domains are
# this test's (other daemons may run summoner-* domains meanwhile).
doms() { virsh -q -c "$LV_URI" list --name 2>/dev/null | grep "^summoner-${1:-bk}" || true; }

# Both helpers set an EXIT trap: run both, the daemons first (a SIGTERM
# lets a daemon destroy its domains), then what is left of ours.
trap 'cleanup_all' EXIT
cleanup_all() {
	local d
	stop_daemons
	if lv_answers; then
		for d in $(doms); do
			virsh -q -c "$LV_URI" destroy "$d" >/dev/null 2>&1
		done
	fi
	lv_cleanup
	[ -n "${LV_KEEP:-}" ] || rm -rf "$TMP"
}


# wait_count REGEX N [TENTHS]: until REGEX matches at least N log lines.
wait_count() {
	for _ in $(seq "${3:-300}"); do
		[ "$(count "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# wait_state NAME STATE [TENTHS]: until show -j gives NAME's state STATE.
wait_state() {
	for _ in $(seq "${3:-300}"); do
		[ "$(ctl -j show "$1" 2>/dev/null | jfind state)" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# wait_stopped SVC [TENTHS]: until the journal's last state of SVC#1 is
# stopped (show no longer lists an instance once it has stopped).
wait_stopped() {
	for _ in $(seq "${2:-300}"); do
		[ "$(last_state "$1")" = stopped ] && return 0
		sleep 0.1
	done
	return 1
}

# last_state SVC: the state the journal last recorded for SVC#1.
last_state() {
	sql "select to_state from transitions where service='$1' and id=1 order by seq desc limit 1"
}
# decisions SVC: "event action" of SVC's decisions, oldest first, one a line.
decisions() {
	sql "select event || ' ' || action from decisions where service='$1' order by seq"
}

# stop_svc SVC: summonerctl stop SVC, again while it is refused.  An
# instance that has faulted and waits for its capture (a libvirt core
# dump: 100-300 ms) is neither running nor restarting, and stop refuses
# it ("no running instance"); the decision then restarts it.  Says so
# when it happens.
stop_svc() {
	local out
	for _ in $(seq 100); do
		out=$(ctl stop "$1" 2>&1) && return 0
		echo "    note: stop $1 refused ($out): again"
		sleep 0.1
	done
	return 1
}

# svc_log SVC: the daemon's lines about SVC (for a failure's context).
svc_log() { grep -E "(^| )$1[#-]" "$LOG" | grep -v ': control: ' | tail -"${2:-25}" | sed 's/^/    | /'; }

# ---- the backends ----

# The exec backend's command: the tender run by a relay.  The tender's
# stdout goes straight to the console; its stderr goes through a reader
# that keeps every line as console and sends the event lines to the
# summoner's UDP heartbeat intake with the instance's token.  The relay
# waits for both and ends as the tender did (its status, or its signal
# raised again), so the command's end is the tender's and no line of a
# fault report is lost to the kill of what is left in the group.
RELAY=$TMP/tender-relay
cat >"$RELAY" <<'EOF'
#!/bin/bash
# tender-relay TOKEN HOST:PORT TENDER ARGS...
tok=$1 dst=$2
shift 2
send() { socat -u - "UDP-SENDTO:$dst" <<<"$(printf '%s\nX_TOKEN=%s' "$1" "$tok")"; }
relay() {
	local line f seq prog
	trap : TERM
	while IFS= read -r line; do
		printf '%s\n' "$line"
		case $line in
		"summoner-tender: ready after "*)
			send "READY=1" ;;
		"summoner-tender: heartbeat seq="*)
			seq= prog=
			for f in $line; do
				case $f in
				seq=*) seq=${f#seq=} ;;
				progress=*) prog=${f#progress=} ;;
				esac
			done
			send "$(printf 'WATCHDOG=1\nX_SEQ=%s\nX_PROGRESS=%s' "$seq" "$prog")" ;;
		esac
	done
}
# The summoner's stop signals the whole group: the tender stops (81) and
# the reader drains; neither shell may die of the SIGTERM first (a
# handler, not SIG_IGN, which the tender would inherit).
trap : TERM
exec 3>&1
"$@" 2>&1 1>&3 3>&- | relay
rc=${PIPESTATUS[0]}
if [ "$rc" -gt 128 ]; then
	trap - TERM
	kill -"$((rc - 128))" $$
fi
exit "$rc"
EOF
chmod +x "$RELAY"

# stanza B GUEST: the statements that run GUEST on backend B (into ST).
# A libvirt domain takes a second or more to start (five for the first
# after libvirtd starts): every backend gets the same ready deadline.
stanza() {
	case $1 in
	hvt)
		ST=("image \"$ROOT/$G/$2.hvt\"")
		;;
	exec)
		ST=('backend exec'
			"command \"$RELAY {token} {heartbeat} $ROOT/$TENDER --mem={memory} {image} {args}\""
			"image \"$ROOT/$G/$2.hvt\"" 'memory 16M')
		;;
	libvirt)
		ST=('backend libvirt' "image \"$ROOT/$G/$2.virt\"" 'memory 32M')
		;;
	esac
	ST+=('ready-deadline 20s')
}

# bsvc B NAME GUEST STATEMENT...: a service block for backend B.
bsvc() {
	local b=$1 name=$2 guest=$3
	shift 3
	stanza "$b" "$guest"
	svc "$name" "${ST[@]}" "$@"
}

# image B GUEST: the file gdb reads the guest's symbols from.
image() {
	case $1 in
	libvirt) echo "$ROOT/$G/$2.virt" ;;
	*) echo "$ROOT/$G/$2.hvt" ;;
	esac
}

# bq NAME: q with a timeout a cold libvirt domain meets.
bq() { q "$1" A +timeout=25; }

# vm B NAME: what runs NAME's instance on B (its pid, or its domains).
vm() {
	if [ "$1" = libvirt ]; then
		doms "${2%%#*}-"
	else
		ctl -j show "$2" 2>/dev/null | jfind pid
	fi
}

# vm_gone B NAME WHAT [TENTHS]: until WHAT (from vm) no longer runs.
vm_gone() {
	local b=$1 name=$2 what=$3
	if [ "$b" = libvirt ]; then
		for _ in $(seq "${4:-200}"); do
			[ -z "$(doms "${name%%#*}-")" ] && return 0
			sleep 0.1
		done
		return 1
	fi
	[ -n "$what" ] && [ "$what" != 0 ] && [ "$what" != None ] || return 0
	gone "$what" "${4:-100}"
}

# The policy event a guest's page fault becomes on each backend: hvt and
# libvirt report the CPU exception itself; an exec command is a process,
# so the fault reaches the summoner only as the tender's exit status 80
# (summoner-tender --help), an `exit` event with that code.
declare -A FAULT_EV=([hvt]=exception [exec]=exit [libvirt]=exception)
declare -A FAULT_WHY=([hvt]='exception vector 14' [exec]='exit 80'
	[libvirt]='exception vector 14')

# ---- crash -> restart; a restarted boot answers DNS ----
sc_restart() {
	local b=$1 t="$1: crash -> restart" n what J
	start "$b-restart" "$(
		cat <<EOF
policy again {
	on any-fault,exit !0 restart backoff fixed initial 200ms
	default stop
}
$(bsvc "$b" bkrestart crash 'args "pagefault"' 'address 10.0.0.2' 'policy again')
EOF
	)" || return
	expect_text "$t: the summons is answered once READY" "$(bq bkrestart.t.test)" \
		'^NOERROR 10\.0\.0\.2$' || svc_log bkrestart
	if wait_count "bkrestart#1: restarting -> booting" 2 600; then
		pass "$t: two restarts of bkrestart#1 booted"
	else
		fail "$t" "$(count 'bkrestart#1: restarting -> booting') restarts in 60 s"
		svc_log bkrestart
	fi
	expect_text "$t: a restarted boot answers DNS" "$(bq bkrestart.t.test)" \
		'^NOERROR 10\.0\.0\.2$'
	expect_text "$t: the decision names the fault as $b reports it" \
		"$(grep -m1 'bkrestart#1: .* -> restart in' "$LOG")" \
		"bkrestart#1: ${FAULT_EV[$b]} -> restart in [0-9]+ us: .*${FAULT_WHY[$b]} -> restart in 200ms \(attempt 1\)"
	expect_text "$t: journal: the first two decisions" \
		"$(decisions bkrestart | head -2 | tr '\n' ,)" \
		"^${FAULT_EV[$b]} restart,${FAULT_EV[$b]} restart,\$"
	J=$(ctl -j show bkrestart#1)
	case $b in
	exec)
		# An exit status is not a fault report: nothing is counted as a
		# fault or journalled in faults, as for a guest's own exit N.
		expect_text "$t: exec: show -j: fault kind exit, no fault counted" \
			"kind=$(echo "$J" | jfind fault_kind) faults=$(echo "$J" | jfind faults) rows=$(sql "select count(*) from faults where service='bkrestart'")" \
			'^kind=exit faults=0 rows=0$'
		# From the log: show's fault text is cleared by the next restart,
		# which may already have come (a 200 ms back-off).
		expect "$t: exec: the fault is the tender's exit status 80" "$LOG" \
			'bkrestart#1 log: command [0-9]+ exited with status 80$'
		expect_text "$t: exec: the console keeps the tender's fault report" \
			"$(ctl logs bkrestart#1)" \
			'console: summoner-tender: fault: exception vector=14: page fault at 0xdead0000' \
			'console:   #0  0x[0-9a-f]+ crash_pagefault' \
			'command [0-9]+ exited with status 80'
		;;
	*)
		expect_text "$t: show -j: fault kind and count" \
			"kind=$(echo "$J" | jfind fault_kind) faults=$(echo "$J" | jfind faults)" \
			"^kind=exception faults=([2-9]|[1-9][0-9]+)\$"
		expect_text "$t: show -j: the fault and its backtrace" \
			"$(echo "$J" | jfind fault) / $(echo "$J" | jfind backtrace)" \
			'exception vector 14 .*page fault at 0xdead0000 / \[.crash_pagefault'
		n=$(sql "select count(*) || ' ' || min(vector) from faults where service='bkrestart'")
		expect_text "$t: journal: a fault row per crash (vector 14)" "$n" '^([2-9]|[1-9][0-9]+) 14$'
		expect_text "$t: summonerctl faults lists them" "$(ctl faults bkrestart)" \
			'bkrestart#1 +exception +[0-9a-f]+ +new +crash_pagefault' \
			'bkrestart#1 +exception +[0-9a-f]+ +known +crash_pagefault'
		;;
	esac
	what=$(vm "$b" bkrestart#1)
	stop_svc bkrestart
	if wait_stopped bkrestart 300 && vm_gone "$b" bkrestart#1 "$what"; then
		pass "$t: stop ends the restart loop (stopped, nothing left running)"
	else
		fail "$t: stop" "state $(last_state bkrestart), $(vm "$b" bkrestart#1)"
		svc_log bkrestart
	fi
	stop_daemon "$b-restart"
}

# ---- a crash loop -> quarantine after 3 within 1m; gdb; core ----
sc_loop() {
	local b=$1 t="$1: crash loop" J out addr core st what
	start "$b-loop" "$(
		cat <<EOF
policy loop {
	on any-fault,exit !0 3 within 1m quarantine ttl 1h then stop
	on any-fault,exit !0 restart backoff fixed initial 100ms
	default stop
}
$(bsvc "$b" bkloop crash 'args "pagefault"' 'address 10.0.0.3' 'policy loop')
EOF
	)" || return
	ctl summon bkloop >/dev/null 2>&1
	if [ "$b" = exec ]; then
		# The tender has exited with the fault: no VM is left to freeze,
		# so the quarantine is carried out as the stop it ends in.
		st=stopped
	else
		st=quarantined
	fi
	if wait_count "bkloop#1: ${FAULT_EV[$b]} -> (quarantine|stop) in" 1 900 &&
		{ [ $st = stopped ] && wait_stopped bkloop 300 ||
			wait_state bkloop#1 $st 300; }; then
		pass "$t: bkloop#1 $st at the third fault within 1m"
	else
		fail "$t" "state $(last_state bkloop), not $st"
		svc_log bkloop
		stop_daemon "$b-loop"
		return
	fi
	expect_text "$t: two restarts first (journal)" "$(decisions bkloop | tr '\n' ,)" \
		"^${FAULT_EV[$b]} restart,${FAULT_EV[$b]} restart,${FAULT_EV[$b]} (quarantine|stop),\$"
	expect_text "$t: the third decision is the quarantine rule's" \
		"$(grep "bkloop#1: ${FAULT_EV[$b]} -> [a-z]* in" "$LOG" | sed -n 3p)" \
		"3 within 1m -> quarantine for 1h then stop"
	if [ "$b" = exec ]; then
		expect_text "$t: exec: the decision says the quarantine became a stop" \
			"$(sql "select detail from decisions where service='bkloop' order by seq desc limit 1")" \
			'cannot quarantine: the tender has ended; stop'
		expect_text "$t: exec: the log says why there is nothing to inspect" \
			"$(grep 'bkloop#1: exit -> stop in' "$LOG")" \
			'quarantine for 1h then stop \(cannot quarantine: the tender has ended; stop\)'
		expect_text "$t: exec: inspect finds no instance left" \
			"$(ctl inspect bkloop 2>&1)" 'bkloop has no instance'
		expect_text "$t: exec: nothing counted as quarantined" \
			"$(ctl -j show bkloop | jfind quarantined)" '^0$'
		stop_daemon "$b-loop"
		return
	fi
	J=$(ctl -j inspect bkloop)
	addr=$(echo "$J" | jfind gdb)
	core=$(echo "$J" | jfind core)
	expect_text "$t: inspect gives a gdb address" "$addr" '^(/|tcp:|unix:|127\.0\.0\.1:)'
	expect_text "$t: journal: the quarantine row" \
		"$(sql "select state || ' ' || (gdb != '') from instances where service='bkloop' and id=1")" \
		'^quarantined 1$'
	[ -n "$(vm "$b" bkloop#1)" ] && [ "$(vm "$b" bkloop#1)" != 0 ] &&
		pass "$t: the quarantined VM still exists ($(vm "$b" bkloop#1))" ||
		fail "$t: frozen VM" "nothing runs for bkloop#1"
	out=$(timeout 60 gdb -batch -nx -ex "target remote ${addr#unix:}" -ex bt \
		-ex 'info registers r12 r15' -ex detach "$(image "$b" crash)" 2>&1)
	expect_text "$t: gdb on the quarantined VM: bt names crash_pagefault" "$out" \
		'crash_pagefault'
	expect_text "$t: gdb on the quarantined VM: r12 as the guest set it" "$out" \
		'r12 +0x1212121212121212'
	if [ -n "$core" ] && [ "$core" != None ] && [ -s "$core" ]; then
		out=$(timeout 60 gdb -batch -nx -ex bt "$(image "$b" crash)" "$core" 2>&1)
		expect_text "$t: gdb on the core: bt names crash_pagefault" "$out" 'crash_pagefault'
	else
		fail "$t: core" "inspect names no core file ($core)"
	fi
	what=$(vm "$b" bkloop#1)
	ctl release bkloop >/dev/null 2>&1
	if wait_stopped bkloop 300 && vm_gone "$b" bkloop#1 "$what"; then
		pass "$t: release ends the quarantine and its VM"
	else
		fail "$t: release" "state $(last_state bkloop), $(vm "$b" bkloop#1)"
	fi
	stop_daemon "$b-loop"
}

# ---- exit 0 -> retire; the retired name answers as configured ----
sc_retire() {
	local b=$1 t="$1: exit 0 -> retire"
	start "$b-retire" "$(
		cat <<EOF
policy bye {
	on exit 0 retire answer 192.0.2.99
	default stop
}
$(bsvc "$b" bkbye hello 'args "1" "50"' 'address 10.0.0.4' 'policy bye')
EOF
	)" || return
	expect_text "$t: answered while it runs" "$(bq bkbye.t.test)" '^NOERROR 10\.0\.0\.4$'
	if wait_log "bkbye#1: exit -> retire" 300; then
		pass "$t: the clean exit retires the service"
	else
		fail "$t" "not retired"
		svc_log bkbye
	fi
	expect_text "$t: the retired name answers the fallback address" \
		"$(q bkbye.t.test)" '^NOERROR 192\.0\.2\.99$'
	expect_text "$t: journal: exit retire; no second boot" \
		"$(decisions bkbye | tr '\n' ,) $(count 'bkbye#2')" '^exit retire, 0$'
	expect_text "$t: show -j: retired" "$(ctl -j show bkbye | jfind retired)" '^True$'
	stop_daemon "$b-retire"
}

# ---- hang -> heartbeat-miss -> quarantine (frozen); stall -> stall ----
sc_health() {
	local b=$1 t="$1: hang" J what st out
	start "$b-health" "$(
		cat <<EOF
policy watch {
	heartbeat every 100ms misses 3
	stall after 5 beats
	on heartbeat-miss quarantine ttl 1h then stop
	on stall quarantine ttl 1s then stop
	default stop
}
$(bsvc "$b" bkhang hang 'address 10.0.0.5' 'policy watch')
$(bsvc "$b" bkstall stall 'address 10.0.0.6' 'policy watch')
EOF
	)" || return
	expect_text "$t: answered once READY" "$(bq bkhang.t.test)" '^NOERROR 10\.0\.0\.5$'
	if wait_log "bkhang#1: heartbeat-miss -> quarantine" 300 &&
		wait_state bkhang#1 quarantined 100; then
		pass "$t: the beats stop: heartbeat-miss -> quarantine"
		expect_text "$t: the miss is logged with its lateness" \
			"$(grep -m1 'bkhang#1: .*heartbeat-miss: none for' "$LOG")" 'us past the deadline'
		J=$(ctl -j show bkhang#1)
		expect_text "$t: its heartbeats were counted before" "$(echo "$J" | jfind beats)" '^[1-9]'
		what=$(vm "$b" bkhang#1)
		case $b in
		exec)
			st=$(awk '{ print $3 }' "/proc/$what/stat" 2>/dev/null)
			expect_text "$t: exec: the quarantined command is stopped (SIGSTOP)" "$st" '^T$'
			expect_text "$t: exec: inspect says plainly: no gdb, no core" \
				"$(ctl inspect bkhang)" \
				'gdb: not available with the exec backend' 'core: not captured by the exec backend'
			;;
		*)
			[ "$b" = libvirt ] && expect_text "$t: libvirt: the domain is paused" \
				"$(virsh -q -c "$LV_URI" domstate "$what" 2>&1)" '^paused'
			out=$(ctl -j inspect bkhang | jfind gdb)
			expect_text "$t: inspect gives a gdb address" "$out" '^(/|tcp:|unix:|127\.0\.0\.1:)'
			out=$(timeout 60 gdb -batch -nx -ex "target remote ${out#unix:}" -ex bt \
				-ex detach "$(image "$b" hang)" 2>&1)
			expect_text "$t: gdb on the frozen VM: bt names hang_spin" "$out" 'hang_spin'
			;;
		esac
		ctl release bkhang >/dev/null 2>&1
		if wait_stopped bkhang 300 && vm_gone "$b" bkhang#1 "$what"; then
			pass "$t: release stops it (nothing left running)"
		else
			fail "$t: release" "state $(last_state bkhang), $(vm "$b" bkhang#1)"
		fi
	else
		fail "$t -> heartbeat-miss" "not quarantined ($(ctl -j show bkhang#1 | jfind state))"
		svc_log bkhang
	fi
	bq bkstall.t.test >/dev/null
	what=$(vm "$b" bkstall#1)
	if wait_log "bkstall#1: stall -> quarantine" 300; then
		pass "$1: stall -> stall -> quarantine (progress unchanged for 5 beats)"
		if wait_log "bkstall#1: quarantined -> .*quarantine expired" 300 &&
			wait_stopped bkstall 300 && vm_gone "$b" bkstall#1 "$what"; then
			pass "$1: stall: the quarantine expires after its ttl, then stop"
		else
			fail "$1: stall: expiry" "state $(last_state bkstall), $(vm "$b" bkstall#1)"
		fi
	else
		fail "$1: stall" "not detected"
		svc_log bkstall
	fi
	expect_text "$1: journal: heartbeat-miss quarantine, stall quarantine" \
		"$(decisions bkhang) / $(decisions bkstall)" \
		'^heartbeat-miss quarantine / stall quarantine$'
	stop_daemon "$b-health"
}

# ---- idle stop; show, logs and the journal of a healthy instance ----
sc_idle() {
	local b=$1 t="$1: idle" J what beats=0
	start "$b-idle" "$(bsvc "$b" bkidle hello 'args "0" "100"' \
		'address 10.0.0.7' 'idle-timeout 2s')" || return
	expect_text "$t: answered once READY" "$(bq bkidle.t.test)" '^NOERROR 10\.0\.0\.7$'
	what=$(vm "$b" bkidle#1)
	for _ in $(seq 50); do
		beats=$(ctl -j show bkidle#1 2>/dev/null | jfind beats)
		[ "$beats" -ge 3 ] 2>/dev/null && break
		sleep 0.1
	done
	[ "$beats" -ge 3 ] 2>/dev/null && pass "$t: heartbeats counted (show -j beats $beats)" ||
		fail "$t: heartbeats" "beats=$beats"
	expect_text "$t: show names the backend and the state" "$(ctl show bkidle)" \
		"^backend: +$b" 'state: +ready' 'heartbeats: +[1-9][0-9]* seen'
	expect_text "$t: logs: the guest's console" "$(ctl logs bkidle#1)" \
		'bkidle#1 console: Hello, world'
	if [ "$b" = exec ]; then
		expect_text "$t: exec: show says what debugging is not available" \
			"$(ctl show bkidle)" 'debugging: +gdb: not available with the exec backend'
	fi
	if wait_log "bkidle#1: ready -> stopping .*idle" 100 &&
		vm_gone "$b" bkidle#1 "$what" && wait_stopped bkidle 100; then
		pass "$t: idle stop after 2s ends the VM"
	else
		fail "$t: idle stop" "state $(last_state bkidle), $(vm "$b" bkidle#1)"
		svc_log bkidle
	fi
	expect_text "$t: journal: the instance row and booting -> ready -> stopping -> stopped" \
		"$(sql "select count(*) from instances where service='bkidle' and id=1") $(sql "select group_concat(to_state, ' ') from (select to_state from transitions where service='bkidle' and id=1 order by seq)")" \
		'^1 ready stopping stopped$'
	expect_text "$t: journal: no decision for an idle stop" "$(decisions bkidle)" '^$'
	stop_daemon "$b-idle"
}

# ---- run them ----
for b in $BACKENDS; do
	case $b in
	hvt | exec)
		if ! have_kvm; then
			skip "$b" "/dev/kvm is not usable on this host"
			continue
		fi
		[ "$b" = exec ] && ! command -v socat >/dev/null &&
			{ skip exec "socat is not installed"; continue; }
		;;
	libvirt)
		missing=
		for f in crash hang stall hello; do
			[ -f "$G/$f.virt" ] || missing="$missing $f.virt"
		done
		if [ -n "$missing" ]; then
			skip libvirt "not built:$missing"
			continue
		fi
		if ! lv_start; then
			skip libvirt "$LV_SKIP"
			continue
		fi
		;;
	*)
		fail "$b" "no such backend"
		continue
		;;
	esac
	t0=$SECONDS
	for sc in $SCENARIOS; do
		"sc_$sc" "$b"
	done
	echo "    $b: $((SECONDS - t0)) s"
	[ "$b" = libvirt ] && { [ -z "$(doms)" ] && pass "libvirt: no summoner-bk* domain left" ||
		fail "libvirt: domains left" "$(doms | tr '\n' ' ')"; }
done
