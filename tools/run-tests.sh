#!/bin/bash
# Set up everything and run the whole test suite. Used by .ci/run.
#
#   tools/run-tests.sh            everything
#   tools/run-tests.sh --quick    unit and functional tests only
#
# 1. start the local services the tests use if they are down
#    (PostgreSQL, MariaDB, RabbitMQ, Redis);
# 2. create .venv and install the project with its test requirements;
# 3. lint, unit tests, functional tests (real databases, broker, SMTP);
# 4. every tools/ci.d/*.sh in order (end to end, Horizon, docs, uwsgi...).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PIP_DISABLE_PIP_VERSION_CHECK=1

tools/services.sh start

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/pip install -q -U pip 2>&1 | grep -v '^WARNING: Location' || true
.venv/bin/pip install -q -e . -r test-requirements.txt 2>&1 \
    | grep -v '^WARNING: Location' || true
export PATH=$ROOT/.venv/bin:$PATH

echo "== lint (ruff)"
ruff check osvmexpire tests alembic tools benchmarks

echo "== unit tests"
pytest -q -p no:cacheprovider tests/unit

echo "== functional tests (SQLite, MariaDB, PostgreSQL, RabbitMQ, SMTP)"
pytest -q -p no:cacheprovider tests/functional

if [ "${1:-}" != "--quick" ]; then
    for step in tools/ci.d/*.sh; do
        [ -e "$step" ] || continue
        echo "== $step"
        bash "$step"
    done
fi
echo "== all tests passed"
