#!/usr/bin/env bash
# Checks the dependency invariants of ARCHITECTURE.md against the real dependency tree:
# sync-protocol stays pure, and kit-core and the backend never depend on each other.
set -euo pipefail
cd "$(dirname "$0")/.."

fail=0
deps_of() { cargo tree -p "$1" -e normal --prefix none --format '{p}' | awk '{print $1}' | sort -u; }

protocol_deps=$(deps_of sync-protocol)
for forbidden in tokio reqwest rusqlite libsqlite3-sys axum hyper sqlx tauri mio; do
  if grep -qx "$forbidden" <<<"$protocol_deps"; then
    echo "boundary violated: sync-protocol depends on $forbidden (it must do no I/O)"; fail=1
  fi
done
if grep -qx fieldkit-backend <<<"$(deps_of kit-core)"; then
  echo "boundary violated: kit-core depends on fieldkit-backend"; fail=1
fi
if grep -qx kit-core <<<"$(deps_of fieldkit-backend)"; then
  echo "boundary violated: fieldkit-backend depends on kit-core"; fail=1
fi
catalog_deps=$(deps_of fieldkit-catalog)
for forbidden in kit-core fieldkit-backend tokio reqwest rusqlite axum; do
  if grep -qx "$forbidden" <<<"$catalog_deps"; then
    echo "boundary violated: fieldkit-catalog depends on $forbidden"; fail=1
  fi
done
for crate in kit-core fieldkit-backend sync-protocol fieldkit-catalog; do
  if grep -qx tauri <<<"$(deps_of "$crate")"; then
    echo "boundary violated: $crate depends on tauri (only src-tauri may)"; fail=1
  fi
done
if [ "$fail" -ne 0 ]; then exit 1; fi
echo "boundaries: sync-protocol is pure ($(wc -l <<<"$protocol_deps") crates, none doing I/O); kit-core and backend independent"
