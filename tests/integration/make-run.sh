#!/bin/bash
# make-run.sh: what `make run` runs, as it runs it: scripts/libvirtd-up.sh
# run around build/summoner on config/summoner.conf (the state directory
# moved into $TMP, the daemon in a network namespace of its own, whose
# bridge summoner0 and port 5353 are the namespace's).  kdig asks for hello
# (hvt) and hello-virt (libvirt, answered once the domain says READY); a
# Ctrl-C, SIGINT to the process group as a terminal sends it, stops the
# summoner, its domain, and the libvirtd and virtlogd the script started,
# nothing else (a libvirtd that answered before is left alone).  Then the
# script's own cases: libvirtd missing, usage, a down with nothing to stop.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/daemon.bash"

T="make run"
UP=$ROOT/scripts/libvirtd-up.sh
URI=qemu:///system
WPID=
trap 'cleanup_all' EXIT
cleanup_all() {
	local d
	if [ -n "$WPID" ] && kill -0 "$WPID" 2>/dev/null; then
		kill -INT -- -"$WPID" 2>/dev/null
		for _ in $(seq 600); do
			kill -0 "$WPID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL -- -"$WPID" 2>/dev/null
	fi
	# Only if the run did not get to it: both are no-ops after a clean one.
	for d in $(domains); do
		virsh -q -c "$URI" destroy "$d" >/dev/null 2>&1
	done
	"$UP" down "$TMP/lv" 2>/dev/null
	cleanup
	[ -z "$NETNS" ] || ip netns del "$NETNS" 2>/dev/null
}

answers() { virsh -q -c "$URI" uri >/dev/null 2>&1; }
# domains: the running summoner-hello-virt-* domains (this test's only:
# no other test serves a service of that name).
domains() { virsh -q -c "$URI" list --name 2>/dev/null | grep '^summoner-hello-virt-' || true; }
alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

for f in "$BUILD/summoner" "$G/hello.hvt" "$G/hello.virt"; do
	if [ ! -e "$f" ]; then
		skip "$T" "$f is not built"
		exit 0
	fi
done
netns_or_skip "$T" || exit 0
trap 'cleanup_all' EXIT # netns_or_skip set its own

if grep -Eq '^service hello-virt \{' config/summoner.conf &&
	"$SUMMONER" -n -f config/summoner.conf 2>&1 |
	awk '/^service "hello-virt\./ { s = 1 } s && /^\}/ { s = 0 } s' |
		grep -q 'backend libvirt'; then
	pass "$T: config/summoner.conf serves hello-virt through libvirt"
else
	fail "$T: config" "no service hello-virt with backend libvirt in config/summoner.conf"
fi

mkdir -p "$TMP/state"
sed "s|^state-dir .*|state-dir \"$TMP/state\"|" config/summoner.conf >"$TMP/summoner.conf"
cp config/policies.conf "$TMP/"
LOG=$TMP/make-run.log
answered_before=0
answers && answered_before=1

# As the Makefile's run target, with the daemon in the namespace.  setsid:
# a process group of its own (the wrapper is its leader), as a terminal's
# foreground job has.
setsid "$UP" run "$TMP/lv" --for hello-virt -- \
	ip netns exec "$NETNS" "$SUMMONER" -f "$TMP/summoner.conf" >"$LOG" 2>&1 &
WPID=$!
started=0
for _ in $(seq 1500); do # up waits 90 s at most for libvirtd
	grep -q "summoner started" "$LOG" 2>/dev/null && started=1 && break
	alive "$WPID" || break
	sleep 0.1
done
if [ "$started" = 0 ] || [ "$(ps -o pgid= -p "$WPID" | tr -d ' ')" != "$WPID" ]; then
	fail "$T: start" "the summoner did not start under libvirtd-up.sh run (or no group of its own)"
	sed 's/^/    | /' "$LOG" | head -30
	exit 0
fi
LVD=$(cat "$TMP/lv/libvirtd.ours" 2>/dev/null)
VLD=$(cat "$TMP/lv/virtlogd.ours" 2>/dev/null)
echo "    libvirtd answered before: $answered_before; started: libvirtd ${LVD:-none}, virtlogd ${VLD:-none}"
PORT=5353 # q's (daemon.bash)

