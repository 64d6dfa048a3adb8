#!/bin/bash
# summonerctl.sh: the control socket and build/summonerctl against a real
# daemon with real KVM guests: every command's human and -j output, exit
# codes (0 ok, 1 refused, 2 usage, 3 unreachable), the socket's mode and
# peer-credential check, malformed, huge and idle requests, the connection
# cap, "logs -f", the operator actions, reload, stale sockets and socket
# discovery; boot timelines in "show" and the "top" table.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/daemon.bash"
abs() { case $1 in /*) echo "$1" ;; *) echo "$ROOT/$1" ;; esac; }
CTL=$(abs "$BUILD/summonerctl")
ATENDER=$(abs "$TENDER")
AG=$(abs "$G")

if ! have_kvm; then
	skip summonerctl "/dev/kvm is not usable on this host"
	exit 0
fi

# start NAME: a daemon on $CONF (written by write_conf), logging to
# $TMP/NAME.log; returns 1 if it did not start.
write_conf() {
	cat >"$CONF" <<EOF
listen on 127.0.0.1 port $PORT
tender "$ATENDER"
state-dir "$STATE"
zone t.test. {
	soa { mname ns1 rname hostmaster serial 1 refresh 1h retry 15m expire 7d minimum 1m }
	ns ns1
}
service hello {
	zone t.test.
	image $AG/hello.hvt
	address 10.77.0.2 prefix 24
}
service crash {
	zone t.test.
	image $AG/crash.hvt
	args "pagefault" "0x7f0001234"
	address 10.77.0.4 prefix 24
}
service pooled {
	zone t.test.
	image $AG/hello.hvt
	address 10.77.0.6 prefix 24
	warm 1
}
policy keep {
	on any-fault quarantine ttl 1h then stop
	default restart backoff fixed initial 100ms
}
service qcrash {
	zone t.test.
	image $AG/crash.hvt
	args "pagefault" "0x7f0001234"
	address 10.77.0.7 prefix 24
	policy keep
}
EOF
}

start() { launch "$1" write_conf; }

# until_ok TENTHS CMD...: run CMD until it succeeds, for at most TENTHS/10 s.
until_ok() {
	local n=$1
	shift
	for _ in $(seq "$n"); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# run NAME WANT_RC ARGS...: summonerctl ARGS; out/err in $OUT/$ERR.
OUT=$TMP/out
ERR=$TMP/err
run() {
	local name=$1 want=$2 rc
	shift 2
	"$CTL" "$@" >"$OUT" 2>"$ERR"
	rc=$?
	if [ "$rc" != "$want" ]; then
		fail "$name" "summonerctl $* exited $rc, not $want"
		sed 's/^/    | /' "$OUT" "$ERR" | head -20
		return 1
	fi
	return 0
}

# json_ok NAME: $OUT is one JSON object (python3 -m json.tool parses it).
json_ok() {
	if [ "$(wc -l <"$OUT")" = 1 ] && python3 -m json.tool "$OUT" >/dev/null; then
		pass "$1"
	else
		fail "$1" "not one JSON object"
		sed 's/^/    | /' "$OUT" | head -5
	fi
}

q() { kdig -p "$PORT" @127.0.0.1 "$1" A +timeout=5 +retry=0 2>&1; }

# A raw client: python3 $RAW SOCKET MODE; prints what the daemon sent.
RAW=$TMP/raw.py
cat >"$RAW" <<'EOF'
import socket, sys, time
path, mode = sys.argv[1], sys.argv[2]
def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.settimeout(15)
    return s
def readall(s):
    data = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
    except (socket.timeout, ConnectionResetError):
        data += b"<timeout>" if not data.endswith(b"\n") else b""
    return data.decode(errors="replace")
if mode == "malformed":
    s = conn(); s.sendall(b"this is not json\n{\"cmd\":\"list\"}\n")
    print(readall(s).strip())
elif mode == "notobject":
    s = conn(); s.sendall(b"[1,2,3]\n")
    print(readall(s).strip())
elif mode == "huge":
    s = conn()
    try:
        s.sendall(b"{\"cmd\":\"" + b"x" * (2 * 1024 * 1024))
    except (BrokenPipeError, ConnectionResetError):
        pass
    print(readall(s).strip())
elif mode == "unknown":
    s = conn(); s.sendall(b"{\"cmd\":\"frobnicate\"}\n{\"cmd\":\"list\"}\n")
    s.shutdown(socket.SHUT_WR)
    print(readall(s).strip())
elif mode == "nonewline":
    s = conn(); s.sendall(b"{\"cmd\":\"list\"}"); s.shutdown(socket.SHUT_WR)
    print(readall(s).strip())
elif mode == "idle":
    s = conn(); t = time.monotonic()
    readall(s)
    print("closed after %.1f s" % (time.monotonic() - t))
elif mode == "many":
    held, busy = [], 0
    for i in range(70):
        s = conn(); held.append(s)
    time.sleep(0.3)
    for s in held:
        s.setblocking(False)
        try:
            d = s.recv(4096)
            if b"too many" in d:
                busy += 1
        except BlockingIOError:
            pass
    print("busy %d" % busy)
    sys.stdout.flush()
    sys.stdin.read()   # hold them until told
EOF

STATE=$TMP/state
CONF=$TMP/summoner.conf
SOCK=$STATE/control.sock
export SUMMONER_SOCKET=$SOCK

start main || exit 0

# ---- the socket ----
mode=$(stat -c %a "$SOCK" 2>/dev/null)
if [ -S "$SOCK" ] && [ "$mode" = 600 ]; then
	pass "socket: $SOCK is a socket of mode 0600"
else
	fail "socket: mode" "mode '$mode'"
fi

# ---- list, show ----
run "list" 0 list &&
	expect "list: a table with every service" "$OUT" \
		'^SERVICE +INSTANCE +STATE +UPTIME +LAST BEAT +FAULTS +ADDRESS' \
		'^hello +- +' '^crash +- +.*10\.77\.0\.4'
run "list -j" 0 -j list && json_ok "list -j: one JSON object"

q hello.t.test. >/dev/null
run "list after a summon" 0 list &&
	expect "list: a summoned instance is ready" "$OUT" '^hello +hello#1 +ready '
run "show" 0 show hello &&
	expect "show: config essentials and the instance" "$OUT" \
		'^service: +hello \(hello\.t\.test\.\)' "^image: +$AG/hello.hvt" \
		'^addresses: +10\.77\.0\.2' '^policy: +' '^instance hello#1' \
		'^  state: +ready' '^  pid: +[1-9]'
run "show -j" 0 -j show hello && json_ok "show -j: one JSON object"
run "show hello#1" 0 show 'hello#1' &&
	expect "show hello#1: that instance" "$OUT" '^instance hello#1'

# ---- boot timelines: hello's cold summon (above), pooled's warm one ----
has_warm() { "$CTL" -j list | grep -q '"name":"pooled#1".*"warm":true'; }
until_ok 50 has_warm || fail "warm pool" "no warm instance of pooled in 5 s"
q pooled.t.test. >/dev/null
# check_tl KIND: $OUT (show -j) has one timeline, of KIND, its steps in
# order (null steps skipped; hvt cold has all five, warm no main/entry).
check_tl() {
	python3 -c '
import json, sys
kind = sys.argv[2]
tl = json.load(open(sys.argv[1]))["service"]["timelines"]
assert len(tl) == 1, tl
t = tl[0]
assert t["kind"] == kind and t["id"] == 1, t
keys = ["spawn_us", "main_us", "entry_us", "ready_us", "answered_us"]
if kind == "cold":
    assert all(isinstance(t[k], int) for k in keys), t
else:
    assert t["main_us"] is None and t["entry_us"] is None, t
    assert all(isinstance(t[k], int) for k in ("spawn_us", "ready_us", "answered_us")), t
steps = [t[k] for k in keys if t[k] is not None]
assert steps == sorted(steps), t
assert steps[-1] > 0, t' "$OUT" "$1"
}
run "show -j timelines (cold)" 0 -j show hello &&
	if check_tl cold; then
		pass "show -j: hello's cold boot, spawn <= main <= entry <= ready <= answered"
	else
		fail "show -j timelines (cold)" "$(head -c 600 "$OUT")"
	fi
run "show -j timelines (warm)" 0 -j show pooled &&
	if check_tl warm; then
		pass "show -j: pooled's warm summon, spawn <= ready <= answered, no main/entry"
	else
		fail "show -j timelines (warm)" "$(head -c 600 "$OUT")"
	fi
run "show timelines" 0 show hello &&
	expect "show: the boots table, in ms" "$OUT" \
		'^INSTANCE +KIND +SPAWN +MAIN +ENTRY +READY +ANSWERED$' \
		'^hello#1 +cold +[0-9]+\.[0-9]{2} +[0-9]+\.[0-9]{2} +[0-9]+\.[0-9]{2} +[0-9]+\.[0-9]{2} +[0-9]+\.[0-9]{2}$'
run "show timelines (warm)" 0 show pooled &&
	expect "show: a warm boot has no main or entry" "$OUT" \
		'^pooled#1 +warm +[0-9]+\.[0-9]{2} +- +- +[0-9]+\.[0-9]{2} +[0-9]+\.[0-9]{2}$'

# ---- top ----
# rows FILE: "INSTANCE STATE" of each instance row of a list/top table.
rows() { grep -oE '^[a-z]* +[a-z]+#[0-9]+ +[a-z]+' "$1" | awk '{ print $(NF-1), $NF }' | sort; }
run "list before top" 0 list && cp "$OUT" "$TMP/list.out"
run "top" 0 top -n 2 -d 0.2 &&
	if [ "$(grep -Ec '^SERVICE +INSTANCE +STATE +UPTIME +LAST BEAT +FAULTS +LAST +MEDIAN$' "$OUT")" = 2 ] &&
		[ "$(grep -Ec '^[0-9]{2}:[0-9]{2}:[0-9]{2}  instances: [0-9]+ .*summons: [0-9]+ cold, [0-9]+ warm' "$OUT")" = 2 ] &&
		[ "$(grep -c '^$' "$OUT")" = 1 ]; then
		pass "top -n 2: two tables with a header line each, a blank line between"
	else
		fail "top -n 2" "not two tables"
		sed 's/^/    | /' "$OUT" | head -30
	fi
awk 'BEGIN { RS = ""; } NR == 1' "$OUT" >"$TMP/top1.out"
if [ -n "$(rows "$TMP/list.out")" ] && [ "$(rows "$TMP/list.out")" = "$(rows "$TMP/top1.out")" ]; then
	pass "top: the instances and their states are those of list"
else
	fail "top vs list" "list: $(rows "$TMP/list.out" | tr '\n' ' ') top: $(rows "$TMP/top1.out" | tr '\n' ' ')"
fi
expect "top: services, latency of the last summon and the median" "$TMP/top1.out" \
	'^hello +hello#1 +ready +[^ ]+ +[^ ]+ +0 +[0-9]+\.[0-9]{2}ms +[0-9]+\.[0-9]{2}ms$' \
	'^pooled +pooled#1 +ready .* [0-9]+\.[0-9]{2}ms +[0-9]+\.[0-9]{2}ms$' \
	'^crash +- +- +- +- +0 +- +-$' '1 cold, 1 warm'
run "top -j" 0 -j top -n 1 && json_ok "top -j -n 1: one JSON object"
run "top bad -d" 2 top -d 0 && pass "top -d 0: exit 2"
run "top -h" 0 top -h && expect "top -h: its options" "$OUT" '^usage: .*top \[-d SECONDS\] \[-n COUNT\]' '-d SECONDS'

# ---- logs ----
if until_ok 30 grep -q "Hello, world" <("$CTL" logs hello); then
	run "logs" 0 logs hello &&
		expect "logs: hello's console lines" "$OUT" \
			'^[0-9:.]+ hello#1 console: Hello, world: summoner guest up'
else
	fail "logs" "no console line of hello in 3 s"
	"$CTL" logs hello | head -5 | sed 's/^/    | /'
fi
run "logs -n 1" 0 logs -n 1 hello &&
	if [ "$(wc -l <"$OUT")" -le 1 ]; then pass "logs -n 1: at most one line"; else fail "logs -n 1" "$(wc -l <"$OUT") lines"; fi
run "logs -j" 0 -j logs hello && json_ok "logs -j: one JSON object"

# ---- inspect, faults ----
run "inspect -j" 0 -j inspect hello && json_ok "inspect -j: one JSON object" &&
	if python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
assert all(k in o for k in ("state", "gdb", "core", "image", "backtrace")), o
assert o["state"] == "ready" and isinstance(o["backtrace"], list), o
assert o["image"].endswith("/hello.hvt"), o' "$OUT"; then
		pass "inspect -j: state, gdb, core, image, backtrace"
	else
		fail "inspect -j" "keys missing"
	fi
run "inspect" 0 inspect hello &&
	expect "inspect: human output" "$OUT" '^state: +ready' '^image: +/'

q crash.t.test. >/dev/null
# Asked afresh each time: a process substitution would be read only once.
crash_faulted() { "$CTL" faults crash 2>/dev/null | grep -q crash; }
if until_ok 50 crash_faulted; then
	run "faults" 0 faults crash &&
		expect "faults: the crash guest's page fault" "$OUT" \
			'^TIME +INSTANCE +KIND +SIGNATURE' 'crash#[0-9]+ +exception +[0-9a-f]{16} +(new|known)'
	run "faults -j" 0 -j faults -n 1 crash && json_ok "faults -j: one JSON object" &&
		if python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); assert len(o["faults"]) == 1' "$OUT"; then
			pass "faults -n 1: one fault"
		else
			fail "faults -n 1" "not one fault"
		fi
else
	fail "faults" "no fault of crash in the journal in 5 s"
	"$CTL" faults crash 2>&1 | sed 's/^/    | /' | head -5
fi
run "inspect crash" 0 -j inspect crash &&
	if python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
assert o["backtrace"] and o["core"], o' "$OUT"; then
		pass "inspect crash: a backtrace and a core"
	else
		fail "inspect crash" "no backtrace or core: $(head -c 300 "$OUT")"
	fi

# ---- a quarantined instance: inspect, then release ----
q qcrash.t.test. >/dev/null
quarantined() { "$CTL" -j inspect qcrash | grep -q '"state":"quarantined"'; }
if until_ok 50 quarantined; then
	run "inspect quarantined" 0 -j inspect qcrash &&
		if python3 -c '
import json, os, stat, sys
o = json.load(open(sys.argv[1]))
assert o["state"] == "quarantined", o
assert o["gdb"] and o["core"] and os.path.exists(o["core"]), o
assert os.path.exists(o["image"]) and o["backtrace"], o
assert o["gdb_command"].startswith("gdb -ex \x27target remote "), o' "$OUT"; then
			pass "inspect: a quarantined instance has its gdb target, core and backtrace"
		else
			fail "inspect quarantined" "$(head -c 400 "$OUT")"
		fi
	run "inspect quarantined (human)" 0 inspect qcrash &&
		expect "inspect: the gdb command lines" "$OUT" \
			'^debug it live: +gdb -ex .target remote [^ ]+. /.*crash\.hvt$' \
			'^debug its core: +gdb /.*crash\.hvt /.*core' '^  #0 +0x[0-9a-f]+ '
	run "show quarantined" 0 show qcrash &&
		expect "show: the quarantine" "$OUT" '^policy: +keep' '^  state: +quarantined' \
			'^  gdb: +target remote ' '^  expires: +(59m|1h)'
	run "release" 0 release qcrash && expect "release: said" "$OUT" '^qcrash: released'
	if until_ok 50 sh -c "! '$CTL' -j show qcrash | grep -q '\"state\":\"quarantined\"'"; then
		pass "release: the quarantine ends"
	else
		fail "release" "still quarantined"
	fi
else
	fail "quarantine" "qcrash not quarantined in 5 s"
	"$CTL" show qcrash 2>&1 | sed 's/^/    | /' | head -20
fi

if ! kill -0 "$DPID" 2>/dev/null; then
	fail "daemon" "the summoner died"
	tail -30 "$LOG" | sed 's/^/    | /'
	exit 0
fi

# ---- exit codes ----
run "bad command" 2 frobnicate &&
	expect "bad command: exit 2 with usage" "$ERR" 'unknown command' '^usage: summonerctl'
run "missing argument" 2 show && pass "missing argument: exit 2"
run "bad option" 2 logs -x hello && pass "bad option: exit 2"
run "help" 0 --help &&
	expect "--help: every command and the exit codes" "$OUT" \
		'^  list' '^  policy test POLICY TRACE' '^Exit status' '^  3 '
run "unknown service" 1 show nosuch &&
	expect "unknown service: exit 1 with a message" "$ERR" 'no service named nosuch'
run "unknown service -j" 1 -j show nosuch && json_ok "unknown service -j: the error as JSON"

# ---- raw requests ----
python3 "$RAW" "$SOCK" malformed >"$OUT"
expect "malformed JSON: an error reply, then closed" "$OUT" \
	'^\{"ok":false,"error":"request is not JSON[^}]*"code":1\}$' '!"services"'
python3 "$RAW" "$SOCK" notobject >"$OUT"
expect "a JSON array: an error reply" "$OUT" 'not a JSON object'
python3 "$RAW" "$SOCK" huge >"$OUT"
expect "a 2 MB line: an error reply" "$OUT" '"ok":false.*longer than'
python3 "$RAW" "$SOCK" unknown >"$OUT"
expect "unknown command: an error, the connection goes on" "$OUT" \
	'"error":"unknown command \\"frobnicate\\"".*"code":2' '"ok":true,"services"'
python3 "$RAW" "$SOCK" nonewline >"$OUT"
expect "a request without newline before EOF: answered" "$OUT" '"ok":true,"services"'
run "alive after bad requests" 0 list && pass "the daemon survives bad requests"

# ---- the connection cap ----
exec {hold}> >(python3 "$RAW" "$SOCK" many >"$TMP/many.out")
HOLDPID=$!
for _ in $(seq 50); do grep -q busy "$TMP/many.out" 2>/dev/null && break; sleep 0.1; done
expect "70 connections: those past 64 refused" "$TMP/many.out" '^busy [6-9]$'
run "a 71st client" 1 list &&
	expect "a client past the cap: told why" "$ERR" 'too many control connections'
exec {hold}>&-
wait "$HOLDPID" 2>/dev/null
if until_ok 30 "$CTL" list; then
	pass "the cap frees up when the clients go"
else
	fail "cap" "list still refused"
fi

# ---- peer credentials ----
chmod 0711 "$TMP" "$STATE"
run_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$CTL" -s "$SOCK" list >"$OUT" 2>"$ERR"; }
run_nobody
rc=$?
if [ "$rc" = 3 ] && grep -q "Permission denied" "$ERR"; then
	pass "another uid: the 0600 socket stops connect (exit 3)"
else
	fail "another uid (0600)" "exit $rc: $(cat "$ERR")"
fi
chmod 0666 "$SOCK"
run_nobody
rc=$?
if [ "$rc" = 1 ] && grep -q "permission denied: uid 65534" "$ERR"; then
	pass "another uid on a 0666 socket: refused by SO_PEERCRED (exit 1)"
else
	fail "another uid (SO_PEERCRED)" "exit $rc: $(cat "$ERR")"
fi
chmod 0600 "$SOCK"
chmod 0700 "$TMP" "$STATE"

# ---- logs -f ----
FOLLOW=$TMP/follow.out
"$CTL" logs -n 0 -f hello >"$FOLLOW" 2>&1 &
FPID=$!
PIDS+=("$FPID")
run "restart" 0 restart hello && expect "restart: said" "$OUT" '^hello: restart started'
if until_ok 50 grep -Eq 'hello#[2-9] console: Hello, world' "$FOLLOW"; then
	pass "logs -f: lines of the new instance stream in"
else
	fail "logs -f" "no line of the restarted instance in 5 s"
	sed 's/^/    | /' "$FOLLOW" | head
fi
kill "$FPID" 2>/dev/null
wait "$FPID" 2>/dev/null

# ---- operator actions ----
state_of() { "$CTL" -j show "$1" | python3 -c '
import json, sys
o = json.load(sys.stdin)
print(" ".join(i["state"] for i in o["instances"]))'; }
ready() { state_of "$1" | grep -qw ready; }
not_running() { ! state_of "$1" | grep -Eqw 'ready|booting'; }

run "stop" 0 stop hello && expect "stop: said" "$OUT" '^hello: stop started'
if until_ok 50 not_running hello; then pass "stop: hello stops"; else fail "stop" "still: $(state_of hello)"; fi
run "summon" 0 summon hello && expect "summon: said" "$OUT" '^hello: summon started'
if until_ok 50 ready hello; then pass "summon: hello is ready"; else fail "summon" "state: $(state_of hello)"; fi
run "show -j after summon" 0 -j show hello &&
	if python3 -c '
import json, sys
tl = json.load(open(sys.argv[1]))["service"]["timelines"]
ids = [t["id"] for t in tl]
assert len(tl) >= 3 and ids == sorted(ids, reverse=True), ids
t = tl[0]
# No query: from the spawn, and no answer.
assert t["spawn_us"] == 0 and t["answered_us"] is None, t
assert t["kind"] == "cold" and t["main_us"] <= t["entry_us"] <= t["ready_us"], t
assert tl[-1]["id"] == 1 and tl[-1]["answered_us"] is not None, tl' "$OUT"; then
		pass "show -j: newest first; a summon without a query counts from its spawn, no answer"
	else
		fail "show -j after summon" "$(head -c 800 "$OUT")"
	fi
run "release a running instance" 1 release hello &&
	expect "release: refused when not quarantined" "$ERR" 'not quarantined'
run "summon unknown" 1 summon nosuch &&
	expect "summon: an unknown service is refused" "$ERR" 'no service named nosuch'
run "retire" 0 retire hello && expect "retire: said" "$OUT" '^hello: retired'
if until_ok 50 sh -c "kdig -p $PORT @127.0.0.1 hello.t.test. A +timeout=2 +retry=0 | grep -q 'status: NXDOMAIN'"; then
	pass "retire: hello answers NXDOMAIN"
else
	fail "retire" "$(q hello.t.test. | grep status:)"
fi
run "list retired" 0 -j list &&
	if python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
assert [s for s in o["services"] if s["name"] == "hello" and s["retired"]]' "$OUT"; then
		pass "list: hello is retired"
	else
		fail "list retired" "not marked retired"
	fi

# ---- reload ----
run "reload" 0 reload && expect "reload: said" "$OUT" '^reloaded$'
cp "$CONF" "$CONF.good"
echo "service broken {" >>"$CONF"
run "bad reload" 1 reload &&
	expect "reload of a bad config: exit 1, the daemon says why" "$ERR" 'running configuration stays'
cp "$CONF.good" "$CONF"

# ---- policy test (needs the policy integration) ----
printf '0s exception vector=14\n1s exception vector=14\n' >"$TMP/trace"
if "$CTL" policy test builtin "$TMP/trace" >"$OUT" 2>"$ERR"; then
	expect "policy test: a decision per step" "$OUT" 'exception.*restart'
	run "policy test -j" 0 -j policy test builtin "$TMP/trace" &&
		if python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
assert [s["action"] for s in o["steps"]] == ["restart", "restart"], o' "$OUT"; then
			pass "policy test -j: two steps, each a restart"
		else
			fail "policy test -j" "$(head -c 300 "$OUT")"
		fi
	run "policy test unknown" 1 policy test nosuch "$TMP/trace" &&
		expect "policy test: an unknown policy is refused" "$ERR" 'no policy named nosuch'
	printf '0s frobnicate\n' >"$TMP/badtrace"
	run "policy test bad trace" 1 policy test builtin "$TMP/badtrace" &&
		expect "policy test: a bad trace names its line" "$ERR" 'trace:1:'
else
	fail "policy test" "exit $?: $(cat "$ERR")"
fi
run "policy usage" 2 policy try builtin "$TMP/trace" && pass "policy: only 'test'"

# ---- discovery ----
mkdir -p "$TMP/tree/build/state"
ln -s "$SOCK" "$TMP/tree/build/state/control.sock"
if (cd "$TMP/tree" && env -u SUMMONER_SOCKET "$CTL" list >"$OUT" 2>"$ERR"); then
	pass "discovery: ./build/state/control.sock without options"
else
	fail "discovery (tree)" "$(cat "$ERR")"
fi
(cd / && env -u SUMMONER_SOCKET "$CTL" list >"$OUT" 2>"$ERR")
rc=$?
if [ -S /var/lib/summoner/control.sock ]; then
	skip "discovery (default)" "a summoner runs on /var/lib/summoner"
elif [ "$rc" = 3 ] && grep -q "/var/lib/summoner/control.sock" "$ERR"; then
	pass "discovery: else /var/lib/summoner/control.sock, named when absent"
else
	fail "discovery (default)" "exit $rc: $(cat "$ERR")"
fi

# ---- a second daemon, a stale socket, daemon down ----
MAINPID=$DPID
"$SUMMONER" -f "$CONF" >"$TMP/second.log" 2>&1 &
SPID=$!
PIDS+=("$SPID")
wait "$SPID"
rc=$?
if [ "$rc" = 1 ] && grep -q "another summoner is running" "$TMP/second.log"; then
	pass "a second daemon on the same state-dir: refused"
else
	fail "second daemon" "exit $rc: $(tail -2 "$TMP/second.log")"
fi
exec 3>&2 2>/dev/null # no "Killed" from bash
kill -KILL "$MAINPID"
pkill -KILL -P "$MAINPID"
wait "$MAINPID"
exec 2>&3 3>&-
run "daemon down" 3 list &&
	expect "daemon down: exit 3 naming the socket" "$ERR" "$SOCK"
start restart || exit 0
if grep -q "removed the stale socket" "$LOG" && "$CTL" list >/dev/null; then
	pass "a stale socket (SIGKILLed daemon) is replaced"
else
	fail "stale socket" "$(grep control "$LOG")"
fi
kill -TERM "$DPID"
wait "$DPID"
if [ ! -e "$SOCK" ]; then
	pass "SIGTERM: the socket is removed"
else
	fail "SIGTERM" "$SOCK left behind"
fi

# ---- idle requests time out (10 s) ----
start idle || exit 0
python3 "$RAW" "$SOCK" idle >"$OUT"
if grep -Eq 'closed after (9|10|11)\.' "$OUT"; then
	pass "an idle connection is closed after 10 s"
else
	fail "idle timeout" "$(cat "$OUT")"
fi
kill -TERM "$DPID"
wait "$DPID"
