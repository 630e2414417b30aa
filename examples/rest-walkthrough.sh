#!/usr/bin/env bash
# The REST API with curl, from a newcomer's first login to a shipped device:
#
#   examples/rest-walkthrough.sh
#
# It starts `rehome serve` on a fresh SQLite store in a temporary directory (on a free loopback
# port) with a superuser `admin`, then walks through:
#   1. the admin logs in and creates a "volunteer" role;
#   2. a newcomer registers, logs in for the first time and can do nothing yet;
#   3. the admin gives the newcomer the role; the newcomer turns on two-step login (TOTP
#      codes computed here with python3) and logs in again with a code;
#   4. the newcomer takes a donated laptop in, scans it, wipes it and ships it;
#   5. the admin reads the device's story in the audit log; the newcomer logs out.
# Every call checks its HTTP status; the script exits non-zero at the first surprise.
#
# Needs curl, jq, python3 and cargo (to build the `rehome` binary; REHOME_BIN names a built
# one instead).
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in curl jq python3; do
    command -v "$tool" >/dev/null || {
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$tool" >/dev/null
    }
done

# ---------------------------------------------------------------- a server of our own
SERVER_LABEL="walkthrough"
source scripts/lib/server.sh
server_binary
REHOME_BIN="$BIN"
server_scratch
ADMIN_PASSWORD='Walkthrough-Operator-2024'
REHOME_PASSWORD="$ADMIN_PASSWORD" "$REHOME_BIN" createsuperuser \
    --username admin --email admin@example.org >/dev/null || fail "createsuperuser"
server_start
echo "server at $BASE"

# ---------------------------------------------------------------- helpers
# call EXPECTED_STATUS METHOD PATH [JSON_BODY] [extra curl args...]: the response body goes
# to stdout; any other status fails the walkthrough. $AS is the bearer token (empty: none).
AS=""
call() {
    local expected="$1" method="$2" path="$3" body="${4:-}"
    shift 4 || shift $#
    local args=(-s -o "$tmp/body" -w '%{http_code}' -X "$method" "$BASE$path")
    [[ -n "$AS" ]] && args+=(-H "Authorization: Bearer $AS")
    [[ -n "$body" ]] && args+=(-H 'Content-Type: application/json' -d "$body")
    local status
    status="$(curl "${args[@]}" "$@")"
    echo "   $method $path -> $status" >&2
    [[ "$status" == "$expected" ]] || fail "$method $path answered $status, not $expected: $(cat "$tmp/body")"
    cat "$tmp/body"
}
step() { echo; echo "== $*"; }

# RFC 6238 (SHA-1, 6 digits, 30 s) into $CODE, each code from a later time step than the last:
# the server refuses a step already used, and accepts the previous, current and next. (Not
# called in $(...): the subshell would forget LAST_STEP.)
LAST_STEP=""
totp() {
    local secret="$1" now step
    now=$(( $(date +%s) / 30 ))
    step=$(( now - 1 ))
    [[ -n "$LAST_STEP" ]] && (( LAST_STEP + 1 > step )) && step=$(( LAST_STEP + 1 ))
    LAST_STEP=$step
    CODE=$(python3 - "$secret" "$step" <<'PY'
import base64, hashlib, hmac, struct, sys
secret, step = sys.argv[1], int(sys.argv[2])
key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
h = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
o = h[-1] & 15
print("%06d" % ((struct.unpack(">I", h[o:o + 4])[0] & 0x7FFFFFFF) % 1000000))
PY
)
}

# ---------------------------------------------------------------- 1. the admin sets up a role
step "1. the admin logs in and creates a volunteer role"
ADMIN=$(call 200 POST /authen/login/ "{\"username\":\"admin\",\"password\":\"$ADMIN_PASSWORD\"}" \
    | jq -r .tokens.access_token)
AS="$ADMIN"
call 201 POST /admin/roles/ '{"name":"volunteer","description":"Takes devices in and ships them",
    "permissions":["readDevices","createDevices","editDevices","scanDevices","generateQRCodes",
                   "manageDonors","manageWarehouses","manageShipments"]}' \
    | jq -c '{name, permissions}'

# ---------------------------------------------------------------- 2. a newcomer arrives
step "2. a newcomer registers and logs in for the first time"
PASSWORD='my first rehome password'
AS=""
NOOR_ID=$(call 201 POST /users/register/ \
    "{\"username\":\"noor\",\"email\":\"noor@example.org\",\"password\":\"$PASSWORD\",\"first_name\":\"Noor\"}" \
    | jq -r .id)
AS=$(call 200 POST /authen/login/ "{\"username\":\"noor\",\"password\":\"$PASSWORD\"}" \
    | jq -r .tokens.access_token)
