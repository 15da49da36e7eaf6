#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run calls this script):
# installs what is missing, then formatting, lints, dependency boundaries, every Rust
# test (the backend's store tests against SQLite and a throwaway PostgreSQL cluster, its
# attachment tests on the data folder and on S3 (moto); the sync engine's fault scenarios
# with killed processes, a fault proxy and two backend nodes;
# the back office in headless Chromium with axe-core; the kit app in WebKitGTK over
# tauri-driver, its UI's unit tests), the operations guide's commands (run by an e2e
# test), the installable packages (tests/packages/test-packages.sh: lintian, install,
# hardened unit, SBOM schema, signature), the guide's package commands (apt, systemctl,
# journalctl, runuser, restore, purge, held records) executed against the installed
# backend package in a Debian container booted with systemd as PID 1
# (tests/packages/test-guide-systemd.sh), and the independent Python check of the
# protocol's test vectors.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh

# A CI run builds once from a clean clone: incremental caches would only cost time and
# several GB of disk there.
if [ "${CI:-}" = "true" ]; then export CARGO_INCREMENTAL=0; fi

ensure_rust
ensure_python_venv

# PostgreSQL for the backend's storage conformance suite (FIELDKIT_TEST_DATABASE_URL).
ensure_postgres
start_test_postgres
# S3-compatible object storage (moto) for the attachment tests (FIELDKIT_TEST_S3_URL).
start_test_s3
trap 'stop_test_s3; stop_test_postgres' EXIT

# The sync fault tests run a backend under libfaketime to skew its clock for real.
apt_install faketime
# The operations guide's commands (tests/e2e/operations_guide.rs) use jq, sqlite3 and openssl.
apt_install jq sqlite3 openssl
# The printout tests (kit-core/tests/it/printout.rs) read the PDFs back with poppler's
# pdftotext, pdffonts, pdfinfo and pdfdetach.
apt_install poppler-utils

# The TPM-bound key slot tests start their own swtpm (a software TPM 2.0) on loopback.
# Every other test runs without a TPM, even on a machine with /dev/tpmrm0, so that its
# wrong PINs never count against the machine's real TPM lockout.
apt_install swtpm tpm2-tools
export FIELDKIT_TPM_TCTI=none

# The back office's browser tests: headless Chromium, chromedriver, axe-core.
ensure_browser_tests

# The kit app: WebKitGTK headers, the UI built into ui/dist; Xvfb, WebKitWebDriver and
# tauri-driver for its end-to-end test.
ensure_app_build
ensure_app_tests

step "the app UI: type check and unit tests (vitest)"
(cd ui && npm run --silent lint && npm run --silent test)

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "dependency boundaries"
bash scripts/check-boundaries.sh

step "cargo test (all crates)"
cargo test --workspace --locked

step "the app's TypeScript DTO types are the ones generated from src-tauri"
if [ -n "$(git status --porcelain -- ui/src/bindings)" ]; then
  git status --porcelain -- ui/src/bindings
  echo "ui/src/bindings is stale: run 'cargo test -p fieldkit-app' and commit the result" >&2
  exit 1
fi

step "the README's main command, end to end (backend demo, kit enrol, capture, sync, the app)"
demo_dir=$(mktemp -d /tmp/fieldkit-demo.XXXXXX)
demo_port=$(free_port)
FIELDKIT_DEMO_NO_WAIT=1 FIELDKIT_DEMO_DIR="$demo_dir" FIELDKIT_DEMO_PORT="$demo_port" bash scripts/run.sh > "$demo_dir.log" 2>&1 \
  || { cat "$demo_dir.log"; exit 1; }
grep -q "Kette in Ordnung: 1 Datensatz," "$demo_dir.log" || { cat "$demo_dir.log"; exit 1; }
grep -q "Kit-App lief 10 s ohne Fehler" "$demo_dir.log" || { cat "$demo_dir.log"; exit 1; }
rm -rf "$demo_dir" "$demo_dir.log"

step "schemathesis against the kit API's OpenAPI document: no request may cause a 5xx"
st_dir=$(mktemp -d /tmp/fieldkit-st.XXXXXX)
st_port=$(free_port)
st_ops_port=$(free_port)
target/debug/fieldkit-backend admin --data-dir "$st_dir" demo --backend-url "http://127.0.0.1:$st_port" > /dev/null
target/debug/fieldkit-backend serve --data-dir "$st_dir" --listen "127.0.0.1:$st_port" \
  --ops-listen "127.0.0.1:$st_ops_port" --allow-master-key-in-data-dir > "$st_dir/backend.log" 2>&1 &
st_pid=$!
wait_for_url "http://127.0.0.1:$st_port/healthz"
st_bin="$PWD/$VENV/bin/schemathesis"
# The document comes from the operations listener; the requests go to the public one.
(cd tests/schemathesis && SCHEMATHESIS_HOOKS=hooks "$st_bin" run \
  "http://127.0.0.1:$st_ops_port/api/openapi.json" --url "http://127.0.0.1:$st_port" \
  --checks not_a_server_error --max-examples 50) || { kill "$st_pid"; cat "$st_dir/backend.log"; exit 1; }
kill "$st_pid"; wait "$st_pid" 2>/dev/null || true
rm -rf "$st_dir"

step "the installable packages: build (dev profile), lintian, install, start, remove, SBOMs, signature"
bash tests/packages/test-packages.sh --profile dev

step "the operations guide's sh-package blocks, executed under systemd (Debian container, systemd-nspawn)"
bash tests/packages/test-guide-systemd.sh

step "test vectors, checked independently in Python (PyNaCl, pyhpke)"
"$VENV/bin/python" tests/python/check_vectors.py sync-protocol/test-vectors

step "done: every check passed"
