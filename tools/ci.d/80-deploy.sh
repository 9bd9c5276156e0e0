#!/bin/bash
# The deployment kit of etc/, tested as shipped:
# - the API under the uwsgi emperor (uwsgi from PyPI), started from
#   etc/uwsgi/osvmexpire-api.ini with the emperor command of the install
#   guide, paths made temporary ([api] auth_strategy = noauth here; the
#   same check with a real Keystone token runs in tools/cloud.d/30-*);
# - the ExecStart of each unit run (ready: its log line, or READY=1 on
#   NOTIFY_SOCKET for Type=notify) and stopped with the unit's KillSignal
#   sent to its whole process group, exit code 0 within TimeoutStopSec and
#   nothing left (no systemd manager runs in this container:
#   tools/deploy/unit_check.py plays its part);
# - systemd-analyze verify of etc/systemd/*.service (ExecStart pointed at
#   .venv/bin, where the programs are on this machine);
# - systemd-sysusers of etc/sysusers.d/os-vm-expire.conf into a scratch root;
# - a forced logrotate run of etc/logrotate.d/os-vm-expire on scratch logs.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
VENV=$ROOT/.venv
TMP=$(mktemp -d /tmp/osvmexpire-deploy.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
export PIP_DISABLE_PIP_VERSION_CHECK=1

echo "-- uwsgi from PyPI"
if ! "$VENV/bin/uwsgi" --version >/dev/null 2>&1; then
    start=$(date +%s)
    "$VENV/bin/pip" install -q 'uWSGI>=2.0.22' 2>&1 | grep -v '^WARNING: Location' || true
    echo "pip install uWSGI: $(( $(date +%s) - start )) s"
fi
echo "uwsgi $("$VENV/bin/uwsgi" --version)"

echo "-- API under the uwsgi emperor (noauth)"
cat > "$TMP/osvmexpire.conf" <<CONF
[database]
connection = sqlite:///$TMP/osvmexpire.sqlite
[api]
auth_strategy = noauth
CONF
"$VENV/bin/osvmexpire-db-manage" --config-file "$TMP/osvmexpire.conf" upgrade
# one record in the test project, one in another: the list must show one
OSVMEXPIRE_CONFIG="$TMP/osvmexpire.conf" "$VENV/bin/python" - <<'PY'
import datetime
from osvmexpire import context, expiration, service
from osvmexpire.db import api as db_api
conf = service.prepare_service([], setup_logging=False)
settings = expiration.Settings.from_conf(conf)
ctx = context.get_admin_context()
with db_api.context_manager().writer.using(ctx):
    for project, instance in (('p-deploy-test', 'deploy-vm-1'),
                              ('p-other', 'deploy-vm-2')):
        db_api.create_vmexpire(
            ctx, instance_id='00000000-0000-4000-8000-00000000000%s'
            % instance[-1], project_id=project, instance_name=instance,
            expire_at=db_api.utcnow() + datetime.timedelta(days=30),
            settings=settings)
PY
"$VENV/bin/python" tools/deploy/emperor_check.py \
    --uwsgi "$VENV/bin/uwsgi" --vassal etc/uwsgi/osvmexpire-api.ini \
    --config "$TMP/osvmexpire.conf" --workdir "$TMP/emperor" \
    --project p-deploy-test \
    --header 'X-Project-Id: p-deploy-test' --header 'X-User-Id: u-deploy' \
    --header 'X-Roles: member' --expect-records 1 --extend \
    --reload-endpoint http://api.reloaded.example.org:9411

apt_install() {   # apt_install COMMAND PACKAGE: the Debian package if missing
    command -v "$1" >/dev/null && return 0
    echo "$1 missing: apt-get install $2"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q "$2" >/dev/null 2>&1 || {
        apt-get update -q >/dev/null
        apt-get install -y -q "$2" >/dev/null
    }
}

echo "-- the units' ExecStart, started and stopped as systemd does"
VHOST=osvmexpire_deploy_$$
rabbitmqctl -q add_vhost "$VHOST"
trap 'rabbitmqctl -q delete_vhost "$VHOST" >/dev/null 2>&1 || true; rm -rf "$TMP"' EXIT
rabbitmqctl -q set_permissions -p "$VHOST" guest '.*' '.*' '.*'
cat > "$TMP/units.conf" <<CONF
[DEFAULT]
# a cycle with nothing to do logs "cleaner cycle done" at DEBUG only
debug = true
transport_url = rabbit://guest:guest@127.0.0.1:5672/$VHOST
[database]
connection = sqlite:///$TMP/osvmexpire.sqlite
[cleaner]
sync_interval = 0
CONF
CONF=/etc/os-vm-expire/osvmexpire.conf
"$VENV/bin/python" tools/deploy/unit_check.py etc/systemd/osvmexpire-worker.service \
    --bin-dir "$VENV/bin" --replace "$CONF=$TMP/units.conf" --ready 'listening on exchange'
"$VENV/bin/python" tools/deploy/unit_check.py etc/systemd/osvmexpire-cleaner.service \
    --bin-dir "$VENV/bin" --replace "$CONF=$TMP/units.conf" --ready 'cleaner cycle done'
# the API unit: the emperor of the install guide (Type=notify), its vassal
# directory, log and stats address made temporary
mkdir -p "$TMP/api-unit/vassals"
port=$("$VENV/bin/python" -c 'import sys; sys.path.insert(0, "tools/deploy"); import emperor_check as e; a = e.free_port(); print(a, e.free_port((a,)))')
sed -e "s#^http-socket = .*#http-socket = 127.0.0.1:${port% *}#" \
    -e "s#^env = .*#env = OSVMEXPIRE_CONFIG=$TMP/units.conf#" \
    etc/uwsgi/osvmexpire-api.ini > "$TMP/api-unit/vassals/osvmexpire-api.ini"
"$VENV/bin/python" tools/deploy/unit_check.py etc/systemd/osvmexpire-api.service \
    --bin-dir "$VENV/bin" --workdir "$TMP/api-unit" \
    --replace "/etc/os-vm-expire/vassals=$TMP/api-unit/vassals" \
    --replace "/var/log/os-vm-expire=$TMP/api-unit" \
    --replace "localhost:9314=127.0.0.1:${port#* }" \
    --ready-http "http://127.0.0.1:${port% *}/" \
    --wait-log "$TMP/api-unit/osvmexpire-api.log" 'WSGI app 0 (mountpoint=' \
        "$(sed -n 's/^processes = //p' etc/uwsgi/osvmexpire-api.ini)"
grep -q 'The Emperor has been buried' "$TMP/api-unit/osvmexpire-api.log"

echo "-- systemd-analyze verify"
apt_install systemd-analyze systemd
mkdir -p "$TMP/units"
for unit in etc/systemd/*.service; do
    sed -E "s#^(ExecStart=)(uwsgi|osvmexpire-[a-z-]+) #\1$VENV/bin/\2 #" \
        "$unit" > "$TMP/units/$(basename "$unit")"
done
(cd "$TMP/units" && systemd-analyze verify ./*.service) > "$TMP/verify.out" 2>&1 \
    || { cat "$TMP/verify.out"; echo "ERROR: systemd-analyze verify failed" >&2; exit 1; }
if [ -s "$TMP/verify.out" ]; then
    cat "$TMP/verify.out"; echo "ERROR: systemd-analyze verify warned" >&2; exit 1
fi
for unit in etc/systemd/*.service; do
    grep -q '^Restart=on-failure$' "$unit"
    grep -q '^User=osvmexpire$' "$unit"
    ! grep -q '^PIDFile=' "$unit"
done
echo "systemd-analyze verify: $(ls etc/systemd/*.service | xargs -n1 basename | tr '\n' ' ')OK"

echo "-- systemd-sysusers"
mkdir -p "$TMP/root/etc"
systemd-sysusers --root="$TMP/root" - < etc/sysusers.d/os-vm-expire.conf
grep -q '^osvmexpire:x:[0-9]*:[0-9]*:os-vm-expire services:/var/lib/os-vm-expire:/usr/sbin/nologin$' \
    "$TMP/root/etc/passwd"
echo "sysusers: $(cat "$TMP/root/etc/passwd")"

echo "-- logrotate"
apt_install logrotate logrotate
mkdir -p "$TMP/log" && chmod 755 "$TMP/log"
sed -e "s#/var/log/os-vm-expire/#$TMP/log/#" \
    -e "s#^\( *su \).*#\1root root#" etc/logrotate.d/os-vm-expire > "$TMP/logrotate.conf"
seq 1 1000 > "$TMP/log/osvmexpire-api.log"
exec 3>>"$TMP/log/osvmexpire-api.log"   # an open writer, as uwsgi's --logto
logrotate -s "$TMP/logrotate.state" -f "$TMP/logrotate.conf"
echo after-rotation >&3
exec 3>&-
test "$(wc -l < "$TMP/log/osvmexpire-api.log.1")" -eq 1000
test "$(cat "$TMP/log/osvmexpire-api.log")" = after-rotation
echo "logrotate: rotated, the open writer goes on in the fresh file: OK"
