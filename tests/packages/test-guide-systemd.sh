#!/usr/bin/env bash
# Runs the operations guide's ```sh-package blocks (docs/OPERATIONS.md) for real, against
# the installed packages on a machine where systemd is PID 1 (issue 19: "the operations
# guide's commands are executed by the suite"). tests/e2e/operations_guide.rs runs the
# ```sh blocks against a throwaway installation and only parse-checks these; here they
# run as typed by IT:
#   - a Debian container (debootstrap of the host's release, cached as a tarball under
#     the cargo target folder, keyed by its package list) boots systemd with
#     systemd-nspawn (own network namespace: loopback only; nothing of the host's
#     network, ports or packages is touched);
#   - the blocks come from the Rust test's own Markdown reader (operations_guide.rs
#     writes them with FIELDKIT_GUIDE_PACKAGE_BLOCKS), in document order; the table
#     CONTEXTS below says in which shell each one runs, as the guide says: the root shell
#     (section 0's first block, `sudo -i` by the IT user "it"), the admin shell (section
#     0's second block, `runuser -u fieldkit -- bash`, opened from the root shell), or the
#     clerk's laptop (the user "clara", whose kit is the app's folder; the container is
#     server and laptop at once). The two section-0 blocks are typed in front of every
#     root/admin block, exactly as written: the whole session goes through one stdin, so
#     `sudo -i` and `runuser … bash` read what follows;
#   - between the blocks, the exercise set-up does what the guide's ```sh blocks and
#     daily work would have done by then (a master key, authorities, a catalog, an
#     enrolled kit with records, the backup the restore block names, a kit blocked after
#     the restore, the USB stick carried to the server) and checks the outcome
#     (the kit's queue is blocked before the export and synced after the import);
#   - the guide's placeholder `'…'` (the kit's recovery secret) is the only text replaced;
#   - a block that fails fails the script with its line in docs/OPERATIONS.md.
# The packages are the ones in dist/ (scripts/package.sh; built there when missing, or
# when dist/ predates the app package's /usr/bin/fieldkit). Nothing of the workspace's
# build is copied into the container: the laptop gets the app .deb, installed with apt
# without network (its dependencies, WebKitGTK and GTK included, are installed into the
# cached root file system once, with apt in the chroot: about a minute and 600 MB more
# the first time, some seconds per run after), so every kit command runs the packaged
# /usr/bin/fieldkit; section 7's block takes the same program out of the same .deb for
# the server, as the guide tells IT to (checked to be the app package's byte for byte,
# then deleted at once — the guide deletes it after the probe kit's revocation, which the
# container's sh blocks do not run — so the laptop's blocks use /usr/bin/fieldkit again;
# server and laptop are one container here).
# Needs root (debootstrap, systemd-nspawn). The container is stopped and removed at the
# end, also on failure (trap).
#
# Usage: tests/packages/test-guide-systemd.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/setup.sh

started=$(date +%s)
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "  ok: $*"; }
elapsed() { echo "$(( $(date +%s) - started )) s"; }

[ "$(id -u)" -eq 0 ] || fail "test-guide-systemd.sh boots a container: run it as root"

# In which shell each sh-package block runs, by section number and position in the
# section, with a text the block must contain (a moved or new block fails loudly instead
# of running in the wrong shell). opener-root / opener-admin are section 0's two shells.
# shellcheck disable=SC2016 # the guide's own text, not expanded here
CONTEXTS='
0.1  opener-root   sudo -i
0.2  opener-admin  runuser -u fieldkit -- bash
2.1  root          apt install ./fieldkit-backend_
5.1  root          systemctl enable --now fieldkit-backend
7.1  root          dpkg-deb -x fieldkit_
9.1  root          journalctl
10.1 root          install -d -o fieldkit -g fieldkit -m 0700 "$BACKUP_DIR"
10.2 root          admin restore --from
10.3 kit           purge --days
11.1 root          apt install ./fieldkit-backend_
13.1 kit           export-held --out
13.2 admin         kit import-held
14.1 root          systemctl restart fieldkit-backend
14.2 root          systemctl restart fieldkit-backend
'
# The clerk's passphrase on the exercise laptop (no TPM there: guide section 1).
PIN="Rathaus am Markt"
BACKEND_URL="http://127.0.0.1:8080"

