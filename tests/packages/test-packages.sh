#!/usr/bin/env bash
# Tests the installable packages the way IT uses them (issue 19): builds them with
# scripts/package.sh (dev profile by default) signed by a throwaway OpenPGP key, then
#   - package.sh refuses wrong options with a clear error;
#   - the signature over SHA256SUMS verifies (gpgv), a tampered SHA256SUMS or artifact
#     fails, and packaging/sign.sh also signs with a key id from a keyring;
#   - both SBOMs validate against the vendored CycloneDX 1.5 schema and list what the
#     packages contain;
#   - lintian finds no errors in either .deb (warnings are listed), the desktop entry is
#     valid, the app package carries both programs stripped (fieldkit-app and the kit's
#     command line fieldkit), its Depends cover every shared library either links, the
#     .rpm holds and requires the same;
#   - the backend .deb installs without a warning (adduser's included); its user, data
#     folder and conffile are as documented; its unit passes `systemd-analyze verify`
#     and rates an exposure of at most 2.0; the packaged binary, started as the unit
#     starts it (ExecStart, User, UMask, Environment, the master-key credential, no
#     capabilities, no_new_privs and the system call filter, all taken from the
#     installed unit), with the packaged configuration changed only as the operations
#     guide says, answers /readyz and /healthz; an admin command works as the guide says; `dpkg -r` and `dpkg --purge`
#     leave the data folder and the master key; installing again over the kept data
#     folder narrows a too wide mode to 0750, keeps a narrower one and leaves the
#     contents alone;
#   - the app .deb installs and its binary, under Xvfb, shows its first screen (the app
#     writes FIELDKIT_READY_FILE then) and stays up; the packaged `fieldkit` answers
#     --help, refuses a wrong argument with a message and a non-zero exit, and makes and
#     reads a kit as an unprivileged user, offline; `dpkg --purge` removes both programs.
# Needs root (dpkg) and a machine without a Fieldkit installation; everything it installs
# is purged and everything it creates is removed again at the end (trap), except tools.
#
# Usage: tests/packages/test-packages.sh [--profile dev|release] [--no-build]
#   --no-build: test the packages already in dist/ (e.g. after a release build).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/setup.sh

PROFILE=dev
BUILD=1
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) PROFILE=${2:?--profile needs dev or release}; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    *) echo "test-packages.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "  ok: $*"; }

if [ "$(id -u)" -ne 0 ]; then
  echo "test-packages.sh installs packages: run it as root" >&2
  exit 1
fi
# Never touch a real installation.
for pkg in fieldkit-backend fieldkit; do
  if grep -q ' installed$\| config-files$' <<<"$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)"; then
    fail "the package $pkg is installed on this machine; the test would replace it"
  fi
done
for path in /var/lib/fieldkit /etc/fieldkit; do
  [ ! -e "$path" ] || fail "$path exists on this machine; the test would use and delete it"
done
getent passwd fieldkit >/dev/null && fail "the user fieldkit exists on this machine"

ensure_rust
ensure_python_venv
ensure_package_tests

T=$(mktemp -d /tmp/fieldkit-pkgtest.XXXXXX)
BACKEND_PID=""
APP_PID=""
CREDS_DIR=""
CLI_HOME=""
cleanup() {
  local rc=$?
  set +e
  [ -n "$BACKEND_PID" ] && kill "$BACKEND_PID" 2>/dev/null && wait "$BACKEND_PID" 2>/dev/null
  [ -n "$APP_PID" ] && kill -TERM -- "-$APP_PID" 2>/dev/null && wait "$APP_PID" 2>/dev/null
  for pkg in fieldkit-backend fieldkit; do
    dpkg-query -W "$pkg" >/dev/null 2>&1 && dpkg --purge "$pkg" >/dev/null 2>&1
  done
  rm -rf /var/lib/fieldkit /etc/fieldkit
  getent passwd fieldkit >/dev/null && deluser --system --quiet fieldkit >/dev/null 2>&1
  getent group fieldkit >/dev/null && delgroup --system --quiet fieldkit >/dev/null 2>&1
  rm -f /etc/systemd/system/fieldkit-backend.service
  [ -n "$CREDS_DIR" ] && rm -rf "$CREDS_DIR"
  [ -n "$CLI_HOME" ] && rm -rf "$CLI_HOME"
  # A signature by the deleted throwaway key means nothing: none is left in dist/.
  [ "$BUILD" -eq 1 ] && rm -f dist/SHA256SUMS.asc
  gpgconf --homedir "$T/gnupg" --kill all >/dev/null 2>&1
  rm -rf "$T"
  [ $rc -eq 0 ] || echo "package tests FAILED (exit $rc)" >&2
}
trap cleanup EXIT

