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
"""The REST API contract (DESIGN.md §5) on SQLite, MariaDB and PostgreSQL.

The whole middleware stack and Pecan run in-process (WebTest) with noauth
identity headers; the database is real. The same assertions hold on the
three backends (``any_db``).
"""

import datetime
import json
import urllib.parse
import uuid
from unittest import mock

import pytest
import webtest

from osvmexpire import context
from osvmexpire import exception
from osvmexpire import service
from osvmexpire.api import app as api_app
from osvmexpire.db import api as db_api
from tests.functional.api import base
from tests.functional.api.base import ADMIN
from tests.functional.api.base import MEMBER
from tests.functional.api.base import OTHER
from tests.functional.api.base import READER

V = '/v1/p1/vmexpires/'


@pytest.fixture
def api(any_db):
    return base.make_app(any_db)


@pytest.fixture
def rows(any_db):
    return base.seed()


def _row(row_id):
    return db_api.get_vmexpire(context.get_admin_context(), row_id)


def test_version_document_and_healthcheck_need_no_token(api):
    resp = api.get('/', status=300)
    version = resp.json['versions']['values'][0]
    assert version['id'] == 'v1'
    assert version['links'][0]['href'] == 'http://localhost/v1/'
    api.get('/healthcheck', status=200)
    base.assert_error(api.get(V, expect_errors=True), 401)
    # A forged identity on / changes nothing: / serves only the document.
    api.get('/', headers=ADMIN, status=300)


def test_list_is_scoped_paged_and_sorted(api, rows):
    resp = api.get(V, headers=MEMBER, status=200)
    body = resp.json
    ids = [r['id'] for r in body['vmexpires']]
    assert ids == [rows['a'].id, rows['b'].id, rows['c'].id]
    assert body['total'] == 3 and body['links'] == []
    # Paging: limit 2, then follow the next link.
    first = api.get(V + '?limit=2', headers=MEMBER).json
    assert [r['id'] for r in first['vmexpires']] == ids[:2]
    assert first['total'] == 3
    (link,) = first['links']
    assert link['rel'] == 'next'
    url = urllib.parse.urlsplit(link['href'])
    query = urllib.parse.parse_qs(url.query)
    assert query == {'limit': ['2'], 'marker': [ids[1]]}
    second = api.get('%s?%s' % (url.path, url.query), headers=MEMBER).json
    assert [r['id'] for r in second['vmexpires']] == ids[2:]
    assert second['links'] == []
    # limit above [api] max_limit is clamped, not refused.
    assert len(api.get(V + '?limit=100000', headers=MEMBER)
               .json['vmexpires']) == 3



def test_list_pages_keep_total_exclusions_and_marker_rules(api, rows):
    """One statement per page (rows, exclusions and total together): the
    last, empty page still has the total; a marker of another project or
    one that does not exist is 400; exclusions show per row."""
    last = api.get(V + '?marker=%s' % rows['c'].id, headers=MEMBER).json
    assert last == {'vmexpires': [], 'total': 3, 'links': []}
    only_u1 = api.get(V + '?user_id=u1&marker=%s' % rows['b'].id,
                      headers=MEMBER).json
    assert only_u1['vmexpires'] == [] and only_u1['total'] == 2
    for marker in (rows['d'].id, str(uuid.uuid4())):
        base.assert_error(api.get(V + '?marker=%s' % marker, headers=MEMBER,
                                  expect_errors=True), 400)
    # An admin's all_tenants listing may page on any project's record.
    after_d = api.get(V + '?all_tenants=1&marker=%s' % rows['d'].id,
                      headers=ADMIN).json
    assert [r['id'] for r in after_d['vmexpires']] == [
        rows['a'].id, rows['b'].id, rows['c'].id]
    assert after_d['total'] == 4
    X = '/v1/p1/vmexcludes/'
    api.post_json(X, {'id': 'u2', 'type': 'user'}, headers=ADMIN,
                  status=202)
    listed = api.get(V, headers=MEMBER).json['vmexpires']
    assert [r['excluded'] for r in listed] == [False, False, True]
    api.post_json(X, {'id': 'default', 'type': 'domain'}, headers=ADMIN,
                  status=202)
    listed = api.get(V + '?limit=2', headers=MEMBER).json
    assert [r['excluded'] for r in listed['vmexpires']] == [True, True]
    assert listed['total'] == 3