ensure_rust
apt_install systemd-container debootstrap util-linux jq gnupg

TARGET=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
WORK=$(mktemp -d "$TARGET/guide-systemd.XXXXXX")
ROOTFS="$WORK/rootfs"
MACHINE="fk-guide-$$"
NSPAWN_PID=""
cleanup() {
  local rc=$?
  set +e
  if [ -n "$NSPAWN_PID" ] && kill -0 "$NSPAWN_PID" 2>/dev/null; then
    # SIGTERM makes systemd-nspawn shut the container down cleanly.
    kill -TERM "$NSPAWN_PID"
    for _ in $(seq 1 150); do kill -0 "$NSPAWN_PID" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$NSPAWN_PID" 2>/dev/null && kill -KILL "$NSPAWN_PID"
    wait "$NSPAWN_PID" 2>/dev/null
  fi
  [ -d "$WORK/gnupg" ] && GNUPGHOME="$WORK/gnupg" gpgconf --kill all 2>/dev/null
  rm -rf "$WORK"
  rm -rf "/run/systemd/nspawn/propagate/$MACHINE" 2>/dev/null
  [ $rc -eq 0 ] || echo "the operations guide's package blocks FAILED (exit $rc, after $(elapsed))" >&2
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "the packages: the backend's, and the app's with the kit's command line"
# A dist/ from before the app package carried /usr/bin/fieldkit is built again.
app_has_cli() {
  local listing
  listing=$(dpkg-deb -c dist/fieldkit_*_amd64.deb 2>/dev/null) || return 1
  grep -qE ' (\./)?usr/bin/fieldkit$' <<<"$listing"
}
if ! ls dist/fieldkit-backend_*_amd64.deb >/dev/null 2>&1 || [ ! -s dist/SHA256SUMS ] || ! app_has_cli; then
  bash scripts/package.sh --profile dev
fi
BACKEND_DEB=$(cd dist && ls fieldkit-backend_*_amd64.deb)
APP_DEB=$(cd dist && ls fieldkit_*_amd64.deb)
app_has_cli || fail "dist/$APP_DEB holds no /usr/bin/fieldkit"
ok "dist/$BACKEND_DEB, dist/$APP_DEB (with /usr/bin/fieldkit)"

step "the guide's sh-package blocks (tests/e2e/operations_guide.rs writes them)"
BLOCKS="$WORK/blocks"
FIELDKIT_GUIDE_PACKAGE_BLOCKS="$BLOCKS" cargo test --quiet --locked --workspace --test e2e -- \
  --exact operations_guide::the_package_blocks_are_exported_for_the_systemd_run \
  > "$WORK/export.log" 2>&1 || { cat "$WORK/export.log"; fail "exporting the blocks"; }
[ -s "$BLOCKS/index.tsv" ] || fail "no blocks were exported"
# KEYS[i] = section.position, LINES[i] = line in docs/OPERATIONS.md, CTX[i] = shell.
KEYS=() LINES=() CTX=() SECTIONS=()
declare -A seen=() key_of=()
while IFS=$'\t' read -r line section; do
  number=${section%%.*}
  seen[$number]=$(( ${seen[$number]:-0} + 1 ))
  key="$number.${seen[$number]}"
  entry=$(awk -v k="$key" '$1 == k' <<<"$CONTEXTS")
  [ -n "$entry" ] || fail "docs/OPERATIONS.md line $line ($section): a sh-package block this script does not know; say in CONTEXTS (tests/packages/test-guide-systemd.sh) in which shell it runs"
  read -r _ ctx must <<<"$entry"
  grep -qF -- "$must" "$BLOCKS/$line.sh" \
    || fail "docs/OPERATIONS.md line $line ($section): CONTEXTS expects block $key to contain '$must'; it is: $(cat "$BLOCKS/$line.sh")"
  KEYS+=("$key") LINES+=("$line") CTX+=("$ctx") SECTIONS+=("$section")
  key_of[$key]=$line
done < "$BLOCKS/index.tsv"
while read -r key _; do
  [ -z "$key" ] || [ -n "${key_of[$key]:-}" ] || fail "CONTEXTS names block $key, the guide has no such sh-package block"
done <<<"$CONTEXTS"
OPENER_ROOT="$BLOCKS/${key_of[0.1]}.sh"
OPENER_ADMIN="$BLOCKS/${key_of[0.2]}.sh"
ok "${#KEYS[@]} blocks: lines ${LINES[*]}"

step "a Debian root file system with systemd (debootstrap, cached)"
# shellcheck disable=SC1091
release=$(. /etc/os-release && echo "${VERSION_CODENAME:?}")
# shellcheck disable=SC1091
case "$(. /etc/os-release && echo "$ID")" in
  debian) mirror=http://deb.debian.org/debian ;;
  ubuntu) mirror=http://archive.ubuntu.com/ubuntu ;;
  *) fail "the container is built with debootstrap of the host's release: Debian or Ubuntu" ;;
