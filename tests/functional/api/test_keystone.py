# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.
"""The access matrix with a real Keystone and the real auth_token.

Keystone 30 (PyPI) runs under gunicorn on 127.0.0.1 with fernet tokens;
the API runs with ``auth_strategy = keystone`` in-process (WebTest) and,
for the last test, under ``gunicorn osvmexpire.api.wsgi:application``.
Every route is called as: admin, member of the owning project, reader of
it, member of another project, without a token and with an invalid token.
"""

import datetime
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from unittest import mock

import pytest
import webtest

from osvmexpire import context
from osvmexpire import expiration
from osvmexpire import service
from osvmexpire.api import app as api_app
from osvmexpire.db import api as db_api
from tests import fixtures
from tests.functional.api import base
from tests.functional.api import keystone_server

WHO = ('admin', 'member', 'reader', 'other', 'none', 'invalid')


@pytest.fixture(scope='module')
def keystone():
    with keystone_server.Keystone() as ks:
        yield ks


@pytest.fixture(scope='module')
def cloud(keystone):
    """Tokens, the API configuration file and a database."""
    db = fixtures.Database('sqlite')
    conf_file = os.path.join(keystone.dir, 'osvmexpire.conf')
    with open(conf_file, 'w') as f:
        f.write('[database]\nconnection = %s\n[api]\nauth_strategy = '
                'keystone\n' % db.url)
        f.write(keystone.authtoken_section())
    tokens = {
        'admin': keystone.token('admin', 'admin'),
        'member': keystone.token('member', 'owner'),
        'reader': keystone.token('reader', 'owner'),
        'other': keystone.token('other', 'other'),
        'none': None,
        'invalid': 'gAAAAAB' + uuid.uuid4().hex * 4,
    }
    try:
        yield {'ks': keystone, 'db': db, 'conf_file': conf_file,
               'tokens': tokens, 'owner': keystone.ids['project:owner'],
               'other': keystone.ids['project:other']}
    finally:
        db.cleanup()


def _conf(conf_file):
    conf = service.new_config()
    conf([], project='os-vm-expire', default_config_files=[conf_file])
    return conf


def _record(project_id: str, user_id: str, days: int = 20):
    now = db_api.utcnow()
    return db_api.create_vmexpire(
        context.get_admin_context(), instance_id=str(uuid.uuid4()),
        project_id=project_id, user_id=user_id, instance_name='vm',
        expire_at=now + datetime.timedelta(days=days),
        settings=expiration.Settings())


def _fake_track(conf, ctx, instance_id, nova=None, actor=None):
    return db_api.create_vmexpire(
        ctx, instance_id=instance_id, project_id='owner-of-' + instance_id,
        expire_at=db_api.utcnow() + datetime.timedelta(days=60),
        settings=expiration.Settings(), actor=actor)


# The expected answer of each route for: admin, member, reader, other,
# no token, invalid token. "own:" routes use the caller's own project in
# the path (the cross-project attempt: other's path, owner's record).
MATRIX = [
    ('GET /', (300, 300, 300, 300, 300, 300)),
    ('GET /healthcheck', (200, 200, 200, 200, 200, 200)),
    ('GET /v1/', (200, 200, 200, 200, 401, 401)),
    ('GET /v1/{p}/vmexpires/', (200, 200, 200, 403, 401, 401)),
    ('GET /v1/{p}/vmexpires/?all_tenants=1', (200, 403, 403, 403, 401, 401)),
    ('GET /v1/{p}/vmexpires/{rec}', (200, 200, 200, 403, 401, 401)),
    ('GET own:/v1/{own}/vmexpires/{rec}', (200, 200, 200, 404, 401, 401)),
    ('GET /v1/{p}/vmexpires/{rec}/events', (200, 200, 200, 403, 401, 401)),
    ('GET own:/v1/{own}/vmexpires/{rec}/events',
     (200, 200, 200, 404, 401, 401)),
    ('PUT /v1/{p}/vmexpires/{rec}', (202, 202, 403, 403, 401, 401)),
    ('PUT own:/v1/{own}/vmexpires/{rec}', (202, 202, 403, 404, 401, 401)),
    ('DELETE own:/v1/{own}/vmexpires/{rec}', (204, 403, 403, 404, 401, 401)),
    ('DELETE /v1/{p}/vmexpires/{rec}', (204, 403, 403, 403, 401, 401)),
    ('POST /v1/{p}/vmexpires/{new}', (202, 403, 403, 403, 401, 401)),
    ('GET /v1/{p}/vmexcludes/', (200, 403, 403, 403, 401, 401)),
    ('POST /v1/{p}/vmexcludes/', (202, 403, 403, 403, 401, 401)),
    ('GET /v1/{p}/vmexcludes/{excl}', (200, 403, 403, 403, 401, 401)),
    ('DELETE /v1/{p}/vmexcludes/{excl}', (204, 403, 403, 403, 401, 401)),
]

OWN_PROJECT = {'admin': 'project:admin', 'member': 'project:owner',
               'reader': 'project:owner', 'other': 'project:other',
               'none': 'project:owner', 'invalid': 'project:owner'}


