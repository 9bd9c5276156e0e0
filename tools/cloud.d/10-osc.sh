#!/bin/bash
# Both command lines against the running local cloud, as people use them:
#
# * ``openstack vmexpire|vmexclude ...`` (python-osvmexpireclient in
#   .state/venvs/osc) with real Keystone tokens of alice, bob and admin,
#   the endpoint found in the catalog (service type vmexpire);
# * ``osvmexpire-manage`` with the cloud's configuration (OSVMEXPIRE_CONFIG)
#   on its MariaDB database, ``vm add`` and ``vm sync`` asking the real Nova.
#
# alice boots a server; the worker tracks it; the commands list, show,
# extend, remove, re-add, exclude; errors are checked (other project,
# non-admin, bad ids). The transcript is printed as a terminal session.
# The server is deleted at the end (also on failure).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
# shellcheck disable=SC1091
source "${CLOUD_ENV_FILE:-$ROOT/.state/cloud/cloud.env}"

if ! curl -s -m 5 -o /dev/null "$OS_AUTH_URL"; then
    echo "10-osc: FAILED: Keystone $OS_AUTH_URL does not answer;" \
         "run: python3 tools/localcloud.py up" >&2
    exit 1
fi
bash tools/ci.d/30-osc-unit.sh --setup
OSC=$ROOT/.state/venvs/osc/bin/openstack
MANAGE=$ROOT/.venv/bin/osvmexpire-manage
STATE=$CLOUD_STATE_DIR
OUT=$(mktemp -d)
SERVER=""
NAME=osc-test-$$

fail() { echo "10-osc: FAILED: $*" >&2; exit 1; }

cleanup() {
    if [ -z "$SERVER" ] && [ -n "$NAME" ]; then
        # A boot that failed may still have left a server (ERROR, BUILD).
        SERVER=$(source "$STATE/openrc-alice" && "$OSC" server list \
                 --name "^$NAME\$" -f value -c ID 2>/dev/null | head -1) || true
    fi
    if [ -n "$SERVER" ]; then
        (source "$STATE/openrc-alice" && timeout 300 "$OSC" server delete \
            --wait "$SERVER") >/dev/null 2>&1 || true
    fi
    rm -rf "$OUT"
}
trap cleanup EXIT

