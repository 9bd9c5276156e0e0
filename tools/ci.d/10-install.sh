#!/bin/bash
# A non-editable install in a fresh venv: the console scripts find the
# alembic migrations and create the schema; the two generator commands of
# the original README work.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
TMP=$(mktemp -d /tmp/osvmexpire-install.XXXXXX)
trap 'rm -rf "$TMP"; mysql -uroot -h127.0.0.1 -e "DROP DATABASE IF EXISTS osvmexpire_install_ci" >/dev/null 2>&1 || true' EXIT

python3 -m venv "$TMP/venv"
"$TMP/venv/bin/pip" install -q -U pip 2>&1 | grep -v '^WARNING: Location' || true
# pip builds from a copy of the tree: no access to the checkout afterwards
"$TMP/venv/bin/pip" install -q "$ROOT[mysql]" 2>&1 | grep -v '^WARNING: Location' || true
cd "$TMP"
if "$TMP/venv/bin/python" -c 'import osvmexpire, sys; sys.exit("/work" in osvmexpire.__file__ or "'"$ROOT"'" in osvmexpire.__file__)'; then
    echo "installed package: OK"
else
    echo "ERROR: the package was imported from the source tree" >&2; exit 1
fi

printf '[database]\nconnection = sqlite:///%s/ci.sqlite\n' "$TMP" > "$TMP/a.conf"
OSVMEXPIRE_CONFIG="$TMP/a.conf" "$TMP/venv/bin/osvmexpire-db-manage" upgrade
OSVMEXPIRE_CONFIG="$TMP/a.conf" "$TMP/venv/bin/osvmexpire-db-manage" current | grep -q '(head)'
"$TMP/venv/bin/python" - "$TMP/ci.sqlite" <<'PY'
import sqlite3, sys
tables = {r[0] for r in sqlite3.connect(sys.argv[1]).execute(
    "select name from sqlite_master where type='table'")}
assert {'vmexpire', 'vmexclude', 'vmexpire_event'} <= tables, tables
print('sqlite schema: OK', sorted(tables))
PY

mysql -uroot -h127.0.0.1 -e 'CREATE DATABASE osvmexpire_install_ci'
printf '[database]\nconnection = mysql+pymysql://root@127.0.0.1:3306/osvmexpire_install_ci\n' > "$TMP/m.conf"
"$TMP/venv/bin/osvmexpire-db-manage" --config-file "$TMP/m.conf" upgrade
"$TMP/venv/bin/osvmexpire-db-manage" --config-file "$TMP/m.conf" history

# bad input: one line, non-zero exit, no traceback
if "$TMP/venv/bin/osvmexpire-db-manage" --config-file "$TMP/missing.conf" upgrade 2> "$TMP/err"; then
    echo "ERROR: a missing config file was accepted" >&2; exit 1
fi
grep -q 'configuration file not found' "$TMP/err"
! grep -q Traceback "$TMP/err"
printf '[database]\nconnection = mysql+pymysql://root@127.0.0.1:1/none\nmax_retries = 0\n' > "$TMP/bad.conf"
if "$TMP/venv/bin/osvmexpire-db-manage" --config-file "$TMP/bad.conf" upgrade 2> "$TMP/err"; then
    echo "ERROR: an unreachable database was accepted" >&2; exit 1
fi
grep -q 'cannot connect to the database' "$TMP/err"
! grep -q Traceback "$TMP/err"
echo "bad input: OK"

# the two generator commands of the original README, from the checkout
cd "$ROOT"
mkdir -p "$TMP/gen/etc/oslo-config-generator"
cp etc/oslo-config-generator/policy.conf "$TMP/gen/etc/oslo-config-generator/"
cd "$TMP/gen"
"$TMP/venv/bin/pip" install -q 'oslo.service' 2>&1 | grep -v '^WARNING: Location' || true
PATH=$TMP/venv/bin:$PATH oslo-config-generator --namespace oslo.db --namespace oslo.messaging --namespace osvmexpire.common.config --namespace keystonemiddleware.auth_token --namespace oslo.service.periodic_task --namespace oslo.service.service > etc/oslo-config-generator/osvmexpire.conf
for section in DEFAULT cleaner smtp nova_notifications service_credentials database; do
    grep -q "^\[$section\]" etc/oslo-config-generator/osvmexpire.conf
done
for opt in max_vm_duration max_vm_extend max_vm_total_duration notify_before_days notify_before_days_last email_smtp_host email_smtp_copy_delete_notif_to pool_name; do
    grep -q "^#$opt =" etc/oslo-config-generator/osvmexpire.conf
done
PATH=$TMP/venv/bin:$PATH oslopolicy-sample-generator --config-file etc/oslo-config-generator/policy.conf
grep -q '"vmexpire:extend"' etc/policy.yaml.sample
echo "generators: OK"
