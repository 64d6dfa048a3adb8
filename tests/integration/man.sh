#!/bin/bash
# man.sh: the manual pages in man/.  Each renders with man(1) without a
# warning and passes mandoc's lint; and each says what the code accepts,
# with the lists taken from the code so that a keyword, command, option or
# exit status added without its documentation fails here:
#   summoner.conf.5   every keyword of summoner/parse.y's table is an .Ic,
#                     and every .Ic is a keyword; every event, action and
#                     back-off of policies/policy.c is a .Cm; the EXAMPLES
#                     parse (summoner -n)
#   summonerctl.8     every command (summonerctl/cmd-*.c, --help) has its
#                     .It Ic and no other command has one; every option of
#                     --help and of each command's -h; every exit status
#   summoner.8        every option of summoner --help
#   summoner-tender.8 every option and exit status of summoner-tender --help
# Needs no KVM.
. "$(dirname "$0")/lib.bash"
cd "$(dirname "$0")/../.." || exit 1

MANDIR="man"
CONF5=$MANDIR/summoner.conf.5
CTL8=$MANDIR/summonerctl.8
SUM8=$MANDIR/summoner.8
TEN8=$MANDIR/summoner-tender.8
PAGES="$SUM8 $CONF5 $CTL8 $TEN8"

# words_after MACRO FILE: every word a MACRO call takes in FILE (up to the
# next macro or the end of the line), one a line, without \& and the
# delimiters mdoc sets apart.
words_after() {
	awk -v m="$1" '
	{
		sub(/^\./, "")
		n = split($0, w, /[ \t]+/)
		on = 0
		for (i = 1; i <= n; i++) {
			if (w[i] ~ /^[A-Z][a-z][a-z]?$/) {
				on = (w[i] == m)
				continue
			}
			if (!on)
				continue
			gsub(/\\&/, "", w[i])
			if (w[i] ~ /^[|,.;:()\[\]]*$/)
				continue
			print w[i]
		}
	}' "$2" | sort -u
}

# missing LIST_FILE HAVE_FILE: the lines of LIST_FILE not in HAVE_FILE.
missing() {
	sort -u "$1" | comm -23 - <(sort -u "$2") | tr '\n' ' '
}

# check_list NAME WHAT LIST_FILE HAVE_FILE: pass when every line of
# LIST_FILE is in HAVE_FILE (and LIST_FILE is not empty: an extraction
# that finds nothing must not pass).
check_list() {
	local m
	if [ ! -s "$3" ]; then
		fail "$1" "found no $2 to check (has the source moved?)"
		return
	fi
	m=$(missing "$3" "$4")
	if [ -n "$m" ]; then
		fail "$1" "$2 missing: $m"
	else
		pass "$1"
	fi
}

for p in $PAGES; do
	if [ ! -f "$p" ]; then
		fail "man: $p" "missing"
	fi
done

# ---- rendering ----
if ! command -v man >/dev/null; then
	skip "man: rendering" "man(1) is not installed (scripts/install-deps.sh installs man-db)"
