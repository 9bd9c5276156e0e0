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
"""Fixtures: a cleaner Cycle on SQLite with fake clients and a fixed clock."""

import pytest

from osvmexpire.cleaner import cycle
from tests.unit.cleaner import fakes


class Env:
    """Everything a test needs to drive cycles."""

    def __init__(self, db, ctx, settings, **overrides):
        self.db = db
        self.ctx = ctx
        self.settings = settings
        self.clock = fakes.Clock()
        self.nova = fakes.Nova()
        self.keystone = fakes.Keystone()
        self.mailer = fakes.Mailer()
        self.overrides = dict({'cleaner.nova_concurrency': 2}, **overrides)
        self.keystone.add_user('u1')
        self.keystone.add_user('u2')
        self.keystone.add_project('p1')
        self.keystone.add_project('p2')

    def conf(self, **more):
        return self.db.config(**dict(self.overrides, **more))

    def cycle(self, owner_id='cleaner-a', conf=None, **more):
        return cycle.Cycle(conf or self.conf(**more), self.ctx,
                           nova=self.nova, keystone=self.keystone,
                           mailer=self.mailer, clock=self.clock,
                           owner_id=owner_id)

    def run(self, **more):
        return self.cycle(**more).run()

    def vm(self, instance_id, server=True, locked=False, **kw):
        row = fakes.make_vm(self.ctx, self.settings, instance_id, **kw)
        if server:
            self.nova.servers.add(instance_id, row.project_id, locked=locked)
        return row


@pytest.fixture
def env(sqlite_db, admin_ctx, settings):
    return Env(sqlite_db, admin_ctx, settings)