step "package.sh refuses wrong input"
expect_refusal() {
  local want=$1
  shift
  local out rc=0
  out=$(bash scripts/package.sh "$@" 2>&1) || rc=$?
  [ "$rc" -eq 2 ] || fail "package.sh $* exited $rc, expected 2"
  grep -q -- "$want" <<<"$out" || fail "package.sh $*: no message '$want' in: $out"
  ok "package.sh $* -> exit 2, '$want'"
}
expect_refusal "unknown option '--bogus'" --bogus
expect_refusal "unknown profile 'fast'" --profile fast
expect_refusal "needs a value" --profile

step "a throwaway OpenPGP signing key (never stored outside $T)"
export GNUPGHOME="$T/gnupg"
mkdir -m 700 "$GNUPGHOME"
gpg --batch --quiet --passphrase '' --quick-gen-key \
  "Fieldkit package test <package-test@fieldkit.invalid>" ed25519 sign 1d
FPR=$(gpg --batch --with-colons --list-secret-keys | awk -F: '$1 == "fpr" { print $10; exit }')
gpg --batch --armor --export-secret-keys "$FPR" > "$T/signing-key.asc"
gpg --batch --export "$FPR" > "$T/release-key.gpg"
ok "key $FPR"

if [ "$BUILD" -eq 1 ]; then
  step "building the packages (scripts/package.sh --profile $PROFILE, signed with the test key)"
  FIELDKIT_SIGNING_KEY="$T/signing-key.asc" bash scripts/package.sh --profile "$PROFILE"
fi
cd dist
BACKEND_DEB=$(ls fieldkit-backend_*_amd64.deb)
APP_DEB=$(ls fieldkit_*_amd64.deb)
APP_RPM=$(ls Fieldkit-*.x86_64.rpm)
BACKEND_SBOM=${BACKEND_DEB%.deb}.cdx.json
APP_SBOM=${APP_DEB%.deb}.cdx.json
for f in "$BACKEND_DEB" "$APP_DEB" "$APP_RPM" "$BACKEND_SBOM" "$APP_SBOM" SHA256SUMS; do
  [ -s "$f" ] || fail "dist/$f is missing"
done
ls -l
cd ..

step "SHA256SUMS and its signature"
for f in "$BACKEND_DEB" "$APP_DEB" "$APP_RPM" "$BACKEND_SBOM" "$APP_SBOM"; do
  grep -q "  $f\$" dist/SHA256SUMS || fail "SHA256SUMS does not cover $f"
done
(cd dist && sha256sum --quiet -c SHA256SUMS) || fail "sha256sum -c SHA256SUMS"
ok "SHA256SUMS covers every artifact and matches"
if [ "$BUILD" -eq 1 ]; then
  gpgv --keyring "$T/release-key.gpg" dist/SHA256SUMS.asc dist/SHA256SUMS 2>"$T/gpgv.log" \
    || { cat "$T/gpgv.log"; fail "the signature package.sh made does not verify"; }
  ok "dist/SHA256SUMS.asc verifies with the test key (gpgv)"
