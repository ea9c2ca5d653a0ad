# Sourced by scripts/ensure-tools.sh (uses its say, run_logged, stamp_of, write_stamp, TOOLS, LOGS,
# STAMPS and the pinned versions): the optional tools installed from Debian or PyPI. Each one only
# warns when it cannot be had, and the tests that need it skip.
# shellcheck shell=bash

# docker-compose, only to check docker-compose.yml (test/unit/compose.test.ts skips without it):
# Debian's package, installed when missing and running as root; otherwise a hint.
ensure_compose() {
  if command -v docker-compose >/dev/null 2>&1; then say "docker-compose: $(docker-compose version --short 2>/dev/null || echo present)"; return 0; fi
  if [[ "$(stamp_of compose.failed)" == "1" ]]; then
    say "docker-compose: unavailable (install failed before, see $LOGS/compose.log; rm $STAMPS/compose.failed to retry)"; return 0
  fi
  if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    say "docker-compose: not installed, so the compose file check is skipped (as root: apt-get install docker-compose)"; return 0
  fi
  say "docker-compose: apt-get install docker-compose ..."
  local install=(env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose)
  # The package lists may be missing or stale on a fresh machine: update once, then retry.
  if run_logged "$LOGS/compose.log" "${install[@]}" \
    || { run_logged "$LOGS/compose-update.log" apt-get update -qq && run_logged "$LOGS/compose.log" "${install[@]}"; }; then
    rm -f "$STAMPS/compose.failed"
  else
    say "WARNING: could not install docker-compose; the compose file check is skipped (log: $LOGS/compose.log)"
    write_stamp compose.failed 1
  fi
}

# Headless chromium for the dashboard's browser test: Debian's package, installed when missing and
# running as root with apt-get; otherwise a hint, and the test skips. About 25 s on the build machine.
ensure_chromium() {
  local bin=/usr/bin/chromium
  if [[ -x "$bin" ]]; then say "chromium: $("$bin" --version 2>/dev/null | head -n 1 || echo present)"; return 0; fi
  if [[ "$(stamp_of chromium.failed)" == "1" ]]; then
    say "chromium: unavailable (install failed before, see $LOGS/chromium.log; rm $STAMPS/chromium.failed to retry); the dashboard browser test is skipped"; return 0
  fi
  if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    say "chromium: not installed, so the dashboard browser test is skipped (as root: apt-get install chromium; or set CHROMIUM_PATH)"; return 0
  fi
  say "chromium: apt-get install chromium=$CHROMIUM_VERSION ..."
  local apt=(env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq)
  if run_logged "$LOGS/chromium.log" "${apt[@]}" "chromium=$CHROMIUM_VERSION" \
    || { run_logged "$LOGS/chromium-update.log" apt-get update -qq && run_logged "$LOGS/chromium.log" "${apt[@]}" "chromium=$CHROMIUM_VERSION"; }; then
    rm -f "$STAMPS/chromium.failed"
  elif run_logged "$LOGS/chromium.log" "${apt[@]}" chromium; then
    say "chromium: $CHROMIUM_VERSION is no longer in the archive; installed $("$bin" --version 2>/dev/null | head -n 1)"
    rm -f "$STAMPS/chromium.failed"
  else
    say "WARNING: could not install chromium; the dashboard browser test is skipped (log: $LOGS/chromium.log)"
    write_stamp chromium.failed 1
  fi
}

# schemathesis in its own venv (it pulls in hypothesis, requests, ...; nothing of it on the system).
# Optional: on failure a warning, and test/e2e/schemathesis.test.ts skips.
ensure_schemathesis() {
  local name=schemathesis version="$SCHEMATHESIS_VERSION" venv="$TOOLS/schemathesis"
  if [[ -x "$venv/bin/st" && "$(stamp_of "$name")" == "$version" ]]; then say "$name $version: up to date"; return 0; fi
  if [[ "$(stamp_of "$name.failed")" == "$version" ]]; then
    say "$name $version: unavailable (install failed before, see $LOGS/$name.log; rm $STAMPS/$name.failed to retry)"; return 0
  fi
  local python; python="$(command -v python3 || command -v python || true)"
  [[ -n "$python" ]] || { say "WARNING: no python3, so schemathesis is not installed"; return 0; }
  say "$name $version: pip install into .tools/schemathesis ..."
  rm -rf "$venv" "$STAMPS/$name"
  if run_logged "$LOGS/$name.log" bash -c '"$1" -m venv "$2" && "$2/bin/pip" install --disable-pip-version-check -q "schemathesis==$3"' _ "$python" "$venv" "$version"; then
    write_stamp "$name" "$version"
    rm -f "$STAMPS/$name.failed"
  else
    say "WARNING: could not install $name $version; its test is skipped (log: $LOGS/$name.log)"
    rm -rf "$venv"
    write_stamp "$name.failed" "$version"
  fi
}