def test_list_filters(api, rows):
    def ids(query, headers=MEMBER):
        return [r['id'] for r in api.get(V + '?' + query,
                                         headers=headers).json['vmexpires']]
    assert ids('instance_id=%s' % rows['b'].instance_id) == [rows['b'].id]
    assert ids('user_id=u2') == [rows['c'].id]
    before = (db_api.utcnow() + datetime.timedelta(days=45)).isoformat()
    assert ids('expire_before=%sZ' % before) == [rows['a'].id, rows['b'].id]
    assert ids('expire_before=2000-01-01T00:00:00%2B02:00') == []
    # Another project's instance is not found through the filter.
    assert ids('instance_id=%s' % rows['d'].instance_id) == []


def test_all_tenants(api, rows):
    everything = api.get(V + '?all_tenants=1', headers=ADMIN).json
    assert everything['total'] == 4
    assert {r['project_id'] for r in everything['vmexpires']} == {'p1', 'p2'}
    # Admin without all_tenants: the path's project only.
    assert api.get(V, headers=ADMIN).json['total'] == 3
    # A false value means false, for anybody.
    for value in ('0', 'false', 'False', 'no', 'off'):
        body = api.get(V + '?all_tenants=' + value, headers=MEMBER).json
        assert body['total'] == 3
    base.assert_error(api.get(V + '?all_tenants=1', headers=MEMBER,
                              expect_errors=True), 403)
    base.assert_error(api.get(V + '?all_tenants=true', headers=READER,
                              expect_errors=True), 403)
    base.assert_error(api.get(V + '?all_tenants=maybe', headers=ADMIN,
                              expect_errors=True), 400)


@pytest.mark.parametrize('query', [
    'limit=0', 'limit=-1', 'limit=abc', 'marker=nope',
    'marker=%s' % uuid.uuid4(), 'instance_id=xyz', 'expire_before=tomorrow',
    'user_id=%00', 'user_id=' + 'u' * 65, 'sort=expire', 'limit=1&limit=2',
])
def test_list_bad_query_is_400(api, rows, query):
    body = base.assert_error(api.get(V + '?' + query, headers=MEMBER,
                                     expect_errors=True), 400)
    assert len(body['description']) > 10


def test_show_fields(api, rows):
    row = rows['a']
    body = api.get(V + row.id, headers=MEMBER, status=200).json['vmexpire']
    assert set(body) == {
        'id', 'instance_id', 'instance_name', 'project_id', 'user_id',
        'expire', 'notified', 'notified_last', 'created', 'updated',
        'expire_at', 'delete_after', 'max_expire_at', 'extensions',
        'notified_at', 'notified_last_at', 'next_action', 'excluded',
        'links'}
    assert body['id'] == row.id and body['instance_id'] == row.instance_id
    assert body['instance_name'] == 'vm-a' and body['project_id'] == 'p1'
    expire_at = datetime.datetime.fromisoformat(body['expire_at'])
    assert isinstance(body['expire'], int)
    assert body['expire'] == int(expire_at.timestamp())
    assert body['expire_at'].endswith('Z') and body['created'].endswith('Z')
    assert body['notified'] is False and body['notified_last'] is False
    assert body['notified_at'] is None and body['extensions'] == 0
    assert body['next_action']['action'] == 'first_warning'
    assert body['excluded'] is False
    assert body['delete_after'] >= body['expire_at']
    assert body['max_expire_at'] > body['expire_at']
    assert body['links'] == [{'rel': 'self', 'href':
                              'http://localhost/v1/p1/vmexpires/' + row.id}]


def test_scoping_other_project_is_invisible(api, rows):
    foreign = rows['d']
    # p1's member asking for p2's record through p1's path: not found.
    base.assert_error(api.get(V + foreign.id, headers=MEMBER,
                              expect_errors=True), 404)
    base.assert_error(api.put_json(V + foreign.id, {}, headers=MEMBER,
                                   expect_errors=True), 404)
    base.assert_error(api.get(V + foreign.id + '/events', headers=MEMBER,
                              expect_errors=True), 404)
    # ...or through p2's path: the path is not their token's project.
    for path in ('/v1/p2/vmexpires/', '/v1/p2/vmexpires/' + foreign.id):
        base.assert_error(api.get(path, headers=MEMBER,
                                  expect_errors=True), 403)
    base.assert_error(api.put_json('/v1/p2/vmexpires/' + foreign.id, {},
                                   headers=MEMBER, expect_errors=True), 403)
    assert _row(foreign.id).extensions == 0
    # Admins see any record under any path.
    api.get(V + foreign.id, headers=ADMIN, status=200)


