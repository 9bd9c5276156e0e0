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
"""Input validation of the API, without a server."""

import datetime
import uuid

import pytest
import webob.exc
from webob.multidict import MultiDict

from osvmexpire.api import schemas


def q(**kw):
    return MultiDict(list(kw.items()))


def test_list_query_defaults_and_values():
    assert schemas.list_query(q(), 100, 1000) == {
        'limit': 100, 'marker': None, 'instance_id': None, 'user_id': None,
        'expire_before': None, 'all_tenants': False}
    marker = uuid.uuid4()
    parsed = schemas.list_query(q(
        limit='5000', marker=marker.hex, user_id='j.doe@example.org',
        expire_before='2030-01-31T12:00:00+02:00', all_tenants='True',
        instance_id=str(marker).upper()), 100, 1000)
    assert parsed['limit'] == 1000
    assert parsed['marker'] == str(marker)
    assert parsed['instance_id'] == str(marker)
    assert parsed['expire_before'] == datetime.datetime(2030, 1, 31, 10)
    assert parsed['all_tenants'] is True
    assert schemas.list_query(q(expire_before='2030-01-31T12:00:00Z'),
                              1, 1)['expire_before'] == datetime.datetime(
                                  2030, 1, 31, 12)


@pytest.mark.parametrize('params,words', [
    ({'limit': '0'}, 'at least 1'),
    ({'limit': 'x'}, 'integer'),
    ({'marker': 'x'}, 'UUID'),
    ({'expire_before': 'soon'}, 'ISO 8601'),
    ({'expire_before': '0001-01-01T00:00:00+01:00'}, 'out of range'),
    ({'all_tenants': 'perhaps'}, 'boolean'),
    ({'user_id': 'a b'}, 'not valid'),
    ({'user_id': 'a' * 65}, 'not valid'),
    ({'sort_key': 'id'}, 'unknown query parameter'),
])
def test_list_query_errors(params, words):
    with pytest.raises(webob.exc.HTTPBadRequest) as err:
        schemas.list_query(q(**params), 100, 1000)
    assert words in err.value.detail


def test_repeated_parameter_is_refused():
    with pytest.raises(webob.exc.HTTPBadRequest):
        schemas.list_query(MultiDict([('limit', '1'), ('limit', '2')]),
                           10, 10)


@pytest.mark.parametrize('body,ok', [
    ({}, True), ({'days': 1}, True), ({'days': 30}, True),
    ({'days': 0}, False), ({'days': 31}, False), ({'days': '3'}, False),
    ({'days': True}, False), ({'days': None}, False), ({'days': 1.5}, False),
    ({'extra': 1}, False), ([], False), (None, False),
])
def test_extend_schema(body, ok):
    schema = schemas.extend_schema(30)
    if ok:
        schemas.validate(body, schema)
    else:
        with pytest.raises(webob.exc.HTTPBadRequest) as err:
            schemas.validate(body, schema)
        assert err.value.detail.startswith('Invalid request body')


def test_exclude_schema_names_the_field():
    with pytest.raises(webob.exc.HTTPBadRequest) as err:
        schemas.validate({'id': 'a\x00', 'type': 'user'},
                         schemas.EXCLUDE_CREATE)
    assert 'at "id"' in err.value.detail
    schemas.validate({'id': 'default', 'type': 'domain'},
                     schemas.EXCLUDE_CREATE)


def test_ids():
    value = uuid.uuid4()
    assert schemas.uuid_id(value.hex) == str(value)
    with pytest.raises(webob.exc.HTTPBadRequest):
        schemas.uuid_id('1234')
    assert schemas.text_id('0a1b') == '0a1b'
    for bad in ('', 'a/b', 'x' * 65, '\ud800', 'é'):
        with pytest.raises(webob.exc.HTTPBadRequest):
            schemas.text_id(bad)


def test_exclude_query():
    assert schemas.exclude_query(q()) is None
    assert schemas.exclude_query(q(type='user')) == 'user'
    for params in ({'type': 'galaxy'}, {'kind': 'user'}):
        with pytest.raises(webob.exc.HTTPBadRequest):
            schemas.exclude_query(q(**params))
    with pytest.raises(webob.exc.HTTPBadRequest):
        schemas.no_query(q(a='1'))
    schemas.no_query(q())
