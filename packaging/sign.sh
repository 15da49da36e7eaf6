#!/usr/bin/env bash
# Writes DIR/SHA256SUMS over the packages and SBOMs in DIR and, with a key IT provides,
# the detached OpenPGP signature DIR/SHA256SUMS.asc over it (called by scripts/package.sh
# as its last step; tests/packages/test-packages.sh calls it with a throwaway key).
#
#   FIELDKIT_SIGNING_KEY                 either the path of an exported OpenPGP secret key
#                                        (imported into a temporary keyring that is
#                                        deleted afterwards), or a key id / fingerprint
#                                        in the caller's gpg keyring (GNUPGHOME; a smart
#                                        card or gpg-agent works the same way)
#   FIELDKIT_SIGNING_PASSPHRASE_FILE     optional: file with the key's passphrase
#
# Without FIELDKIT_SIGNING_KEY nothing is signed and a loud notice says so.
# Verify:  gpgv --keyring ./fieldkit-release.gpg SHA256SUMS.asc SHA256SUMS
#          sha256sum -c SHA256SUMS
set -euo pipefail

dir=${1:?usage: sign.sh DIST_DIR}
cd "$dir"
shopt -s nullglob
files=(*.deb *.rpm *.cdx.json)
if [ ${#files[@]} -eq 0 ]; then
  echo "sign.sh: no packages or SBOMs in $dir" >&2
  exit 1
fi
rm -f SHA256SUMS SHA256SUMS.asc
sha256sum -- "${files[@]}" > SHA256SUMS

key=${FIELDKIT_SIGNING_KEY:-}
if [ -z "$key" ]; then
  cat >&2 <<'MSG'

  ###########################################################################
  #  NOT SIGNED: FIELDKIT_SIGNING_KEY is not set, so there is no            #
  #  SHA256SUMS.asc. Do not hand these packages to IT for roll-out without  #
  #  a signature (BSI OPS.1.1.3: integrity and authenticity of packages).   #
  ###########################################################################

MSG
  exit 0
fi

gpg_args=(--batch --yes --armor --detach-sign)
if [ -n "${FIELDKIT_SIGNING_PASSPHRASE_FILE:-}" ]; then
  gpg_args+=(--pinentry-mode loopback --passphrase-file "$FIELDKIT_SIGNING_PASSPHRASE_FILE")
fi

if [ -f "$key" ]; then
  # A key file: import it into a throwaway keyring, sign, and delete the keyring.
  tmp_home=$(mktemp -d /tmp/fieldkit-sign.XXXXXX)
  trap 'gpgconf --homedir "$tmp_home" --kill all >/dev/null 2>&1 || true; rm -rf "$tmp_home"' EXIT
  chmod 700 "$tmp_home"
  gpg --homedir "$tmp_home" --batch --quiet --import "$key"
  fpr=$(gpg --homedir "$tmp_home" --batch --with-colons --list-secret-keys \
    | awk -F: '$1 == "fpr" { print $10; exit }')
  if [ -z "$fpr" ]; then
    echo "sign.sh: $key holds no OpenPGP secret key" >&2
    exit 1
  fi
  gpg --homedir "$tmp_home" "${gpg_args[@]}" --local-user "$fpr" -o SHA256SUMS.asc SHA256SUMS
else
  fpr=$key
  gpg "${gpg_args[@]}" --local-user "$key" -o SHA256SUMS.asc SHA256SUMS
fi
echo "signed SHA256SUMS with OpenPGP key $fpr -> $dir/SHA256SUMS.asc"
