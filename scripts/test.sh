#!/usr/bin/env bash
# The whole test run, exactly as CI runs it: bash scripts/test.sh [extra vitest arguments]
#
# Bootstraps the checkout (pnpm, install, build), makes sure the services the integration tests
# (*.it.test.ts) need are up, then runs `pnpm typecheck` and every vitest project. The exit status is
# vitest's, or the typecheck's when only the typecheck failed; it is non-zero when no test ran at all.
# The last line printed is always `<n> passed, <n> failed`.
set -euo pipefail

# shellcheck source=scripts/bootstrap.sh
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$SLUICE_ROOT"

log() { printf 'test: %s\n' "$*" >&2; }

# The integration tests expect MariaDB on 127.0.0.1:3306; the overrides only move where this script looks.
readonly MARIADB_HOST="${SLUICE_MARIADB_HOST:-127.0.0.1}"
readonly MARIADB_PORT="${SLUICE_MARIADB_PORT:-3306}"
readonly MARIADB_DAEMON=/usr/sbin/mariadbd
readonly MARIADB_WAIT_SECONDS="${SLUICE_MARIADB_WAIT_SECONDS:-60}"

mariadb_answers() {
  if command -v mysqladmin >/dev/null 2>&1; then
    # `ping` succeeds as soon as the server answers, even if it refuses the (absent) credentials.
    mysqladmin --protocol=tcp -h "$MARIADB_HOST" -P "$MARIADB_PORT" --connect-timeout=2 ping >/dev/null 2>&1
  else
    (exec 3<>"/dev/tcp/$MARIADB_HOST/$MARIADB_PORT") 2>/dev/null
  fi
}

start_mariadb() {
  if mariadb_answers; then
    log "mariadb up on $MARIADB_HOST:$MARIADB_PORT"
    return 0
  fi
  if [ ! -x "$MARIADB_DAEMON" ]; then
    log "error: no MariaDB answers on $MARIADB_HOST:$MARIADB_PORT and $MARIADB_DAEMON is not installed;" \
      "install mariadb-server or start a MariaDB there yourself"
    return 1
  fi
  # The Debian package's runtime and log directories may be missing on a fresh machine (/run is a tmpfs).
  if [ "$(id -u)" = 0 ] && id mysql >/dev/null 2>&1; then
    mkdir -p /run/mysqld /var/log/mysql
    chown mysql:mysql /run/mysqld /var/log/mysql
  fi
  log "starting mariadb ($MARIADB_DAEMON)"
  start-stop-daemon --start --oknodo --background --exec "$MARIADB_DAEMON"
  local deadline=$((SECONDS + MARIADB_WAIT_SECONDS))
  until mariadb_answers; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "error: mariadb did not answer on $MARIADB_HOST:$MARIADB_PORT within ${MARIADB_WAIT_SECONDS}s"
      if [ -r /var/log/mysql/error.log ]; then
        tail -n 20 /var/log/mysql/error.log >&2
      fi
      return 1
    fi
    sleep 0.5
  done
  log "mariadb up on $MARIADB_HOST:$MARIADB_PORT"
}

# ---------------------------------------------------------------------------------------------------
# HOOK: Kafka broker. connector-kafka's integration tests need a broker; starting it belongs to its own
# issue. Replace this body with: start the broker if nothing answers on its port, wait until it answers,
# and return non-zero with a message if it does not come up.
# ---------------------------------------------------------------------------------------------------
start_kafka() {
  return 0
}

start_services() {
  start_mariadb
  start_kafka
}

start_services

workdir="$(mktemp -d "${TMPDIR:-/tmp}/sluice-test.XXXXXX")"
trap 'rm -rf "$workdir"' EXIT
report="$workdir/vitest.json"

log "pnpm typecheck"
typecheck_status=0
pnpm typecheck >"$workdir/typecheck.log" 2>&1 || typecheck_status=$?
if [ "$typecheck_status" -ne 0 ]; then
  cat "$workdir/typecheck.log" >&2
  log "error: typecheck failed (exit $typecheck_status); running the tests anyway"
fi

log "pnpm vitest run"
vitest_status=0
pnpm vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || vitest_status=$?

passed=0
failed=0
total=0
failed_files=0
if [ -s "$report" ]; then
  counts="$(
    node -e '
      const report = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"))
      // A file that fails to load counts as a failed suite with no tests in it.
      const brokenFiles = (report.testResults ?? []).filter(
        (file) => file.status === "failed" && (file.assertionResults ?? []).length === 0,
      ).length
      console.log(report.numPassedTests ?? 0, report.numFailedTests ?? 0, report.numTotalTests ?? 0, brokenFiles)
    ' "$report"
  )" || counts=""
  if [ -n "$counts" ]; then
    read -r passed failed total failed_files <<<"$counts"
  else
    log "error: cannot read the vitest report $report"
    [ "$vitest_status" -ne 0 ] || vitest_status=1
  fi
else
  log "error: vitest wrote no report ($report); see its output above"
  [ "$vitest_status" -ne 0 ] || vitest_status=1
fi

status=$vitest_status
[ "$status" -ne 0 ] || status=$typecheck_status
if [ "$failed_files" -gt 0 ]; then
  log "error: $failed_files test file(s) failed before running any test; see the output above"
fi
if [ "$total" -eq 0 ]; then
  log "error: vitest ran 0 tests; a test run that tests nothing is a failure"
  [ "$status" -ne 0 ] || status=1
fi
if [ "$typecheck_status" -ne 0 ]; then
  log "error: typecheck failed (exit $typecheck_status); see its output above"
fi
echo "$passed passed, $failed failed"
exit "$status"
