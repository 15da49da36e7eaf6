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
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
  fi
}

ensure_rust() {
  apt_install ca-certificates curl build-essential pkg-config python3 python3-venv
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
  if ! cmp -s tests/python/requirements.txt "$VENV/.requirements"; then
    step "installing Python test packages"
    "$VENV/bin/pip" install -q --disable-pip-version-check -r tests/python/requirements.txt
    cp tests/python/requirements.txt "$VENV/.requirements"
  fi
}
