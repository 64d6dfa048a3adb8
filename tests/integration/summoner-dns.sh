#!/bin/bash
# The summoner daemon against real DNS clients (kdig, drill) and hand-made
# packets (build/tests/dnsraw): every row of the contract in docs/dns.md
# over UDP and TCP, summons that boot hello.hvt, TC and EDNS sizes, TCP
# pipelining and idle timeout, a flood of malformed packets, and a clean
# SIGTERM that leaves no tender behind.
source "$(dirname "$0")/lib.bash"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SUMMONER=$ROOT/$BUILD/summoner
ABS_TENDER=$ROOT/$BUILD/summoner-tender
HELLO=$ROOT/$BUILD/guests/hello.hvt
DNSRAW=$ROOT/$BUILD/tests/dnsraw
LOG=$TMP/summoner.log
SPID=
N=0
W='[[:space:]]+'
T0=$SECONDS

cleanup() {
	local p kids
	if [ -n "$SPID" ] && kill -0 "$SPID" 2>/dev/null; then
		kids=$(pgrep -P "$SPID")
		kill -TERM "$SPID" 2>/dev/null
		for _ in $(seq 50); do
			kill -0 "$SPID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$SPID" 2>/dev/null
		for p in $kids; do
			kill -KILL "$p" 2>/dev/null
		done
	fi
	for p in ${BG_PIDS:-}; do
		kill "$p" 2>/dev/null
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP

for f in "$SUMMONER" "$ABS_TENDER" "$HELLO" "$DNSRAW"; do
	if [ ! -x "$f" ] && [ ! -f "$f" ]; then
		fail "summoner-dns: set-up" "$f is missing (make -j2)"
		exit 0
	fi
done
for c in kdig drill; do
	if ! command -v $c >/dev/null; then
		skip "summoner-dns" "$c is not installed"
		exit 0
	fi
done
if ! have_kvm; then
	# Every check needs a running daemon, and the daemon's summons need KVM.
	skip "summoner-dns" "/dev/kvm is missing or not accessible"
	exit 0
fi

# ---- the configuration ----------------------------------------------------

head -c 8192 /dev/urandom >"$TMP/junk.hvt"
big_addrs=
for i in $(seq 1 40); do
	big_addrs+="	address fd00:b16::$(printf %x "$i") prefix 64"$'\n'
done
write_conf() {
	cat >"$TMP/summoner.conf" <<EOF
listen on 127.0.0.1 port $1
boot-rate 1000 per-client
tender "$ABS_TENDER"
state-dir "$TMP/state"

zone t.test. {
	soa { mname ns1 rname hostmaster serial 7 refresh 1h retry 15m expire 7d minimum 1m }
	ns ns1
	ns ns2.example.
	ttl 1h
}
zone sub.t.test. {
	soa { mname ns1 rname hostmaster serial 2 refresh 1h retry 15m expire 7d minimum 1m }
	ns ns1
}

# Both families; the summon over UDP.
service hello {
	zone t.test.
	image "$HELLO"
	address 10.77.0.2 prefix 24
	address fd00::2 prefix 64
}
# Both families; the summon over TCP.
service tcphello {
	zone t.test.
	image "$HELLO"
	address 10.77.0.6 prefix 24
	address fd00::6 prefix 64
}
# IPv4 only, booted by A only.
service aonly {
	zone t.test.
	image "$HELLO"
	address 10.77.0.3 prefix 24
	boot-on { A }
}
# Never booted: b.t.test is an empty non-terminal.
service a.b {
	zone t.test.
	image "$HELLO"
	address 10.77.0.4 prefix 24
}
# An absolute name, placed in the innermost zone: sub.t.test.
service x.sub.t.test. {
	image "$HELLO"
	address 10.77.0.5 prefix 24
}
# Summoned in the middle of a TCP pipeline.
service pipe {
	zone t.test.
	image "$HELLO"
	address 10.77.0.7 prefix 24
}
# A boot that fails: the held query gets SERVFAIL.
service junk {
	zone t.test.
	image "$TMP/junk.hvt"
	address 10.77.0.8 prefix 24
}
# 40 AAAA records: more than 512 bytes, less than 1232.  big2 and big3
# are summoned by UDP queries, so their answers are held ones.
service big {
	zone t.test.
	image "$HELLO"
$big_addrs}
service big2 {
	zone t.test.
	image "$HELLO"
${big_addrs//fd00:b16::/fd00:b17::}
}
service big3 {
	zone t.test.
	image "$HELLO"
${big_addrs//fd00:b16::/fd00:b18::}
}
# Held answers keep the question's case and the query's EDNS.
service mixcase {
	zone t.test.
	image "$HELLO"
	address 10.77.0.9 prefix 24
}
service edns {
	zone t.test.
	image "$HELLO"
	address 10.77.0.10 prefix 24
}
EOF
}

# ---- start ----------------------------------------------------------------

port_busy() {
	ss -Hln "( sport = :$1 )" 2>/dev/null | grep -q .
}

started=false
for _ in 1 2 3 4 5; do
	PORT=$((20000 + RANDOM % 12000)) # below the ephemeral ports
	port_busy "$PORT" && continue
	write_conf "$PORT"
	"$SUMMONER" -f "$TMP/summoner.conf" -d >"$LOG" 2>&1 &
	SPID=$!
	for _ in $(seq 50); do
		kill -0 "$SPID" 2>/dev/null || break
		if kdig @127.0.0.1 -p "$PORT" +retry=0 +timeout=1 t.test SOA 2>/dev/null |
		    grep -q 'status: NOERROR'; then
			started=true
			break
		fi
		sleep 0.1
	done
	$started && break
	kill -TERM "$SPID" 2>/dev/null
	wait "$SPID" 2>/dev/null
	SPID=
	grep -q 'in use' "$LOG" || break
done
if ! $started; then
	fail "summoner-dns: daemon starts and answers" "see log"
	sed 's/^/    | /' "$LOG" | head -40
	exit 0
fi
pass "summoner-dns: daemon starts on 127.0.0.1 port $PORT and answers"

K() {
	kdig @127.0.0.1 -p "$PORT" +retry=0 +timeout=3 "$@" 2>&1
}
# raw DNSRAW-OPTIONS... -- HEX...
raw() {
	local opts=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		opts+=("$1")
		shift
	done
	shift
	"$DNSRAW" "${opts[@]}" 127.0.0.1 "$PORT" "$@" 2>&1
}

# row LABEL "KDIG ARGS" REGEX...: the same query over UDP and over TCP.
row() {
	local label=$1 args=$2 tr o
	shift 2
	for tr in udp tcp; do
		o=$TMP/kdig.$((++N))
		# shellcheck disable=SC2086
		if [ $tr = tcp ]; then K +tcp $args >"$o"; else K $args >"$o"; fi
		expect "dns $tr: $label" "$o" "$@"
	done
}

# The TCP idle timeout takes ten seconds: let it run meanwhile.
"$DNSRAW" -t -c -w 15000 127.0.0.1 "$PORT" </dev/null >"$TMP/idle" 2>&1 &
BG_PIDS=$!

# Common patterns.
AA_OK='Flags: qr aa rd;'
NOAA='Flags: qr rd;'
SOA_T="^t\.test\.${W}3600${W}IN${W}SOA${W}ns1\.t\.test\. hostmaster\.t\.test\. 7 3600 900 604800 60"
SOA_SUB="^sub\.t\.test\.${W}3600${W}IN${W}SOA${W}ns1\.sub\.t\.test\. hostmaster\.sub\.t\.test\. 2 "
# In negative answers the SOA lives min(TTL, minimum) = 60 s (RFC 2308 3).
SOA_TN="^t\.test\.${W}60${W}IN${W}SOA${W}ns1\.t\.test\. hostmaster\.t\.test\. 7 3600 900 604800 60"
SOA_SUBN="^sub\.t\.test\.${W}60${W}IN${W}SOA${W}ns1\.sub\.t\.test\. hostmaster\.sub\.t\.test\. 2 "
NODATA_CNT='ANSWER: 0; AUTHORITY: 1;'
NO_OPT='!EDNS PSEUDOSECTION'

# ---- the contract, row by row ---------------------------------------------

row "apex SOA: AA, the SOA" "t.test SOA" \
	"$AA_OK" 'status: NOERROR' 'ANSWER: 1; AUTHORITY: 0;' "$SOA_T" "$NO_OPT"
row "apex NS: AA, both NS" "t.test NS" \
	"$AA_OK" 'status: NOERROR' 'ANSWER: 2;' \
	"^t\.test\.${W}3600${W}IN${W}NS${W}ns1\.t\.test\." \
	"^t\.test\.${W}3600${W}IN${W}NS${W}ns2\.example\."
row "apex ANY: AA, SOA and NS" "t.test ANY" \
	"$AA_OK" 'status: NOERROR' 'ANSWER: 3;' "$SOA_T" \
	"^t\.test\.${W}3600${W}IN${W}NS${W}ns1\.t\.test\."
row "apex A: AA, NODATA with SOA" "t.test A" \
	"$AA_OK" 'status: NOERROR' "$NODATA_CNT" "$SOA_TN"
row "apex MX: AA, NODATA with SOA" "t.test MX" \
	"$AA_OK" 'status: NOERROR' "$NODATA_CNT" "$SOA_TN"
row "unknown name: AA, NXDOMAIN, SOA in authority" "nope.t.test A" \
	"$AA_OK" 'status: NXDOMAIN' "$NODATA_CNT" "$SOA_TN"
row "unknown name below a service: NXDOMAIN" "deeper.hello.t.test A" \
	"$AA_OK" 'status: NXDOMAIN' "$NODATA_CNT" "$SOA_TN"
row "empty non-terminal b.t.test: AA, NODATA with SOA" "b.t.test A" \
	"$AA_OK" 'status: NOERROR' "$NODATA_CNT" "$SOA_TN"
row "outside every zone: REFUSED, AA=0" "example.com A" \
	"$NOAA" 'status: REFUSED' 'ANSWER: 0; AUTHORITY: 0;'
row "parent of a zone (test.): REFUSED" "test A" "$NOAA" 'status: REFUSED'
row "class CH: REFUSED" "-c CH t.test TXT" "$NOAA" 'status: REFUSED' 'ANSWER: 0;'
row "class ANY: REFUSED" "-c ANY t.test SOA" "$NOAA" 'status: REFUSED'
row "longest apex: sub.t.test SOA is its own" "sub.t.test SOA" \
	"$AA_OK" 'ANSWER: 1;' "$SOA_SUB"
row "longest apex: sub.t.test NS" "sub.t.test NS" \
	"$AA_OK" 'ANSWER: 1;' "^sub\.t\.test\.${W}3600${W}IN${W}NS${W}ns1\.sub\.t\.test\."
row "longest apex: NXDOMAIN in sub.t.test has its SOA" "nope.sub.t.test A" \
	"$AA_OK" 'status: NXDOMAIN' "$SOA_SUBN" "!$SOA_TN"
row "longest apex: absolute service name placed in sub.t.test" "x.sub.t.test TXT" \
	"$AA_OK" 'status: NOERROR' "$NODATA_CNT" "$SOA_SUBN"
row "names match case-insensitively" "NoPe.SuB.T.tEsT A" \
	"$AA_OK" 'status: NXDOMAIN' "$SOA_SUBN"
row "RD clear and CD set are copied" "+nordflag +cdflag t.test SOA" \
	'Flags: qr aa cd;' 'status: NOERROR'

# A listed name with a type other than A/AAAA/ANY, and ANY on a service
# whose boot-on lacks ANY: NODATA, no lookup, no boot.
row "service, MX (never booted): NODATA with SOA" "a.b.t.test MX" \
	"$AA_OK" 'status: NOERROR' "$NODATA_CNT" "$SOA_TN"
row "service, TXT (never booted): NODATA with SOA" "a.b.t.test TXT" \
	"$AA_OK" 'status: NOERROR' "$NODATA_CNT" "$SOA_TN"
row "service, ANY not in boot-on: NODATA with SOA" "a.b.t.test ANY" \
	"$AA_OK" 'status: NOERROR' "$NODATA_CNT" "$SOA_TN"
row "service, AAAA not in boot-on { A }: NODATA with SOA" "aonly.t.test AAAA" \
	"$AA_OK" 'status: NOERROR' "$NODATA_CNT" "$SOA_TN"
reject "log: no boot for MX/TXT/ANY at a.b, nor AAAA at aonly" "$LOG" \
	'instance (a\.b|aonly)#'

# AXFR and IXFR: refused (kdig's AXFR goes over TCP).
o=$TMP/axfr
K t.test AXFR >"$o"
expect "dns tcp: AXFR: REFUSED (kdig)" "$o" "REFUSED"

# ---- summons --------------------------------------------------------------

o=$TMP/summon
K hello.t.test A >"$o"
expect "dns udp: summon hello A: AA, its address after the boot" "$o" \
	"$AA_OK" 'status: NOERROR' 'ANSWER: 1;' \
	"^hello\.t\.test\.${W}60${W}IN${W}A${W}10\.77\.0\.2$"
expect "log: hello booted (booting -> ready)" "$LOG" \
	'instance hello#1: booting -> ready'
o=$TMP/summon-tcp
K +tcp tcphello.t.test AAAA >"$o"
expect "dns tcp: summon tcphello AAAA: AA, its address after the boot" "$o" \
	"$AA_OK" 'status: NOERROR' 'ANSWER: 1;' \
	"^tcphello\.t\.test\.${W}60${W}IN${W}AAAA${W}fd00::6$"
expect "log: tcphello booted (booting -> ready)" "$LOG" \
	'instance tcphello#1: booting -> ready'
kids=$(pgrep -P "$SPID" -f summoner-tender | wc -l)
if [ "$kids" -ge 2 ]; then
	pass "summoner-dns: the tenders are the daemon's children ($kids)"
else
	fail "summoner-dns: the tenders are the daemon's children" "pgrep -P $SPID: $kids"
fi

row "ready service, A" "hello.t.test A" \
	"$AA_OK" 'ANSWER: 1;' "^hello\.t\.test\.${W}60${W}IN${W}A${W}10\.77\.0\.2$"
row "ready service, AAAA" "hello.t.test AAAA" \
	"$AA_OK" 'ANSWER: 1;' "^hello\.t\.test\.${W}60${W}IN${W}AAAA${W}fd00::2$"
row "ready service, ANY: A and AAAA" "hello.t.test ANY" \
	"$AA_OK" 'ANSWER: 2;' "^hello\.t\.test\.${W}60${W}IN${W}A${W}10\.77\.0\.2$" \
	"^hello\.t\.test\.${W}60${W}IN${W}AAAA${W}fd00::2$"
row "ready service, MX: NODATA with SOA" "hello.t.test MX" \
	"$AA_OK" 'status: NOERROR' "$NODATA_CNT" "$SOA_TN"

# boot-on { A }: A boots it; then AAAA finds no IPv6 address: NODATA.
o=$TMP/aonly
K +tcp aonly.t.test A >"$o"
expect "dns tcp: summon aonly A (boot-on { A })" "$o" \
	"$AA_OK" 'ANSWER: 1;' "^aonly\.t\.test\.${W}60${W}IN${W}A${W}10\.77\.0\.3$"
expect "log: aonly booted by A" "$LOG" 'instance aonly#1: booting -> ready'
row "ready IPv4-only service, AAAA: NODATA with SOA" "aonly.t.test AAAA" \
	"$AA_OK" 'status: NOERROR' "$NODATA_CNT" "$SOA_TN"
row "ready IPv4-only service, ANY: the A only" "aonly.t.test ANY" \
	"$AA_OK" 'ANSWER: 1;' "^aonly\.t\.test\.${W}60${W}IN${W}A${W}10\.77\.0\.3$"

# A failed boot: the held queries (one UDP, one TCP joining it) get
# SERVFAIL with the question.
K junk.t.test A >"$TMP/junk-udp" &
jp=$!
K +tcp junk.t.test A >"$TMP/junk-tcp"
wait $jp
for tr in udp tcp; do
	expect "dns $tr: failed boot: SERVFAIL, question echoed" "$TMP/junk-$tr" \
		'status: SERVFAIL' 'QUERY: 1;' 'ANSWER: 0;' "^;; junk\.t\.test\.${W}IN${W}A"
done

# ---- question case (0x20), with drill, which keeps it ---------------------

for tr in udp tcp; do
	o=$TMP/drill-$tr
	topt=()
	[ $tr = tcp ] && topt=(-t)
	drill -p "$PORT" "${topt[@]}" @127.0.0.1 HeLLo.T.TeSt A >"$o" 2>&1
	expect "dns $tr: question case preserved, answer owner too (drill)" "$o" \
		'rcode: NOERROR' 'flags: qr aa rd ;' "^;; HeLLo\.T\.TeSt\.${W}IN${W}A" \
		"^HeLLo\.T\.TeSt\.${W}60${W}IN${W}A${W}10\.77\.0\.2"
	o=$TMP/drill-nx-$tr
	drill -p "$PORT" "${topt[@]}" @127.0.0.1 NoPe.T.TeSt A >"$o" 2>&1
	expect "dns $tr: NXDOMAIN question case preserved (drill)" "$o" \
		'rcode: NXDOMAIN' "^;; NoPe\.T\.TeSt\.${W}IN${W}A"
done

# ---- EDNS and sizes -------------------------------------------------------

row "EDNS: OPT echoed, payload 1232, version 0" "+edns +bufsize=4096 t.test SOA" \
	"$AA_OK" 'Version: 0; flags: ; UDP size: 1232 B' 'ADDITIONAL: 1'
row "EDNS: DO bit copied" "+dnssec t.test SOA" 'Version: 0; flags: do; UDP size: 1232 B'
row "no EDNS in the query: no OPT in the reply" "+noedns t.test SOA" \
	'ADDITIONAL: 0' "$NO_OPT"
row "EDNS version 1: BADVERS, OPT version 0, no answer" "+edns=1 t.test SOA" \
	'status: BADVERS' 'Version: 0;.*ext-rcode: BADVERS' 'ANSWER: 0;'
row "EDNS version 1 outside the zones: BADVERS before REFUSED" "+edns=1 example.com A" \
	'status: BADVERS'
row "NXDOMAIN with EDNS: OPT kept" "+edns nope.t.test A" \
	'status: NXDOMAIN' 'UDP size: 1232 B' "$SOA_TN"

# The big answer: 40 AAAA.  Boot it first.
o=$TMP/big-boot
K +tcp big.t.test AAAA >"$o"
expect "dns tcp: summon big AAAA: all 40 addresses" "$o" "$AA_OK" 'ANSWER: 40;' \
	"^big\.t\.test\.${W}60${W}IN${W}AAAA${W}fd00:b16::28$"
o=$TMP/big-udp
K +ignore +noedns big.t.test AAAA >"$o"
expect "dns udp: answer > 512 without EDNS: TC=1, empty answer" "$o" \
	'Flags: qr aa tc rd;' 'ANSWER: 0; AUTHORITY: 0;' 'QUERY: 1;' "$NO_OPT"
o=$TMP/big-udp512
K +ignore +bufsize=512 big.t.test AAAA >"$o"
expect "dns udp: answer > 512 with EDNS size 512: TC=1, OPT kept" "$o" \
	'Flags: qr aa tc rd;' 'ANSWER: 0;' 'UDP size: 1232 B'
o=$TMP/big-udp4096
K +ignore +bufsize=4096 big.t.test AAAA >"$o"
expect "dns udp: the same with EDNS size 4096: fits in 1232, no TC" "$o" \
	'Flags: qr aa rd;' 'ANSWER: 40;'
o=$TMP/big-retry
K +noedns big.t.test AAAA >"$o"
expect "dns udp->tcp: kdig retries the TC answer over TCP and gets all 40" "$o" \
	'ANSWER: 40;' '\(TCP\)'
o=$TMP/big-tcp
K +tcp +noedns big.t.test AAAA >"$o"
expect "dns tcp: the full answer without EDNS" "$o" "$AA_OK" 'ANSWER: 40;' \
	"^big\.t\.test\.${W}60${W}IN${W}AAAA${W}fd00:b16::1$"
o=$TMP/big-udp1000
K +ignore +bufsize=1000 big.t.test AAAA >"$o"
expect "dns udp: EDNS size 1000 < answer: TC=1" "$o" 'Flags: qr aa tc rd;' 'ANSWER: 0;'
o=$TMP/big-udp100
K +ignore +bufsize=100 t.test NS >"$o"
expect "dns udp: EDNS size 100 counts as 512: small answer not truncated" "$o" \
	'Flags: qr aa rd;' 'ANSWER: 2;'

# Held answers obey the same limits: a UDP summon without EDNS of a
# service whose answer exceeds 512 gets TC=1, with EDNS 4096 all 40.
o=$TMP/big2
K +ignore +noedns big2.t.test AAAA >"$o"
expect "dns udp: held answer > 512 without EDNS: TC=1, empty answer" "$o" \
	'Flags: qr aa tc rd;' 'ANSWER: 0; AUTHORITY: 0;' "$NO_OPT"
expect "log: big2 booted" "$LOG" 'instance big2#1: booting -> ready'
o=$TMP/big3
K +ignore +bufsize=4096 big3.t.test AAAA >"$o"
expect "dns udp: held answer with EDNS 4096: all 40, OPT 1232" "$o" \
	'Flags: qr aa rd;' 'ANSWER: 40;' 'UDP size: 1232 B'
o=$TMP/edns-held
K +dnssec edns.t.test A >"$o"
expect "dns udp: held answer keeps EDNS: OPT 1232, DO copied" "$o" \
	"$AA_OK" 'ANSWER: 1;' 'Version: 0; flags: do; UDP size: 1232 B'
o=$TMP/mixcase-held
drill -p "$PORT" @127.0.0.1 MiXcAsE.T.TeSt A >"$o" 2>&1
expect "dns udp: held answer keeps the question's case (drill)" "$o" \
	'rcode: NOERROR' "^;; MiXcAsE\.T\.TeSt\.${W}IN${W}A" \
	"^MiXcAsE\.T\.TeSt\.${W}60${W}IN${W}A${W}10\.77\.0\.9"

# ---- hand-made packets ----------------------------------------------------

# wname NAME: the wire form of NAME, in hex.
wname() {
	local n=${1%.} out='' l
	local -a labels
	IFS=. read -ra labels <<<"$n"
	for l in "${labels[@]}"; do
		out+=$(printf %02x "${#l}")$(printf %s "$l" | od -An -v -tx1 | tr -d ' \n')
	done
	echo "${out}00"
}
# hdr ID FLAGS QD AN NS AR (all hex, 4 digits each)
hdr() { echo "$1$2$3$4$5$6"; }
OPT=0000290400000000000000     # root, OPT, size 1024, version 0
OPT1=0000290400000100000000    # version 1
Q_SOA=$(wname t.test)00060001
Q_HELLO=$(wname HeLLo.T.TeSt)00010001
T_SOA=$(hdr beef 0100 0001 0000 0000 0000)$Q_SOA

# desc HEX: a line describing a reply, for the regexes below.
desc() {
	local h=$1
	if [ -z "$h" ]; then
		echo "no reply"
		return
	fi
	if [[ $h == closed* || $h == open ]]; then
		echo "$h"
		return
	fi
	local f1=$((16#${h:4:2})) f2=$((16#${h:6:2}))
	printf 'id=%s qr=%d opcode=%d aa=%d tc=%d rd=%d cd=%d rcode=%d qd=%d an=%d ns=%d ar=%d len=%d\n' \
		"${h:0:4}" $((f1 >> 7)) $(((f1 >> 3) & 15)) $(((f1 >> 2) & 1)) \
		$(((f1 >> 1) & 1)) $((f1 & 1)) $(((f2 >> 4) & 1)) $((f2 & 15)) \
		$((16#${h:8:4})) $((16#${h:12:4})) $((16#${h:16:4})) $((16#${h:20:4})) \
		$((${#h} / 2))
}

# rawrow LABEL HEX REGEX...: send HEX over UDP and over TCP, describe the
# first reply, check it.
rawrow() {
	local label=$1 hex=$2 tr o
	shift 2
	for tr in udp tcp; do
		o=$TMP/raw.$((++N))
		if [ $tr = tcp ]; then
			raw -t -n 1 -w 2000 -- "$hex" | head -1 >"$o.hex"
		else
			raw -n 1 -w 1500 -- "$hex" | head -1 >"$o.hex"
		fi
		desc "$(cat "$o.hex")" >"$o"
		expect "dns $tr: $label" "$o" "$@"
	done
}

rawrow "shorter than a header: nothing (TCP: closed)" "beef0100000100" \
	'^(no reply|closed [0-9]+)$'
rawrow "empty message: nothing (TCP: closed)" "" '^(no reply|closed [0-9]+)$'
rawrow "QR=1 (a response): never answered (TCP: closed)" \
	"$(hdr beef 8500 0001 0000 0000 0000)$Q_SOA" '^(no reply|closed [0-9]+)$'
rawrow "QR=1 with another opcode: still nothing" \
	"$(hdr beef a100 0001 0000 0000 0000)$Q_SOA" '^(no reply|closed [0-9]+)$'
for op in 1 2 4 5 15; do
	fl=$(printf %02x $(((op << 3) | 1)))00
	rawrow "opcode $op: NOTIMP, opcode echoed, no question" \
		"$(hdr beef "$fl" 0001 0000 0000 0000)$Q_SOA" \
		"^id=beef qr=1 opcode=$op aa=0 tc=0 rd=1 cd=0 rcode=4 qd=0 an=0 ns=0 ar=0 "
done
rawrow "opcode 5 with QDCOUNT=2: NOTIMP decides first" \
	"$(hdr beef 2900 0002 0000 0000 0000)$Q_SOA$Q_SOA" 'opcode=5 .*rcode=4 qd=0'
rawrow "QDCOUNT=2: FORMERR, no question" \
	"$(hdr beef 0100 0002 0000 0000 0000)$Q_SOA$Q_SOA" \
	'^id=beef qr=1 opcode=0 aa=0 tc=0 rd=1 cd=0 rcode=1 qd=0 an=0 ns=0 ar=0 '
rawrow "QDCOUNT=0: FORMERR, no question" \
	"$(hdr beef 0100 0000 0000 0000 0000)" 'rcode=1 qd=0 an=0 ns=0 ar=0 '
rawrow "ANCOUNT=1: FORMERR, no question" \
	"$(hdr beef 0100 0001 0001 0000 0000)$Q_SOA${Q_SOA}00000e10000400000000" \
	'rcode=1 qd=0 an=0 ns=0 ar=0 '
rawrow "NSCOUNT=1: FORMERR, no question" \
	"$(hdr beef 0100 0001 0000 0001 0000)$Q_SOA${Q_SOA}00000e10000400000000" \
	'rcode=1 qd=0 an=0 ns=0 ar=0 '
rawrow "question truncated (no class): FORMERR, no question" \
	"$(hdr beef 0100 0001 0000 0000 0000)$(wname t.test)0006" 'rcode=1 qd=0 an=0 ns=0 ar=0 len=12$'
rawrow "question truncated (in the name): FORMERR" \
	"$(hdr beef 0100 0001 0000 0000 0000)0174047465" 'rcode=1 qd=0 an=0 ns=0 ar=0 len=12$'
rawrow "label of 64 bytes: FORMERR" \
	"$(hdr beef 0100 0001 0000 0000 0000)40$(printf 'a%.0s' $(seq 64) | od -An -v -tx1 | tr -d ' \n')0000060001" \
	'rcode=1 qd=0 an=0 ns=0 ar=0 len=12$'
rawrow "label type 01 (0x40): FORMERR" \
	"$(hdr beef 0100 0001 0000 0000 0000)41aa00060001" 'rcode=1 qd=0 an=0 ns=0 ar=0 len=12$'
rawrow "label type 10 (0x80): FORMERR" \
	"$(hdr beef 0100 0001 0000 0000 0000)81aa00060001" 'rcode=1 qd=0 an=0 ns=0 ar=0 len=12$'
rawrow "compression pointer in the question: FORMERR" \
	"$(hdr beef 0100 0001 0000 0000 0000)0568656c6c6fc00c00010001" 'rcode=1 qd=0 an=0 ns=0 ar=0 len=12$'
long=
for i in $(seq 4); do long+=3f$(printf '61%.0s' $(seq 63)); done
rawrow "name > 255 bytes: FORMERR" \
	"$(hdr beef 0100 0001 0000 0000 0000)${long}0000060001" 'rcode=1 qd=0 an=0 ns=0 ar=0 len=12$'
rawrow "trailing garbage after the question: FORMERR, question echoed, no OPT" \
	"${T_SOA}deadbeef" '^id=beef qr=1 .*rcode=1 qd=1 an=0 ns=0 ar=0 '
rawrow "trailing garbage after the OPT: FORMERR, no OPT" \
	"$(hdr beef 0100 0001 0000 0000 0001)$Q_SOA${OPT}00" 'rcode=1 qd=1 an=0 ns=0 ar=0 '
rawrow "ARCOUNT=1 but nothing there: FORMERR, no OPT" \
	"$(hdr beef 0100 0001 0000 0000 0001)$Q_SOA" 'rcode=1 .*ar=0 '
rawrow "two OPT records: FORMERR, no OPT" \
	"$(hdr beef 0100 0001 0000 0000 0002)$Q_SOA$OPT$OPT" 'rcode=1 .*ar=0 '
rawrow "OPT owner not root: FORMERR, no OPT" \
	"$(hdr beef 0100 0001 0000 0000 0001)${Q_SOA}01610000290400000000000000" \
	'rcode=1 .*ar=0 '
rawrow "one valid OPT: answered, OPT in the reply" \
	"$(hdr beef 0100 0001 0000 0000 0001)$Q_SOA$OPT" \
	'^id=beef qr=1 opcode=0 aa=1 tc=0 rd=1 cd=0 rcode=0 qd=1 an=1 ns=0 ar=1 '
rawrow "EDNS version 1: BADVERS (header rcode 0), one OPT, no answer" \
	"$(hdr beef 0100 0001 0000 0000 0001)$Q_SOA$OPT1" 'rcode=0 qd=1 an=0 ns=0 ar=1 '
rawrow "FORMERR decides before BADVERS (QDCOUNT=2 with OPT version 1)" \
	"$(hdr beef 0100 0002 0000 0000 0001)$Q_SOA$Q_SOA$OPT1" 'rcode=1 qd=0'
rawrow "class CH: REFUSED, question echoed" \
	"$(hdr beef 0100 0001 0000 0000 0000)$(wname t.test)00100003" 'aa=0 .*rcode=5 qd=1 an=0'
rawrow "AXFR: REFUSED" \
	"$(hdr beef 0000 0001 0000 0000 0000)$(wname t.test)00fc0001" 'aa=0 .*rcode=5 qd=1 an=0'
rawrow "IXFR (no SOA in authority): REFUSED" \
	"$(hdr beef 0000 0001 0000 0000 0000)$(wname t.test)00fb0001" 'aa=0 .*rcode=5 qd=1 an=0'
rawrow "IXFR outside the zones: REFUSED" \
	"$(hdr beef 0000 0001 0000 0000 0000)$(wname example.com)00fb0001" 'rcode=5'
# kdig's IXFR carries the client's SOA in authority (RFC 1995): refused
# like any transfer.
o=$TMP/ixfr
K t.test IXFR=7 >"$o"
expect "dns tcp: kdig IXFR (SOA in authority): REFUSED" "$o" "REFUSED"

# The question echoed byte for byte and the owner name the question's.
for tr in udp tcp; do
	q=$(hdr 0a0b 0110 0001 0000 0000 0000)$Q_HELLO
	if [ $tr = tcp ]; then r=$(raw -t -n 1 -- "$q" | head -1); else r=$(raw -n 1 -- "$q" | head -1); fi
	ql=$((${#Q_HELLO}))
	owner=${r:24+ql:4}
	if [ "${r:0:4}" = 0a0b ] && [ "${r:24:ql}" = "$Q_HELLO" ] &&
	    { [ "$owner" = c00c ] || [ "${r:24+ql:ql-8}" = "${Q_HELLO:0:ql-8}" ]; } &&
	    [ "$(desc "$r" | grep -c 'cd=1 rcode=0 qd=1 an=1')" = 1 ]; then
		pass "dns $tr: id, RD, CD copied; question echoed byte for byte (HeLLo.T.TeSt)"
	else
		fail "dns $tr: id, RD, CD copied; question echoed byte for byte" "reply $r"
	fi
done

# ---- TCP pipelining -------------------------------------------------------

# Five queries back to back in one write: a summon (held, answered last),
# SOA, NS, NXDOMAIN, FORMERR.
o=$TMP/pipe
raw -t -n 5 -w 5000 -- \
	"$(hdr 0001 0100 0001 0000 0000 0000)$(wname pipe.t.test)00010001" \
	"$(hdr 0002 0100 0001 0000 0000 0000)$Q_SOA" \
	"$(hdr 0003 0100 0001 0000 0000 0000)$(wname t.test)00020001" \
	"$(hdr 0004 0100 0001 0000 0000 0000)$(wname nope.t.test)00010001" \
	"$(hdr 0005 0100 0002 0000 0000 0000)$Q_SOA$Q_SOA" >"$o.hex"
while read -r h; do desc "$h"; done <"$o.hex" >"$o"
expect "dns tcp: 5 pipelined queries on one connection, 5 answers" "$o" \
	'^id=0001 .*aa=1 .*rcode=0 qd=1 an=1 ' '^id=0002 .*rcode=0 qd=1 an=1 ' \
	'^id=0003 .*rcode=0 qd=1 an=2 ' '^id=0004 .*rcode=3 qd=1 an=0 ns=1 ' \
	'^id=0005 .*rcode=1 qd=0 '
[ "$(wc -l <"$o")" -eq 5 ] && pass "dns tcp: pipelining: exactly 5 answers" \
	|| fail "dns tcp: pipelining: exactly 5 answers" "$(wc -l <"$o")"
expect "log: pipe summoned from a pipeline" "$LOG" 'instance pipe#1: booting -> ready'
# 60 queries in one write, all answered (more than one read's worth).
qs=()
for i in $(seq 60); do qs+=("$(hdr "$(printf %04x "$i")" 0100 0001 0000 0000 0000)$Q_SOA"); done
n=$(raw -t -n 60 -w 5000 -- "${qs[@]}" | grep -c '^[0-9a-f]\{4\}8[0-9a-f]')
[ "$n" -eq 60 ] && pass "dns tcp: 60 pipelined queries, 60 answers" \
	|| fail "dns tcp: 60 pipelined queries, 60 answers" "$n answers"

# ---- malformed packets ----------------------------------------------------

alive() {
	local name=$1 o=$TMP/alive.$((++N))
	if ! kill -0 "$SPID" 2>/dev/null; then
		fail "$name" "the daemon died"
		sed 's/^/    | /' "$LOG" | tail -20
		return 1
	fi
	{ K t.test SOA; K +tcp hello.t.test A; } >"$o"
	expect "$name" "$o" "$SOA_T" "^hello\.t\.test\.${W}60${W}IN${W}A${W}10\.77\.0\.2$"
}

# A pool of random bytes, cut into packets.
pool=$(head -c 200000 /dev/urandom | od -An -v -tx1 | tr -d ' \n')
take() { # take N: N random bytes in hex (N <= 100000)
	local p=$(((RANDOM * 32768 + RANDOM) % (100000 - $1 + 1)))
	echo "${pool:p*2:$1*2}"
}
good=$(hdr beef 0100 0001 0000 0000 0001)$Q_HELLO$OPT
{
	for i in $(seq 150); do take $((RANDOM % 300 + 1)); done
	# Every truncation of a valid query.
	for ((i = 0; i < ${#good}; i += 2)); do echo "${good:0:i}"; done | grep .
	# A valid header, then random bytes.
	for i in $(seq 60); do echo "$(hdr beef 0100 0001 0000 0000 0001)$(take $((RANDOM % 80)))"; done
	# Valid queries with one random byte replaced.
	for i in $(seq 100); do
		b=$((RANDOM % (${#good} / 2)))
		echo "${good:0:b*2}$(take 1)${good:b*2+2}"
	done
} >"$TMP/garbage"
ng=$(wc -l <"$TMP/garbage")
raw -n 0 -w 0 -- <"$TMP/garbage" >/dev/null
alive "udp: $ng random/truncated/mutated datagrams, still alive and correct"

# TCP streams: each on its own connection, then closed.
# tcpjunk HEX [MS]: write HEX raw on a new connection, wait MS, close.
tcpjunk() {
	echo "$1" | "$DNSRAW" -t -r -n 0 -w "${2:-200}" 127.0.0.1 "$PORT" >/dev/null 2>&1
}
tcpjunk "0040$(take 20)"                  # promises 64, sends 20, closes
tcpjunk "0000"                            # zero-length message
tcpjunk "ffff$(take 1000)"                # promises 65535, sends 1000
tcpjunk "ffff"                            # promises 65535, sends nothing
tcpjunk "ffff$(take 65535)" 500           # a whole 65535-byte junk message
tcpjunk "ffff$(take 65535)ffff$(take 65535)" 500   # two of them
tcpjunk "00"                              # half a length prefix
for i in $(seq 40); do tcpjunk "$(take $((RANDOM % 600 + 1)))" 0; done
tcpjunk "$(printf '000c%s' "$(hdr beef 0100 0001 0000 0000 0000)")"   # header only
alive "tcp: truncated, zero-length, 65535 and random streams, still alive and correct"
o=$TMP/zero
raw -t -r -n 1 -w 2000 -- 0000 >"$o.hex"
desc "$(head -1 "$o.hex")" >"$o"
expect "dns tcp: a zero-length message closes the connection" "$o" '^closed '

# ---- TCP idle timeout -----------------------------------------------------

wait "$BG_PIDS" 2>/dev/null
BG_PIDS=
t=$(sed -n 's/^closed \([0-9]*\)$/\1/p' "$TMP/idle")
if [ -n "$t" ] && [ "$t" -ge 9000 ] && [ "$t" -le 15000 ]; then
	pass "dns tcp: an idle connection is closed by the server after ${t} ms (TCP_IDLE_S 10)"
else
	fail "dns tcp: an idle connection is closed after ~10 s" "$(cat "$TMP/idle")"
fi

# ---- stop -----------------------------------------------------------------

alive "summoner-dns: still alive and correct at the end"
kids=$(pgrep -P "$SPID")
echo "    tenders running before SIGTERM: $(echo "$kids" | grep -c .)"
kill -TERM "$SPID"
rc=timeout
for _ in $(seq 100); do
	if ! kill -0 "$SPID" 2>/dev/null; then
		wait "$SPID"
		rc=$?
		break
	fi
	sleep 0.1
done
if [ "$rc" = 0 ]; then
	pass "summoner-dns: SIGTERM: exit 0 within 10 s"
	SPID=
else
	fail "summoner-dns: SIGTERM: exit 0 within 10 s" "status $rc"
fi
left=
for p in $kids; do
	st=$(ps -o stat= -p "$p" 2>/dev/null)
	[ -n "$st" ] && [[ $st != Z* ]] && left+=" $p"
done
[ -z "$left" ] && pass "summoner-dns: no summoner-tender left behind" \
	|| fail "summoner-dns: no summoner-tender left behind" "still running:$left"
expect "log: every instance stopped" "$LOG" 'every instance stopped; exiting'
if grep -Eq 'AddressSanitizer|runtime error|fatal' "$LOG"; then
	fail "log: no sanitizer report or fatal" "$(grep -Em3 'AddressSanitizer|runtime error|fatal' "$LOG")"
else
	pass "log: no sanitizer report or fatal"
fi
echo "    summoner-dns took $((SECONDS - T0)) s"
