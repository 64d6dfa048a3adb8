# daemon.bash: start and drive a summoner daemon from a test (sourced
# after lib.bash).  start NAME BODY writes a config around BODY (listen,
# tender, state-dir, zone t.test.) and starts the daemon on a free port;
# q asks it with kdig; svc writes a service block; wait_log and count read
# its log; stop_daemon checks a clean SIGTERM.  Every process started is
# killed on exit, and the test's $TMP removed.

SUMMONER=${SUMMONER:-$BUILD/summoner}
ROOT=${ROOT:-$(pwd)}
# NETNS=NAME: run the daemon and q's kdig inside that network namespace.
NETNS=${NETNS:-}
inns() { if [ -n "$NETNS" ]; then ip netns exec "$NETNS" "$@"; else "$@"; fi; }

PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null
		pkill -KILL -P "$p" 2>/dev/null
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 12000)) # below the ephemeral ports
		if ! ss -Hlnu "sport = :$p" | grep -q . &&
			! ss -Hlnt "sport = :$p" | grep -q .; then
			echo "$p"
			return
		fi
	done
}

# q NAME [TYPE] [kdig options]: "STATUS addr addr ..." for one query.
q() {
	local name=$1 type=${2:-A}
	shift $(($# < 2 ? $# : 2))
	inns kdig -p "$PORT" @127.0.0.1 "$name" "$type" +timeout=5 +retry=0 "$@" \
		2>&1 | awk '
		/status:/ { for (i = 1; i <= NF; i++) if ($i == "status:") {
			s = $(i + 1); sub(/[;,]$/, "", s) } }
		/^[^;]/ && NF >= 5 && ($4 == "A" || $4 == "AAAA") { a = a " " $5 }
		END { print (s == "" ? "NOANSWER" : s) a }'
}

# launch NAME WRITER: pick $PORT, have the function WRITER write $CONF for
# it, and start a daemon on it, logging to $TMP/NAME.log (on another port if
# the one picked was taken meanwhile).  Returns 1 if it did not start.
launch() {
	local name=$1 writer=$2 try
	LOG=$TMP/$name.log
	for try in 1 2 3 4 5; do
		PORT=$(free_port)
		"$writer"
		# A simple command, so that $! is the daemon (ip execs it).
		${NETNS:+ip netns exec "$NETNS"} "$SUMMONER" -d -f "$CONF" >"$LOG" 2>&1 &
		DPID=$!
		PIDS+=("$DPID")
		for _ in $(seq 100); do
			grep -q "summoner started" "$LOG" 2>/dev/null && return 0
			kill -0 "$DPID" 2>/dev/null || break
			sleep 0.05
		done
		grep -q "Address already in use" "$LOG" || break
	done
	fail "$name: start" "the daemon did not start"
	sed 's/^/    | /' "$LOG" | head -20
	return 1
}

# start NAME CONFIG-BODY: write a config with the test zone and BODY and
# start a daemon on it (launch).
start() {
	CONF=$TMP/$1.conf
	STATE=$TMP/state-$1
	START_BODY=$2
	launch "$1" start_conf
}
start_conf() {
	cat >"$CONF" <<EOF
listen on 127.0.0.1 port $PORT
tender "$ROOT/$TENDER"
state-dir "$STATE"
zone t.test. {
	soa { mname ns1 rname hostmaster serial 1 refresh 1h retry 15m expire 7d minimum 1m }
	ns ns1
}
$START_BODY
EOF
}

# stop_daemon NAME: SIGTERM, expect exit 0 and no tender left.
stop_daemon() {
	local name=$1 rc kids
	kids=$(pgrep -P "$DPID" | tr '\n' ' ')
	kill -TERM "$DPID"
	for _ in $(seq 100); do
		kill -0 "$DPID" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$DPID" 2>/dev/null; then
		fail "$name: SIGTERM" "still running after 5 s"
		return
	fi
	wait "$DPID"
	rc=$?
	local left=""
	for k in $kids; do
		kill -0 "$k" 2>/dev/null && left="$left $k"
	done
	if [ "$rc" = 0 ] && [ -z "$left" ]; then
		pass "$name: SIGTERM stops every instance and exits 0"
	else
		fail "$name: SIGTERM" "exit $rc, tenders left:$left"
		tail -25 "$LOG" | sed 's/^/    | /'
	fi
}

# ctl ARGS: summonerctl on the current daemon's control socket.
CTL=${CTL:-$BUILD/summonerctl}
ctl() { "$CTL" -s "$STATE/control.sock" "$@"; }

# gone PID [TENTHS]: wait until PID no longer exists.
gone() {
	for _ in $(seq "${2:-50}"); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

# stop_daemons: SIGTERM everything started, so that each daemon stops its
# instances itself (a libvirt one destroys its domains), then SIGKILL what
# is left after 5 s, and its children.
stop_daemons() {
	local p
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		gone "$p" 50 || kill -KILL "$p" 2>/dev/null
		pkill -KILL -P "$p" 2>/dev/null
	done
}

count() { grep -Ec -- "$1" "$LOG"; }

# wait_log REGEX [TENTHS]: wait until REGEX is in the log.
wait_log() {
	for _ in $(seq "${2:-50}"); do
		grep -Eq -- "$1" "$LOG" && return 0
		sleep 0.1
	done
	return 1
}

# svc NAME STATEMENT...: a service block, one statement per line.
svc() {
	local name=$1 st
	shift
	echo "service $name {"
	echo "	zone t.test."
	for st in "$@"; do
		echo "	$st"
	done
	echo "}"
}


# netns_or_skip NAME: run the daemon in a new network namespace (NETNS,
# deleted on exit, loopback up); when /dev/kvm or namespaces are missing,
# say SKIP for NAME and return 1 (the caller exits).
netns_or_skip() {
	if ! have_kvm; then
		skip "$1" "/dev/kvm is not usable on this host"
		return 1
	fi
	NETNS=summoner-$$
	if ! ip netns add "$NETNS" 2>"$TMP/err"; then
		skip "$1" "cannot create a network namespace: $(cat "$TMP/err")"
		return 1
	fi
	trap 'cleanup; ip netns del "$NETNS" 2>/dev/null' EXIT
	inns ip link set lo up
}

# taps: the sm-* taps on bridge $BR; neigh IP: the MAC of IP's neighbour
# entry on $BR (empty when there is none).  Both in $NETNS.
taps() { inns ip -o link show master "$BR" 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | grep '^sm-'; }
neigh() { inns ip neigh show "$1" dev "$BR" | grep -o 'lladdr [0-9a-f:]*' | cut -d' ' -f2; }

# jfind KEY: the first value of KEY anywhere in the JSON on stdin.
jfind() {
	python3 -c '
import json, sys
def f(o, k):
    if isinstance(o, dict):
        if k in o: return o[k]
        o = list(o.values())
    if isinstance(o, list):
        for v in o:
            r = f(v, k)
            if r is not None: return r
    return None
print(f(json.load(sys.stdin), sys.argv[1]))' "$1"
}
