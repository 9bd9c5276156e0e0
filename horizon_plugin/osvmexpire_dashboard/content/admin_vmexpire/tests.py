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
from unittest import mock

from django.urls import reverse
from openstack_dashboard import api

from osvmexpire_dashboard.api import client
from osvmexpire_dashboard.test import helpers

INDEX_URL = reverse('horizon:admin:vmexpire:index')
CLIENT = 'osvmexpire_dashboard.api.client.'
TABS = 'vmexpire_admin_tabs'


def exclusion(type_, id_):
    return client.VmExclude({'id': 'ex-%s-%s' % (type_, id_),
                             'exclude_type': type_, 'exclude_id': id_,
                             'created': '2026-01-01T00:00:00Z'})


class AdminIndexTests(helpers.AdminTestCase):
    def setUp(self):
        super().setUp()
        patcher = mock.patch.object(api.keystone, 'tenant_list')
        self.tenant_list = patcher.start()
        self.tenant_list.return_value = (self.tenants.list(), False)
        patcher = mock.patch.object(api.keystone, 'user_list')
        self.user_list = patcher.start()
        self.user_list.return_value = self.users.list()

    @mock.patch(CLIENT + 'vmexclude_list')
    @mock.patch(CLIENT + 'vmexpire_list')
    def test_lists_every_project(self, list_, excludes):
        other = self.tenants.list()[1]
        records = self.records() + [helpers.make_record('theirs', 1,
                                                        other.id)]
        list_.return_value = records
        excludes.return_value = []
        res = self.client.get(INDEX_URL)
        self.assertTemplateUsed(res, 'admin/vmexpire/index.html')
        list_.assert_called_once_with(mock.ANY, all_tenants=True)
        table = res.context['tab_group'].get_tab(
            'vmexpires_tab')._tables['vmexpires']
        self.assertEqual('theirs', table.data[0].name)
        self.assertContains(res, other.name)
        # The owner of 'late' is self.user: shown by name.
        self.assertContains(res, self.user.name)
        self.assertContains(res, reverse('horizon:admin:instances:detail',
                                         args=[records[0].instance_id]))
        for action in ('vmexpires__action_track', 'vmexpires__action_remove',
                       'vmexpires__action_batch_extend'):
            self.assertContains(res, action)

    @mock.patch(CLIENT + 'vmexclude_list')
    @mock.patch(CLIENT + 'vmexpire_list')
    def test_project_ids_when_keystone_fails(self, list_, excludes):
        self.tenant_list.side_effect = Exception('keystone down')
        self.user_list.side_effect = Exception('keystone down')
        list_.return_value = self.records()
        excludes.return_value = []
        res = self.client.get(INDEX_URL)
        self.assertEqual(200, res.status_code)
        self.assertContains(res, self.tenant.id)

    @mock.patch(CLIENT + 'vmexclude_list')
    @mock.patch(CLIENT + 'vmexpire_list')
    def test_api_down(self, list_, excludes):
        down = client.VmExpireUnavailable(
            None, 'unavailable', 'The expiration service is unavailable '
            '(ConnectFailure).')
        list_.side_effect = down
        excludes.side_effect = down
        res = self.client.get(INDEX_URL + '?tab=%s__vmexcludes_tab' % TABS)
        self.assertEqual(200, res.status_code)
        self.assertContains(res, 'Unable to retrieve exclusions')

    @mock.patch(CLIENT + 'vmexpire_delete')
    @mock.patch(CLIENT + 'vmexclude_list')
    @mock.patch(CLIENT + 'vmexpire_list')
    def test_remove_expiry(self, list_, excludes, delete):
        records = self.records()
        list_.return_value = records
        excludes.return_value = []
        res = self.client.post(INDEX_URL, {
            'action': 'vmexpires__remove__%s' % records[0].id})
        self.assertRedirectsNoFollow(res, INDEX_URL)
        delete.assert_called_once_with(mock.ANY, records[0].id)

    @mock.patch(CLIENT + 'vmexpire_delete')
    @mock.patch(CLIENT + 'vmexclude_list')
    @mock.patch(CLIENT + 'vmexpire_list')
    def test_remove_expiry_refused(self, list_, excludes, delete):
        records = self.records()
        list_.return_value = records
        excludes.return_value = []
        delete.side_effect = client.VmExpireError(403, 'Forbidden',
                                                  'Admins only.')
        res = self.client.post(INDEX_URL, {
            'action': 'vmexpires__remove__%s' % records[0].id}, follow=True)
        messages = [str(m) for m in res.context['messages']]
        self.assertIn('Unable to remove the expiry of late: Admins only.',
                      messages)

    @mock.patch(CLIENT + 'vmexclude_list')
    @mock.patch(CLIENT + 'vmexpire_list')
    def test_exclusions_tab(self, list_, excludes):
        list_.return_value = []
        project = self.tenants.first()
        user = self.users.first()
        excludes.return_value = [exclusion('project', project.id),
                                 exclusion('user', user.id),
                                 exclusion('domain', 'd-42')]
        res = self.client.get(INDEX_URL + '?tab=%s__vmexcludes_tab' % TABS)
        self.assertContains(res, '%s (%s)' % (project.name, project.id))
        self.assertContains(res, '%s (%s)' % (user.name, user.id))
        self.assertContains(res, 'd-42')
        self.assertContains(res, 'vmexcludes__action_exclude')

    @mock.patch(CLIENT + 'vmexclude_delete')
    @mock.patch(CLIENT + 'vmexclude_list')
    @mock.patch(CLIENT + 'vmexpire_list')
    def test_delete_exclusion(self, list_, excludes, delete):
        list_.return_value = []
        excludes.return_value = [exclusion('user', 'u-42')]
        res = self.client.post(INDEX_URL, {
            'action': 'vmexcludes__delete__ex-user-u-42'})
        self.assertEqual(302, res.status_code)
        delete.assert_called_once_with(mock.ANY, 'ex-user-u-42')


