#!/bin/bash
# summoner-net.sh: the Jitsu journey end to end, inside a network namespace
# this test creates.  A real DNS client (kdig) resolves www and echo; the
# very first TCP connection (curl) and UDP datagram (socat) sent right
# after the answer are served, with no retry allowed; ping; many
# connections at once; the idle timeout stops an instance only once its
# last connection has closed (the guest reports open connections as
# X_CONNS); taps and addresses are gone after stop, crash and a summoner
# restart.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/daemon.bash"

netns_or_skip "summoner net" || exit 0
for tool in curl socat ab; do
	if ! command -v "$tool" >/dev/null; then
		fail "summoner net: tools" "$tool is not installed (scripts/install-deps.sh installs it)"
		exit 0
	fi
done

CTL=$ROOT/$BUILD/summonerctl
BR=smnet0
WWW=10.79.0.2
ECHO=10.79.0.3
IDLEIP=10.79.0.4
CRASHIP=10.79.0.5
ctl() { "$CTL" -s "$STATE/control.sock" "$@"; }
state_of() { ctl -j show "$1" 2>/dev/null | grep -o '"state": *"[a-z]*"' | head -1 | sed 's/.*"\([a-z]*\)"$/\1/'; }
tap_of() { ctl -j show "$1" 2>/dev/null | grep -o '"tap": *"[^"]*"' | head -1 | sed 's/.*: *"//; s/"$//'; }
# wait_gone TAP IP: up to 5 s for the tap and the neighbour entry to go.
wait_gone() {
	for _ in $(seq 100); do
		! inns ip link show "$1" >/dev/null 2>&1 && [ -z "$(neigh "$2")" ] && return 0
		sleep 0.05
	done
	return 1
}

BODY="bridge $BR address 10.79.0.1 prefix 24
$(printf "policy halt {\n\tdefault stop\n}\n")
$(svc www "image \"$ROOT/$G/www.hvt\"" "args \"{instance}\"" "memory 16M" "net service" "address $WWW prefix 24")
$(svc echo "image \"$ROOT/$G/echo.hvt\"" "memory 16M" "net service" "address $ECHO prefix 24")
$(svc idle "image \"$ROOT/$G/www.hvt\"" "args \"{instance}\"" "memory 16M" "net service" "address $IDLEIP prefix 24" "idle-timeout 1500ms")
$(svc crash "image \"$ROOT/$G/www.hvt\"" "memory 16M" "net service" "address $CRASHIP prefix 24" "policy halt")"

start net "$BODY" || exit 0

# ---- www: resolve, then the first connection at once ----
a=$(q www.t.test A)
expect_text "www: a real DNS client gets the instance's address" "$a" "^NOERROR $WWW\$"
# One try, no retry: a first SYN lost between the answer and the guest
# being reachable fails here.
page=$(inns curl -sS --max-time 3 --retry 0 "http://$WWW/" 2>&1)
expect_text "www: the first HTTP request right after the answer is served" "$page" \
	"<h1>www#1</h1>" "instance www#1 at $WWW, up [0-9]+\.[0-9]{3} s"
hdr=$(inns curl -sS -I --max-time 3 "http://$WWW/some/path" 2>&1)
expect_text "www: HEAD answered 200 with a length" "$hdr" "^HTTP/1.1 200 OK" "^Content-Length: [0-9]+"
bad=$(printf 'DELETE / HTTP/1.1\r\nHost: x\r\n\r\n' | inns socat -t 2 - "TCP:$WWW:80" 2>&1)
expect_text "www: another method gets 405 and the connection closes" "$bad" "^HTTP/1.1 405 " "^Connection: close"
two=$(printf 'GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
	inns socat -t 2 - "TCP:$WWW:80" 2>&1 | grep -c '^HTTP/1.1 200 OK')
expect_text "www: two pipelined requests on one connection, both answered" "$two" "^2\$"

# ---- ping ----
p=$(inns ping -c 3 -i 0.2 -W 1 "$WWW" 2>&1)
expect_text "www: answers ping" "$p" " 0% packet loss"

# ---- many connections at once ----
r=$(inns ab -q -n 2000 -c 50 "http://$WWW/" 2>&1)
# The page names its uptime and request count, so ab's "Length" check
# flags differing lengths; only connect/receive/exception errors count.
expect_text "www: 2000 requests over 50 concurrent connections, none failed" "$r" \
	"^Complete requests: +2000" "Failed requests: +[0-9]+" \
	"!Connect: [1-9]" "!Receive: [1-9]" "!Exceptions: [1-9]" "!Non-2xx"
