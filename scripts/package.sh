#!/usr/bin/env bash
# Builds the installable packages into dist/ (issue 19), installing what is missing:
#
#   fieldkit-backend_<v>-1_amd64.deb        the backend (cargo-deb, packaging/backend/):
#                                           binary, /etc/fieldkit/backend.toml, system
#                                           user fieldkit, hardened systemd unit
#   fieldkit_<v>_amd64.deb, Fieldkit-<v>-1.x86_64.rpm
#                                           the kit app (Tauri bundler, packaging/app/):
#                                           /usr/bin/fieldkit-app and the kit's command
#                                           line /usr/bin/fieldkit (the operations
#                                           guide's purge, export-held, probe kit)
#   *.cdx.json                              a CycloneDX 1.5 SBOM per package (the app's
#                                           includes the UI's npm dependencies; the .rpm
#                                           holds the same files as the app's .deb)
#   SHA256SUMS, SHA256SUMS.asc              sums, and their OpenPGP signature when
#                                           FIELDKIT_SIGNING_KEY is set (packaging/sign.sh)
#
# Usage: scripts/package.sh [--profile release|dev]
#   release (default): optimized binaries, as shipped.
#   dev: the debug binaries the test suite builds anyway (CI's package tests); not for
#        roll-out.
# The app has no self-updater: IT distributes every version centrally (apt repository,
# opsi, SCCM/Intune, ...), never the app itself from the internet (BSI OPS.1.1.3).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh

usage() {
  sed -n '/^# Usage:/,/^#        roll-out/p' "$0" | sed 's/^# \{0,1\}//'
}

PROFILE=release
while [ $# -gt 0 ]; do
  case "$1" in
    --profile)
      if [ $# -lt 2 ]; then
        echo "package.sh: --profile needs a value: release or dev" >&2
        exit 2
      fi
      PROFILE=$2
      shift 2
      ;;
    --profile=*) PROFILE=${1#--profile=}; shift ;;
    -h | --help) usage; exit 0 ;;
    *)
      echo "package.sh: unknown option '$1'" >&2
      usage >&2
      exit 2
      ;;
  esac
done
case "$PROFILE" in
  release) cargo_profile=(--release); profile_dir=release; tauri_profile=() ;;
  dev) cargo_profile=(); profile_dir=debug; tauri_profile=(--debug) ;;
  *)
    echo "package.sh: unknown profile '$PROFILE': use release or dev" >&2
    exit 2
    ;;
esac

started=$(date +%s)
ensure_rust
ensure_app_build
ensure_package_tools

TARGET=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
DIST="$PWD/dist"
STAGE="$TARGET/package-stage/$PROFILE"
rm -rf "$DIST" "$STAGE"
mkdir -p "$DIST" "$STAGE"

step "building fieldkit-backend, fieldkit-app and the kit's CLI fieldkit ($PROFILE profile)"
# One invocation: kit-core's features are unified across the packages it builds, so the
# CLI gets exactly the kit-core features the app has (today the default, `tpm`) and opens
# the kits the app made, TPM-bound PINs included. A CLI built without `tpm` could not.
cargo build --locked "${cargo_profile[@]}" -p fieldkit-backend -p fieldkit-app -p kit-core --bins

step "the backend's .deb (cargo-deb)"
# cargo-deb warns that the dev profile is meant for tests only; it still strips the binary.
cargo deb --locked -p fieldkit-backend --no-build --profile "$PROFILE" --output "$DIST/" \
  2> >(grep -v -e 'dev profile is not supported' -e 'To enable debug symbols set' >&2)

step "the kit app's .deb and .rpm (Tauri bundler)"
# The bundler packs target/<profile>/fieldkit-app as it finds it and patches it in place;
# it gets a stripped copy in a staging target folder, so the shared build stays untouched.
mkdir -p "$STAGE/target/$profile_dir" "$STAGE/doc" "$STAGE/bin"
cp "$TARGET/$profile_dir/fieldkit-app" "$STAGE/target/$profile_dir/fieldkit-app"
strip --strip-unneeded "$STAGE/target/$profile_dir/fieldkit-app"
# The kit's command line travels in the same package: IT runs it on the kits (purge,
# export-held) and it must open the app's kit folder with the same build of kit-core.
# Stripped like the app; the bundler keeps the file's mode (0755).
install -m 0755 "$TARGET/$profile_dir/fieldkit" "$STAGE/bin/fieldkit"
strip --strip-unneeded "$STAGE/bin/fieldkit"
gzip -9 -n -c packaging/app/changelog > "$STAGE/doc/changelog.gz"
# Merged into src-tauri/tauri.conf.json (JSON merge patch: the files maps are added to).
tauri_config=$(python3 -c 'import json, sys; print(json.dumps({"bundle": {"linux": {
  "deb": {"files": {
    "/usr/bin/fieldkit": sys.argv[2],
    "/usr/share/doc/fieldkit/copyright": "../packaging/app/copyright",
    "/usr/share/doc/fieldkit/changelog.gz": sys.argv[1]}},
  "rpm": {"files": {"/usr/bin/fieldkit": sys.argv[2]}}}}}))' \
  "$STAGE/doc/changelog.gz" "$STAGE/bin/fieldkit")
(cd src-tauri && CARGO_TARGET_DIR="$STAGE/target" ../ui/node_modules/.bin/tauri bundle \
  "${tauri_profile[@]}" --bundles deb,rpm --ci --config "$tauri_config")
version=$(python3 -c 'import json; print(json.load(open("src-tauri/tauri.conf.json"))["version"])')
cp "$STAGE/target/$profile_dir/bundle/deb/Fieldkit_${version}_amd64.deb" "$DIST/fieldkit_${version}_amd64.deb"
cp "$STAGE/target/$profile_dir/bundle/rpm/Fieldkit-${version}-1.x86_64.rpm" "$DIST/"

step "CycloneDX SBOMs (cargo-cyclonedx; npm sbom for the UI)"
# cargo-cyclonedx writes one file into every workspace member's folder; only the two
# packaged crates' files are kept, the others are removed at once.
sbom_name="fieldkit-package-sbom.$$"
cleanup_sboms() { rm -f ./*/"$sbom_name.json"; }
trap cleanup_sboms EXIT
cargo cyclonedx -q --format json --spec-version 1.5 --override-filename "$sbom_name"
mv "backend/$sbom_name.json" "$STAGE/backend.cdx.json"
mv "src-tauri/$sbom_name.json" "$STAGE/app.cdx.json"
cleanup_sboms
# The UI's production dependencies: what ui/dist (inside the binary) is built from.
# finish_sbom.py keeps only those (npm's own --omit dev drops react as well).
(cd ui && npm sbom --sbom-format cyclonedx --sbom-type application) > "$STAGE/ui.cdx.json"
backend_deb=$(cd "$DIST" && ls fieldkit-backend_*.deb)
python3 packaging/sbom/finish_sbom.py --cargo "$STAGE/backend.cdx.json" \
  --package "$backend_deb" --out "$DIST/${backend_deb%.deb}.cdx.json"
python3 packaging/sbom/finish_sbom.py --cargo "$STAGE/app.cdx.json" --npm "$STAGE/ui.cdx.json" \
  --npm-package-json ui/package.json --binary kit-core:fieldkit:src/bin/fieldkit/main.rs \
  --package "fieldkit_${version}_amd64.deb" --out "$DIST/fieldkit_${version}_amd64.cdx.json"

step "SHA256SUMS and its signature"
bash packaging/sign.sh "$DIST"

step "done in $(( $(date +%s) - started )) s ($PROFILE profile): $DIST"
(cd "$DIST" && ls -l)
