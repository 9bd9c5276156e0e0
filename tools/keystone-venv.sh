#!/bin/bash
# Create (once) the virtualenv with a real Keystone used by the API's
# access-matrix tests: .state/venvs/keystone with keystone and gunicorn
# from PyPI. Idempotent and safe to run concurrently (flock). Prints the
# venv path. Override the location with OSVMEXPIRE_KEYSTONE_VENV.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${OSVMEXPIRE_KEYSTONE_VENV:-$PWD/.state/venvs/keystone}
export PIP_DISABLE_PIP_VERSION_CHECK=1
mkdir -p "$(dirname "$VENV")"

# pip, without the harmless "Location ... is ignored" noise; fails loudly.
quiet_pip() {
    "$VENV/bin/pip" "$@" 2>&1 | { grep -v '^WARNING: Location' || true; }
    return "${PIPESTATUS[0]}"
}
exec 9>"$VENV.lock"
flock 9
if [ ! -e "$VENV/.complete" ]; then
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    quiet_pip install -q -U pip
    quiet_pip install -q 'keystone>=26.0.0' 'gunicorn>=22.0.0'
    "$VENV/bin/python" -c 'import keystone, gunicorn'
    [ -x "$VENV/bin/keystone-manage" ] && [ -x "$VENV/bin/gunicorn" ]
    touch "$VENV/.complete"
fi
echo "$VENV"
