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

LOG=$ROOT/.state/venvs/osc-install.log
STAMP=$VENV/.installed-from
# Editable installs: only a change of packaging or requirements needs pip.
WANT=$(cat osc_plugin/setup.cfg osc_plugin/requirements.txt \
       osc_plugin/test-requirements.txt setup.cfg requirements.txt \
       | sha256sum | cut -d' ' -f1)
mkdir -p "$(dirname "$VENV")"
install() {
    if [ ! -x "$VENV/bin/python" ]; then
        python3 -m venv "$VENV"
        "$VENV/bin/pip" install -q -U pip
    fi
    "$VENV/bin/pip" install -q -r osc_plugin/test-requirements.txt \
        -e osc_plugin -e .
}
if [ ! -x "$VENV/bin/openstack" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ]; then
    if ! install >"$LOG" 2>&1; then
        tail -30 "$LOG"
        echo "osc venv: pip install failed (log: $LOG)" >&2
        exit 1
    fi
    echo "$WANT" > "$STAMP"
fi
"$VENV/bin/openstack" --version >/dev/null
[ "${1:-}" = "--setup" ] && exit 0

echo "-- ruff (osc_plugin)"
cd osc_plugin
"$VENV/bin/ruff" check .
echo "-- pytest (osc_plugin, API in-process, real openstack command)"
"$VENV/bin/python" -m pytest -q -p no:cacheprovider osvmexpireclient/tests
