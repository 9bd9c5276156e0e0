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
import datetime
import json
from unittest import mock

from django.test.utils import override_settings
from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1 import session as ks_session
from openstack_auth import utils as auth_utils

from osvmexpire_dashboard.api import client
from osvmexpire_dashboard.test import helpers

BASE = 'http://vmexpire.example:8000/v1/p1'


class FakeResponse:
    def __init__(self, status=200, body=None, text=None, reason='OK'):
        self.status_code = status
        self.reason = reason
        self._body = body
        self.text = text if text is not None else (
            json.dumps(body) if body is not None else '')

    def json(self):
        if self._body is None:
            raise ValueError('no JSON')
        return self._body


class RequestUserMixin:
    def setUp(self):
        super().setUp()
        # The logged-in user (with the vmexpire catalog), as views see it.
        self.request.user = auth_utils.get_user(self.request)


class ClientTests(RequestUserMixin, helpers.TestCase):
    def setUp(self):
        super().setUp()
        patcher = mock.patch.object(ks_session.Session, 'request')
        self.http = patcher.start()

    def _call(self, n=0):
        args, kwargs = self.http.call_args_list[n]
        return args[0], args[1], kwargs

    def test_list_uses_the_catalog_endpoint_and_the_user_token(self):
        self.http.return_value = FakeResponse(body={
            'vmexpires': [{'id': 'a', 'instance_id': 'i'}], 'total': 1})
        records = client.vmexpire_list(self.request)
        self.assertEqual(['a'], [r.id for r in records])
        self.assertIsInstance(records[0], client.VmExpire)
        url, method, kwargs = self._call()
        self.assertEqual((BASE + '/vmexpires/', 'GET'), (url, method))
        self.assertEqual({}, kwargs['params'])
        self.assertFalse(kwargs['raise_exc'])
        self.assertEqual('application/json, */*;q=0.1',
                         kwargs['headers']['Accept'])
        session = client._session(self.request)[0]
        self.assertEqual(self.token.id,
                         session.auth.get_token(session))

    def test_list_follows_pages_and_all_tenants(self):
        self.http.side_effect = [
            FakeResponse(body={'vmexpires': [{'id': 'a'}, {'id': 'b'}],
                               'total': 3}),
            FakeResponse(body={'vmexpires': [{'id': 'c'}], 'total': 3}),
        ]
        records = client.vmexpire_list(self.request, all_tenants=True)
        self.assertEqual(['a', 'b', 'c'], [r.id for r in records])
        self.assertEqual({'all_tenants': 1, 'marker': 'b'},
                         self._call(1)[2]['params'])

    def test_list_stops_on_an_empty_page(self):
        self.http.side_effect = [
            FakeResponse(body={'vmexpires': [{'id': 'a'}], 'total': 5}),
            FakeResponse(body={'vmexpires': [], 'total': 5}),
        ]
        self.assertEqual(1, len(client.vmexpire_list(self.request)))
        self.assertEqual(2, self.http.call_count)

    def test_extend_sends_days(self):
        self.http.return_value = FakeResponse(202, body={
            'vmexpire': {'id': 'a', 'instance_name': 'web'}})
        record = client.vmexpire_extend(self.request, 'a', 12)
        self.assertEqual('web', record.name)
        url, method, kwargs = self._call()
        self.assertEqual((BASE + '/vmexpires/a', 'PUT'), (url, method))
        self.assertEqual({'days': 12}, kwargs['json'])

    def test_refusal_keeps_the_api_reason(self):
        self.http.return_value = FakeResponse(409, reason='Conflict', body={
            'code': 409, 'title': 'Conflict',
            'description': 'The expiry is already at its cap.'})
        with self.assertRaises(client.VmExpireError) as ctx:
            client.vmexpire_extend(self.request, 'a', 12)
        self.assertEqual(409, ctx.exception.status)
        self.assertEqual('The expiry is already at its cap.',
                         str(ctx.exception))

    def test_error_without_json_body(self):
        self.http.return_value = FakeResponse(
            502, reason='Bad Gateway', text='<html>proxy error</html>')
        with self.assertRaises(client.VmExpireError) as ctx:
            client.vmexpire_get(self.request, 'a')
        self.assertEqual(502, ctx.exception.status)
        self.assertIn('proxy error', str(ctx.exception))

    def test_wrapped_error_body(self):
        self.http.return_value = FakeResponse(401, reason='Unauthorized',
                                              body={'error': {
                                                  'message': 'Bad token'}})
        with self.assertRaises(client.VmExpireError) as ctx:
            client.vmexpire_get(self.request, 'a')
        self.assertEqual('Bad token', str(ctx.exception))

    def test_api_down(self):
        self.http.side_effect = ks_exceptions.ConnectFailure('refused')
        with self.assertRaises(client.VmExpireUnavailable) as ctx:
            client.vmexpire_list(self.request)
        self.assertIn('unavailable', str(ctx.exception))

    def test_timeout_is_unavailable(self):
        self.http.side_effect = ks_exceptions.ConnectTimeout('slow')
        with self.assertRaises(client.VmExpireUnavailable):
            client.vmexpire_list(self.request)

    def test_delete_add_and_exclusions(self):
        self.http.side_effect = [
            FakeResponse(204),
            FakeResponse(202, text=''),
            FakeResponse(body={'vmexcludes': [
                {'id': 'e', 'exclude_type': 'user', 'exclude_id': 'u'}]}),
            FakeResponse(202, body={'vmexclude': {
                'id': 'f', 'exclude_type': 'project', 'exclude_id': 'p'}}),
            FakeResponse(204),
        ]
        client.vmexpire_delete(self.request, 'a')
        self.assertIsNone(client.vmexpire_add(self.request, 'srv'))
        self.assertEqual('u', client.vmexclude_list(self.request)[0]
                         .exclude_id)
        self.assertEqual('f', client.vmexclude_create(
            self.request, 'project', 'p').id)
        client.vmexclude_delete(self.request, 'f')
        calls = [(c.args[1], c.args[0][len(BASE):])
                 for c in self.http.call_args_list]
        self.assertEqual([('DELETE', '/vmexpires/a'),
                          ('POST', '/vmexpires/srv'),
                          ('GET', '/vmexcludes/'),
                          ('POST', '/vmexcludes/'),
                          ('DELETE', '/vmexcludes/f')], calls)
        self.assertEqual({'id': 'p', 'type': 'project'},
                         self.http.call_args_list[3].kwargs['json'])


