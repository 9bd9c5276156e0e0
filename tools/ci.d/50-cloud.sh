#!/bin/bash
# End to end on a real local cloud (tools/localcloud.py): start it, run the
# e2e suite and the README's demo on it, then every tools/cloud.d/*.sh hook
# (other parts' tests against the same cloud; each hook sources
# .state/cloud/cloud.env). The cloud is always stopped at the end, and any
# failure fails this step.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
# LOCALCLOUD_PORT_OFFSET=N (N > 0) runs this on a second cloud in
# .state/cloud-N beside a default one that is in use.
SUFFIX=""
if [ "${LOCALCLOUD_PORT_OFFSET:-0}" != 0 ]; then SUFFIX="-$LOCALCLOUD_PORT_OFFSET"; fi
CLOUD_LOG=$ROOT/.state/cloud$SUFFIX/log
export CLOUD_ENV_FILE=$ROOT/.state/cloud$SUFFIX/cloud.env
START=$(date +%s)

# Always stop what was started; a stop that leaves a process or a port
# behind fails the step.
stop_cloud() {
    python3 tools/localcloud.py stop || { echo "ERROR: stop left processes or ports behind" >&2; exit 1; }
}
# A cloud left over by an earlier, interrupted run is stopped first so the
# tests start from a fresh state.
python3 tools/localcloud.py stop > /dev/null || true
trap stop_cloud EXIT

if ! timeout 900 python3 tools/localcloud.py up; then
    echo "ERROR: the local cloud did not start (logs: $CLOUD_LOG)" >&2
    exit 1
fi

rc=0
echo "== e2e tests (tests/e2e)"
timeout 900 "$ROOT/.venv/bin/pytest" -q -p no:cacheprovider tests/e2e || rc=1

echo "== demo (python3 tools/localcloud.py demo)"
timeout 300 python3 tools/localcloud.py demo > "$CLOUD_LOG/demo.out" 2>&1 \
    || { cat "$CLOUD_LOG/demo.out"; echo "ERROR: the demo failed" >&2; rc=1; }
tail -3 "$CLOUD_LOG/demo.out"

for hook in tools/cloud.d/*.sh; do
    [ -e "$hook" ] || continue
    echo "== $hook"
    if ! timeout 900 bash "$hook"; then
        echo "ERROR: $hook failed" >&2
        rc=1
    fi
done
python3 tools/localcloud.py status > "$CLOUD_LOG/status-at-end.txt" 2>&1 || true
echo "== local cloud step: $(( $(date +%s) - START )) s, rc $rc"
exit $rc