esac
# What the installed server needs besides systemd: the backend package's dependencies (so
# that `apt install ./….deb` has nothing to download: the container has no network),
# sudo, curl and jq (the guide's shells, its /readyz and journal examples).
depends_of() { dpkg-deb -f "$1" Depends | tr ',' '\n' | sed 's/|.*//; s/(.*//; s/ //g' | sed '/^$/d' | sort -u; }
packages="systemd systemd-sysv dbus sudo curl jq ca-certificates"
packages+=" $(depends_of "dist/$BACKEND_DEB" | tr '\n' ' ')"
packages=$(tr ' ' '\n' <<<"$packages" | sed '/^$/d' | sort -u | tr '\n' ',' | sed 's/,$//')
# The laptop's: the app package's dependencies (WebKitGTK, GTK, the TSS libraries; also
# what section 7's `apt install` names for the server), installed with apt in the chroot
# after debootstrap, without Recommends as the laptop installs the app below.
app_packages=$(depends_of "dist/$APP_DEB" | tr '\n' ' ')
key=$(printf '%s %s %s %s' "$release" "$mirror" "$packages" "$app_packages" | sha256sum | cut -c1-16)
CACHE="$TARGET/guide-systemd-cache"
TARBALL="$CACHE/rootfs-$release-$key.tar"
mkdir -p "$CACHE" "$ROOTFS"
if [ ! -s "$TARBALL" ]; then
  echo "  debootstrap $release with: $packages"
  debootstrap --variant=minbase --include="$packages" "$release" "$WORK/debootstrap" "$mirror" \
    > "$WORK/debootstrap.log" 2>&1 || { tail -n 30 "$WORK/debootstrap.log"; fail "debootstrap"; }
  echo "  apt-get install (in the chroot, from $mirror) $app_packages"
  # shellcheck disable=SC2086 # one word per package
  chroot "$WORK/debootstrap" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $app_packages \
    > "$WORK/apt-app.log" 2>&1 || { tail -n 30 "$WORK/apt-app.log"; fail "installing the app package's dependencies"; }
  chroot "$WORK/debootstrap" apt-get clean
  rm -f "$CACHE"/rootfs-*.tar
  tar --numeric-owner -C "$WORK/debootstrap" -cf "$TARBALL.part" .
  mv "$TARBALL.part" "$TARBALL"
  rm -rf "$WORK/debootstrap"
  ok "built and cached $TARBALL ($(elapsed))"
fi
tar --numeric-owner -C "$ROOTFS" -xf "$TARBALL"
ok "$TARBALL unpacked ($(elapsed))"

