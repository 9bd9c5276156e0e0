#!/bin/bash
# Real-browser test of the Horizon plugin against the local cloud.
#
# Needs the cloud up (python3 tools/localcloud.py up -> $CLOUD_ENV_FILE,
# by default .state/cloud/cloud.env).
# Installs Debian's chromium + chromium-driver if missing (apt-get), builds
# the Horizon venv (.state/venvs/horizon), installs the plugin into Horizon
# the way an operator does (enabled files + settings snippet copied into
# openstack_dashboard/local/; local_settings.py per run), starts Horizon
# (runserver, DEBUG) on 127.0.0.1:${HORIZON_PORT:-8080} (or a free port)
# against the cloud's Keystone, runs
# horizon_plugin/tools/browser_test.py with headless Chromium, stops Horizon.
# Screenshots in doc/source/_static/ (HORIZON_SHOTS_DIR overrides):
# horizon-project-panel.png, horizon-extend-modal.png,
# horizon-admin-panel.png and horizon-admin-exclusions.png. Logs and a
# failure screenshot: .state/horizon-browser/run.*/.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
VENV=${HORIZON_VENV:-$ROOT/.state/venvs/horizon}
PORT=${HORIZON_PORT:-8080}

CLOUD_ENV_FILE=${CLOUD_ENV_FILE:-$ROOT/.state/cloud/cloud.env}
SHOTS=${HORIZON_SHOTS_DIR:-$ROOT/doc/source/_static}
if [ ! -f "$CLOUD_ENV_FILE" ]; then
    echo "horizon-browser: FAILED: no local cloud ($CLOUD_ENV_FILE);" \
         "run: python3 tools/localcloud.py up" >&2
    exit 1
fi
# shellcheck disable=SC1090
source "$CLOUD_ENV_FILE"
if ! curl -s -m 5 -o /dev/null "$OS_AUTH_URL"; then
    echo "horizon-browser: FAILED: Keystone $OS_AUTH_URL does not answer;" \
         "run: python3 tools/localcloud.py up" >&2
    exit 1
fi

if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    echo "-- apt-get install chromium chromium-driver"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 || {
        apt-get update -q >/dev/null
        apt-get install -y -q chromium chromium-driver >/dev/null
    }
fi

# One work dir per run: runs may overlap (CI and a developer).
mkdir -p "$ROOT/.state/horizon-browser"
WORK=$(mktemp -d "$ROOT/.state/horizon-browser/run.XXXXXX")

echo "-- horizon venv"
horizon_plugin/tools/make-venv.sh

echo "-- install the plugin into Horizon (openstack_dashboard/local)"
HZ=$("$VENV/bin/python" -c \
    'import os, openstack_dashboard as m; print(os.path.dirname(m.__file__))')
PKG=$ROOT/horizon_plugin/osvmexpire_dashboard
mkdir -p "$HZ/local/enabled" "$HZ/local/local_settings.d"
cp "$PKG"/enabled/_9[01]_*.py "$HZ/local/enabled/"
cp "$PKG/local_settings.d/_90_osvmexpire_policy.py" \
    "$HZ/local/local_settings.d/"
# This run's settings: \$WORK/local shadows openstack_dashboard/local for
# "from local.local_settings import *" (settings.py appends its own dir to
# sys.path, PYTHONPATH comes first), so overlapping runs never share them.
mkdir -p "$WORK/local"
: > "$WORK/local/__init__.py"
cat > "$WORK/local/local_settings.py" <<PY
# Written by tools/cloud.d/20-horizon-browser.sh for the local cloud.
from django.utils.translation import gettext_lazy as _  # noqa: F401

DEBUG = True
COMPRESS_OFFLINE = False
ALLOWED_HOSTS = ['127.0.0.1', 'localhost']
SECRET_KEY = 'local-browser-test-only'
WEBROOT = '/'
OPENSTACK_HOST = '127.0.0.1'
OPENSTACK_KEYSTONE_URL = '$OS_AUTH_URL'
OPENSTACK_KEYSTONE_DEFAULT_ROLE = 'member'
OPENSTACK_KEYSTONE_DEFAULT_DOMAIN = 'Default'
TIME_ZONE = 'UTC'
LOGIN_REDIRECT_URL = '/project/vmexpire/'
# LocMem culls sessions at its default MAX_ENTRIES=300 (SessionInterrupted).
CACHES = {'default': {
    'BACKEND': 'django.core.cache.backends.locmem.LocMemCache',
    'LOCATION': 'default', 'OPTIONS': {'MAX_ENTRIES': 100000}}}
SESSION_ENGINE = 'django.contrib.sessions.backends.cache'
EMAIL_BACKEND = 'django.core.mail.backends.console.EmailBackend'
STATIC_ROOT = '$ROOT/.state/horizon-browser/static'
VMEXPIRE_MAX_EXTEND_DAYS = 30
PY
cat > "$WORK/manage.py" <<'PY'
import os
import sys

from django.core.management import execute_from_command_line

os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'openstack_dashboard.settings')
execute_from_command_line(sys.argv)
PY
export PYTHONPATH=$WORK
"$VENV/bin/python" "$WORK/manage.py" check 2>&1 | tail -1

# 8080 (or HORIZON_PORT) when free, else any free port.
PORT=$("$VENV/bin/python" - "$PORT" <<'PY'
import socket
import sys

for port in (int(sys.argv[1]), 0):
    with socket.socket() as s:
        try:
            s.bind(('127.0.0.1', port))
        except OSError:
            continue
        print(s.getsockname()[1])
        break
PY
)

echo "-- start Horizon on 127.0.0.1:$PORT"
"$VENV/bin/python" "$WORK/manage.py" runserver --noreload "127.0.0.1:$PORT" \
    >"$WORK/horizon.log" 2>&1 &
HZ_PID=$!
stop_horizon() {
    kill "$HZ_PID" 2>/dev/null || true
    wait "$HZ_PID" 2>/dev/null || true
}
trap stop_horizon EXIT
up=""
for _ in $(seq 90); do
    if curl -s -m 5 -o /dev/null -w '%{http_code}' \
            "http://127.0.0.1:$PORT/auth/login/" | grep -q 200; then
        up=yes
        break
    fi
    if ! kill -0 "$HZ_PID" 2>/dev/null; then
        tail -30 "$WORK/horizon.log" >&2
        echo "horizon-browser: FAILED: Horizon exited" >&2
        exit 1
    fi
    sleep 1
done

if [ -z "$up" ]; then
    tail -30 "$WORK/horizon.log" >&2
    echo "horizon-browser: FAILED: no login page within 90 s" >&2
    exit 1
fi

echo "-- browser test"
if ! "$VENV/bin/python" horizon_plugin/tools/browser_test.py \
        --url "http://127.0.0.1:$PORT" --shots "$SHOTS" \
        --workdir "$WORK"; then
    echo "horizon-browser: Horizon log tail ($WORK/horizon.log):" >&2
    grep -v ' "GET /static/' "$WORK/horizon.log" | tail -40 >&2
    exit 1
fi
# Passed: keep nothing (a failed run keeps its logs and screenshot).
stop_horizon
trap - EXIT
rm -rf "$WORK"
echo "horizon-browser: passed"
