#!/usr/bin/env bash
# Shared set-up for scripts/run.sh and scripts/test.sh: installs what a fresh
# Debian/Ubuntu machine lacks. Idempotent; every step checks before it installs.

step() { printf '\n==> %s\n' "$*"; }

apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    step "installing Debian packages: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    # Waits for a running apt or dpkg (an unattended upgrade) instead of failing.
    $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}"
  fi
}

ensure_rust() {
  apt_install ca-certificates curl build-essential pkg-config python3 python3-venv
  # kit-core binds clerk key slots to a TPM 2.0 through the TSS2 libraries (tss-esapi).
  apt_install libtss2-dev
  if ! command -v cargo >/dev/null 2>&1; then
    [ -f "$HOME/.cargo/env" ] && source "$HOME/.cargo/env"
  fi
  if ! command -v cargo >/dev/null 2>&1; then
    step "installing the Rust toolchain (rustup)"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c rustfmt,clippy
    source "$HOME/.cargo/env"
  fi
}

# A virtualenv under target/ with the pinned Python packages of tests/python.
VENV="target/pyvenv"
ensure_python_venv() {
  if [ ! -x "$VENV/bin/python" ]; then
    step "creating Python virtualenv in $VENV"
    python3 -m venv "$VENV"
  fi
  local wanted
  wanted=$(cat tests/python/requirements.txt tests/schemathesis/requirements.txt tests/s3/requirements.txt)
  if [ "$wanted" != "$(cat "$VENV/.requirements" 2>/dev/null)" ]; then
    step "installing Python test packages (vector check, schemathesis, moto)"
    "$VENV/bin/pip" install -q --disable-pip-version-check \
      -r tests/python/requirements.txt -r tests/schemathesis/requirements.txt \
      -r tests/s3/requirements.txt
    printf '%s' "$wanted" > "$VENV/.requirements"
  fi
}

# The back office's browser tests (tests/e2e/office_browser.rs): Debian's Chromium and
# its WebDriver (no browser downloaded by a tool), and axe-core pinned by
# tests/browser/package-lock.json. Node and npm come from Debian only when missing (a
# NodeSource node brings its own npm, which Debian's npm package would conflict with).
ensure_browser_tests() {
  apt_install chromium chromium-driver
  command -v npm >/dev/null 2>&1 || apt_install nodejs npm
  local lock=tests/browser/package-lock.json stamp=tests/browser/node_modules/.fieldkit-lock
  if ! cmp -s "$lock" "$stamp" || [ ! -f tests/browser/node_modules/axe-core/axe.min.js ]; then
    step "installing the browser tests' JavaScript (npm ci in tests/browser)"
    (cd tests/browser && npm ci --ignore-scripts --no-audit --no-fund)
    cp "$lock" "$stamp"
  fi
}

# The kit desktop app (src-tauri): WebKitGTK/GTK headers for Tauri, and the UI built
# into ui/dist with the versions pinned by ui/package-lock.json. Tauri embeds ui/dist at
# compile time, so this runs before anything builds the workspace.
ensure_app_build() {
  apt_install libwebkit2gtk-4.1-dev libgtk-3-dev librsvg2-dev libsoup-3.0-dev
  command -v npm >/dev/null 2>&1 || apt_install nodejs npm
  local lock=ui/package-lock.json stamp=ui/node_modules/.fieldkit-lock
  if ! cmp -s "$lock" "$stamp"; then
    step "installing the app UI's JavaScript (npm ci in ui)"
    (cd ui && npm ci --no-audit --no-fund)
    cp "$lock" "$stamp"
  fi
  step "building the app UI (ui/dist)"
  (cd ui && npm run --silent build)
}

# The app's end-to-end test (tests/e2e/app_tauri.rs): a private X server, Debian's
# WebKitWebDriver, and tauri-driver in front of it.
ensure_app_tests() {
  apt_install xvfb xauth webkit2gtk-driver
  if ! command -v tauri-driver >/dev/null 2>&1; then
    step "installing tauri-driver"
    cargo install tauri-driver --locked --version 2.1.0
  fi
}

# Waits until a local URL answers (up to 20 s).
wait_for_url() {
  for _ in $(seq 1 100); do
    if python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' "$1" 2>/dev/null; then
      return 0
    fi
    sleep 0.2
  done
  echo "$1 did not answer" >&2
  return 1
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# --- PostgreSQL for the backend's store tests ------------------------------------------
# The backend's storage conformance suite runs against SQLite always and against
# PostgreSQL whenever FIELDKIT_TEST_DATABASE_URL is set. These two functions give it a
# throwaway cluster: unix socket only (no TCP port), in a temporary folder, removed by
# stop_test_postgres (call it from an EXIT trap).

ensure_postgres() {
  apt_install postgresql
}

PG_TEST_DIR=""
start_test_postgres() {
  if [ -n "${FIELDKIT_TEST_DATABASE_URL:-}" ]; then
    step "PostgreSQL tests use FIELDKIT_TEST_DATABASE_URL as given"
    return 0
  fi
  local bindir
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ ! -x "$bindir/initdb" ]; then
    echo "PostgreSQL server binaries not found under /usr/lib/postgresql" >&2
    return 1
  fi
  PG_TEST_DIR=$(mktemp -d /tmp/fieldkit-pg.XXXXXX)
  local as_pg=()
  if [ "$(id -u)" -eq 0 ]; then
    # initdb refuses to run as root; the Debian package created the postgres user.
    chown postgres:postgres "$PG_TEST_DIR"
    as_pg=(runuser -u postgres --)
  fi
  step "starting a throwaway PostgreSQL cluster in $PG_TEST_DIR ($("$bindir/postgres" --version))"
  "${as_pg[@]}" "$bindir/initdb" -D "$PG_TEST_DIR/data" -U postgres -A trust -E UTF8 --no-sync >/dev/null
  "${as_pg[@]}" "$bindir/pg_ctl" -D "$PG_TEST_DIR/data" -l "$PG_TEST_DIR/server.log" -w \
    -o "-k $PG_TEST_DIR -c listen_addresses='' -c fsync=off -c max_connections=200" start >/dev/null
  "${as_pg[@]}" "$bindir/createdb" -h "$PG_TEST_DIR" -U postgres fieldkit_test
  export FIELDKIT_TEST_DATABASE_URL="postgres://postgres@localhost/fieldkit_test?host=$PG_TEST_DIR"
}

