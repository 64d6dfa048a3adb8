# lib.bash: shared by the integration scripts (sourced, not run).
#
# Each case records one line in $RESULTS: "PASS name", "FAIL name: why" or
# "SKIP name: why"; tests/run-tests.sh counts them.

BUILD=${BUILD:-build}
RESULTS=${RESULTS:-/dev/null}
TENDER=$BUILD/summoner-tender
TCTL=$BUILD/tests/tctl
G=$BUILD/guests
TMP=$(mktemp -d /tmp/summoner-test.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

# The tests parse JSON with python3.  Use Debian's (scripts/install-deps.sh
# installs it): a python3 found first on PATH may be a version manager's
# shim that costs a second or more per call, enough to make a test that
# must answer within a heartbeat deadline miss it.
if [ -x /usr/bin/python3 ]; then
	python3() { /usr/bin/python3 "$@"; }
fi

pass() {
	echo "PASS $1" | tee -a "$RESULTS"
}

fail() {
	echo "FAIL $1: $2" | tee -a "$RESULTS"
}

skip() {
	echo "SKIP $1: $2" | tee -a "$RESULTS"
}

# have_kvm: true when /dev/kvm is usable; otherwise the caller skips.
have_kvm() {
	[ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]
}

# expect NAME FILE REGEX...: pass if every extended regex matches a line
# of FILE (a REGEX starting with ! must match no line), else fail naming
# the first that does not hold (and show FILE).
expect() {
	local name=$1 file=$2
	shift 2
	local re
	for re in "$@"; do
		if [[ $re == '!'* ]]; then
			if grep -Eq -- "${re#!}" "$file"; then
				fail "$name" "unexpected line matching /${re#!}/"
				sed 's/^/    | /' "$file" | head -60
				return 1
			fi
		elif ! grep -Eq -- "$re" "$file"; then
			fail "$name" "no line matches /$re/"
			sed 's/^/    | /' "$file" | head -60
			return 1
		fi
	done
	pass "$name"
}

# expect_text NAME TEXT REGEX...: expect() on TEXT instead of a file.
expect_text() {
	local name=$1 f
	f=$(mktemp "$TMP/expect.XXXXXX")
	printf '%s\n' "$2" >"$f"
	shift 2
	expect "$name" "$f" "$@"
	rm -f "$f"
}

# reject NAME FILE REGEX: fail if REGEX matches a line of FILE.
reject() {
	if grep -Eq -- "$3" "$2"; then
		fail "$1" "unexpected line matching /$3/"
		sed 's/^/    | /' "$2" | head -40
		return 1
	fi
	pass "$1"
}

# field FILE EVENT KEY: the value of KEY= on the first EVENT line of FILE.
field() {
	grep -m1 "^$2 " "$1" | tr ' ' '\n' | sed -n "s/^$3=//p" | head -1
}

# sym_range IMAGE FUNC: "start end" of FUNC in IMAGE, from its symbol table.
sym_range() {
	nm -S "$1" | awk -v f="$2" '$4 == f { printf "0x%s 0x%s\n", $1, $2 }'
}

# in_func IMAGE FUNC ADDR: true when ADDR lies inside FUNC.
in_func() {
	local r start size
	r=$(sym_range "$1" "$2")
	[ -n "$r" ] || return 1
	read -r start size <<<"$r"
	(( $3 >= start && $3 < start + size ))
}
