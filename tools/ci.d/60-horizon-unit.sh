#!/bin/bash
# Horizon plugin (horizon_plugin/): lint, policy copy in step with the API,
# packaging (the wheel holds templates, enabled files and policies), and the
# Django/Horizon unit tests, in the plugin's own venv (.state/venvs/horizon).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
VENV=${HORIZON_VENV:-$ROOT/.state/venvs/horizon}
RUFF=$(command -v ruff || echo "$ROOT/.venv/bin/ruff")

echo "-- horizon venv"
horizon_plugin/tools/make-venv.sh

echo "-- ruff horizon_plugin"
"$RUFF" check horizon_plugin

echo "-- policy copy matches osvmexpire/policies"
"$ROOT/.venv/bin/python" horizon_plugin/tools/policy_sync.py --check

echo "-- wheel contents"
wheels=$(mktemp -d)
trap 'rm -rf "$wheels"' EXIT
"$VENV/bin/pip" wheel -q --no-deps -w "$wheels" \
    ./horizon_plugin >"$wheels/log" 2>&1 || { cat "$wheels/log"; exit 1; }
"$VENV/bin/python" - "$wheels"/os_vm_expire_dashboard-*.whl <<'PY'
import sys
import zipfile

names = set(zipfile.ZipFile(sys.argv[1]).namelist())
need = [
    'osvmexpire_dashboard/enabled/_90_project_vmexpire_panel.py',
    'osvmexpire_dashboard/enabled/_91_admin_vmexpire_panel.py',
    'osvmexpire_dashboard/conf/vmexpire_policy.yaml',
    'osvmexpire_dashboard/conf/default_policies/vmexpire.yaml',
    'osvmexpire_dashboard/local_settings.d/_90_osvmexpire_policy.py',
    'osvmexpire_dashboard/content/vmexpire/templates/vmexpire/index.html',
    'osvmexpire_dashboard/content/vmexpire/templates/vmexpire/_extend.html',
    'osvmexpire_dashboard/content/admin_vmexpire/templates/vmexpire/'
    'index.html',
]
missing = [n for n in need if n not in names]
if missing:
    sys.exit('wheel lacks: %s' % ', '.join(missing))
print('wheel OK: %d files' % len(names))
PY

echo "-- Django/Horizon unit tests"
cd horizon_plugin
"$VENV/bin/python" manage.py check
"$VENV/bin/python" manage.py test osvmexpire_dashboard --noinput -v 1