step "the exercise machine: IT user 'it' (sudo), clerk 'clara' (the kit laptop), packages in root's home"
in_root() { chroot "$ROOTFS" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }
echo "$MACHINE" > "$ROOTFS/etc/hostname"
printf '127.0.0.1 localhost %s\n::1 localhost\n' "$MACHINE" > "$ROOTFS/etc/hosts"
in_root useradd --create-home --shell /bin/bash it
echo 'it ALL=(ALL:ALL) NOPASSWD: ALL' > "$ROOTFS/etc/sudoers.d/it"
chmod 0440 "$ROOTFS/etc/sudoers.d/it"
in_root useradd --create-home --shell /bin/bash clara
# The laptop has no TPM: the kit's clerks use passphrases (guide section 1).
echo 'export FIELDKIT_TPM_TCTI=none' >> "$ROOTFS/home/clara/.profile"
install -d -m 0700 "$ROOTFS/home/clara/.local/share/de.fieldkit.kit"
install -d "$ROOTFS/home/clara/uebung"
python3 - "$ROOTFS/home/clara/uebung" <<'PY'
import json, sys
golden = json.load(open("catalog/tests/golden/anmeldung/valid-family-of-three-moving-together.json"))
json.dump(golden["data"], open(f"{sys.argv[1]}/anmeldung.json", "w"), ensure_ascii=False)
open(f"{sys.argv[1]}/printout.pdf", "wb").write(b"%PDF-1.7\n% signed printout\n")
open(f"{sys.argv[1]}/landlord.pdf", "wb").write(b"%PDF-1.7\n% Wohnungsgeberbestaetigung\n")
PY
in_root chown -R clara:clara /home/clara
# A USB stick, mounted on the laptop for the clerk's user.
install -d "$ROOTFS/media/usb"
in_root chown clara:clara /media/usb
# The downloaded release, where the root shell (`sudo -i`) starts: the two packages,
# SHA256SUMS, its signature SHA256SUMS.asc and the release key fieldkit-release.gpg that
# IT got once over another channel. dist/ carries no signature here (the package test's
# throwaway key is deleted with it), so a throwaway key of this run signs a copy with
# packaging/sign.sh, as a release is signed.
release="$WORK/release"
mkdir -p "$release" -m 700 "$WORK/gnupg"
cp "dist/$BACKEND_DEB" "dist/$APP_DEB" "$release/"
GNUPGHOME="$WORK/gnupg" gpg --batch --quiet --passphrase '' --quick-gen-key \
  "Fieldkit guide test <guide-test@fieldkit.invalid>" ed25519 sign 1d
