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
"""The request/response samples of the API reference stay true.

Each request sample in doc/source/api/samples is sent to the live app and
gets the documented status; each response sample has exactly the shape
(keys and JSON types, recursively) of the live answer. To rewrite the
samples from the live app::

    OSVMEXPIRE_WRITE_SAMPLES=1 pytest tests/functional/api/test_samples.py
"""

import datetime
import json
import os
from unittest import mock

import pytest
import webtest

from osvmexpire import context
from osvmexpire import expiration
from osvmexpire.api import app as api_app
from osvmexpire.db import api as db_api
from tests import fixtures

SAMPLES = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'doc',
                       'source', 'api', 'samples')
WRITE = os.environ.get('OSVMEXPIRE_WRITE_SAMPLES') == '1'

PROJECT = '9f3c2a6b1d7e4c0a8b5f2e1d3c4b5a69'
USER = '5e2d8c1b7a9f4e3d2c1b0a9f8e7d6c5b'
INSTANCE = '3b0e6c9a-52f1-4d7e-9a8b-1c2d3e4f5a6b'
NEW_INSTANCE = '7d4c2b1a-0f9e-4d8c-b7a6-5f4e3d2c1b0a'
MEMBER = {'X-Project-Id': PROJECT, 'X-User-Id': USER,
          'X-Roles': 'member,reader'}
ADMIN = {'X-Project-Id': 'e1de802aa8614ccf86e9c81916d4cf3d',
         'X-User-Id': 'a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5',
         'X-Roles': 'admin,member,reader'}


def shape(value):
    """Keys and JSON types, recursively; lists by their first element."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    if value is None:
        return 'null'
    return type(value).__name__


def _track(conf, ctx, instance_id, nova=None, actor=None):
    return db_api.create_vmexpire(
        ctx, instance_id=instance_id, project_id=PROJECT, user_id=USER,
        domain_id='default', instance_name='analysis-2',
        created_at=db_api.utcnow() - datetime.timedelta(days=3),
        expire_at=db_api.utcnow() + datetime.timedelta(days=60),
        settings=expiration.Settings(), actor=actor,
        detail={'source': 'admin'})


@pytest.fixture
def api():
    with fixtures.Database('sqlite') as db:
        conf = db.config(**{
            'api.auth_strategy': 'noauth',
            'api.public_endpoint': 'https://cloud.example.org:9411'})
        now = db_api.utcnow()
        row = db_api.create_vmexpire(
            context.get_admin_context(), instance_id=INSTANCE,
            project_id=PROJECT, user_id=USER, domain_id='default',
            instance_name='analysis-1',
            created_at=now - datetime.timedelta(days=52),
            expire_at=now + datetime.timedelta(days=8),
            settings=expiration.Settings())
        with mock.patch('osvmexpire.cleaner.reconcile.track_server',
                        side_effect=_track):
            yield webtest.TestApp(api_app.setup_app(conf)), row


def _request_sample(name):
    with open(os.path.join(SAMPLES, name)) as f:
        return f.read()


def _check(name, resp):
    path = os.path.join(SAMPLES, name)
    if WRITE:
        with open(path, 'w') as f:
            json.dump(resp.json, f, indent=4)
            f.write('\n')
        return
    with open(path) as f:
        sample = json.load(f)
    assert shape(sample) == shape(resp.json), name


def test_samples(api):
    app, row = api
    base = '/v1/%s/vmexpires/' % PROJECT
    json_headers = dict(MEMBER, **{'Content-Type': 'application/json'})
    _check('versions-response.json', app.get('/', status=300))
    _check('vmexpires-list-response.json',
           app.get(base + '?limit=1', headers=MEMBER, status=200))
    _check('vmexpire-show-response.json',
           app.get(base + row.id, headers=MEMBER, status=200))
    _check('vmexpire-extend-response.json', app.put(
        base + row.id, _request_sample('vmexpire-extend-request.json'),
        headers=json_headers, status=202))
    _check('vmexpire-events-response.json',
           app.get(base + row.id + '/events', headers=MEMBER, status=200))
    # One day from now is earlier than the expiry just set: refused
    # whatever second the clock has reached since.
    _check('error-extend-refused-response.json', app.put(
        base + row.id, '{"days": 1}', headers=json_headers, status=409))
    _check('error-forbidden-response.json', app.delete(
        base + row.id, headers=MEMBER, status=403))
    _check('vmexpire-track-response.json', app.post(
        base + NEW_INSTANCE, headers=ADMIN, status=202))
    xbase = '/v1/%s/vmexcludes/' % ADMIN['X-Project-Id']
    created = app.post(xbase, _request_sample(
        'vmexclude-create-request.json'), headers=dict(
            ADMIN, **{'Content-Type': 'application/json'}), status=202)
    _check('vmexclude-create-response.json', created)
    _check('vmexcludes-list-response.json',
           app.get(xbase, headers=ADMIN, status=200))
    _check('vmexclude-show-response.json', app.get(
        xbase + created.json['vmexclude']['id'], headers=ADMIN, status=200))
    app.delete(xbase + created.json['vmexclude']['id'], headers=ADMIN,
               status=204)
    app.delete(base + row.id, headers=ADMIN, status=204)
