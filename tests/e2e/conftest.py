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
"""Fixtures of the end-to-end suite: users, mailbox, admin tools.

The suite needs the local cloud (``python3 tools/localcloud.py up``) and
fails at once, loudly, when it is not up: it never skips.
"""

import uuid

import pytest

from tests.e2e import cloud


@pytest.fixture(scope='session')
def env():
    try:
        return cloud.read_env()
    except cloud.CloudNotUp as exc:
        pytest.fail('the local cloud is not up: %s' % exc, pytrace=False)


@pytest.fixture(scope='session')
def alice(env):
    return cloud.User(env, env['CLOUD_USER1'], env['CLOUD_PASSWORD1'],
                      env['CLOUD_PROJECT1'])


@pytest.fixture(scope='session')
def bob(env):
    return cloud.User(env, env['CLOUD_USER2'], env['CLOUD_PASSWORD2'],
                      env['CLOUD_PROJECT2'])


@pytest.fixture(scope='session')
def carol(env):
    return cloud.User(env, env['CLOUD_READER'], env['CLOUD_READER_PASSWORD'],
                      env['CLOUD_READER_PROJECT'])


@pytest.fixture(scope='session')
def admin_user(env):
    return cloud.User(env, env['CLOUD_ADMIN_USER'],
                      env['CLOUD_ADMIN_PASSWORD'], env['CLOUD_ADMIN_PROJECT'])


@pytest.fixture(scope='session')
def mailbox(env):
    return cloud.Mailbox(env['CLOUD_MAIL_DIR'])


@pytest.fixture(scope='session')
def admin(env):
    return cloud.Admin(env)


@pytest.fixture
def servers(alice):
    """Boot alice's servers by name; whatever is left is deleted after."""
    booted = []

    def boot(prefix: str = 'e2e', wait_active: bool = True):
        server = alice.boot('%s-%s' % (prefix, uuid.uuid4().hex[:8]),
                            wait_active=wait_active)
        booted.append(server.id)
        return server

    yield boot
    for server_id in booted:
        alice.delete_quietly(server_id)


@pytest.fixture
def worker_stopped(admin):
    """osvmexpire-worker stopped for the test, started again after."""
    admin.service('stop', 'osvmexpire-worker')
    try:
        yield
    finally:
        admin.service('start', 'osvmexpire-worker')
