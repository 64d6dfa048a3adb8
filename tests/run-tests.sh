#!/bin/bash
# Run every test: the cmocka unit binaries in BUILD/tests/test_*, then the
# integration scripts tests/integration/*.sh.  Prints one closing line
# "N passed, N failed, N skipped" and exits non-zero if anything failed.
set -u
BUILD=${1:-build}
export BUILD
cd "$(dirname "$0")/.."

passed=0 failed=0 skipped=0
results=$(mktemp)
trap 'rm -f "$results"' EXIT

for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	echo "== unit: $(basename "$t")"
	out=$("$t" 2>&1)
	rc=$?
	echo "$out"
	p=$(echo "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	f=$(echo "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	if [ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then
		echo "FAIL: $(basename "$t") exited $rc"
		failed=$((failed + 1))
	fi
done

for t in tests/integration/*.sh; do
	[ -f "$t" ] || continue
	echo "== integration: $(basename "$t")"
	RESULTS=$results bash "$t"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "FAIL: $(basename "$t") exited $rc"
		echo "FAIL $(basename "$t") exited $rc" >>"$results"
	fi
done
ip=$(grep -c '^PASS ' "$results")
if_=$(grep -c '^FAIL ' "$results")
is=$(grep -c '^SKIP ' "$results")
passed=$((passed + ip))
failed=$((failed + if_))
skipped=$((skipped + is))

echo
grep -E '^(FAIL|SKIP) ' "$results" || true
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
