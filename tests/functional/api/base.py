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
"""In-process API for tests: the real stack with noauth, a real database.

Identities are the headers auth_token would set. Seeded records:
three in project p1 (user u1, u1, u2), one in p2.
"""

import datetime
import json
import uuid

import webtest

from osvmexpire import context
from osvmexpire import expiration
from osvmexpire.api import app
from osvmexpire.db import api as db_api

P1 = 'p1'
P2 = 'p2'
ADMIN = {'X-Project-Id': 'adminproj', 'X-User-Id': 'admin-user',
         'X-Roles': 'admin,member,reader'}
MEMBER = {'X-Project-Id': P1, 'X-User-Id': 'u1', 'X-Roles': 'member,reader'}
READER = {'X-Project-Id': P1, 'X-User-Id': 'r1', 'X-Roles': 'reader'}
OTHER = {'X-Project-Id': P2, 'X-User-Id': 'u9', 'X-Roles': 'member,reader'}

ERROR_KEYS = {'code', 'title', 'description'}


def make_app(db, **overrides) -> webtest.TestApp:
    conf = db.config(**dict({'api.auth_strategy': 'noauth'}, **overrides))
    return webtest.TestApp(app.setup_app(conf))


def seed(conf=None) -> dict:
    """Records a test can rely on; returns {name: row}."""
    settings = expiration.Settings()
    ctx = context.get_admin_context()
    now = db_api.utcnow()
    rows = {}
    spec = [('a', P1, 'u1', 20), ('b', P1, 'u1', 40), ('c', P1, 'u2', 50),
            ('d', P2, 'u9', 10)]
    for name, project, user, days in spec:
        rows[name] = db_api.create_vmexpire(
            ctx, instance_id=str(uuid.uuid4()), project_id=project,
            user_id=user, domain_id='default', instance_name='vm-' + name,
            expire_at=now + datetime.timedelta(days=days),
            created_at=now - datetime.timedelta(days=1), settings=settings)
    return rows


def assert_error(resp, code: int) -> dict:
    """The answer is the JSON error document with this code."""
    assert resp.status_int == code, (resp.status, resp.body[:500])
    assert resp.content_type == 'application/json', resp.headers
    body = json.loads(resp.body)
    assert set(body) == ERROR_KEYS, body
    assert body['code'] == code
    assert body['description'] and 'Traceback' not in resp.text
    return body


def events_of(row_id: str) -> list:
    return db_api.list_events(context.get_admin_context(),
                              vmexpire_id=row_id)