fi
# The same on a copy, signed by key id from a keyring (the other way sign.sh takes a key).
mkdir "$T/copy"
cp dist/*.deb dist/*.rpm dist/*.cdx.json "$T/copy/"
FIELDKIT_SIGNING_KEY="$FPR" bash packaging/sign.sh "$T/copy" >/dev/null
gpgv --keyring "$T/release-key.gpg" "$T/copy/SHA256SUMS.asc" "$T/copy/SHA256SUMS" 2>/dev/null \
  || fail "a signature by key id does not verify"
ok "packaging/sign.sh signs by key id too"
# One changed hex digit of the first sum.
python3 -c 'import sys; p = sys.argv[1]; s = open(p).read()
open(p, "w").write(("1" if s[0] == "0" else "0") + s[1:])' "$T/copy/SHA256SUMS"
cmp -s "$T/copy/SHA256SUMS" dist/SHA256SUMS && fail "tampering SHA256SUMS did not change it"
if gpgv --keyring "$T/release-key.gpg" "$T/copy/SHA256SUMS.asc" "$T/copy/SHA256SUMS" 2>/dev/null; then
  fail "a tampered SHA256SUMS verified"
fi
ok "a tampered SHA256SUMS fails gpgv"
cp dist/SHA256SUMS "$T/copy/SHA256SUMS"
printf ' ' >> "$T/copy/$APP_SBOM"
if (cd "$T/copy" && sha256sum --quiet -c SHA256SUMS >/dev/null 2>&1); then
  fail "a tampered SBOM passed sha256sum -c"
fi
ok "a tampered artifact fails sha256sum -c"
rm -f "$T/copy/SHA256SUMS.asc"
FIELDKIT_SIGNING_KEY="" bash packaging/sign.sh "$T/copy" 2>"$T/unsigned.log" >/dev/null
[ ! -e "$T/copy/SHA256SUMS.asc" ] && grep -q "NOT SIGNED" "$T/unsigned.log" \
  || fail "without a key sign.sh must write no signature and say so"
ok "without a key: no signature, a loud notice"

step "SBOMs against the CycloneDX 1.5 JSON schema"
"$VENV/bin/python" tests/packages/validate_sbom.py "dist/$BACKEND_SBOM" "dist/$APP_SBOM"
"$VENV/bin/python" - "dist/$BACKEND_SBOM" "dist/$APP_SBOM" "$BACKEND_DEB" "$APP_DEB" <<'PY'
import json, sys
backend, app = (json.load(open(p)) for p in sys.argv[1:3])
def names(bom):
    out, todo = set(), list(bom["components"])
    while todo:
        c = todo.pop()
        out.add(c["name"])
        todo.extend(c.get("components", []))
    return out
def package(bom):
    return {p["value"] for p in bom["metadata"].get("properties", []) if p["name"] == "fieldkit:package"}
checks = [
    (backend["metadata"]["component"]["name"] == "fieldkit-backend", "backend SBOM describes fieldkit-backend"),
    ({"axum", "sqlx", "rustls"} <= names(backend), "backend SBOM lists its crates (axum, sqlx, rustls)"),
    (package(backend) == {sys.argv[3]}, "backend SBOM names its package file"),
    (app["metadata"]["component"]["name"] == "fieldkit-app", "app SBOM describes fieldkit-app"),
    ({"tauri", "kit-core"} <= names(app), "app SBOM lists its crates (tauri, kit-core)"),
    ({"react", "@jsonforms/core"} <= names(app), "app SBOM lists the UI's npm packages"),
    (not {"vite", "vitest", "typescript"} & names(app), "app SBOM leaves out the UI's build tools"),
    (package(app) == {sys.argv[4]}, "app SBOM names its package file"),
    ({"fieldkit-app", "fieldkit"} <= {c["name"] for c in app["metadata"]["component"].get("components", [])
                                       if c["type"] == "application"},
     "app SBOM lists both programs of the package (fieldkit-app, the kit's CLI fieldkit)"),
]
for good, what in checks:
    if not good:
        sys.exit(f"FAIL: {what}")
    print(f"  ok: {what}")
PY

step "lintian (no errors; warnings listed)"
for deb in "$BACKEND_DEB" "$APP_DEB"; do
  lintian_rc=0
  lintian --fail-on error "dist/$deb" > "$T/lintian.log" 2>&1 || lintian_rc=$?
  grep -v '^running with root privileges' "$T/lintian.log" | sed 's/^/    /' || true
  [ "$lintian_rc" -eq 0 ] || fail "lintian reports errors in $deb"
  ok "lintian: no errors in $deb"
done

step "the app package's desktop entry, dependencies and .rpm"
mkdir -p "$T/app-deb"
dpkg-deb -x "dist/$APP_DEB" "$T/app-deb"
desktop=$(ls "$T"/app-deb/usr/share/applications/*.desktop)
desktop-file-validate "$desktop" || fail "desktop-file-validate $desktop"
grep -q '^Categories=Office;' "$desktop" || fail "the desktop entry is not in category Office"
grep -q '^Comment\[de\]=' "$desktop" && grep -q '^Comment=' "$desktop" \
  || fail "the desktop entry lacks the German or English comment"
icon=$(sed -n 's/^Icon=//p' "$desktop")
ls "$T"/app-deb/usr/share/icons/hicolor/*/apps/"$icon".png >/dev/null || fail "no icon $icon"
ok "desktop entry valid (Office, de/en), icon $icon"
# The two programs of the app package: executable, and stripped copies (no symbol table).
APP_BINARIES=(/usr/bin/fieldkit-app /usr/bin/fieldkit)
for bin in "${APP_BINARIES[@]}"; do
  [ -x "$T/app-deb$bin" ] || fail "the app .deb lacks $bin"
  [ "$(stat -c '%a' "$T/app-deb$bin")" = 755 ] || fail "$bin has mode $(stat -c '%a' "$T/app-deb$bin")"
  sections=$(readelf -S "$T/app-deb$bin")
  grep -q '\.symtab' <<<"$sections" && fail "$bin in the app .deb is not stripped"