r=$(inns ab -q -k -n 2000 -c 50 "http://$WWW/" 2>&1)
expect_text "www: the same with keep-alive" "$r" "^Complete requests: +2000" \
	"Keep-Alive requests: +[0-9]+" "!Connect: [1-9]" "!Receive: [1-9]" "!Exceptions: [1-9]"

# ---- echo: resolve, then the first datagram at once ----
a=$(q echo.t.test A)
expect_text "echo: a real DNS client gets the instance's address" "$a" "^NOERROR $ECHO\$"
e=$(echo "hello summoner $$" | inns socat -t 2 - "UDP:$ECHO:7" 2>&1)
expect_text "echo: the first datagram right after the answer comes back" "$e" "^hello summoner $$\$"
ok=0
for i in $(seq 20); do
	e=$(echo "datagram $i" | inns socat -t 1 - "UDP:$ECHO:7" 2>&1)
	[ "$e" = "datagram $i" ] && ok=$((ok + 1))
done
expect_text "echo: 20 datagrams from 20 clients, all echoed" "$ok" "^20\$"

# ---- cold summons back to back: the first request never fails ----
fails=0
for i in $(seq 10); do
	ctl stop www >/dev/null 2>&1
	for _ in $(seq 100); do
		[ "$(state_of www)" != ready ] && [ -z "$(taps | grep -- '-www-')" ] && break
		sleep 0.05
	done
	a=$(q www.t.test A)
	out=$(inns curl -sS --max-time 3 --retry 0 "http://$WWW/" 2>&1)
	if [[ $a != "NOERROR $WWW" ]] || ! grep -q '<h1>www#' <<<"$out"; then
		fails=$((fails + 1))
		echo "    | summon $i: $a: $out" | head -3
	fi
done
expect_text "www: 10 cold summons, each first request served" "$fails" "^0\$"

