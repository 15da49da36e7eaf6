#!/usr/bin/env bash
# The main job on a fresh Debian/Ubuntu machine: installs what is missing, builds, and
# runs Fieldkit — the backend on its embedded database with the demo authorities (two
# municipalities and their county, plus the Bundesamt für Justiz), one user per role,
# and a provisioned demo kit; then a kit is set up, enrolled with the one-time code and
# the provisioning file, and captures a sealed, signed Anmeldung offline.
# Then the kit desktop app opens on that kit, enrolled and ready to capture: unlock as
# Clara Müller with the PIN shown. Closing the app (or Ctrl+C) stops everything.
# Without a display the app runs on a virtual one (Xvfb). FIELDKIT_DEMO_NO_WAIT=1 (CI):
# the app is started, must stay up for 10 s, and everything stops.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh

ensure_rust
PORT="${FIELDKIT_DEMO_PORT:-8080}"
DEMO="${FIELDKIT_DEMO_DIR:-$PWD/demo-data}"
URL="http://127.0.0.1:$PORT"
PIN="${FIELDKIT_DEMO_PIN:-Rathaus am Markt}"

ensure_app_build
step "building fieldkit-backend, fieldkit and the kit app"
cargo build --quiet --locked -p fieldkit-backend -p kit-core -p fieldkit-app --bins
BIN="$PWD/target/debug"

step "fresh demo data in $DEMO"
# Only ever delete a folder this script made (it holds demo.json) or an empty one.
if [ -d "$DEMO" ] && [ -n "$(ls -A "$DEMO")" ] && [ ! -f "$DEMO/demo.json" ]; then
  echo "$DEMO exists and is not a Fieldkit demo folder; choose another FIELDKIT_DEMO_DIR" >&2
  exit 2
fi
rm -rf "$DEMO"
mkdir -p "$DEMO"
"$BIN/fieldkit-backend" admin --data-dir "$DEMO/backend" --json demo --backend-url "$URL" > "$DEMO/demo.json"
read -r CODE PROVISIONING < <(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(d["kit"]["code"], d["kit"]["file"])' "$DEMO/demo.json")
python3 - "$DEMO/demo.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print("Back-office users (passwords are shown only now):")
for u in d["users"]:
    print(f"  {u['login']:<28} {u['role']:<16} {u.get('password') or '(existed)'}")
PY

step "starting the backend on $URL"
"$BIN/fieldkit-backend" serve --data-dir "$DEMO/backend" --listen "127.0.0.1:$PORT" --log-format text \
  --allow-master-key-in-data-dir \
  > "$DEMO/backend.log" 2>&1 &
BACKEND_PID=$!
trap 'kill $BACKEND_PID 2>/dev/null || true; wait $BACKEND_PID 2>/dev/null || true' EXIT
wait_for_url "$URL/healthz" || { cat "$DEMO/backend.log"; exit 1; }

step "setting up the kit (fieldkit --home $DEMO/kit)"
fk() { "$BIN/fieldkit" --home "$DEMO/kit" "$@"; }
RECOVERY=$(fk --json init | python3 -c 'import json, sys; print(json.load(sys.stdin)["recovery_secret"])')
echo "Recovery secret for IT: $RECOVERY"
FIELDKIT_RECOVERY_SECRET="$RECOVERY" FIELDKIT_NEW_PIN="$PIN" fk clerk add --name "Clara Müller"
export FIELDKIT_PIN="$PIN"
fk enrol --provisioning "$PROVISIONING" --code "$CODE"

step "capturing an Anmeldung offline (sealed to the municipality, signed by the kit)"
python3 - "$DEMO" <<'PY'
import json, sys
golden = json.load(open("catalog/tests/golden/anmeldung/valid-family-of-three-moving-together.json"))
json.dump(golden["data"], open(f"{sys.argv[1]}/anmeldung.json", "w"), ensure_ascii=False)
open(f"{sys.argv[1]}/printout.pdf", "wb").write(b"%PDF-1.7\n% signed printout of the captured data\n")
open(f"{sys.argv[1]}/landlord.pdf", "wb").write(b"%PDF-1.7\n% Wohnungsgeberbestaetigung\n")
PY
fk record new --service anmeldung --data "$DEMO/anmeldung.json" \
  --attach "signed-printout=$DEMO/printout.pdf" --attach "landlord-confirmation=$DEMO/landlord.pdf" --finalize
fk verify

step "syncing: the record with a verified receipt, its attachments over resumable uploads"
fk sync
fk status

cat <<MSG

Fieldkit demo is running.
  Backend:  $URL   (data and log in $DEMO/backend, $DEMO/backend.log)
  Kit:      target/debug/fieldkit --home $DEMO/kit …   (passphrase "$PIN" for Clara Müller)
Try:  target/debug/fieldkit --home $DEMO/kit record list
MSG
step "starting the kit app on $DEMO/kit (unlock as Clara Müller, passphrase "$PIN")"
app=("$BIN/fieldkit-app")
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  apt_install xvfb xauth
  echo "No display: the app runs on a virtual one (xvfb-run)."
  app=(xvfb-run -a -s "-screen 0 1280x1024x24" "$BIN/fieldkit-app")
fi
if [ -n "${FIELDKIT_DEMO_NO_WAIT:-}" ]; then
  FIELDKIT_HOME="$DEMO/kit" setsid "${app[@]}" > "$DEMO/app.log" 2>&1 &
  APP_PID=$!
  sleep 10
  if ! kill -0 "$APP_PID" 2>/dev/null; then
    echo "the kit app did not stay up:" >&2
    cat "$DEMO/app.log" >&2
    exit 1
  fi
  kill -TERM -- "-$APP_PID" 2>/dev/null || true
  wait "$APP_PID" 2>/dev/null || true
  echo "Kit-App lief 10 s ohne Fehler."
else
  echo "Close the app window or press Ctrl+C to stop the backend and the app."
  FIELDKIT_HOME="$DEMO/kit" "${app[@]}"
fi