a=$(q hello.summoner.test A)
expect_text "$T: hello.summoner.test is answered (hvt)" "$a" '^NOERROR 10\.77\.0\.2$'
m=$(ip netns exec "$NETNS" curl -s -m 5 http://127.0.0.1:9153/metrics)
expect_text "$T: metrics on 127.0.0.1:9153 count hello's cold summon" "$m" \
	'^summoner_summons_total\{service="hello",kind="cold"\} 1$'

if grep -q "hello-virt cannot be summoned" "$LOG"; then
	skip "$T: hello-virt" "$(grep '^libvirtd-up: ' "$LOG" | grep -v 'cannot be summoned' | tail -1)"
else
	t0=$(date +%s%N)
	a=$(q hello-virt.summoner.test A +timeout=60)
	ms=$((($(date +%s%N) - t0) / 1000000))
	expect_text "$T: hello-virt.summoner.test is answered once the domain is READY ($ms ms)" \
		"$a" '^NOERROR 10\.77\.0\.7$'
	expect "$T: hello-virt#1 went booting -> ready" "$LOG" 'hello-virt#1: booting -> ready'
	d=$(domains)
	[ "$(echo "$d" | grep -c .)" = 1 ] &&
		pass "$T: one summoner-hello-virt-* domain runs ($d)" ||
		fail "$T: domain" "summoner-hello-virt-* domains: '$(echo $d)'"
	a=$(q hello-virt.summoner.test A)
	expect_text "$T: hello-virt's next query is answered" "$a" '^NOERROR 10\.77\.0\.7$' &&
		reject "$T: hello-virt: no second instance for it" "$LOG" 'hello-virt#2'
fi

# ---- Ctrl-C ----
kill -INT -- -"$WPID"
for _ in $(seq 600); do
	alive "$WPID" || break
	sleep 0.1
done
if alive "$WPID"; then
	fail "$T: Ctrl-C" "libvirtd-up.sh run still running 60 s after SIGINT"
	exit 0
fi
wait "$WPID"
rc=$?
WPID=
expect "$T: Ctrl-C stops the summoner (exit $rc), every instance first" "$LOG" \
	"SIGINT: stopping every instance" "every instance stopped; exiting"
[ "$rc" = 0 ] && pass "$T: Ctrl-C: make run's command exits 0" ||
	fail "$T: Ctrl-C exit" "status $rc"
left=
for p in $LVD $VLD; do
	alive "$p" && left="$left $p"
done
if [ -z "$left" ]; then
	pass "$T: Ctrl-C: what the script started is stopped (${LVD:-no libvirtd}, ${VLD:-no virtlogd})"
elif [ "$left" = " $VLD" ] && grep -q "virtlogd (pid $VLD) left running" "$LOG"; then
	pass "$T: Ctrl-C: libvirtd stopped; virtlogd left to the libvirtd started meanwhile (logged)"
else
	fail "$T: Ctrl-C" "still running:$left"
	sed 's/^/    | /' "$LOG" | grep 'libvirtd-up' | head
fi
# (Not "it still answers": under a parallel run, its owner may stop it.)
[ "$answered_before" = 0 ] ||
	reject "$T: the libvirtd that answered before is left alone" "$LOG" \
		'^libvirtd-up: (libvirtd|virtlogd) .*stopped'

q=$(pgrep -f 'guest=summoner-hello-virt-' | tr '\n' ' ')
[ -z "$q" ] && [ -z "$(domains)" ] &&
	pass "$T: no hello-virt domain or QEMU is left" ||
	fail "$T: leftovers" "QEMU pids '$q', domains '$(domains | tr '\n' ' ')'"

# ---- the script's messages ----
if ! answers && ! pgrep -x libvirtd >/dev/null; then
	# /usr/sbin (libvirtd, virtlogd) off the PATH: "not installed".
	out=$(PATH=/usr/bin:/bin "$UP" up "$TMP/lv2" 2>&1)
	rc=$?
	expect_text "$T: libvirtd missing: up fails (status $rc) and says why" "$out
rc=$rc" '^libvirtd-up: libvirtd is not installed' '^rc=1$'
	out=$(PATH=/usr/bin:/bin "$UP" run "$TMP/lv2" --for hello-virt -- \
		sh -c 'echo the command runs; exit 3' 2>&1)
	rc=$?
	expect_text "$T: libvirtd missing: run says what cannot be summoned, runs the rest" \
		"$out
rc=$rc" 'hello-virt cannot be summoned; the rest runs' '^the command runs$' '^rc=3$'
else
	skip "$T: libvirtd missing" "a libvirtd runs (another test's), so none is started"
fi
out=$("$UP" down "$TMP/empty" 2>&1)
rc=$?
expect_text "$T: down with nothing recorded stops nothing" "rc=$rc
${out:-quiet}" '^rc=0$' '^quiet$'
"$UP" sideways "$TMP/x" >/dev/null 2>&1
rc=$?
expect_text "$T: an unknown mode is a usage error" "rc=$rc" '^rc=2$'