def test_extend(api, rows):
    row = rows['a']
    resp = api.put_json(V + row.id, {'days': 25}, headers=MEMBER, status=202)
    body = resp.json['vmexpire']
    assert body['extensions'] == 1
    assert body['expire_at'] > row.expire_at.isoformat()
    stored = _row(row.id)
    assert stored.extensions == 1 and stored.notified_at is None
    expected = db_api.utcnow() + datetime.timedelta(days=25)
    assert abs((stored.expire_at - expected).total_seconds()) < 5
    (event,) = [e for e in base.events_of(row.id) if e.event == 'extended']
    assert event.actor == 'u1' and event.detail['days'] == 25
    # No body: the maximum (max_vm_extend = 30 days).
    body = api.put(V + row.id, headers=MEMBER, status=202).json['vmexpire']
    assert body['extensions'] == 2
    # Asking for less than what is left is refused, with the reason.
    err = base.assert_error(api.put_json(V + row.id, {'days': 3},
                                         headers=MEMBER,
                                         expect_errors=True), 409)
    assert 'already expires' in err['description']
    # Admins extend records of any project.
    api.put_json(V + rows['d'].id, {'days': 30}, headers=ADMIN, status=202)


def test_extend_at_cap_is_409(api, any_db):
    ctx = context.get_admin_context()
    now = db_api.utcnow()
    row = db_api.create_vmexpire(
        ctx, instance_id=str(uuid.uuid4()), project_id='p1', user_id='u1',
        created_at=now - datetime.timedelta(days=364),
        expire_at=now + datetime.timedelta(days=1), settings=base_settings())
    err = base.assert_error(api.put_json(V + row.id, {}, headers=MEMBER,
                                         expect_errors=True), 409)
    assert 'cap' in err['description']


def base_settings():
    from osvmexpire import expiration
    return expiration.Settings()


@pytest.mark.parametrize('body,content_type,code', [
    ('{"days": 0}', 'application/json', 400),
    ('{"days": 31}', 'application/json', 400),
    ('{"days": "3"}', 'application/json', 400),
    ('{"days": true}', 'application/json', 400),
    ('{"days": 2.5}', 'application/json', 400),
    ('{"days": 3, "force": true}', 'application/json', 400),
    ('[3]', 'application/json', 400),
    ('{"days": 3', 'application/json', 400),
    ('\xff\xfe', 'application/json', 400),
    ('[' * 5000 + ']' * 5000, 'application/json', 400),
    ('days=3', 'application/x-www-form-urlencoded', 415),
    ('{"days": 3}', 'text/plain', 415),
    ('{"days": 3}', '', 415),
    ('{"pad": "%s"}' % ('x' * 70000), 'application/json', 413),
])
def test_extend_bad_input_writes_nothing(api, rows, body, content_type,
                                         code):
    row = rows['a']
    before = len(base.events_of(row.id))
    resp = api.put(V + row.id, body.encode('latin-1'), headers=dict(
        MEMBER, **{'Content-Type': content_type}), expect_errors=True)
    err = base.assert_error(resp, code)
    assert len(err['description']) > 10
    assert len(base.events_of(row.id)) == before
    assert _row(row.id).expire_at == row.expire_at


def test_extend_refused_for_readers_and_ids_checked(api, rows):
    row = rows['a']
    err = base.assert_error(api.put_json(V + row.id, {}, headers=READER,
                                         expect_errors=True), 403)
    assert 'vmexpire:extend' in err['description']
    base.assert_error(api.put_json(V + 'not-a-uuid', {}, headers=MEMBER,
                                   expect_errors=True), 400)
    base.assert_error(api.put_json(V + str(uuid.uuid4()), {},
                                   headers=MEMBER, expect_errors=True), 404)
    assert _row(row.id).extensions == 0


