#!/usr/bin/env bash
# The jest runs of `make test`: the whole suite on the Temporal dev server, then the end-to-end
# subset again on the production server (TEMPORAL=server: temporal-server on PostgreSQL, see
# docs/temporal.md). The last line printed is one `N passed, M failed` over both passes, also
# written to JEST_SUMMARY_FILE when set (.ci/run repeats it).
# usage: scripts/test-passes.sh [jest args]   With arguments only that one run (no second pass).
# env:   SERVER_PASS=0 skips the second pass.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
JEST="${JEST:-node_modules/.bin/jest}"

# What the second pass covers: webhook → workflow → database; the follow-through with the
# `temporal` CLI's signals and its ContactId/visibility queries; the search attributes; make start
# on the server; and the fault tests' Temporal restart (the other two fault tests are filtered out).
SERVER_PASS_FILES=(
  test/e2e/webhook.test.ts
  test/e2e/followThrough.test.ts
  test/cli/followUpSignals.test.ts
  test/integration/stack.test.ts
  test/e2e/start.test.ts
  test/e2e/faults.test.ts
)
SERVER_PASS_FILTER='^(?!.*(the database stopped mid-burst|a receiver killed and restarted mid-burst))'

summary="${JEST_SUMMARY_FILE:-}"
first="$(mktemp)"
trap 'rm -f "$first"' EXIT
status=0
JEST_SUMMARY_FILE="$first" "$JEST" "$@" || status=$?
if (($# > 0)) || [[ "${SERVER_PASS:-1}" == 0 ]]; then
  [[ -n "$summary" ]] && cp "$first" "$summary"
  exit "$status"
fi

echo
echo "== second pass: the end-to-end subset on temporal-server (TEMPORAL=server) =="
started=$SECONDS
second="$(mktemp)"
trap 'rm -f "$first" "$second"' EXIT
# Until the reporter writes the sum, the line says the pass did not report (e.g. its servers did not start).
fallback="$(JEST_SUMMARY_PRIOR="$first" node -e '
  const m = /(\d+) passed, (\d+) failed(?:, (\d+) skipped)?/.exec(require("fs").readFileSync(process.env.JEST_SUMMARY_PRIOR, "utf8")) || [0, 0, 0, 0];
  console.log(`${m[1]} passed, ${Number(m[2]) + 1} failed${Number(m[3] || 0) ? `, ${m[3]} skipped` : ""}`);')"
echo "$fallback" >"$second"
TEMPORAL=server FAULT_TESTS=1 JEST_SUMMARY_PRIOR="$first" JEST_SUMMARY_FILE="$second" \
  "$JEST" "${SERVER_PASS_FILES[@]}" -t "$SERVER_PASS_FILTER" || status=$?
[[ -n "$summary" ]] && cp "$second" "$summary"
if [[ "$(cat "$second")" == "$fallback" ]]; then
  ((status == 0)) && status=1
fi
# The second pass's own last line is already this sum; repeated after its duration so it stays last.
echo "second pass took $((SECONDS - started)) s; both passes:"
cat "$second"
exit "$status"