def _call(api, cloud, route: str, who: str):
    """Make one request of the matrix with fresh records; return it."""
    method, _, path = route.partition(' ')
    path = path.removeprefix('own:')
    ids = cloud['ks'].ids
    rec = _record(cloud['owner'], ids['member'])
    excl = db_api.create_exclude(context.get_admin_context(), 'user',
                                 uuid.uuid4().hex)
    path = path.format(p=cloud['owner'], own=ids[OWN_PROJECT[who]],
                       rec=rec.id, new=uuid.uuid4(), excl=excl.id)
    headers = {}
    if cloud['tokens'][who]:
        headers['X-Auth-Token'] = cloud['tokens'][who]
    body = None
    if method == 'POST' and 'vmexcludes' in path:
        body = json.dumps({'id': uuid.uuid4().hex, 'type': 'project'})
    elif method == 'PUT':
        body = json.dumps({'days': 30})
    if body:
        headers['Content-Type'] = 'application/json'
    resp = api.request(path, method=method, body=(body or '').encode(),
                       headers=headers, expect_errors=True)
    return resp, rec


def test_access_matrix(cloud, capsys):
    api = webtest.TestApp(api_app.setup_app(_conf(cloud['conf_file'])))
    table, wrong = [], []
    with mock.patch('osvmexpire.cleaner.reconcile.track_server',
                    side_effect=_fake_track):
        for route, expected in MATRIX:
            got = []
            for who, want in zip(WHO, expected, strict=True):
                resp, rec = _call(api, cloud, route, who)
                got.append(resp.status_int)
                if resp.status_int >= 400:
                    body = base.assert_error(resp, resp.status_int)
                    assert 'Traceback' not in body['description']
                if resp.status_int == 401:
                    assert 'WWW-Authenticate' in resp.headers
                stored = db_api.list_vmexpires(context.get_admin_context(),
                                               instance_id=rec.instance_id)
                changed = (not stored[0]
                           or stored[0][0].expire_at != rec.expire_at)
                if route.startswith(('PUT', 'DELETE /v1/{p}/vmexpires',
                                     'DELETE own')) and resp.status_int >= 400:
                    assert not changed, (route, who)
                if resp.status_int != want:
                    wrong.append((route, who, want, resp.status_int,
                                  resp.text[:200]))
            table.append((route, got))
    with capsys.disabled():
        print('\naccess matrix (%s):' % ', '.join(WHO))
        for route, got in table:
            print('  %-45s %s' % (route, ' '.join(str(c) for c in got)))
    assert not wrong, wrong


def test_token_project_and_user_are_recorded(cloud):
    """The audit trail names the Keystone user who extended a record."""
    api = webtest.TestApp(api_app.setup_app(_conf(cloud['conf_file'])))
    ids = cloud['ks'].ids
    rec = _record(cloud['owner'], ids['member'], days=5)
    api.put_json('/v1/%s/vmexpires/%s' % (cloud['owner'], rec.id),
                 {'days': 10}, headers={'X-Auth-Token':
                                        cloud['tokens']['member']},
                 status=202)
    events = api.get('/v1/%s/vmexpires/%s/events' % (cloud['owner'], rec.id),
                     headers={'X-Auth-Token': cloud['tokens']['reader']},
                     status=200).json['events']
    assert [e['event'] for e in events] == ['created', 'extended']
    assert events[1]['actor'] == ids['member']
    # Forged identity headers are ignored: auth_token replaces them.
    resp = api.get('/v1/%s/vmexpires/' % cloud['owner'], headers={
        'X-Auth-Token': cloud['tokens']['other'], 'X-Project-Id':
        cloud['owner'], 'X-Roles': 'admin'}, expect_errors=True)
    base.assert_error(resp, 403)


def _get(url, token=None):
    req = urllib.request.Request(url, headers={'X-Auth-Token': token}
                                 if token else {})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b'null')
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b'null')


def test_gunicorn_serves_the_api(cloud):
    """``gunicorn osvmexpire.api.wsgi:application`` with real tokens."""
    port = keystone_server.free_port()
    env = dict(os.environ, OSVMEXPIRE_CONFIG=cloud['conf_file'])
    gunicorn = os.path.join(os.path.dirname(sys.executable), 'gunicorn')
    log = open(os.path.join(cloud['ks'].dir, 'api-gunicorn.log'), 'wb')
    proc = subprocess.Popen(
        [gunicorn, '--bind', '127.0.0.1:%d' % port, '--workers', '2',
         '--graceful-timeout', '3',
         '--no-control-socket', 'osvmexpire.api.wsgi:application'],
        env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True)
    url = 'http://127.0.0.1:%d' % port
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, 'gunicorn exited'
            try:
                status, body = _get(url + '/')
                break
            except OSError:
                assert time.monotonic() < deadline, 'API did not start'
                time.sleep(0.2)
        assert status == 300 and body['versions']['values'][0]['id'] == 'v1'
        rec = _record(cloud['owner'], cloud['ks'].ids['member'])
        path = '%s/v1/%s/vmexpires/' % (url, cloud['owner'])
        status, body = _get(path + '?instance_id=' + rec.instance_id,
                            cloud['tokens']['member'])
        assert status == 200
        assert [r['id'] for r in body['vmexpires']] == [rec.id]
        status, body = _get(path + rec.id, cloud['tokens']['reader'])
        assert status == 200 and body['vmexpire']['id'] == rec.id
        assert _get(path + rec.id, cloud['tokens']['other'])[0] == 403
        status, body = _get(path)
        assert status == 401 and body['code'] == 401
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(30)
        log.close()
