#!/usr/bin/env bash
# Every test, in the order a failure is cheapest to find:
#   1. the suite on SQLite (always);
#   2. the suite again on PostgreSQL with the Redis cache (when they answer on 127.0.0.1);
#   3. the crash test: SIGKILL a real server under comment load, on SQLite and PostgreSQL;
#   4. the browser tests in Debian's Chromium (when /usr/bin/chromium exists).
# On a developer's machine a missing PostgreSQL, Redis or Chromium is reported and skipped;
# with CI=true it is a failure, so CI can never pass without having run them.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PG_URL=${MASTHEAD_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
REDIS=${MASTHEAD_TEST_REDIS_URL:-redis://127.0.0.1:6379/15}
CHROMIUM=${CHROME_PATH:-/usr/bin/chromium}
failed=()
skipped=()

run() {  # run NAME CMD...: a pytest exit of 5 (no tests collected) counts as a failure too
  local name=$1; shift
  echo; echo "==> $name"
  "$@"; local rc=$?
  if [ $rc -ne 0 ]; then failed+=("$name (exit $rc)"); fi
}

missing() {  # missing WHAT: fail under CI, skip with a warning elsewhere
  if [ "${CI:-}" = "true" ]; then failed+=("$1: not available, and CI=true requires it")
  else skipped+=("$1"); fi
}

run "tests on SQLite" env -u DATABASE_URL -u REDIS_URL "$BIN/pytest" tests -q -m "not crash" "$@"

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
if [ "$pg_ok" = yes ] && [ "$redis_ok" = yes ]; then
  run "tests on PostgreSQL + Redis" env DATABASE_URL="$PG_URL" REDIS_URL="$REDIS" "$BIN/pytest" tests -q -m "not crash" "$@"
else
  [ "$pg_ok" = yes ] || missing "PostgreSQL at $PG_URL"
  [ "$redis_ok" = yes ] || missing "Redis at $REDIS"
fi

# The crash test starts its own servers on both databases (it fails itself under CI=true when
# PostgreSQL is missing), so it runs once, outside the two passes above.
run "crash test (SIGKILL under load)" env -u DATABASE_URL -u REDIS_URL "$BIN/pytest" tests -q -m crash "$@"

if [ -x "$CHROMIUM" ]; then
  run "browser tests (Chromium)" env -u DATABASE_URL -u REDIS_URL "$BIN/pytest" e2e -q "$@"
else
  missing "Chromium at $CHROMIUM (apt-get install chromium)"
fi

echo
for s in "${skipped[@]}"; do echo "SKIPPED: $s"; done
if [ ${#failed[@]} -ne 0 ]; then
  for f in "${failed[@]}"; do echo "FAILED: $f"; done
  exit 1
fi
echo "All test suites passed."