def test_failure_after_a_write_rolls_back(api, rows):
    """The request is one transaction: a crash after the update undoes it."""
    row = rows['a']
    with mock.patch('osvmexpire.api.views.vmexpire',
                    side_effect=RuntimeError('boom')):
        resp = api.put_json(V + row.id, {'days': 30}, headers=MEMBER,
                            expect_errors=True)
    err = base.assert_error(resp, 500)
    assert 'boom' not in err['description']
    stored = _row(row.id)
    assert stored.expire_at == row.expire_at and stored.extensions == 0
    assert [e.event for e in base.events_of(row.id)] == ['created']


def test_delete_is_admin_only(api, rows):
    row = rows['b']
    for who in (MEMBER, READER):
        base.assert_error(api.delete(V + row.id, headers=who,
                                     expect_errors=True), 403)
    base.assert_error(api.delete(V + rows['d'].id, headers=MEMBER,
                                 expect_errors=True), 404)
    resp = api.delete(V + row.id, headers=ADMIN, status=204)
    assert resp.body == b''
    base.assert_error(api.get(V + row.id, headers=ADMIN,
                              expect_errors=True), 404)
    kinds = [e.event for e in db_api.list_events(
        context.get_admin_context(), instance_id=row.instance_id)]
    assert kinds == ['created', 'removed']
    base.assert_error(api.delete(V + row.id, headers=ADMIN,
                                 expect_errors=True), 404)


def test_events(api, rows):
    row = rows['a']
    api.put_json(V + row.id, {'days': 30}, headers=MEMBER, status=202)
    events = api.get(V + row.id + '/events', headers=READER,
                     status=200).json['events']
    assert [e['event'] for e in events] == ['created', 'extended']
    assert set(events[0]) == {'id', 'event', 'actor', 'created',
                              'instance_id', 'detail'}
    assert events[1]['actor'] == 'u1'
    assert events[1]['detail']['days'] == 30
    assert events[0]['instance_id'] == row.instance_id
    base.assert_error(api.get(V + str(uuid.uuid4()) + '/events',
                              headers=MEMBER, expect_errors=True), 404)


def test_track_server(api, rows):
    instance = str(uuid.uuid4())

    def track(conf, ctx, instance_id, nova=None, actor=None):
        return db_api.create_vmexpire(
            ctx, instance_id=instance_id, project_id='p1', user_id='u1',
            expire_at=db_api.utcnow() + datetime.timedelta(days=60),
            settings=base_settings(), actor=actor)

    with mock.patch('osvmexpire.cleaner.reconcile.track_server',
                    side_effect=track) as tracker:
        body = api.post(V + instance, headers=ADMIN,
                        status=202).json['vmexpire']
        assert body['instance_id'] == instance
        assert tracker.call_args.kwargs['actor'] == 'admin-user'
        base.assert_error(api.post(V + instance, headers=MEMBER,
                                   expect_errors=True), 403)
        base.assert_error(api.post(V + 'xyz', headers=ADMIN,
                                   expect_errors=True), 400)
        base.assert_error(api.post(V + instance, '{"x": 1}', headers=dict(
            ADMIN, **{'Content-Type': 'application/json'}),
            expect_errors=True), 400)
    (created,) = db_api.list_events(context.get_admin_context(),
                                    instance_id=instance)
    assert created.actor == 'admin-user'
    for error, code in ((exception.NotFound('no such server'), 404),
                        (exception.Duplicate('tracked already'), 409)):
        with mock.patch('osvmexpire.cleaner.reconcile.track_server',
                        side_effect=error):
            err = base.assert_error(api.post(V + instance, headers=ADMIN,
                                             expect_errors=True), code)
            assert err['description'] == str(error)