done
ok "the app .deb holds ${APP_BINARIES[*]}, 0755, stripped"
# Every library either program links must come from a package the .deb depends on.
mkdir -p "$T/shlibs/debian"
printf 'Source: fieldkit\n\nPackage: fieldkit\nArchitecture: any\n' > "$T/shlibs/debian/control"
depends=$(dpkg-deb -f "dist/$APP_DEB" Depends | tr ',' '\n' | sed 's/^ *//; s/ .*//' | sort -u)
for bin in "${APP_BINARIES[@]}"; do
  needed=$(cd "$T/shlibs" && dpkg-shlibdeps -O "$T/app-deb$bin" 2>/dev/null \
    | sed 's/^shlibs:Depends=//' | tr ',' '\n' | sed 's/^ *//; s/ .*//' | sort -u)
  [ -n "$needed" ] || fail "dpkg-shlibdeps found no libraries for $bin"
  missing_deps=$(comm -23 <(echo "$needed") <(echo "$depends"))
  [ -z "$missing_deps" ] || fail "the app .deb does not depend on what $bin links: $missing_deps"
  # ... in at least the version the program needs: a lower bound below it lets the
  # package install where the program then fails to start (missing symbol versions).
  compared=0
  while read -r pkg minimum; do
    declared=$(dpkg-deb -f "dist/$APP_DEB" Depends | tr ',' '\n' \
      | awk -v p="$pkg" '$1 == p && $2 == "(>=" { sub(/\)$/, "", $3); print $3; exit }')
    [ -n "$declared" ] || fail "the app .deb depends on $pkg without the version $bin needs (>= $minimum)"
    dpkg --compare-versions "$declared" ge "$minimum" \
      || fail "the app .deb depends on $pkg (>= $declared); $bin needs >= $minimum"
    compared=$((compared + 1))
  done < <(cd "$T/shlibs" && dpkg-shlibdeps -O "$T/app-deb$bin" 2>/dev/null \
    | sed 's/^shlibs:Depends=//' | tr ',' '\n' | sed -n 's/^ *\([^ ]*\) (>= \([^)]*\)).*/\1 \2/p')
  [ "$compared" -gt 0 ] || fail "dpkg-shlibdeps named no versioned library for $bin: nothing compared"
  ok "Depends covers every library $bin links, in the versions it needs ($(echo "$needed" | wc -l) packages)"
done
# Listed first, then searched: `grep -q` stops reading at the first match, and under
# pipefail the writer's SIGPIPE would fail the pipeline.
# (-v: the mode of each file, to see that the programs are executable there too.)
rpm_files=$(rpm -qplv "dist/$APP_RPM" 2>/dev/null)
rpm_requires=$(rpm -qp --requires "dist/$APP_RPM" 2>/dev/null)
for bin in "${APP_BINARIES[@]}"; do
  grep -qE "^-rwxr-xr-x .* $bin\$" <<<"$rpm_files" || fail "the .rpm lacks $bin (0755)"
  # Every library it links is required (RPM's soname form), like the .deb's Depends.
  rpm_missing=$(readelf -d "$T/app-deb$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' \
    | grep -v '^ld-linux' | while read -r so; do
        grep -qxF "$so()(64bit)" <<<"$rpm_requires" || echo "$so"
      done)
  [ -z "$rpm_missing" ] || fail "the .rpm does not require what $bin links: $rpm_missing"
done
ok "the .rpm holds ${APP_BINARIES[*]} (0755) and requires every library they link"

step "the backend package installs"
if ! dpkg -i "dist/$BACKEND_DEB" > "$T/dpkg.log" 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -f -y -qq >> "$T/dpkg.log" 2>&1 \
    || { cat "$T/dpkg.log"; fail "dpkg -i $BACKEND_DEB"; }
