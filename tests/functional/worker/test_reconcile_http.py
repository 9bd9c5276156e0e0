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
"""Reconciliation through the real client stack: [service_credentials]
-> keystoneauth1 session -> python-novaclient -> HTTP, against a small
Nova stand-in that answers the compute API calls reconciliation makes the
way Nova does (sorting, max_limit, markers, 404s). End to end against a
real Nova is in tests/e2e."""

import datetime
import json
import threading
import urllib.parse
from http import server as http_server

import pytest

from osvmexpire import context
from osvmexpire import exception
from osvmexpire import expiration
from osvmexpire import service
from osvmexpire.cleaner import reconcile
from osvmexpire.db import api as db_api
from tests.functional.worker.conftest import instance_ids

NOW = datetime.datetime(2030, 6, 1, 12, 0, 0)
DAY = datetime.timedelta(days=1)
TOKEN = 'stand-in-admin-token'


class NovaStandIn(http_server.ThreadingHTTPServer):
    """GET /v2.1/servers/detail and /v2.1/servers/{id} on 127.0.0.1."""

    daemon_threads = True

    def __init__(self):
        super().__init__(('127.0.0.1', 0), _Handler)
        self.servers = {}
        self.max_limit = 1000
        self.fail = None          # (status, body) for every request
        self.requests = []
        self.endpoint = 'http://127.0.0.1:%d/v2.1' % self.server_address[1]
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def add(self, sid, project='p1', user='u1', name=None,
            created='2030-01-01T00:00:00Z'):
        self.servers[sid] = {
            'id': sid, 'name': name or 'vm-' + sid, 'tenant_id': project,
            'user_id': user, 'created': created, 'updated': created,
            'status': 'ACTIVE', 'metadata': {}, 'links': []}

    def ordered(self):
        """Nova's default order: created_at desc, then id desc."""
        return sorted(self.servers.values(),
                      key=lambda s: (s['created'], s['id']), reverse=True)