# run WHO RC CMD...: show the command like a prompt, run it as WHO (an
# openrc user, or "root" for osvmexpire-manage), print its output, check
# its exit code. stdout is kept in $OUT/last.
run() {
    local who=$1 want=$2 rc=0
    shift 2
    local shown="$*"
    shown=${shown//$OSC/openstack}
    shown=${shown//$MANAGE/osvmexpire-manage}
    shown=${shown//$ROOT\//}
    if [ "$who" = root ]; then
        echo "root@controller\$ $shown"
        "$@" >"$OUT/last" 2>"$OUT/err" || rc=$?
    else
        echo "$who@workstation\$ $shown"
        (source "$STATE/openrc-$who" && "$@") >"$OUT/last" 2>"$OUT/err" \
            || rc=$?
    fi
    cat "$OUT/last"
    grep -v -e '^Could not load' "$OUT/err" >&2 || true
    [ "$rc" = "$want" ] || fail "exit code $rc, expected $want: $*"
}

has() { grep -q -- "$1" "$OUT/last"; }
err_has() { grep -q -- "$1" "$OUT/err"; }

echo "== the catalog has os-vm-expire"
run admin 0 "$OSC" endpoint list --service vmexpire -c "Service Type" \
    -c Interface -c URL
has "$OSVMEXPIRE_API_URL/v1/%(project_id)s" || fail "no vmexpire endpoint"

echo "== alice boots a server; the worker starts tracking it"
run alice 0 timeout 300 "$OSC" server create --image "$CLOUD_IMAGE_ID" \
    --flavor "$CLOUD_FLAVOR" --no-network --wait -f value -c id "$NAME"
SERVER=$(tr -d '[:space:]' < "$OUT/last")
[ -n "$SERVER" ] || fail "no server id"
for _ in $(seq 60); do
    found=$(source "$STATE/openrc-alice" && "$OSC" vmexpire list \
            --instance "$SERVER" -f value -c ID 2>/dev/null || true)
    [ -n "$found" ] && break
    sleep 1
done

echo "== openstack vmexpire, as the owner"
run alice 0 "$OSC" vmexpire list
has "$SERVER" || fail "the server is not listed"
run alice 0 "$OSC" vmexpire show "$SERVER"
run alice 0 "$OSC" vmexpire show "$SERVER" -f json
RECORD=$("$ROOT/.venv/bin/python" -c \
    'import json,sys; print(json.load(sys.stdin)["id"])' < "$OUT/last")
# A new server expires in 60 days: an extension (now + N days) would not
# move it later, and the API says so (409). Move its expiry to 10 days from
# now, as if 50 days had passed (test tool, direct DB access).
run alice 1 "$OSC" vmexpire extend "$RECORD" --days 5
err_has '(HTTP 409)' || fail "no 409 for an extension that shortens"
run root 0 "$ROOT/.venv/bin/python" tools/localcloud/expire_soon.py \
    "$SERVER" 864000
run alice 1 "$OSC" vmexpire extend "$RECORD" --days 5
run alice 0 "$OSC" vmexpire extend "$RECORD" --days 20 -f json \
    -c expire_at -c extensions -c next_action -c next_action_at
has '"extensions": 1' || fail "extend did not count"
run alice 0 "$OSC" vmexpire events "$SERVER"
has extended || fail "no extended event"
run alice 1 "$OSC" vmexpire extend "$RECORD" --days 400
err_has '(HTTP 400)' || fail "no 400 for --days 400"
run alice 1 "$OSC" vmexpire delete "$RECORD"
err_has '(HTTP 403)' || fail "a member removed an expiry"
run alice 1 "$OSC" vmexclude list
err_has '(HTTP 403)' || fail "a member listed exclusions"
run alice 1 "$OSC" vmexpire list --all-projects
err_has '(HTTP 403)' || fail "a member listed every project"

# The same with an explicit endpoint: %(project_id)s comes from the token.
run alice 0 "$OSC" --os-vmexpire-endpoint-override \
    "$OSVMEXPIRE_API_URL/v1/%(project_id)s" vmexpire list -f value -c ID
has "$RECORD" || fail "endpoint override: record not listed"

echo "== another project sees nothing of it"
run bob 1 "$OSC" vmexpire show "$RECORD"
err_has '(HTTP 404)' || fail "bob saw alice's record"
run bob 1 "$OSC" vmexpire extend "$RECORD"
run bob 0 "$OSC" vmexpire list -f value -c ID
if has "$RECORD"; then fail "bob lists alice's record"; fi

echo "== admin"
run admin 0 "$OSC" vmexpire list --all-projects
has "$RECORD" || fail "admin does not see alice's record"
run admin 0 "$OSC" vmexpire delete "$SERVER"
run alice 1 "$OSC" vmexpire show "$RECORD"
run admin 0 "$OSC" vmexpire add "$SERVER" -f json -c instance_id \
    -c project_id -c expire_at -c next_action
has "$CLOUD_PROJECT1_ID" || fail "vmexpire add: wrong project"
run admin 1 "$OSC" vmexpire add "$(cat /proc/sys/kernel/random/uuid)"
run admin 0 "$OSC" vmexclude create --type project "$CLOUD_PROJECT2_ID"
EXCL=$(grep -E '^\| id ' "$OUT/last" | awk '{print $4}')
run admin 0 "$OSC" vmexclude list -f json
run admin 0 "$OSC" vmexclude show "$EXCL"
run admin 1 "$OSC" vmexclude create --type project "$CLOUD_PROJECT2_ID"
err_has '(HTTP 409)' || fail "duplicate exclusion not refused"
run admin 2 "$OSC" vmexclude create --type tenant "$CLOUD_PROJECT2_ID"
run admin 0 "$OSC" vmexclude delete "$EXCL"

echo "== osvmexpire-manage on the controller (OSVMEXPIRE_CONFIG=$OSVMEXPIRE_CONFIG)"
run root 0 "$MANAGE" db current
run root 0 "$MANAGE" vm list
has "$SERVER" || fail "manage: server not listed"
run root 0 "$MANAGE" vm list --project "$CLOUD_PROJECT1_ID" -f csv
run root 0 "$MANAGE" vm show "$SERVER"
# "vmexpire add" gave it a fresh 60 days: bring the expiry near again.
run root 0 "$ROOT/.venv/bin/python" tools/localcloud/expire_soon.py \
    "$SERVER" 864000
run root 1 "$MANAGE" vm extend "$SERVER" --days 3
run root 0 "$MANAGE" vm extend "$SERVER" --days 25 -f json -c expire_at \
    -c extensions
run root 1 "$MANAGE" vm extend "$SERVER" --days 900
run root 0 "$MANAGE" vm extend "$SERVER" --days 900 --force -f value \
    -c expire_at
run root 0 "$MANAGE" vm events "$SERVER"
has '"force": true' || fail "manage: forced extension not audited"
run root 0 "$MANAGE" vm list --stuck
run root 0 "$MANAGE" vm sync
run root 0 "$MANAGE" vm remove "$SERVER"
run root 1 "$MANAGE" vm show "$SERVER"
run root 0 "$MANAGE" vm sync -f json
run root 1 "$MANAGE" vm show "$SERVER"
run root 0 "$MANAGE" vm add "$SERVER" -f yaml -c instance_id -c project_id \
    -c expire_at
run root 1 "$MANAGE" vm add "$SERVER"
run root 1 "$MANAGE" vm add "$(cat /proc/sys/kernel/random/uuid)"
run root 0 "$MANAGE" exclude add --type user --id "$CLOUD_USER2_ID"
run root 0 "$MANAGE" exclude list
run root 0 "$MANAGE" exclude delete "$CLOUD_USER2_ID"
run root 2 "$MANAGE" exclude add --type group --id x
run root 1 "$MANAGE" --config-file /nonexistent.conf vm list

echo "== alice deletes the server; the worker closes the record"
run alice 0 timeout 300 "$OSC" server delete --wait "$SERVER"
for _ in $(seq 60); do
    if ! (source "$STATE/openrc-alice" && "$OSC" vmexpire show "$SERVER") \
            >/dev/null 2>&1; then
        break
    fi
    sleep 1
done
SERVER_DONE=$SERVER
SERVER=""
NAME=""
run alice 1 "$OSC" vmexpire show "$SERVER_DONE"
run root 0 "$MANAGE" vm events "$SERVER_DONE"
echo "10-osc: OK"