else
	for p in $PAGES; do
		[ -f "$p" ] || continue
		out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$p" 2>&1 >/dev/null)
		text=$(LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$p" 2>/dev/null | col -bx)
		if [ -n "$out" ]; then
			fail "man: $p renders without warnings" "$(echo "$out" | head -5)"
		elif ! grep -q '^NAME' <<<"$text" || ! grep -q '^SEE ALSO' <<<"$text"; then
			fail "man: $p renders without warnings" "no NAME or SEE ALSO in the output"
		else
			pass "man: $p renders without warnings"
		fi
	done
fi

# Referenced pages that are not installed here (our own, gdb's) and a
# stale mandoc.db are facts about this machine, not about the pages.
if ! command -v mandoc >/dev/null; then
	skip "man: mandoc -Tlint" "mandoc is not installed (scripts/install-deps.sh installs it)"
else
	for p in $PAGES; do
		[ -f "$p" ] || continue
		out=$(mandoc -Tlint -W style "$p" 2>&1 |
			grep -v -e 'referenced manual not found' -e 'outdated mandoc.db')
		if [ -n "$out" ]; then
			fail "man: mandoc -Tlint $p" "$(echo "$out" | head -5)"
		else
			pass "man: mandoc -Tlint $p"
		fi
	done
fi

# ---- summoner.conf.5 against the parser ----
sed -n '/^static const struct keyword keywords\[\] = {/,/^};/p' summoner/parse.y |
	sed -n 's/^[[:space:]]*{ "\([^"]*\)",.*/\1/p' >"$TMP/keywords"
words_after Ic "$CONF5" >"$TMP/conf-ic"
check_list "man: every keyword of parse.y is in summoner.conf.5" \
	"keywords" "$TMP/keywords" "$TMP/conf-ic"
if [ -s "$TMP/keywords" ]; then
	extra=$(missing "$TMP/conf-ic" "$TMP/keywords")
	if [ -n "$extra" ]; then
		fail "man: summoner.conf.5 documents only keywords of parse.y" \
			"Ic words that parse.y does not know: $extra"
	else
		pass "man: summoner.conf.5 documents only keywords of parse.y"
	fi
fi

for a in event_names action_names backoff_names; do
	sed -n "/^static const char \*const $a\[/,/^};/p" policies/policy.c |
		sed -n 's/.*\] = "\([^"]*\)".*/\1/p'
done >"$TMP/polwords"
words_after Cm "$CONF5" >"$TMP/conf-cm"
check_list "man: every policy event, action and back-off is in summoner.conf.5" \
	"policy words" "$TMP/polwords" "$TMP/conf-cm"

# The EXAMPLES: the first and third literal blocks are a configuration
# that includes the second as policies.conf.
if [ ! -x "$BUILD/summoner" ]; then
	skip "man: summoner.conf.5 examples load" "$BUILD/summoner is not built"
else
	mkdir -p "$TMP/ex"
	awk -v d="$TMP/ex" '/^\.Sh EXAMPLES/ { e = 1 }
		e && /^\.Bd -literal/ { n++; on = 1; next }
		on && /^\.Ed/ { on = 0; next }
		on { gsub(/\\e/, "\\"); print > (d "/block" n) }' "$CONF5"
	cat "$TMP/ex/block1" "$TMP/ex/block3" >"$TMP/ex/summoner.conf" 2>/dev/null
	cp "$TMP/ex/block2" "$TMP/ex/policies.conf" 2>/dev/null
	if "$BUILD/summoner" -n -f "$TMP/ex/summoner.conf" >"$TMP/ex/out" 2>&1 &&
		grep -q '^service "legacy.summoner.test."' "$TMP/ex/out"; then
		pass "man: summoner.conf.5 examples load"
	else
		fail "man: summoner.conf.5 examples load" "$(head -5 "$TMP/ex/out")"
	fi
fi

# ---- summonerctl.8 against the commands ----
sed -n 's/^[[:space:]]*\.name = "\([^"]*\)",.*/\1/p' summonerctl/cmd-*.c >"$TMP/cmds"
if [ -x "$BUILD/summonerctl" ]; then
	"$BUILD/summonerctl" --help |
		sed -n '/^Commands:/,/^$/p' | awk 'NR > 1 && NF { print $1 }' >>"$TMP/cmds"
fi
grep '^\.It Ic ' "$CTL8" | awk '{ print $3 }' | sort -u >"$TMP/ctl-it"
check_list "man: every summonerctl command is in summonerctl.8" \
	"commands" "$TMP/cmds" "$TMP/ctl-it"
extra=$(missing "$TMP/ctl-it" "$TMP/cmds")
if [ -n "$extra" ]; then
	fail "man: summonerctl.8 documents only summonerctl's commands" "not commands: $extra"
else
	pass "man: summonerctl.8 documents only summonerctl's commands"
fi

# opts HELP_TEXT_FILE: the options of a --help text (the option column of
# its lines that begin with blanks and a dash), one a line, as mdoc writes
# them after Fl ("j", "-json", "-net:").
opts() {
	grep -E '^[[:space:]]+-' "$1" |
		sed -E 's/^[[:space:]]+//; s/  .*//' |
		grep -oE '(^|[[:space:],])--?[a-z][a-z-]*:?' |
		sed -E 's/^[[:space:],]*-//' | sort -u
}

# flags PAGE: the words after Fl in PAGE, one a line.
flags() {
	words_after Fl "$1"
}

if [ ! -x "$BUILD/summonerctl" ]; then
	skip "man: summonerctl.8 options" "$BUILD/summonerctl is not built"
else
	"$BUILD/summonerctl" --help >"$TMP/ctl-help"
	sort -u "$TMP/cmds" | while read -r c; do
		"$BUILD/summonerctl" "$c" -h
	done >"$TMP/ctl-cmd-help"
	{ opts "$TMP/ctl-help"; opts "$TMP/ctl-cmd-help"; } >"$TMP/ctl-opts"
	flags "$CTL8" >"$TMP/ctl-fl"
	check_list "man: summonerctl.8 options" "options" "$TMP/ctl-opts" "$TMP/ctl-fl"
	sed -n '/^Exit status:/,/^$/p' "$TMP/ctl-help" |
		awk '$1 ~ /^[0-9]+$/ { print $1 }' >"$TMP/ctl-exits"
	grep -E '^\.It [0-9]+$' "$CTL8" | awk '{ print $2 }' >"$TMP/ctl-it-exits"
	check_list "man: summonerctl.8 exit statuses" "exit statuses" \
		"$TMP/ctl-exits" "$TMP/ctl-it-exits"
fi

# ---- summoner.8 and summoner-tender.8 against their --help ----
if [ ! -x "$BUILD/summoner" ]; then
	skip "man: summoner.8 options" "$BUILD/summoner is not built"
else
	"$BUILD/summoner" --help >"$TMP/sum-help"
	sed -n '/^Options:/,/^$/p' "$TMP/sum-help" >"$TMP/sum-opts-text"
	opts "$TMP/sum-opts-text" >"$TMP/sum-opts"
	flags "$SUM8" >"$TMP/sum-fl"
	check_list "man: summoner.8 options" "options" "$TMP/sum-opts" "$TMP/sum-fl"
fi

if [ ! -x "$TENDER" ]; then
	skip "man: summoner-tender.8 options" "$TENDER is not built"
else
	"$TENDER" --help >"$TMP/ten-help"
	sed -n '/^Options:/,/^$/p' "$TMP/ten-help" >"$TMP/ten-opts-text"
	opts "$TMP/ten-opts-text" >"$TMP/ten-opts"
	flags "$TEN8" >"$TMP/ten-fl"
	check_list "man: summoner-tender.8 options" "options" "$TMP/ten-opts" "$TMP/ten-fl"
	sed -n '/^Exit status:/,$p' "$TMP/ten-help" |
		awk '$1 ~ /^[0-9]+$/ { print $1 }' >"$TMP/ten-exits"
	grep -E '^\.It [0-9]+$' "$TEN8" | awk '{ print $2 }' >"$TMP/ten-it-exits"
	check_list "man: summoner-tender.8 exit statuses" "exit statuses" \
		"$TMP/ten-exits" "$TMP/ten-it-exits"
fi
