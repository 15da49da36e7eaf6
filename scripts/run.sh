#!/usr/bin/env bash
# The main job on a fresh Debian/Ubuntu machine: installs what is missing, builds, and
# runs Fieldkit. Today that is the protocol walkthrough (enrol a kit, capture a sealed
# and signed application, deliver it with a receipt, open it as the authority); the
# backend demo and the kit app join this script as their issues land.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh

ensure_rust
step "building and running the protocol walkthrough"
cargo run --quiet --locked -p sync-protocol --example walkthrough
