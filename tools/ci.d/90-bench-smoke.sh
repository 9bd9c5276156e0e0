#!/bin/bash
# The cleaner benchmarks once with tiny sizes, so they keep working with
# the code they measure (under a minute). Figures are meaningless here and
# targets are not checked: exit status 3 (a target not met) is accepted,
# 1 (an error) is not.
set -uo pipefail
cd "$(dirname "$0")/../.."
PY=.venv/bin/python
export PYTHONWARNINGS=ignore
rc=0
smoke() {
    echo "-- python -m $*"
    "$PY" -m "$@" > /tmp/osvmexpire-bench-smoke.$$ 2>&1
    local status=$?
    if [ "$status" -ne 0 ] && [ "$status" -ne 3 ]; then
        cat /tmp/osvmexpire-bench-smoke.$$
        echo "ERROR: $1 failed (exit $status)" >&2
        rc=1
    else
        grep -E 'TARGET|baseline' /tmp/osvmexpire-bench-smoke.$$ | head -4
    fi
}
# The worker and API benchmarks need spawned processes, RabbitMQ and a
# Keystone: too slow for a smoke run; run them by hand (benchmarks/).
smoke benchmarks.cleaner_cycle --backends sqlite --sizes 200,400 --due 15 --repeat 1
smoke benchmarks.deletion_throughput --backends sqlite -n 10 --owners 3 --delay 0.01 --concurrency 4
rm -f /tmp/osvmexpire-bench-smoke.$$
exit $rc
