#!/bin/bash
# summoner-libvirt.sh: backend libvirt end to end with real kdig queries
# and a real libvirtd (libvirt.bash starts one when none answers):
# hello.virt summoned over DNS is answered only once READY arrived on COM2,
# its heartbeats are counted and its console captured; crash.virt's
# pvpanic is a fault its restart policy restarts; an idle stop leaves no
# summoner-* domain; a libvirtd restart under a running instance is
# survived (reconnect, reconcile) and new summons work.  Prints the cold
# summon latencies.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/daemon.bash"
. "$(dirname "$0")/libvirt.bash"

# domains: the running summoner-* domains (the daemon's own, by name).
domains() { virsh -q -c "$LV_URI" list --name 2>/dev/null | grep '^summoner-' || true; }
# wait_domains N [TENTHS]: until exactly N summoner-* domains run.
wait_domains() {
	for _ in $(seq "${2:-100}"); do
		[ "$(domains | grep -c .)" = "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
# ms_since T0: milliseconds since T0 (date +%s%N).
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

for f in hello crash; do
	if [ ! -f "$G/$f.virt" ]; then
		skip "libvirt backend" "$G/$f.virt is not built"
		exit 0
	fi
done
if ! lv_start; then
	skip "libvirt backend" "$LV_SKIP"
	exit 0
fi
if [ -n "$(domains)" ]; then
	skip "libvirt backend" "summoner-* domains run already (another daemon?)"
	exit 0
fi

start lv "policy restart {
	on exit 0 stop
	default restart backoff exponential initial 100ms max 30s reset 5m jitter 10%
}
$(svc hello 'backend libvirt' "image \"$ROOT/$G/hello.virt\"" \
	'args "0" "200"' 'memory 32M' 'address 10.0.0.2' 'idle-timeout 3s' \
	'ready-deadline 20s')
$(svc crash 'backend libvirt' "image \"$ROOT/$G/crash.virt\"" \
	'args "abort"' 'memory 32M' 'address 10.0.0.3' 'ready-deadline 20s' \
	'policy restart')" || exit 1

# ---- hello: READY over COM2 answers the query ----
lat=()
t0=$(date +%s%N)
r=$(q hello.t.test A +timeout=25)
lat+=("$(ms_since "$t0")")
expect_text "hello: the summons is answered NOERROR with the address" "$r" \
	'^NOERROR 10\.0\.0\.2$'
ready_line=$(grep -n "hello#1.*ready\|hello#1: booting -> ready" "$LOG" | head -1)
wait_log "hello#1 console: Hello, world" 30 &&
	pass "hello: the guest's console (COM1) is captured" ||
	fail "hello: console" "no 'Hello, world' console line"
beats=0
for _ in $(seq 50); do
	beats=$(ctl -j show hello 2>/dev/null | jfind beats)
	[ "${beats:-0}" != None ] && [ "${beats:-0}" -ge 3 ] 2>/dev/null && break
	sleep 0.1
done
[ "${beats:-0}" -ge 3 ] 2>/dev/null &&
	pass "hello: heartbeats from COM2 are counted (show -j beats $beats)" ||
	fail "hello: heartbeats" "beats=$beats"
[ "$(domains | grep -c '^summoner-hello')" = 1 ] &&
	pass "hello: one summoner-hello-* domain runs" ||
	fail "hello: domain" "$(domains | tr '\n' ' ')"

# ---- idle stop destroys the domain ----
if wait_domains 0 150; then
	pass "hello: the idle stop leaves no summoner-* domain"
else
	fail "hello: idle stop" "still: $(domains | tr '\n' ' ')"
fi
for i in 2 3; do
	t0=$(date +%s%N)
	r=$(q hello.t.test A +timeout=25)
	lat+=("$(ms_since "$t0")")
	[ "$i" = 2 ] && ctl stop hello >/dev/null 2>&1
	wait_domains 0 150
done
echo "    cold summon latency (query -> answer), ms: ${lat[*]}"
expect_text "hello: cold summons answered (${lat[*]} ms)" "$r" '^NOERROR 10\.0\.0\.2$'

# ---- crash: pvpanic -> fault -> restart ----
q crash.t.test A +timeout=25 >/dev/null
if wait_log "crash#1.*fault" 100; then
	pass "crash: the pvpanic is recorded as a fault"
else
	fail "crash: fault" "no fault in the log"
fi
faults=$(ctl -j show crash 2>/dev/null | jfind faults)
[ "${faults:-0}" -ge 1 ] 2>/dev/null &&
	pass "crash: show -j counts the fault ($faults)" ||
	fail "crash: show -j faults" "$faults"
if wait_log "crash#1.*(restart|booting)" 100 && [ "$(count 'domain summoner-crash-1-[0-9]+-[0-9a-f]+ created')" -ge 2 ] ||
	{ sleep 0; wait_log "crash#1: domain summoner-crash-1-[0-9]+-[0-9a-f]+ created" 1 &&
		for _ in $(seq 100); do [ "$(count 'domain summoner-crash-1-[0-9]+-[0-9a-f]+ created')" -ge 2 ] && break; sleep 0.1; done &&
		[ "$(count 'domain summoner-crash-1-[0-9]+-[0-9a-f]+ created')" -ge 2 ]; }; then
	pass "crash: the restart policy boots a new domain"
else
	fail "crash: restart" "$(count 'domain summoner-crash' ) domains created"
fi
ctl stop crash >/dev/null 2>&1
wait_domains 0 200 && pass "crash: stopped, no domain left" ||
	fail "crash: stop" "$(domains | tr '\n' ' ')"

# ---- libvirtd restart under a running instance ----
if lv_owned; then
	q hello.t.test A +timeout=25 >/dev/null
	before=$(domains)
	lv_restart || fail "libvirtd restart" "libvirtd did not come back"
	if wait_log "connected again" 150; then
		pass "restart: the summoner reconnects to libvirtd"
	else
		fail "restart: reconnect" "no reconnect in the log"
	fi
	st=$(ctl -j show hello 2>/dev/null | jfind state)
	now=$(domains)
	# The idle timer may run out meanwhile: stopping is the instance too.
	if [ "$before" = "$now" ] && [[ $st =~ ^(ready|stopping)$ ]] ||
		{ [ -z "$now" ] && [ "$st" != ready ]; }; then
		pass "restart: instance and domain agree ($st, ${now:-no domain})"
	else
		fail "restart: reconcile" "state $st, domains before '$before' now '$now'"
	fi
	ctl stop hello >/dev/null 2>&1
	wait_domains 0 150
	t0=$(date +%s%N)
	r=$(q hello.t.test A +timeout=25)
	expect_text "restart: a new summons works ($(ms_since "$t0") ms)" "$r" '^NOERROR 10\.0\.0\.2$'
else
	skip "libvirtd restart" "libvirtd is not ours to restart"
fi
stop_daemon lv
wait_domains 0 100 && pass "exit: no summoner-* domain left" ||
	fail "exit: domains" "$(domains | tr '\n' ' ')"