stop_test_postgres() {
  [ -n "$PG_TEST_DIR" ] && [ -d "$PG_TEST_DIR/data" ] || return 0
  local bindir as_pg=()
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ "$(id -u)" -eq 0 ] && as_pg=(runuser -u postgres --)
  "${as_pg[@]}" "$bindir/pg_ctl" -D "$PG_TEST_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$PG_TEST_DIR"
  PG_TEST_DIR=""
}

# --- S3-compatible object storage for the attachment tests -------------------------------
# The backend's upload and attachment tests run on the data folder always and on S3
# whenever FIELDKIT_TEST_S3_URL is set. start_test_s3 starts moto's S3 server (pinned in
# tests/s3/requirements.txt, installed into the venv by ensure_python_venv) on a free
# loopback port, in memory: every test makes its own bucket. stop_test_s3 ends it (call it
# from an EXIT trap, like stop_test_postgres).

S3_TEST_PID=""
S3_TEST_LOG=""
start_test_s3() {
  if [ -n "${FIELDKIT_TEST_S3_URL:-}" ]; then
    step "S3 tests use FIELDKIT_TEST_S3_URL as given"
    return 0
  fi
  local port
  port=$(free_port)
  S3_TEST_LOG=$(mktemp /tmp/fieldkit-s3.XXXXXX.log)
  step "starting moto's S3 server on 127.0.0.1:$port (log: $S3_TEST_LOG)"
  "$VENV/bin/moto_server" -H 127.0.0.1 -p "$port" > "$S3_TEST_LOG" 2>&1 &
  S3_TEST_PID=$!
  # Any answer will do: moto answers its own API path once it serves.
  if ! wait_for_url "http://127.0.0.1:$port/moto-api/"; then
    cat "$S3_TEST_LOG" >&2
    stop_test_s3
    return 1
  fi
  export FIELDKIT_TEST_S3_URL="http://127.0.0.1:$port"
}

stop_test_s3() {
  [ -n "$S3_TEST_PID" ] || return 0
  kill "$S3_TEST_PID" 2>/dev/null || true
  wait "$S3_TEST_PID" 2>/dev/null || true
  rm -f "$S3_TEST_LOG"
  S3_TEST_PID=""
  S3_TEST_LOG=""
}

# --- Installable packages (scripts/package.sh, tests/packages/) ---------------------------
# The Debian packages of the backend (cargo-deb) and the kit app (the Tauri bundler, the
# npm @tauri-apps/cli pinned in ui/package-lock.json), their CycloneDX SBOMs
# (cargo-cyclonedx; `npm sbom` of npm >= 10 for the UI), and gpg for the signature over
# SHA256SUMS. The cargo tools are pinned; a different installed version is replaced.

ensure_cargo_tool() {
  local crate=$1 version=$2 probe=$3
  if ! cargo "$probe" --version 2>/dev/null | grep -q " $version\$"; then
    step "installing $crate $version"
    cargo install --locked "$crate" --version "$version"
  fi
}

ensure_package_tools() {
  # dpkg-shlibdeps (cargo-deb's $auto dependencies), strip/objcopy, gzip, gpg.
  apt_install dpkg-dev binutils gzip gnupg
  ensure_cargo_tool cargo-deb 3.8.0 deb
  ensure_cargo_tool cargo-cyclonedx 0.5.9 cyclonedx
  if ! npm sbom --help >/dev/null 2>&1; then
    echo "npm $(npm --version) has no 'npm sbom' (needs npm >= 10) for the UI's SBOM" >&2
    return 1
  fi
}

# The package tests (tests/packages/test-packages.sh): lintian, desktop-file-validate,
# rpm (to read the .rpm's header), libseccomp's Python binding (the unit's system call
# filter), a virtual X server for the app, and the JSON schema validator in the project's
# virtualenv (run ensure_python_venv first).
ensure_package_tests() {
  apt_install lintian desktop-file-utils rpm python3-seccomp xvfb xauth systemd
  local req=tests/packages/requirements.txt stamp="$VENV/.package-test-requirements"
  if ! cmp -s "$req" "$stamp"; then
    step "installing the package tests' Python packages (jsonschema)"
    "$VENV/bin/pip" install -q --disable-pip-version-check -r "$req"
    cp "$req" "$stamp"
  fi
}