fi
grep -q "there is no master key yet" "$T/dpkg.log" || fail "postinst did not tell IT to create the master key"
# adduser warns on stderr (e.g. about a home folder it cannot access), and dpkg shows it;
# an installation IT watches must print no warning at all.
grep -i 'warn' "$T/dpkg.log" && { cat "$T/dpkg.log"; fail "installing the backend printed a warning"; }
IFS=: read -r _ _ uid _ _ _ shell < <(getent passwd fieldkit) || fail "no user fieldkit"
[ "$uid" -lt 1000 ] && [ "$shell" = /usr/sbin/nologin ] || fail "fieldkit is no system user ($uid, $shell)"
[ "$(stat -c '%U:%G %a' /var/lib/fieldkit)" = "fieldkit:fieldkit 750" ] \
  || fail "/var/lib/fieldkit is $(stat -c '%U:%G %a' /var/lib/fieldkit)"
[ "$(stat -c '%U:%G %a' /etc/fieldkit/backend.toml)" = "root:fieldkit 640" ] \
  || fail "/etc/fieldkit/backend.toml is $(stat -c '%U:%G %a' /etc/fieldkit/backend.toml)"
grep -q '/etc/fieldkit/backend.toml' <<<"$(dpkg-query -W -f='${Conffiles}' fieldkit-backend)" \
  || fail "/etc/fieldkit/backend.toml is no conffile"
[ ! -e /etc/fieldkit/master.key ] && [ -z "$(ls -A /var/lib/fieldkit)" ] \
  || fail "the package generated a secret or data"
ok "user fieldkit (uid $uid, $shell), /var/lib/fieldkit fieldkit 0750 and empty, conffile root:fieldkit 0640, no key generated"
# Every key of the source's example configuration is documented in the packaged one.
"$VENV/bin/python" - backend/fieldkit-backend.example.toml /etc/fieldkit/backend.toml <<'PY'
import re, sys
keys = lambda p: set(re.findall(r"^#? ?([a-z_]+) =", open(p).read(), re.M))
missing = keys(sys.argv[1]) - keys(sys.argv[2])
if missing:
    sys.exit(f"FAIL: the packaged configuration does not mention {sorted(missing)}")
print("  ok: the packaged configuration mentions every key of the example configuration")
PY

UNIT=/usr/lib/systemd/system/fieldkit-backend.service
[ -f "$UNIT" ] || fail "no $UNIT"
step "the unit: systemd-analyze verify and security"
systemd-analyze verify "$UNIT" > "$T/verify.log" 2>&1 || { cat "$T/verify.log"; fail "systemd-analyze verify"; }
grep -q . "$T/verify.log" && { cat "$T/verify.log"; fail "systemd-analyze verify printed warnings"; }
ok "systemd-analyze verify: clean"
systemd-analyze security --offline=yes "$UNIT" > "$T/security.log" 2>&1 || true
exposure=$(sed -n 's/.*Overall exposure level for fieldkit-backend.service: \([0-9.]*\).*/\1/p' "$T/security.log")
[ -n "$exposure" ] || { cat "$T/security.log"; fail "no exposure level"; }
grep '✗' "$T/security.log" | sed 's/^/    /' || true
awk -v e="$exposure" 'BEGIN { exit !(e <= 2.0) }' || fail "exposure $exposure > 2.0"
ok "exposure $exposure (at most 2.0)"
grep -q '^LoadCredential=master-key:/etc/fieldkit/master.key$' "$UNIT" || fail "no master-key credential"
grep -qi 'FIELDKIT_MASTER_KEY=' "$UNIT" && fail "the unit carries a master key"
ok "the master key comes from a credential, not from the unit"

step "configuring as the operations guide says: master key, ports"
(umask 077; fieldkit-backend admin generate-master-key > /etc/fieldkit/master.key)
[ "$(stat -c '%U:%G %a' /etc/fieldkit/master.key)" = "root:root 600" ] || fail "master.key mode"
PORT=$(free_port)
OPS_PORT=$(free_port)
sed -i -e "s|^listen = .*|listen = \"127.0.0.1:$PORT\"|" \
  -e "s|^ops_listen = .*|ops_listen = \"127.0.0.1:$OPS_PORT\"|" /etc/fieldkit/backend.toml
