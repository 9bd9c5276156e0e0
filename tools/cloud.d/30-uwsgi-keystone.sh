#!/bin/bash
# The API under the uwsgi emperor, started from the shipped vassal
# (etc/uwsgi/osvmexpire-api.ini) with the emperor command of the install
# guide, paths made temporary, reading the local cloud's osvmexpire.conf:
# real keystonemiddleware auth_token against the cloud's Keystone. Lists the
# records of CLOUD_PROJECT1 with a real token of CLOUD_USER1 (member), is
# refused (403) the list of CLOUD_PROJECT2 with the same token, then stops
# the emperor with SIGTERM (tools/deploy/emperor_check.py).
set -euo pipefail
# shellcheck disable=SC1090
source "$CLOUD_ENV_FILE"
cd "$(dirname "$0")/../.."
ROOT=$PWD
VENV=$ROOT/.venv
TMP=$(mktemp -d /tmp/osvmexpire-uwsgi-ks.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

if ! "$VENV/bin/uwsgi" --version >/dev/null 2>&1; then
    PIP_DISABLE_PIP_VERSION_CHECK=1 "$VENV/bin/pip" install -q 'uWSGI>=2.0.22' 2>&1 \
        | grep -v '^WARNING: Location' || true
fi

"$VENV/bin/python" - "$TMP/token" <<'PY'
import json
import os
import sys
import urllib.request

body = {'auth': {
    'identity': {'methods': ['password'], 'password': {'user': {
        'name': os.environ['CLOUD_USER1'], 'domain': {'id': 'default'},
        'password': os.environ['CLOUD_PASSWORD1']}}},
    'scope': {'project': {'name': os.environ['CLOUD_PROJECT1'],
                          'domain': {'id': 'default'}}}}}
req = urllib.request.Request(
    os.environ['OS_AUTH_URL'].rstrip('/') + '/auth/tokens',
    data=json.dumps(body).encode(),
    headers={'Content-Type': 'application/json'})
with urllib.request.urlopen(req, timeout=30) as resp:
    token = resp.headers['X-Subject-Token']
with open(sys.argv[1], 'w') as f:
    f.write(token)
print('token of %s in %s: %d characters' % (
    os.environ['CLOUD_USER1'], os.environ['CLOUD_PROJECT1'], len(token)))
PY

"$VENV/bin/python" tools/deploy/emperor_check.py \
    --uwsgi "$VENV/bin/uwsgi" --vassal etc/uwsgi/osvmexpire-api.ini \
    --config "$OSVMEXPIRE_CONFIG" --workdir "$TMP/emperor" \
    --project "$CLOUD_PROJECT1_ID" --other-project "$CLOUD_PROJECT2_ID" \
    --header "X-Auth-Token: $(cat "$TMP/token")"