class SessionSettingsTests(RequestUserMixin, helpers.TestCase):
    @override_settings(OPENSTACK_SSL_NO_VERIFY=True)
    def test_no_verify(self):
        self.assertFalse(client._session(self.request)[0].verify)

    @override_settings(OPENSTACK_SSL_NO_VERIFY=False,
                       OPENSTACK_SSL_CACERT='/etc/ssl/ca.pem')
    def test_cacert(self):
        self.assertEqual('/etc/ssl/ca.pem',
                         client._session(self.request)[0].verify)

    @override_settings(OPENSTACK_SSL_NO_VERIFY=False,
                       OPENSTACK_SSL_CACERT=None, VMEXPIRE_API_TIMEOUT=4)
    def test_default_verify_and_timeout(self):
        sess = client._session(self.request)[0]
        self.assertIs(True, sess.verify)
        self.assertEqual(4, sess.timeout)

    def test_no_service_in_catalog(self):
        self.request.user.service_catalog = [
            s for s in self.service_catalog if s['type'] != 'vmexpire']
        from horizon import exceptions
        with self.assertRaises(exceptions.ServiceCatalogException):
            client._session(self.request)


class ParseTimeTests(helpers.TestCase):
    def test_z_and_offsets(self):
        want = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
        self.assertEqual(want, client.parse_time('2026-01-02T03:04:05Z'))
        self.assertEqual(want,
                         client.parse_time('2026-01-02T04:04:05+01:00'))
        self.assertEqual(want, client.parse_time('2026-01-02T03:04:05'))
        self.assertIsNone(client.parse_time(None))