call 200 GET /authen/me/ | jq -c '{username, role, effective_permissions}'
echo "   no role yet, so the devices are out of reach:"
call 403 GET /inventory/devices/ | jq -c .

# ---------------------------------------------------------------- 3. role, then two-step login
step "3. the admin gives noor the role; noor turns on two-step login"
NOOR="$AS"
AS="$ADMIN"
call 200 PATCH "/users/users/$NOOR_ID/" '{"role":"volunteer"}' | jq -c '{username, role}'
AS="$NOOR"
call 200 GET /inventory/devices/ | jq -c '{count}'
SECRET=$(call 200 POST /authen/mfa/totp/setup/ | jq -r .secret)
totp "$SECRET"
call 200 POST /authen/mfa/totp/confirm/ "{\"code\":\"$CODE\"}" \
    | jq -c '{recovery_codes: (.recovery_codes | length)}'
call 204 POST /authen/logout/ >/dev/null
AS=""
MFA_TOKEN=$(call 200 POST /authen/login/ "{\"username\":\"noor\",\"password\":\"$PASSWORD\"}" \
    | tee "$tmp/login.json" | jq -r .mfa_token)
jq -c '{mfa_required, methods}' "$tmp/login.json"
totp "$SECRET"
NOOR=$(call 200 POST /authen/mfa/verify/ "{\"mfa_token\":\"$MFA_TOKEN\",\"code\":\"$CODE\"}" \
    | jq -r .tokens.access_token)
AS="$NOOR"

# ---------------------------------------------------------------- 4. a laptop's journey
step "4. noor takes a donated laptop in, wipes it and ships it"
DONOR=$(call 201 POST /inventory/donors/ '{"name":"Ada Lovelace","email":"ada@example.org"}' | jq -r .donor_id)
DEPOT=$(call 201 POST /inventory/locations/ '{"name":"Depot","type":"Warehouse","address":"1 Main St","city":"Leeds"}' | jq -r .location_id)
SCHOOL=$(call 201 POST /inventory/locations/ '{"name":"Hill School","type":"School","address":"3 High St","city":"York"}' | jq -r .location_id)
DEVICE=$(call 201 POST /inventory/devices/ "{\"type\":\"Laptop\",\"make\":\"Dell\",\"model\":\"Latitude 5490\",
    \"serial_number\":\"SN-0001\",\"mac_id\":\"AA-BB-CC-DD-EE-FF\",\"donor\":$DONOR,\"start_location\":$DEPOT,
    \"date_received\":\"$(date +%F)\"}" | tee "$tmp/device.json" | jq -r .device_id)
jq -c '{device_id, status, mac_id, version}' "$tmp/device.json"
echo "   scanning the label finds it:"
call 200 GET "/inventory/devices/lookup/?serial_number=SN-0001" | jq -c '{device_id, status}'
call 200 GET "/inventory/devices/$DEVICE/qr.svg" | head -c 60; echo
echo "   it cannot ship unwiped:"
call 400 PATCH "/inventory/devices/$DEVICE/" '{"status":"shipped"}' | jq -c .
call 200 PATCH "/inventory/devices/$DEVICE/" '{"status":"wiped"}' -H 'If-Match: "1"' | jq -c '{status, version}'
SHIPMENT=$(call 201 POST /inventory/shipments/ "{\"destination\":$SCHOOL,\"date_shipped\":\"$(date +%F)\",\"tracking_identifier\":\"TRK-1\"}" \
    | jq -r .shipping_id)
call 200 PATCH "/inventory/devices/$DEVICE/" \
    "{\"status\":\"shipped\",\"end_location\":$SCHOOL,\"shipping_infos\":[$SHIPMENT]}" -H 'If-Match: "2"' \
    | tee "$tmp/shipped.json" | jq -c '{status, end_location, shipping_infos, version}'
[[ "$(jq -r .status "$tmp/shipped.json")" == shipped ]] || fail "the device is not shipped"
call 200 GET "/inventory/devices/$DEVICE/?expand=donor,end_location,shipping_infos" \
    | jq -c '{donor: .donor.name, end_location: .end_location.name, tracking: [.shipping_infos[].tracking_identifier]}'

# ---------------------------------------------------------------- 5. the story, and goodbye
step "5. the admin reads the device's story; noor logs out"
AS="$ADMIN"
call 200 GET "/admin/audit-log/?object_id=$DEVICE" | tee "$tmp/audit.json" \
    | jq -r '.results[] | "   \(.timestamp) \(.action) by \(.actor_username)"'
[[ "$(jq -r '[.results[].action] | join(",")' "$tmp/audit.json")" == "device.update,device.update,device.create" ]] \
    || fail "unexpected audit log: $(cat "$tmp/audit.json")"
AS="$NOOR"
call 204 POST /authen/logout/ >/dev/null
call 401 GET /authen/me/ | jq -c .
echo
echo "walkthrough: OK"