grep -q "^listen = \"127.0.0.1:$PORT\"" /etc/fieldkit/backend.toml || fail "listen not set"
ok "listen 127.0.0.1:$PORT, ops_listen 127.0.0.1:$OPS_PORT"

step "starting the packaged binary as the unit would (systemd is not PID 1 here)"
# From the installed unit: ExecStart, User, Group, UMask, Environment, LoadCredential.
unit_value() { sed -n "s/^$1=//p" "$UNIT"; }
read -r -a exec_start <<<"$(unit_value ExecStart)"
user=$(unit_value User)
group=$(unit_value Group)
umask_value=$(unit_value UMask)
[ "${exec_start[0]}" = /usr/bin/fieldkit-backend ] || fail "ExecStart is ${exec_start[*]}"
# LoadCredential=ID:PATH: systemd copies PATH (read as root) into a private folder the
# service user can read, and %d names that folder.
# (Outside $T, which only root may enter.)
creds=$(mktemp -d /tmp/fieldkit-credentials.XXXXXX)
CREDS_DIR=$creds
chown "$user:$group" "$creds"
chmod 0500 "$creds"
while IFS= read -r spec; do
  install -m 0400 -o "$user" -g "$group" "${spec#*:}" "$creds/${spec%%:*}"
done < <(unit_value LoadCredential)
service_env=(PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 "CREDENTIALS_DIRECTORY=$creds")
while IFS= read -r assignment; do
  service_env+=("${assignment//%d/$creds}")
done < <(unit_value Environment)
# Privileges as NoNewPrivileges=, CapabilityBoundingSet= and User= set them, and the
# unit's SystemCallFilter= (seccomp_exec.py; the script is passed inline because the
# service user cannot read the checkout).
seccomp_exec=$(cat tests/packages/seccomp_exec.py)
(cd / && env -i "${service_env[@]}" setpriv --reuid="$user" --regid="$group" --init-groups \
  --no-new-privs --bounding-set=-all --inh-caps=-all -- \
  /usr/bin/python3 -c "$seccomp_exec" "$UNIT" \
  bash -c 'umask "$1"; shift; exec "$@"' _ "$umask_value" "${exec_start[@]}") \
  > "$T/backend.log" 2>&1 &
BACKEND_PID=$!
wait_for_url "http://127.0.0.1:$OPS_PORT/readyz" || { cat "$T/backend.log"; fail "no /readyz"; }
ok "/readyz answers on the operations listener"
grep -q 'system calls allowed' "$T/backend.log" || fail "the system call filter was not applied"
wait_for_url "http://127.0.0.1:$PORT/healthz" || { cat "$T/backend.log"; fail "no /healthz"; }
ok "/healthz answers on the public listener (under the unit's system call filter)"
db=/var/lib/fieldkit/fieldkit.sqlite3
[ "$(stat -c '%U %a' "$db")" = "fieldkit 600" ] || fail "$db is $(stat -c '%U %a' "$db")"
[ ! -e /var/lib/fieldkit/master.key ] || fail "a master key appeared in the data folder"
ok "fresh data folder: $db owned by fieldkit, mode 0600; no key in it"
kill -TERM "$BACKEND_PID"
backend_rc=0
wait "$BACKEND_PID" || backend_rc=$?
BACKEND_PID=""
[ "$backend_rc" -eq 0 ] || { cat "$T/backend.log"; fail "the backend exited $backend_rc on SIGTERM"; }
# SQLite's last connection removes the write-ahead log when it closes: one left behind is
# a connection still open when the process ended.
[ ! -e "$db-wal" ] || fail "the backend ended with its database open ($db-wal left)"
ok "stops cleanly on SIGTERM, its database closed"
# IT's admin commands run as the service user (files in the data folder stay its own);
# the root-only key file reaches them through the environment.
FIELDKIT_MASTER_KEY="$(cat /etc/fieldkit/master.key)" runuser -u fieldkit -- \
  fieldkit-backend --config /etc/fieldkit/backend.toml admin authority list > "$T/admin.log" 2>&1 \
  || { cat "$T/admin.log"; fail "admin authority list as fieldkit"; }
[ ! -e "$db-wal" ] || fail "admin authority list ended with the database open ($db-wal left)"
[ -z "$(find /var/lib/fieldkit ! -user fieldkit)" ] || fail "files in the data folder not owned by fieldkit"
ok "admin commands work as the guide says (runuser -u fieldkit, key in FIELDKIT_MASTER_KEY)"

