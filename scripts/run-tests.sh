#!/usr/bin/env bash
# Every test, in two lanes side by side (this kind of machine has two cores, and each pass keeps
# one busy, so side by side they take about half as long as in turn):
#   lane 1: the suite on SQLite (always); then the browser tests in Debian's Chromium (when
#           /usr/bin/chromium exists); then the crash test (SIGKILL a real server under comment
#           load, on SQLite and PostgreSQL), last because its load has a time limit and by then
#           the other lane is in its plain PostgreSQL tests;
#   lane 2: the tests marked one_pass, once: they drive real processes on SQLite data of their
#           own, or use no database, so both passes leave them out (tests/conftest.py); then the
#           suite again on PostgreSQL with the Redis cache (when they answer on 127.0.0.1).
#           Run in this lane, they even out the lanes (lane 1 used to carry them too, and ran
#           50 % longer than lane 2); run first, their timed server tests meet the SQLite pass
#           in the other lane, not the crash test's load.
# Each step's output is printed whole, in order of its number, once both lanes are done.
# On a developer's machine a missing PostgreSQL, Redis or Chromium is reported and skipped;
# with CI=true it is a failure, so CI can never pass without having run them.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PG_URL=${MASTHEAD_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
REDIS=${MASTHEAD_TEST_REDIS_URL:-redis://127.0.0.1:6379/15}
# The steps without REDIS_URL still test against a real Redis (tests/caching: two servers sharing
# one; under their own key prefixes), and run beside the PostgreSQL + Redis pass, whose Django
# cache is that Redis database, emptied whole by every cache.clear(): they get another one.
SOLO_REDIS=${MASTHEAD_TEST_SOLO_REDIS_URL:-redis://127.0.0.1:6379/14}
CHROMIUM=${CHROME_PATH:-/usr/bin/chromium}
failed=()
skipped=()
LOGS=$(mktemp -d)
trap 'rm -rf "$LOGS"' EXIT

step() {  # step N NAME CMD...: run CMD, keeping its output and exit code as step N
  local n=$1; echo "$2" >"$LOGS/$n.name"; shift 2
  "$@" >"$LOGS/$n.log" 2>&1
  echo $? >"$LOGS/$n.rc"
}

missing() {  # missing WHAT: fail under CI, skip with a warning elsewhere
  if [ "${CI:-}" = "true" ]; then failed+=("$1: not available, and CI=true requires it")
  else skipped+=("$1"); fi
}

pg_ok=$("$BIN/python" - "$PG_URL" <<'PY'
import sys, psycopg
try:
    psycopg.connect(sys.argv[1].replace("postgres://", "postgresql://"), connect_timeout=3).close(); print("yes")
except Exception as exc:
    print(f"no: {exc}".splitlines()[0], file=sys.stderr)
PY
)
redis_ok=$("$BIN/python" - "$REDIS" <<'PY'
import sys, redis
try:
    redis.Redis.from_url(sys.argv[1], socket_connect_timeout=3).ping(); print("yes")
except Exception as exc:
    print(f"no: {exc}", file=sys.stderr)
PY
)
[ "$pg_ok" = yes ] || missing "PostgreSQL at $PG_URL"
[ "$redis_ok" = yes ] || missing "Redis at $REDIS"
[ -x "$CHROMIUM" ] || missing "Chromium at $CHROMIUM (apt-get install chromium)"

echo "running the test lanes; each step's output follows when both are done"
(
  step 1 "tests on SQLite" env -u DATABASE_URL -u REDIS_URL MASTHEAD_TEST_REDIS_URL="$SOLO_REDIS" "$BIN/pytest" tests -q -m "not crash and not one_pass" "$@"
  if [ -x "$CHROMIUM" ]; then
    step 4 "browser tests (Chromium)" env -u DATABASE_URL -u REDIS_URL MASTHEAD_TEST_REDIS_URL="$SOLO_REDIS" "$BIN/pytest" e2e -q "$@"
  fi
  # The crash test starts its own servers on both databases (it fails itself under CI=true
  # when PostgreSQL is missing), so it runs once, outside the two passes.
  step 5 "crash test (SIGKILL under load)" env -u DATABASE_URL -u REDIS_URL MASTHEAD_TEST_REDIS_URL="$SOLO_REDIS" "$BIN/pytest" tests -q -m crash "$@"
) &
(
  step 3 "tests of their own processes and data (one_pass)" env -u DATABASE_URL -u REDIS_URL MASTHEAD_TEST_REDIS_URL="$SOLO_REDIS" \
    "$BIN/pytest" tests -q -m "one_pass and not crash" "$@"
  if [ "$pg_ok" = yes ] && [ "$redis_ok" = yes ]; then
    step 2 "tests on PostgreSQL + Redis" env DATABASE_URL="$PG_URL" REDIS_URL="$REDIS" \
      "$BIN/pytest" tests -q -m "not crash and not one_pass" "$@"
  fi
) &
wait

for n in 1 2 3 4 5; do
  [ -f "$LOGS/$n.name" ] || continue
  name=$(cat "$LOGS/$n.name")
  echo; echo "==> $name"
  cat "$LOGS/$n.log"
  rc=$(cat "$LOGS/$n.rc" 2>/dev/null || echo 1)
  if [ "$rc" -ne 0 ]; then failed+=("$name (exit $rc)"); fi
done

echo
for s in "${skipped[@]}"; do echo "SKIPPED: $s"; done
if [ ${#failed[@]} -ne 0 ]; then
  for f in "${failed[@]}"; do echo "FAILED: $f"; done
  exit 1
fi
echo "All test suites passed."
