#!/bin/bash
# Create or refresh the Horizon virtualenv (.state/venvs/horizon): Horizon
# from PyPI, selenium, and this plugin (editable). Reinstalls only when
# horizon_plugin/pyproject.toml or test-requirements.txt changed.
#   horizon_plugin/tools/make-venv.sh   (quiet; prints pip's log on failure)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VENV=${HORIZON_VENV:-$ROOT/.state/venvs/horizon}
PLUGIN=$ROOT/horizon_plugin
export PIP_DISABLE_PIP_VERSION_CHECK=1

stamp=$(cat "$PLUGIN/pyproject.toml" "$PLUGIN/test-requirements.txt" \
        | sha256sum | cut -c1-16)
if [ -f "$VENV/.stamp" ] && [ "$(cat "$VENV/.stamp")" = "$stamp" ] \
        && [ -x "$VENV/bin/python" ]; then
    exit 0
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
run() {  # quiet unless it fails
    if ! "$@" >"$log" 2>&1; then
        grep -v '^WARNING: Location' "$log" >&2
        echo "make-venv: FAILED: $*" >&2
        exit 1
    fi
}
if [ ! -x "$VENV/bin/python" ]; then
    run python3 -m venv "$VENV"
    run "$VENV/bin/pip" install -q -U pip
fi
run "$VENV/bin/pip" install -q -e "$PLUGIN" -r "$PLUGIN/test-requirements.txt"
"$VENV/bin/python" -c 'import horizon, osvmexpire_dashboard, selenium'
echo "$stamp" > "$VENV/.stamp"