step "removal keeps the data folder"
dpkg -r fieldkit-backend > "$T/dpkg-r.log" 2>&1 || { cat "$T/dpkg-r.log"; fail "dpkg -r"; }
[ ! -e /usr/bin/fieldkit-backend ] || fail "dpkg -r left the binary"
[ -f "$db" ] || fail "dpkg -r removed the data folder"
ok "dpkg -r: binary gone, $db kept"
dpkg --purge fieldkit-backend > "$T/dpkg-purge.log" 2>&1 || { cat "$T/dpkg-purge.log"; fail "dpkg --purge"; }
[ -f "$db" ] || fail "dpkg --purge removed the data folder"
[ ! -e /etc/fieldkit/backend.toml ] || fail "dpkg --purge left the configuration"
[ -f /etc/fieldkit/master.key ] || fail "dpkg --purge removed the master key"
dpkg-statoverride --list /etc/fieldkit/backend.toml >/dev/null 2>&1 && fail "purge left the stat override"
getent passwd fieldkit >/dev/null || fail "purge removed the user (files still belong to it)"
ok "dpkg --purge: configuration and stat override gone; data folder, master key, user kept"

step "installing again over the kept data folder"
# As after an earlier installation: the user and the data folder exist. A wider mode
# (here 0755, as a hand-made folder has) is narrowed to 0750; a narrower one IT chose is
# kept; the contents are never touched.
contents() {
  (cd /var/lib/fieldkit && find . -mindepth 1 -printf '%p %U:%G %m %s\n' | sort \
    && find . -type f -exec sha256sum {} + | sort)
}
before=$(contents)
chmod 0755 /var/lib/fieldkit
dpkg -i "dist/$BACKEND_DEB" > "$T/dpkg-again.log" 2>&1 || { cat "$T/dpkg-again.log"; fail "dpkg -i over the kept data folder"; }
grep -i 'warn' "$T/dpkg-again.log" && { cat "$T/dpkg-again.log"; fail "installing again printed a warning"; }
[ "$(stat -c '%U:%G %a' /var/lib/fieldkit)" = "fieldkit:fieldkit 750" ] \
  || fail "after installing again /var/lib/fieldkit is $(stat -c '%U:%G %a' /var/lib/fieldkit)"
[ "$(contents)" = "$before" ] || fail "installing again changed the data folder's contents"
ok "a 0755 data folder is narrowed to fieldkit:fieldkit 0750, its contents unchanged, no warning"
chmod 0700 /var/lib/fieldkit
dpkg -i "dist/$BACKEND_DEB" > "$T/dpkg-again.log" 2>&1 || { cat "$T/dpkg-again.log"; fail "dpkg -i again"; }
[ "$(stat -c '%U:%G %a' /var/lib/fieldkit)" = "fieldkit:fieldkit 700" ] \
  || fail "postinst widened a 0700 data folder to $(stat -c '%a' /var/lib/fieldkit)"
[ "$(contents)" = "$before" ] || fail "postinst changed the data folder's contents"
ok "a 0700 data folder stays 0700, its contents unchanged"
dpkg --purge fieldkit-backend > "$T/dpkg-purge.log" 2>&1 || { cat "$T/dpkg-purge.log"; fail "dpkg --purge"; }
[ -f "$db" ] || fail "dpkg --purge removed the data folder"

step "the app package installs and its binary shows the first screen under Xvfb"
if ! dpkg -i "dist/$APP_DEB" > "$T/dpkg-app.log" 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -f -y -qq >> "$T/dpkg-app.log" 2>&1 \
    || { cat "$T/dpkg-app.log"; fail "dpkg -i $APP_DEB"; }
fi
[ -x /usr/bin/fieldkit-app ] || fail "no /usr/bin/fieldkit-app"
[ -x /usr/bin/fieldkit ] || fail "no /usr/bin/fieldkit"
FIELDKIT_HOME="$T/kit" FIELDKIT_READY_FILE="$T/app-ready" \
  setsid xvfb-run -a -s "-screen 0 1280x1024x24" /usr/bin/fieldkit-app > "$T/app.log" 2>&1 &
APP_PID=$!
for _ in $(seq 1 150); do
  [ -f "$T/app-ready" ] && break
  kill -0 "$APP_PID" 2>/dev/null || { cat "$T/app.log"; fail "the app exited before its first screen"; }
  sleep 0.2
