#!/bin/bash
# The OpenStack client plugin (osc_plugin/, distribution
# python-osvmexpireclient) in a venv of its own, .state/venvs/osc, so the
# service's venv never gets the client stack: python-openstackclient, the
# plugin, and the service itself (its API runs in-process in the tests).
#
#   tools/ci.d/30-osc-unit.sh           set up the venv, lint, test
#   tools/ci.d/30-osc-unit.sh --setup   only set up the venv
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
VENV=$ROOT/.state/venvs/osc
export PIP_DISABLE_PIP_VERSION_CHECK=1

if [ ! -x "$VENV/bin/python" ]; then
    mkdir -p "$(dirname "$VENV")"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q -U pip 2>&1 | grep -v '^WARNING: Location' || true
fi
"$VENV/bin/pip" install -q -r osc_plugin/test-requirements.txt \
    -e osc_plugin -e . 2>&1 | grep -v '^WARNING: Location' || true
"$VENV/bin/openstack" --version >/dev/null
[ "${1:-}" = "--setup" ] && exit 0

echo "-- ruff (osc_plugin)"
cd osc_plugin
"$VENV/bin/ruff" check .
echo "-- pytest (osc_plugin, API in-process, real openstack command)"
"$VENV/bin/python" -m pytest -q -p no:cacheprovider osvmexpireclient/tests
