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
"""Fixtures: a real SMTP server, the HTTP cloud stand-in, real databases."""

import pytest

from osvmexpire import context
from osvmexpire import expiration
from osvmexpire.cleaner import cycle
from tests import fixtures
from tests.functional.cleaner import servers
from tests.unit.cleaner import fakes


@pytest.fixture
def smtp():
    server = servers.SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def cloud():
    c = servers.FakeCloud().start()
    for user in ('u1', 'u2'):
        c.add_user(user)
    for project in ('p1', 'p2'):
        c.add_project(project)
    yield c
    c.stop()


class Env:
    """A cleaner wired to real servers: DB, SMTP, Keystone/Nova over HTTP."""

    def __init__(self, db, smtp, cloud, **overrides):
        self.db = db
        self.smtp = smtp
        self.cloud = cloud
        self.ctx = context.get_admin_context()
        self.settings = expiration.Settings()
        self.clock = fakes.Clock()
        self.overrides = dict({
            'smtp.email_smtp_host': '127.0.0.1',
            'smtp.email_smtp_port': smtp.port if smtp else 1,
            'smtp.email_smtp_timeout': 5.0,
            'smtp.email_smtp_from': 'cloud-expiry@example.org',
            'smtp.horizon_url': 'https://horizon.example.org/project/'
                                'vmexpires/',
        }, **overrides)

    def conf(self, timeout=3, **more):
        conf = self.db.config(**dict(self.overrides, **more))
        return self.cloud.configure(conf, timeout=timeout)

    def cycle(self, owner_id='cleaner-a', clock=None, timeout=3, **more):
        return cycle.Cycle(self.conf(timeout=timeout, **more),
                           context.get_admin_context(),
                           clock=clock or self.clock, owner_id=owner_id)

    def run(self, **more):
        return self.cycle(**more).run()

    def vm(self, instance_id, server=True, locked=False, **kw):
        row = fakes.make_vm(self.ctx, self.settings, instance_id, **kw)
        if server:
            self.cloud.add_server(instance_id, row.project_id, locked=locked)
        return row

    def overdue(self, instance_id='vm', **kw):
        T0, DAY = fakes.T0, fakes.DAY
        return self.vm(instance_id, expire_at=T0 - DAY,
                       notified_at=T0 - 11 * DAY,
                       notified_last_at=T0 - 3 * DAY, **kw)


@pytest.fixture
def env(sqlite_db, smtp, cloud):
    return Env(sqlite_db, smtp, cloud)


@pytest.fixture(params=['mysql', 'postgresql'])
def server_env(request, smtp, cloud):
    """MariaDB and PostgreSQL (the concurrency tests)."""
    with fixtures.Database(request.param) as db:
        yield Env(db, smtp, cloud)