def test_exclusions(api, rows):
    X = '/v1/p1/vmexcludes/'
    for who in (MEMBER, READER, OTHER):
        base.assert_error(api.get(X, headers=who, expect_errors=True), 403)
        base.assert_error(api.post_json(X, {'id': 'p1', 'type': 'project'},
                                        headers=who, expect_errors=True),
                          403)
    assert api.get(X, headers=ADMIN).json == {'vmexcludes': []}
    created = api.post_json(X, {'id': 'p1', 'type': 'project'},
                            headers=ADMIN, status=202).json['vmexclude']
    assert created['exclude_id'] == 'p1'
    assert created['exclude_type'] == 'project'
    assert created['created'].endswith('Z')
    base.assert_error(api.post_json(X, {'id': 'p1', 'type': 'project'},
                                    headers=ADMIN, expect_errors=True), 409)
    # The project's records now say they are excluded.
    shown = api.get(V + rows['a'].id, headers=MEMBER).json['vmexpire']
    assert shown['excluded'] is True
    assert api.get(V + rows['d'].id, headers=ADMIN).json[
        'vmexpire']['excluded'] is False
    api.post_json(X, {'id': 'u9', 'type': 'user'}, headers=ADMIN, status=202)
    assert api.get(V + rows['d'].id, headers=ADMIN).json[
        'vmexpire']['excluded'] is True
    listed = api.get(X, headers=ADMIN).json['vmexcludes']
    assert len(listed) == 2
    assert [x['exclude_id'] for x in api.get(
        X + '?type=user', headers=ADMIN).json['vmexcludes']] == ['u9']
    one = api.get(X + created['id'], headers=ADMIN).json['vmexclude']
    assert one == created
    base.assert_error(api.delete(X + created['id'], headers=MEMBER,
                                 expect_errors=True), 403)
    api.delete(X + created['id'], headers=ADMIN, status=204)
    base.assert_error(api.get(X + created['id'], headers=ADMIN,
                              expect_errors=True), 404)
    base.assert_error(api.delete(X + created['id'], headers=ADMIN,
                                 expect_errors=True), 404)
    kinds = db_api.list_events(context.get_admin_context(), kind='excluded')
    assert len(kinds) == 3


@pytest.mark.parametrize('body,code', [
    ({'id': 'p1', 'type': 'galaxy'}, 400),
    ({'id': 'p1'}, 400),
    ({'id': '', 'type': 'user'}, 400),
    ({'id': 'x' * 65, 'type': 'user'}, 400),
    ({'id': 'a\x00b', 'type': 'user'}, 400),
    ({'id': '\ud800', 'type': 'user'}, 400),
    ({'id': 'p1', 'type': 'project', 'extra': 1}, 400),
    ({'id': 5, 'type': 'project'}, 400),
])
def test_exclusion_bad_input(api, rows, body, code):
    X = '/v1/p1/vmexcludes/'
    resp = api.post(X, json.dumps(body), headers=dict(
        ADMIN, **{'Content-Type': 'application/json'}), expect_errors=True)
    base.assert_error(resp, code)
    assert api.get(X, headers=ADMIN).json == {'vmexcludes': []}


def test_errors_are_json(api, rows):
    row = rows['a']
    err = base.assert_error(api.get('/v1/p1/nothing', headers=MEMBER,
                                    expect_errors=True), 404)
    assert '/v1/p1/nothing' in err['description']
    base.assert_error(api.get('/nothing', expect_errors=True), 401)
    base.assert_error(api.get('/nothing', headers=MEMBER,
                              expect_errors=True), 404)
    resp = api.patch(V + row.id, headers=MEMBER, expect_errors=True)
    base.assert_error(resp, 405)
    assert 'GET' in resp.headers['Allow']
    base.assert_error(api.post('/', headers=MEMBER, expect_errors=True), 405)
    base.assert_error(api.get(V + 'zzz', headers=MEMBER,
                              expect_errors=True), 400)
    base.assert_error(api.get('/v1/%00/vmexpires/', headers=ADMIN,
                              expect_errors=True), 400)
    base.assert_error(api.get(V + row.id + '?x=1', headers=MEMBER,
                              expect_errors=True), 400)


ODD_PATHS = [
    '/v1', '/v1/', '/v1/p1', '/v1/p1/', '/v1/p1/vmexpires',
    '/v1/p1/vmexpires//', '/v1/p1/vmexpires///events',
    '/v1/p1/vmexpires/{id}/events/', '/v1/p1/vmexpires/{id}/events/x',
    '/v1/p1/vmexpires/{id}/x/y', '/v1/p1/vmexcludes//',
    '/v1/p1/vmexcludes/{id}/x', '/v1//vmexpires/', '/v1/p1/vmexpires/%2F',
    '/v1/p1/vmexpires/%00', '/v1/p1/vmexpires/..',
    '/v1/p1/vmexpires/{id}.json',
    '/v1/p1/vmexpires/{id}/events.json', '/healthcheck/x', '/index.html',
    '/v2/', '/v1/p1/vmexpires/%E9', '/v1/%E9/vmexpires/',
]