# ---- the spare tap: the next cold boot's tap, made ahead, takes no frame ----
wtap=$(tap_of www)
id=${wtap##*-}
spare="sm-www-$((id + 1))"
sl=$(inns ip -o link show "$spare" 2>&1)
if [[ $sl == *"state DOWN"* && $sl != *" master "* ]]; then
	pass "spare: $spare is made ahead, down and on no bridge"
else
	fail "spare: $spare down and on no bridge" "$sl"
fi
ctl stop www >/dev/null 2>&1
wait_gone "$wtap" "$WWW" || fail "spare: the stopped instance's tap goes" "$wtap left"
a=$(q www.t.test A)
ntap=$(tap_of www)
nl=$(inns ip -o link show "$ntap" 2>&1)
if [[ $ntap == "$spare" && $nl == *" master $BR "* ]]; then
	pass "spare: the next cold boot took $spare and attached it to $BR"
else
	fail "spare: the next boot takes the spare" "tap '$ntap' (spare $spare): $nl"
fi

# ---- idle: not before the last connection closes, soon after ----
a=$(q idle.t.test A)
expect_text "idle: summoned" "$a" "^NOERROR $IDLEIP\$"
# Hold one connection open (an unfinished request) well past the
# 1.5 s idle timeout: socat's input ends after 4 s, and it then closes.
( printf 'GET / HTTP/1.1\r\n'; sleep 4 ) | inns socat -t 0.5 - "TCP:$IDLEIP:80" >/dev/null 2>&1 &
hold_pid=$!
PIDS+=("$hold_pid")
sleep 3
st=$(state_of idle)
expect_text "idle: still ready 3 s into a 1.5 s idle timeout while a connection is open" "$st" "^ready\$"
conns=$(ctl -j show idle 2>/dev/null | grep -o '"conns": *[0-9]*' | head -1)
expect_text "idle: its heartbeats report the open connection" "$conns" '"conns": *1$'
wait "$hold_pid"
t0=$(date +%s%N)
stopped=""
for _ in $(seq 100); do
	st=$(state_of idle)
	if [ "$st" != ready ]; then
		stopped=$((($(date +%s%N) - t0) / 1000000))
		break
	fi
	sleep 0.1
done
if [ -n "$stopped" ] && [ "$stopped" -ge 1000 ]; then
	pass "idle: stopped ${stopped} ms after the last connection closed (timeout 1.5 s)"
else
	fail "idle: stop after the last connection" "stopped after '${stopped:-never}' ms"
fi
idle_tap=$(grep -o 'instance idle#1: .*tap \(sm-[a-z0-9-]*\)' "$LOG" | head -1 | grep -o 'sm-[a-z0-9-]*')
if [ -n "$idle_tap" ] && wait_gone "$idle_tap" "$IDLEIP"; then
	pass "idle: its tap ($idle_tap) and neighbour entry are gone"
else
	fail "idle: tap gone" "tap '$idle_tap' or neighbour of $IDLEIP still there"
fi

# ---- stop, crash, summoner restart: nothing left behind ----
tap=$(tap_of www)
ctl stop www >/dev/null 2>&1
if [ -n "$tap" ] && wait_gone "$tap" "$WWW"; then
	pass "stop: the tap ($tap) and the neighbour entry of $WWW are gone"
else
	fail "stop: tap gone" "tap '$tap' or the neighbour entry of $WWW left"
fi
a=$(q crash.t.test A)
ctap=$(tap_of crash)
cpid=$(ctl -j show crash 2>/dev/null | grep -o '"pid": *[0-9]*' | head -1 | grep -o '[0-9]*$')
if [ -n "$cpid" ]; then
	kill -KILL "$cpid"
	if wait_gone "$ctap" "$CRASHIP"; then
		pass "crash: after SIGKILL of its tender the tap ($ctap) and neighbour entry are gone"
	else
		fail "crash: tap gone" "tap '$ctap' or the neighbour entry of $CRASHIP left"
	fi
else
	fail "crash: summoned" "no pid for crash ($a)"
fi
a=$(q www.t.test A)
wtap=$(tap_of www)
kill -KILL "$DPID"
wait "$DPID" 2>/dev/null
if wait_gone "$wtap" "$WWW"; then
	pass "summoner killed: the instance's tap ($wtap) and neighbour entry are gone"
else
	# The sweep at the next start must then remove them.
	echo "    | left after SIGKILL: $(taps | tr '\n' ' ')"
fi
any=$(inns ip -o link show | grep -o ' sm-[^:@]*' | tr '\n' ' ')
expect_text "summoner killed: no tap of its own is left, spares included" "${any:-none}" "^none\$"
cat "$LOG" >>"$TMP/net.log.1"
start net "$BODY" || exit 0
left=$(taps)
expect_text "summoner restarted: no tap of the old instances left" "${left:-none}" "^none\$"
a=$(q www.t.test A)
page=$(inns curl -sS --max-time 3 --retry 0 "http://$WWW/" 2>&1)
expect_text "summoner restarted: a new summon serves its first request" "$page" "<h1>www#[0-9]+</h1>"
stop_daemon net
left=$(taps)
expect_text "SIGTERM: no tap left" "${left:-none}" "^none\$"

# ---- the default configuration, as `make run` starts it ----
# In the test's namespace (its bridge summoner0 and port 5353 are the
# namespace's own), with the state directory moved into $TMP.
mkdir -p "$TMP/default"
sed "s|^state-dir .*|state-dir \"$TMP/default/state\"|" config/summoner.conf >"$TMP/default/summoner.conf"
cp config/policies.conf "$TMP/default/"
LOG=$TMP/default.log
# A simple command, so that $! is the daemon (ip execs it).
ip netns exec "$NETNS" "$SUMMONER" -d -f "$TMP/default/summoner.conf" >"$LOG" 2>&1 &
DPID=$!
PIDS+=("$DPID")
wait_log "summoner started" 100 || true
PORT=5353
a=$(q www.summoner.test A)
page=$(inns curl -sS --max-time 3 --retry 0 http://10.77.0.10/ 2>&1)
expect_text "make run: www.summoner.test resolves and its page opens at once" "$a
$page" "^NOERROR 10.77.0.10\$" "<h1>www#1</h1>"
a=$(q echo.summoner.test A)
e=$(echo "make run $$" | inns socat -t 2 - UDP:10.77.0.11:7 2>&1)
expect_text "make run: echo.summoner.test resolves and echoes at once" "$a
$e" "^NOERROR 10.77.0.11\$" "^make run $$\$"
br=$(inns ip -o addr show summoner0 2>&1)
expect_text "make run: the bridge summoner0 has 10.77.0.1/24" "$br" "inet 10\.77\.0\.1/24"
stop_daemon "make run"
