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
"""``vm add`` and ``vm sync`` on a real database, with Nova replaced by an
in-memory stand-in of novaclient's ``servers`` manager. The same commands
run against the real Nova of the local cloud in tools/cloud.d/10-osc.sh.
"""

import types
import uuid

import pytest
from novaclient import exceptions as nova_exc

from osvmexpire import clients
from osvmexpire.db import api as db_api
from tests.functional.manage.test_manage import Cli
from tests.functional.manage.test_manage import _write_conf


class FakeServers:
    def __init__(self):
        self.servers = {}
        self.broken = False

    def add(self, project='p1', user='u1', name='srv'):
        sid = str(uuid.uuid4())
        self.servers[sid] = types.SimpleNamespace(
            id=sid, name=name, tenant_id=project, user_id=user,
            created='2026-01-01T00:00:00Z')
        return sid

    def get(self, sid):
        if self.broken:
            raise nova_exc.ClientException(503, 'nova is down')
        if sid not in self.servers:
            raise nova_exc.NotFound(404, 'Instance %s could not be found.'
                                    % sid)
        return self.servers[sid]

    def list(self, detailed=True, search_opts=None, limit=None, marker=None):
        if self.broken:
            raise nova_exc.ClientException(503, 'nova is down')
        ids = sorted(self.servers)
        if marker is not None:
            ids = [i for i in ids if i > marker]
        return [self.servers[i] for i in ids[:limit]]


@pytest.fixture
def nova(monkeypatch):
    fake = types.SimpleNamespace(servers=FakeServers())
    monkeypatch.setattr(clients, 'get_nova', lambda conf, **kw: fake)
    return fake.servers


@pytest.fixture
def cli(any_db, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(db_api, '_configured', True)
    return Cli(any_db, _write_conf(tmp_path, any_db.url), capsys)


def test_vm_add(cli, nova):
    sid = nova.add(project='pX', user='uX', name='web-1')
    shown = cli.json('vm', 'add', sid)
    assert shown['instance_id'] == sid and shown['instance_name'] == 'web-1'
    assert shown['project_id'] == 'pX' and shown['user_id'] == 'uX'
    row = db_api.get_vmexpire_by_instance(cli.ctx, sid)
    assert shown['id'] == row.id
    event = db_api.list_events(cli.ctx, instance_id=sid)[0]
    assert event.event == 'created'
    assert event.actor.startswith('osvmexpire-manage:')
    rc, _, err = cli('vm', 'add', sid)
    assert rc == 1 and 'already has an expiration' in err
    missing = str(uuid.uuid4())
    rc, out, err = cli('vm', 'add', missing)
    assert rc == 1 and out == ''
    assert err.strip() == ('osvmexpire-manage: error: server %s not found '
                           'in Nova' % missing)
    nova.broken = True
    rc, _, err = cli('vm', 'add', nova.add())
    assert rc == 1 and 'nova is down' in err and err.count('\n') == 1
    assert len(db_api.list_vmexpires(cli.ctx)[0]) == 1


def test_vm_sync(cli, nova):
    tracked = nova.add()
    cli.json('vm', 'add', tracked)
    new = [nova.add(project='pN') for _ in range(3)]
    gone = cli.add()        # a record whose server Nova does not know
    counts = cli.json('vm', 'sync')
    assert counts == {'created': 3, 'closed': 1, 'unchanged': 1,
                      'skipped': 0}
    ids = {r.instance_id for r in db_api.list_vmexpires(cli.ctx)[0]}
    assert ids == {tracked, *new}
    assert db_api.list_events(cli.ctx, instance_id=gone.instance_id)[-1]\
        .event == 'closed'
    rc, out, _ = cli('vm', 'sync')
    assert rc == 0 and 'unchanged' in out and '4' in out
    nova.broken = True
    rc, out, err = cli('vm', 'sync')
    assert rc == 1 and 'cannot list servers' in err
    assert len(db_api.list_vmexpires(cli.ctx)[0]) == 4


def test_no_service_credentials(sqlite_db, tmp_path, capsys, monkeypatch):
    """Without [service_credentials] Nova cannot be asked: one line, rc 1,
    and nothing is written."""
    monkeypatch.setattr(db_api, '_configured', True)
    cli = Cli(sqlite_db, _write_conf(tmp_path, sqlite_db.url), capsys)
    server = str(uuid.uuid4())
    rc, out, err = cli('vm', 'add', server)
    assert (rc, out) == (1, '')
    assert err.startswith('osvmexpire-manage: error: cannot read server %s '
                          'from Nova: ' % server) and err.count('\n') == 1
    rc, out, err = cli('vm', 'sync')
    assert rc == 1 and 'cannot list servers from Nova' in err
    assert db_api.list_vmexpires(cli.ctx)[1] == 0
    assert db_api.list_events(cli.ctx) == []