@pytest.mark.parametrize('path', ODD_PATHS)
def test_odd_paths_never_fail_with_500(sqlite_db, path):
    api = base.make_app(sqlite_db)
    rows = base.seed()
    path = path.format(id=rows['a'].id)
    for method in ('GET', 'PUT', 'POST', 'DELETE', 'PATCH', 'HEAD',
                   'OPTIONS'):
        for who in (ADMIN, MEMBER):
            resp = api.request(path, method=method, headers=who,
                               expect_errors=True)
            assert resp.status_int < 500, (method, path, resp.body)
            if resp.status_int >= 400 and method != 'HEAD':
                base.assert_error(resp, resp.status_int)


def _conf_file_app(db, tmp_path, extra: str):
    conf_file = tmp_path / 'osvmexpire.conf'
    conf_file.write_text('[database]\nconnection = %s\n[api]\n'
                         'auth_strategy = noauth\n%s' % (db.url, extra))
    conf = service.new_config()
    conf([], project='os-vm-expire', default_config_files=[str(conf_file)])
    return webtest.TestApp(api_app.setup_app(conf))


def test_cors_and_proxy_headers(sqlite_db, tmp_path):
    api = _conf_file_app(sqlite_db, tmp_path, (
        '[cors]\nallowed_origin = https://dashboard.example.org\n'
        '[oslo_middleware]\nenable_proxy_headers_parsing = true\n'))
    resp = api.options(V, headers={
        'Origin': 'https://dashboard.example.org',
        'Access-Control-Request-Method': 'PUT',
        'Access-Control-Request-Headers': 'X-Auth-Token,Content-Type'},
        status=200)
    assert (resp.headers['Access-Control-Allow-Origin']
            == 'https://dashboard.example.org')
    resp = api.get('/', headers={'X-Forwarded-Proto': 'https',
                                 'X-Forwarded-Host': 'cloud.example.org'},
                   status=300)
    href = resp.json['versions']['values'][0]['links'][0]['href']
    assert href.startswith('https://cloud.example.org')
    resp = api.get(V, headers=dict(MEMBER, Origin='https://evil.example'))
    assert 'Access-Control-Allow-Origin' not in resp.headers


def test_public_endpoint_in_links(sqlite_db, tmp_path):
    api = _conf_file_app(sqlite_db, tmp_path,
                         'public_endpoint = https://api.example.org:9411/\n')
    rows = base.seed()
    body = api.get(V + '?limit=1', headers=MEMBER).json
    assert body['vmexpires'][0]['links'][0]['href'] == (
        'https://api.example.org:9411/v1/p1/vmexpires/' + rows['a'].id)
    assert body['links'][0]['href'].startswith(
        'https://api.example.org:9411/v1/p1/vmexpires/?')


def test_backend_failures_are_503_json(sqlite_db):
    from oslo_db import exception as db_exc

    from osvmexpire.cleaner import reconcile
    api = base.make_app(sqlite_db)
    with mock.patch('osvmexpire.db.api.list_vmexpires_view',
                    side_effect=db_exc.DBConnectionError('db down')):
        err = base.assert_error(api.get(V, headers=MEMBER,
                                        expect_errors=True), 503)
    assert 'database' in err['description']
    with mock.patch('osvmexpire.cleaner.reconcile.track_server',
                    side_effect=reconcile.NovaError('nova is down')):
        err = base.assert_error(api.post(V + str(uuid.uuid4()),
                                         headers=ADMIN,
                                         expect_errors=True), 503)
    assert err['description'] == 'nova is down'


def test_delete_with_json_accept_header(api, rows):
    """Clients (keystoneauth, Horizon) send Accept: application/json."""
    accept = {'Accept': 'application/json'}
    base.assert_error(api.delete(V + str(uuid.uuid4()),
                                 headers=dict(ADMIN, **accept),
                                 expect_errors=True), 404)
    resp = api.delete(V + rows['b'].id, headers=dict(ADMIN, **accept),
                      status=204)
    assert resp.body == b''
    exc = api.post_json('/v1/p1/vmexcludes/', {'id': 'px', 'type': 'project'},
                        headers=ADMIN, status=202).json['vmexclude']
    resp = api.delete('/v1/p1/vmexcludes/' + exc['id'],
                      headers=dict(ADMIN, **accept), status=204)
    assert resp.body == b''