done
[ -f "$T/app-ready" ] || { cat "$T/app.log"; fail "the app showed no first screen within 30 s"; }
ok "first screen up (the UI called ui_ready)"
sleep 5
kill -0 "$APP_PID" 2>/dev/null || { cat "$T/app.log"; fail "the app did not stay up"; }
grep -qi 'panick' "$T/app.log" && { cat "$T/app.log"; fail "the app panicked"; }
ok "still running 5 s later"
kill -TERM -- "-$APP_PID" 2>/dev/null || true
wait "$APP_PID" 2>/dev/null || true
APP_PID=""

step "the app package's command line: /usr/bin/fieldkit, as an unprivileged user, offline"
# The kit's CLI as IT uses it on a kit (operations guide, sections 7, 10 and 13): a user
# without privileges, the kit in FIELDKIT_HOME, no TPM (FIELDKIT_TPM_TCTI=none) and no
# backend - init and status need neither.
cli_user=nobody
# (Outside $T, which only root may enter.)
cli_home=$(mktemp -d /tmp/fieldkit-cli.XXXXXX)
CLI_HOME=$cli_home
chown "$cli_user" "$cli_home"
as_cli_user() {
  (cd / && runuser -u "$cli_user" -- env -i PATH=/usr/bin:/bin LANG=C.UTF-8 \
    FIELDKIT_HOME="$cli_home/kit" FIELDKIT_TPM_TCTI=none "$@")
}
[ "$(command -v fieldkit)" = /usr/bin/fieldkit ] || fail "fieldkit on PATH is $(command -v fieldkit)"
as_cli_user fieldkit --help > "$T/cli-help.log" 2>&1 || { cat "$T/cli-help.log"; fail "fieldkit --help"; }
for cmd in init status purge export-held enrol sync; do
  grep -qE "^  $cmd( |\$)" "$T/cli-help.log" || { cat "$T/cli-help.log"; fail "fieldkit --help lists no '$cmd'"; }
done
ok "fieldkit --help lists init, status, purge, export-held, enrol, sync"
cli_rc=0
as_cli_user fieldkit --no-such-option > "$T/cli-wrong.log" 2>&1 || cli_rc=$?
if [ "$cli_rc" -eq 0 ] || ! grep -q -- "--no-such-option" "$T/cli-wrong.log"; then
  cat "$T/cli-wrong.log"; fail "a wrong argument: exit $cli_rc, expected non-zero with a message naming it"
fi
ok "a wrong argument: exit $cli_rc, '$(head -n 1 "$T/cli-wrong.log")'"
as_cli_user fieldkit --json init > "$T/cli-init.json" 2> "$T/cli-init.log" \
  || { cat "$T/cli-init.log"; fail "fieldkit --json init as $cli_user"; }
secret=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["recovery_secret"])' "$T/cli-init.json") \
  || { cat "$T/cli-init.json"; fail "fieldkit --json init gave no recovery secret"; }
[ -n "$secret" ] || fail "fieldkit --json init gave an empty recovery secret"
[ -z "$(find "$cli_home/kit" ! -user "$cli_user")" ] || fail "the kit has files not owned by $cli_user"
ok "fieldkit --json init as $cli_user: a recovery secret, the kit in FIELDKIT_HOME owned by $cli_user"
# A kit without clerks opens with the recovery secret, in FIELDKIT_RECOVERY_SECRET as
# the guide passes it.
as_cli_user FIELDKIT_RECOVERY_SECRET="$secret" fieldkit --json status > "$T/cli-status.json" 2> "$T/cli-status.log" \
  || { cat "$T/cli-status.log"; fail "fieldkit --json status"; }
python3 - "$T/cli-status.json" <<'PY' || fail "fieldkit status does not describe a new kit"
import json, sys
status = json.load(open(sys.argv[1]))
if status.get("kit_id") is not None or status.get("drafts") != 0 or status.get("last_sync") is not None:
    sys.exit(f"FAIL: unexpected status of a new kit: {status}")
PY
ok "fieldkit --json status on that kit: not enrolled, no records, never synced"

dpkg --purge fieldkit > /dev/null 2>&1 || fail "dpkg --purge fieldkit"
[ ! -e /usr/bin/fieldkit-app ] || fail "purge left /usr/bin/fieldkit-app"
[ ! -e /usr/bin/fieldkit ] || fail "purge left /usr/bin/fieldkit"
ok "installed, started, used, purged (both programs gone)"

step "package tests: every check passed"
