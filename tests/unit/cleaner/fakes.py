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
"""Fake Nova, Keystone, mailer and clock for the cleaner's unit tests."""

import datetime
import threading

from keystoneauth1 import exceptions as ks_exc
from novaclient import exceptions as nova_exc
from sqlalchemy import update

from osvmexpire import expiration
from osvmexpire.db import api as db_api
from osvmexpire.db import models
from osvmexpire.notifier import mail

T0 = datetime.datetime(2030, 6, 1, 12, 0, 0)
DAY = datetime.timedelta(days=1)


class Clock:
    def __init__(self, now=T0):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, **kw):
        self.now += datetime.timedelta(**kw)


class Server:
    def __init__(self, id, tenant_id, locked=False, status='ACTIVE'):
        self.id = id
        self.tenant_id = tenant_id
        self.locked = locked
        self.status = status


class Servers:
    def __init__(self):
        self.servers = {}
        self.calls = []
        self.deleted = []
        self.fail_get = None
        self.fail_delete = None
        self.on_get = None
        self.lock = threading.Lock()

    def add(self, id, project, **kw):
        self.servers[id] = Server(id, project, **kw)

    def get(self, id):
        with self.lock:
            self.calls.append(('get', id))
        if self.on_get:
            self.on_get(id)
        if self.fail_get is not None:
            raise self.fail_get
        if id not in self.servers:
            raise nova_exc.NotFound(404, 'Instance %s could not be found.'
                                    % id)
        return self.servers[id]

    def delete(self, id):
        with self.lock:
            self.calls.append(('delete', id))
        if self.fail_delete is not None:
            raise self.fail_delete
        with self.lock:
            if id not in self.servers:
                raise nova_exc.NotFound(404, 'gone')
            del self.servers[id]
            self.deleted.append(id)


class Nova:
    def __init__(self):
        self.servers = Servers()


class _Obj:
    def __init__(self, **kw):
        self.__dict__.update(kw)


class _Manager:
    def __init__(self, owner, kind):
        self.owner = owner
        self.kind = kind
        self.items = {}

    def get(self, ident):
        self.owner.calls.append((self.kind, ident))
        if self.owner.down:
            raise ks_exc.ConnectFailure('Unable to establish connection')
        if ident not in self.items:
            raise ks_exc.NotFound('Could not find %s %s' % (self.kind,
                                                            ident))
        return self.items[ident]


class Keystone:
    def __init__(self):
        self.down = False
        self.calls = []
        self.users = _Manager(self, 'user')
        self.projects = _Manager(self, 'project')

    def add_user(self, id, email='%s@example.org', domain_id='default',
                 name=None):
        if email and '%s' in email:
            email = email % id
        self.users.items[id] = _Obj(id=id, name=name or id, email=email,
                                    domain_id=domain_id)

    def add_project(self, id, name=None, domain_id='default'):
        self.projects.items[id] = _Obj(id=id, name=name or 'name-' + id,
                                       domain_id=domain_id)


class Mailer:
    """Records (message, bcc); ``fail`` raises MailError for every mail."""

    def __init__(self):
        self.sent = []
        self.fail = None
        self.server_down = False
        self.attempts = 0
        self.before_send = None
        self.lock = threading.Lock()

    def send(self, msg, bcc=()):
        self.attempts += 1
        if self.before_send:
            self.before_send(msg)
        if self.fail is not None:
            raise mail.MailError(self.fail, server_down=self.server_down)
        with self.lock:
            self.sent.append((msg, list(bcc)))

    def to(self, addr):
        return [m for m, _ in self.sent if m['To'] == addr]


def make_vm(ctx, settings, instance_id, *, project='p1', user='u1',
            created_at=None, expire_at, notified_at=None,
            notified_last_at=None, domain_id=None, name=None):
    """A tracked server with a given warning state."""
    row = db_api.create_vmexpire(
        ctx, instance_id=instance_id, project_id=project,
        expire_at=expire_at, settings=settings,
        instance_name=name or 'vm-' + instance_id, user_id=user,
        domain_id=domain_id,
        created_at=created_at or expire_at - 60 * DAY)
    if notified_at or notified_last_at:
        set_state(row.id, settings, notified_at=notified_at,
                  notified_last_at=notified_last_at)
    return db_api.get_vmexpire(ctx, row.id)


def set_state(row_id, settings, **values):
    """Write warning state (and the matching next_action_at) directly."""
    engine = db_api.get_engine()
    with engine.begin() as conn:
        row = conn.execute(models.VmExpire.__table__.select().where(
            models.VmExpire.id == row_id)).one()
        merged = dict(row._mapping, **values)
        probe = _Probe(merged['expire_at'], merged['notified_at'],
                       merged['notified_last_at'])
        values['next_action_at'] = expiration.next_step(probe, settings).at
        conn.execute(update(models.VmExpire).where(
            models.VmExpire.id == row_id).values(**values))


class _Probe:
    def __init__(self, expire_at, notified_at, notified_last_at):
        self.expire_at = expire_at
        self.notified_at = notified_at
        self.notified_last_at = notified_last_at


def row_state(ctx, row_id):
    """Every column of a row (None if gone), for before/after checks."""
    engine = db_api.get_engine()
    with engine.connect() as conn:
        row = conn.execute(models.VmExpire.__table__.select().where(
            models.VmExpire.id == row_id)).first()
    return dict(row._mapping) if row is not None else None


def events(ctx, instance_id, kind=None):
    return [e for e in db_api.list_events(ctx, instance_id=instance_id)
            if kind is None or e.event == kind]