fpr=$(GNUPGHOME="$WORK/gnupg" gpg --batch --with-colons --list-secret-keys | awk -F: '$1 == "fpr" { print $10; exit }')
GNUPGHOME="$WORK/gnupg" gpg --batch --armor --export-secret-keys "$fpr" > "$WORK/signing-key.asc"
GNUPGHOME="$WORK/gnupg" gpg --batch --export "$fpr" > "$release/fieldkit-release.gpg"
GNUPGHOME="$WORK/gnupg" gpgconf --kill all
FIELDKIT_SIGNING_KEY="$WORK/signing-key.asc" bash packaging/sign.sh "$release" > /dev/null
cp "$release"/* "$ROOTFS/root/"
# The authority's service catalog (FIELDKIT_CATALOG_DIR of section 0).
mkdir -p "$ROOTFS/srv/fieldkit"
cp -r catalog "$ROOTFS/srv/fieldkit/katalog"
# Nothing else may hold apt's lock or the console.
for unit in apt-daily.timer apt-daily-upgrade.timer console-getty.service; do
  ln -sf /dev/null "$ROOTFS/etc/systemd/system/$unit"
done
ok "prepared ($(elapsed))"

step "booting systemd in the container (systemd-nspawn -b, private network)"
systemd-nspawn --quiet --boot --directory="$ROOTFS" --machine="$MACHINE" --register=no \
  --keep-unit --private-network --console=read-only > "$WORK/console.log" 2>&1 &
NSPAWN_PID=$!
LEADER=""
for _ in $(seq 1 150); do
  LEADER=$(pgrep -P "$NSPAWN_PID" | head -n 1 || true)
  [ -n "$LEADER" ] && [ "$(cat "/proc/$LEADER/comm" 2>/dev/null)" = systemd ] && break
  kill -0 "$NSPAWN_PID" 2>/dev/null || { cat "$WORK/console.log"; fail "systemd-nspawn exited"; }
  LEADER=""
  sleep 0.2
done
[ -n "$LEADER" ] || { cat "$WORK/console.log"; fail "no systemd in the container after 30 s"; }
# A command in the container, as root, with the container's environment only.
inside() {
  nsenter --target "$LEADER" --all --root --wd -- \
    /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 TERM=dumb "$@"
}
# Until systemd answers on its socket, then until it has booted.
state=""
for _ in $(seq 1 300); do
  state=$(inside systemctl is-system-running 2>/dev/null || true)
  case "$state" in
    running | degraded | maintenance | stopping | offline) break ;;
  esac
  sleep 0.2
done
case "$state" in
  running) ;;
  degraded) inside systemctl --failed --no-pager >&2 || true ;;
  *) cat "$WORK/console.log"; fail "the container's systemd is '$state'" ;;
esac
[ "$(inside cat /proc/1/comm)" = systemd ] || fail "PID 1 in the container is not systemd"
ok "systemd is PID 1 in the container ($state, $(elapsed))"

step "the clerk's laptop: the app package from dist/, installed with apt, offline"
# No network in the container: apt finds everything in the image or fails.
inside apt-get install -y -qq --no-install-recommends "/root/$APP_DEB" > "$WORK/app-install.log" 2>&1 \
  || { cat "$WORK/app-install.log"; fail "apt-get install $APP_DEB on the laptop"; }
[ "$(inside runuser -l clara -c 'command -v fieldkit')" = /usr/bin/fieldkit ] \
  || fail "the clerk's fieldkit is not the app package's /usr/bin/fieldkit"
inside dpkg -S /usr/bin/fieldkit > /dev/null || fail "/usr/bin/fieldkit belongs to no package"
ok "$APP_DEB installed; the clerk's fieldkit is /usr/bin/fieldkit of package $(inside dpkg -S /usr/bin/fieldkit | cut -d: -f1) ($(elapsed))"

# --- running blocks ------------------------------------------------------------------

# The session typed for block $1 in shell $2 into one stdin: the openers of section 0 as
# written, then the block. Every shell it opens stops at the first failing command.
# shellcheck disable=SC2016 # expanded by the shells in the container
STRICT='set -euo pipefail; trap '\''echo "guide-block: failed: $BASH_COMMAND" >&2'\'' ERR'
session() {
  local body=$1 ctx=$2
  case "$ctx" in
    root) cat "$OPENER_ROOT"; echo "$STRICT" ;;
    admin) cat "$OPENER_ROOT"; echo "$STRICT"; cat "$OPENER_ADMIN"; echo "$STRICT" ;;
    kit) echo "$STRICT" ;;
  esac
  cat "$body"
}

# The user who types it: the IT user (whose `sudo -i` opens the root shell) or the clerk
# (whose login shell IT uses on the laptop).
typist() {
  case "$1" in
    root | admin) echo it ;;
    kit) echo clara ;;
  esac
}

RECOVERY=""
EXECUTED=()
run_block() {
  local i=$1
  local line=${LINES[$i]} ctx=${CTX[$i]} at
  at="docs/OPERATIONS.md line $line (${SECTIONS[$i]}), ${CTX[$i]} shell"
  local body="$WORK/block-$line.sh"
  cp "$BLOCKS/$line.sh" "$body"
  # The guide's placeholder for the kit's recovery secret, and nothing else.
  if grep -qF "'…'" "$body"; then
    [ -n "$RECOVERY" ] || fail "$at: needs the recovery secret, the exercise has no kit yet"
    sed -i "s|'…'|'$RECOVERY'|g" "$body"
  fi
  if grep -qF '…' "$body"; then
    fail "$at: a placeholder '…' the exercise does not fill: $(cat "$body")"
  fi
  session "$body" "$ctx" > "$WORK/session-$line.sh"
  local t0 rc=0
  t0=$(date +%s)
  inside timeout 300 runuser -l "$(typist "$ctx")" < "$WORK/session-$line.sh" > "$WORK/out-$line.log" 2>&1 || rc=$?
  echo
  echo "--- $at, $(( $(date +%s) - t0 )) s, exit $rc"
  sed 's/^/    $ /' "$BLOCKS/$line.sh"
  sed 's/^/    | /' "$WORK/out-$line.log"
  [ "$rc" -eq 0 ] || fail "$at: the block failed (exit $rc)"
  EXECUTED+=("$line")
}

# Set-up steps, as root in the container or as one of its users.
as_root() { inside bash -euo pipefail -c "$1"; }
as_clara() { inside runuser -l clara -c "set -euo pipefail; export FIELDKIT_HOME=~/.local/share/de.fieldkit.kit/kit FIELDKIT_PIN='$PIN'; $1"; }
# An admin command as the admin shell runs it (as fieldkit, the key in the environment).
as_admin() {
  as_root "FIELDKIT_MASTER_KEY=\"\$(cat /etc/fieldkit/master.key)\" runuser -u fieldkit -- env FIELDKIT_CONFIG=/etc/fieldkit/backend.toml fieldkit-backend $1"
}
capture() {
  as_clara "fieldkit record new --service anmeldung --data ~/uebung/anmeldung.json \
    --attach signed-printout=\$HOME/uebung/printout.pdf --attach landlord-confirmation=\$HOME/uebung/landlord.pdf --finalize > /dev/null"
}

# What happened before a block, keyed like CONTEXTS.
before_block() {
  case "$1" in
    5.1)
      step "set-up: the master key (section 3); the exercise's address $BACKEND_URL (section 4)"
      as_root '(umask 077 && set -o noclobber && fieldkit-backend admin generate-master-key > /etc/fieldkit/master.key)'
      # The kit talks plain HTTP on loopback here; its requests are signed over this URL.
      as_root "sed -i 's|^public_base_url = .*|public_base_url = \"$BACKEND_URL\"|' /etc/fieldkit/backend.toml"
      as_root 'grep -q "^public_base_url = \"http://127.0.0.1:8080\"" /etc/fieldkit/backend.toml'
      ;;
    10.2)
      step "set-up: authority, catalog, an enrolled kit with a delivered record; the backup the restore names; later records"
      as_admin 'admin authority add --id gemeinde-musterstadt --name "Gemeinde Musterstadt" --ars 064320001001 --kind gemeinde' > /dev/null
      as_admin 'admin catalog publish /srv/fieldkit/katalog' > /dev/null
      local provisioned code
      provisioned=$(as_admin "admin --json kit provision --authority gemeinde-musterstadt --name 'Bürgerkoffer 3' --backend-url $BACKEND_URL --out /var/lib/fieldkit/koffer-3.json")
      code=$(jq -r .code <<<"$provisioned")
      as_root 'install -o clara -m 0644 /var/lib/fieldkit/koffer-3.json /home/clara/uebung/koffer-3.json'
      RECOVERY=$(as_clara 'fieldkit --json init' | jq -r .recovery_secret)
      if [ -z "$RECOVERY" ] || [ "$RECOVERY" = null ]; then fail "fieldkit init gave no recovery secret"; fi
      as_clara "FIELDKIT_RECOVERY_SECRET='$RECOVERY' FIELDKIT_NEW_PIN=\"\$FIELDKIT_PIN\" fieldkit clerk add --name 'Clara Müller' > /dev/null"
      as_clara "fieldkit enrol --provisioning ~/uebung/koffer-3.json --code '$code' > /dev/null"
      capture
      as_clara 'fieldkit sync > /dev/null'
      ok "kit enrolled, record 1 delivered"
      # Section 10's backup, in the admin shell into the folder block 10.1 made, under
      # the name the restore block uses.
      local from
      from=$(grep -o -- '--from [^ ]*' "$BLOCKS/${key_of[10.2]}.sh" | cut -d' ' -f2)
      as_admin "admin backup --to '$from'" > /dev/null
      ok "backup $from"
      # After the backup: record 2 delivered, then the kit's retention deletes its sealed
      # data (as `fieldkit purge` would after the retention period), record 3 still offline.
      capture
      as_clara 'fieldkit sync > /dev/null'
      as_clara "FIELDKIT_RECOVERY_SECRET='$RECOVERY' fieldkit purge --days 0 > /dev/null"
      capture
      ok "record 2 delivered and purged on the kit, record 3 waiting"
      ;;
    13.1)
      step "set-up: the kit's next sync stops (the restored backend lacks record 2, the kit purged it)"
      local rc=0
      as_clara 'fieldkit sync' > "$WORK/sync-blocked.log" 2>&1 || rc=$?
      [ "$rc" -eq 5 ] || { cat "$WORK/sync-blocked.log"; fail "the kit's sync after the restore exited $rc, expected 5 (blocked)"; }
      ok "the kit's queue is blocked (exit 5): $(tail -n 1 "$WORK/sync-blocked.log")"
      ;;
    13.2)
      step "set-up: the USB stick is carried to the backend server (mounted for the service user)"
      local file
      file=$(grep -o -- '--out [^ ]*' "$BLOCKS/${key_of[13.1]}.sh" | cut -d' ' -f2)
      as_root "chown fieldkit:fieldkit '$file'"
      ;;
    14.1)
      step "check: the kit goes on by itself after the import"
      as_clara 'fieldkit sync' > "$WORK/sync-after.log" 2>&1 || { cat "$WORK/sync-after.log"; fail "the kit's sync after the import"; }
      ok "the kit synced after the import"
      ;;
  esac
}

# What is checked right after a block, keyed like CONTEXTS.
after_block() {
  case "$1" in
    7.1)
      step "check: the server's fieldkit is the app package's, runs as the service user; deleted after the probe"
      as_root 'cmp /usr/local/bin/fieldkit /usr/bin/fieldkit' || fail "/usr/local/bin/fieldkit differs from the app package's program"
      as_root "runuser -u fieldkit -- /usr/local/bin/fieldkit --help > /dev/null" || fail "the server's fieldkit does not run as fieldkit"
      # The probe itself is a ```sh server block (tests/e2e/operations_guide.rs runs it).
      # The guide deletes the copy after the probe kit is revoked (section 12); this
      # container runs no probe, so it goes now, and the laptop's blocks (same
      # container) run the app package's /usr/bin/fieldkit.
      as_root 'rm /usr/local/bin/fieldkit'
      ok "/usr/local/bin/fieldkit = the app package's /usr/bin/fieldkit, runs as fieldkit; deleted"
      ;;
  esac
}

step "running the guide's sh-package blocks in order"
for i in "${!KEYS[@]}"; do
  case "${CTX[$i]}" in
    opener-*) continue ;;
  esac
  before_block "${KEYS[$i]}"
  run_block "$i"
  after_block "${KEYS[$i]}"
done

step "after the last block: the service runs under systemd and the kit syncs"
as_root 'systemctl is-active --quiet fieldkit-backend' || { as_root 'journalctl -u fieldkit-backend -n 50 --no-pager' || true; fail "fieldkit-backend is not active"; }
restarts=$(as_root 'systemctl show -p NRestarts --value fieldkit-backend')
[ "$restarts" = 0 ] || fail "the unit restarted $restarts times by itself"
as_clara 'fieldkit sync > /dev/null' || fail "the kit's last sync"
ok "fieldkit-backend.service active, no restarts by itself; the kit synced"

step "the operations guide's ${#KEYS[@]} sh-package blocks ran (lines ${EXECUTED[*]}; section 0's ${key_of[0.1]} and ${key_of[0.2]} in front of every root/admin block) in $(elapsed)"