class _Handler(http_server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _send(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        nova = self.server
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        nova.requests.append((url.path, query,
                              self.headers.get('X-Auth-Token')))
        if self.headers.get('X-Auth-Token') != TOKEN:
            return self._send(401, {'error': {'message': 'unauthorized'}})
        if nova.fail:
            return self._send(*nova.fail)
        if url.path == '/v2.1/servers/detail':
            if query.get('all_tenants') != '1':
                return self._send(400, {'badRequest': {
                    'code': 400, 'message': 'reconcile must list all'}})
            servers = nova.ordered()
            if 'marker' in query:
                ids = [s['id'] for s in servers]
                if query['marker'] not in ids:
                    return self._send(400, {'badRequest': {
                        'code': 400, 'message': 'marker [%s] not found'
                        % query['marker']}})
                servers = servers[ids.index(query['marker']) + 1:]
            limit = min(int(query.get('limit', nova.max_limit)),
                        nova.max_limit)
            return self._send(200, {'servers': servers[:limit]})
        prefix = '/v2.1/servers/'
        if url.path.startswith(prefix):
            sid = url.path[len(prefix):]
            if sid in nova.servers:
                return self._send(200, {'server': nova.servers[sid]})
            return self._send(404, {'itemNotFound': {
                'code': 404, 'message': 'Instance %s could not be found.'
                % sid}})
        return self._send(404, {'itemNotFound': {'code': 404,
                                                 'message': 'no route'}})


@pytest.fixture
def nova():
    stand_in = NovaStandIn()
    yield stand_in
    stand_in.shutdown()
    stand_in.server_close()


@pytest.fixture
def conf(any_db, nova, tmp_path):
    """A configuration file as an operator writes it; keystoneauth's
    admin_token plugin stands in for Keystone."""
    path = tmp_path / 'osvmexpire.conf'
    path.write_text('\n'.join([
        '[database]', 'connection = %s' % any_db.url,
        '[service_credentials]', 'auth_type = admin_token',
        'endpoint = %s' % nova.endpoint, 'token = %s' % TOKEN,
        'timeout = 5']) + '\n')
    c = service.new_config()
    c(['--config-file', str(path)], project='os-vm-expire',
      default_config_files=[])
    return c


def track(ctx, iid):
    return db_api.create_vmexpire(
        ctx, instance_id=iid, project_id='p1', expire_at=NOW + 5 * DAY,
        settings=expiration.Settings())


def test_reconcile_over_http(conf, any_db, nova):
    ctx = context.get_admin_context()
    for i in range(7):
        nova.add('srv-%d' % i, created='2030-01-0%dT00:00:00Z' % (i + 1))
    nova.max_limit = 3
    track(ctx, 'srv-0')
    track(ctx, 'gone-a')
    track(ctx, 'gone-b')
    counts = reconcile.reconcile(conf, ctx, now=NOW, page_size=50)
    assert counts == {'created': 6, 'closed': 2, 'unchanged': 1,
                      'skipped': 0}
    assert instance_ids(any_db) == {'srv-%d' % i for i in range(7)}
    listing = [q for p, q, _ in nova.requests if p.endswith('/detail')]
    # pages of 3 (Nova's max_limit), then the empty page that ends it
    assert len(listing) == 4
    assert [q.get('marker') for q in listing] == [None, 'srv-4', 'srv-1',
                                                  'srv-0']
    gets = sorted(p.rsplit('/', 1)[1] for p, _, _ in nova.requests
                  if not p.endswith('/detail'))
    assert gets == ['gone-a', 'gone-b']
    row = db_api.get_vmexpire_by_instance(ctx, 'srv-6')
    assert row.expire_at == NOW + 60 * DAY
    assert row.created_at == datetime.datetime(2030, 1, 7)
    assert reconcile.reconcile(conf, ctx, now=NOW) == {
        'created': 0, 'closed': 0, 'unchanged': 7, 'skipped': 0}


@pytest.mark.parametrize('status', [500, 503, 401])
def test_nova_error_closes_nothing(conf, any_db, nova, status):
    ctx = context.get_admin_context()
    nova.add('srv-new')
    track(ctx, 'srv-gone')
    nova.fail = (status, {'computeFault': {'code': status,
                                           'message': 'boom'}})
    with pytest.raises(reconcile.NovaError):
        reconcile.reconcile(conf, ctx, now=NOW)
    assert instance_ids(any_db) == {'srv-gone'}


def test_nova_unreachable_closes_nothing(conf, any_db, nova):
    ctx = context.get_admin_context()
    track(ctx, 'srv-gone')
    nova.shutdown()
    nova.server_close()
    with pytest.raises(reconcile.NovaError, match='cannot list servers'):
        reconcile.reconcile(conf, ctx, now=NOW)
    assert instance_ids(any_db) == {'srv-gone'}
    with pytest.raises(reconcile.NovaError, match='cannot read server'):
        reconcile.track_server(conf, ctx, 'srv-x')


def test_server_deleted_while_listing(conf, any_db, nova):
    """The page marker vanished mid-listing: Nova answers 400, the pass
    fails as a whole and closes nothing."""
    ctx = context.get_admin_context()
    for i in range(4):
        nova.add('srv-%d' % i, created='2030-01-0%dT00:00:00Z' % (i + 1))
    track(ctx, 'srv-gone')
    nova.max_limit = 2
    real = _Handler.do_GET

    def delete_marker_after_first_page(handler):
        real(handler)
        if len(nova.requests) == 1:
            nova.servers.pop('srv-2')
    _Handler.do_GET = delete_marker_after_first_page
    try:
        with pytest.raises(reconcile.NovaError, match='marker'):
            reconcile.reconcile(conf, ctx, now=NOW)
    finally:
        _Handler.do_GET = real
    assert instance_ids(any_db) == {'srv-gone'}


def test_track_server_over_http(conf, any_db, nova):
    ctx = context.get_admin_context()
    nova.add('srv-1', project='p7', user='u7', name='db-1')
    row = reconcile.track_server(conf, ctx, 'srv-1', actor='admin', now=NOW)
    assert (row.project_id, row.user_id, row.instance_name) == (
        'p7', 'u7', 'db-1')
    with pytest.raises(exception.NotFound):
        reconcile.track_server(conf, ctx, 'srv-none')
    with pytest.raises(exception.Duplicate):
        reconcile.track_server(conf, ctx, 'srv-1')
    events = db_api.list_events(ctx, instance_id='srv-1')
    assert [(e.event, e.actor) for e in events] == [('created', 'admin')]