class AdminFormTests(helpers.AdminTestCase):
    @mock.patch(CLIENT + 'vmexpire_add')
    def test_track_server(self, add):
        server_id = '6e0c5d6e-6b4c-4d0c-9d6a-0a4b9c1b2f10'
        res = self.client.post(reverse('horizon:admin:vmexpire:track'),
                               {'instance_id': ' %s ' % server_id})
        self.assertNoFormErrors(res)
        self.assertRedirectsNoFollow(res, INDEX_URL)
        add.assert_called_once_with(mock.ANY, server_id)

    @mock.patch(CLIENT + 'vmexpire_add')
    def test_track_requires_a_uuid(self, add):
        res = self.client.post(reverse('horizon:admin:vmexpire:track'),
                               {'instance_id': 'web-1'})
        self.assertFormErrors(res, 1)
        add.assert_not_called()

    @mock.patch(CLIENT + 'vmexpire_add')
    def test_track_refusal_shown(self, add):
        add.side_effect = client.VmExpireError(
            409, 'Conflict', 'Server is already tracked.')
        res = self.client.post(reverse('horizon:admin:vmexpire:track'), {
            'instance_id': '6e0c5d6e-6b4c-4d0c-9d6a-0a4b9c1b2f10'})
        self.assertFormErrors(res, 1, 'Server is already tracked.')

    @mock.patch(CLIENT + 'vmexclude_create')
    def test_add_exclusion(self, create):
        create.return_value = exclusion('domain', 'd1')
        res = self.client.post(reverse('horizon:admin:vmexpire:exclude'),
                               {'exclude_type': 'domain',
                                'exclude_id': 'd1'})
        self.assertNoFormErrors(res)
        self.assertRedirectsNoFollow(
            res, INDEX_URL + '?tab=%s__vmexcludes_tab' % TABS)
        create.assert_called_once_with(mock.ANY, 'domain', 'd1')

    @mock.patch(CLIENT + 'vmexclude_create')
    def test_add_exclusion_bad_type(self, create):
        res = self.client.post(reverse('horizon:admin:vmexpire:exclude'),
                               {'exclude_type': 'group',
                                'exclude_id': 'd1'})
        self.assertFormErrors(res, 1)
        create.assert_not_called()

    @mock.patch(CLIENT + 'vmexpire_extend')
    @mock.patch(CLIENT + 'vmexpire_get')
    def test_admin_extend_returns_to_admin_panel(self, get, extend):
        record = self.records()[0]
        get.return_value = record
        extend.return_value = record
        url = reverse('horizon:admin:vmexpire:extend', args=[record.id])
        res = self.client.get(url)
        self.assertContains(res, url)
        res = self.client.post(url, {'vmexpire_id': record.id, 'days': 5})
        self.assertRedirectsNoFollow(res, INDEX_URL)


class MemberCannotUseAdminTests(helpers.TestCase):
    @mock.patch(CLIENT + 'vmexpire_list')
    def test_member_is_refused(self, list_):
        res = self.client.get(INDEX_URL)
        self.assertNotEqual(200, res.status_code)
        list_.assert_not_called()
