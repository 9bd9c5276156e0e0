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

from django.test.utils import override_settings
from django.urls import reverse
from horizon import exceptions

from osvmexpire_dashboard.api import client
from osvmexpire_dashboard.test import helpers

INDEX_URL = reverse('horizon:project:vmexpire:index')
CLIENT = 'osvmexpire_dashboard.api.client.'


def refusal(status=409, text='The expiry is already at its cap.'):
    return client.VmExpireError(status, 'Conflict', text)


class IndexTests(helpers.TestCase):
    @mock.patch(CLIENT + 'vmexpire_list')
    def test_lists_project_records_by_soonest_expiry(self, list_):
        records = self.records()
        list_.return_value = records
        res = self.client.get(INDEX_URL)
        self.assertTemplateUsed(res, 'project/vmexpire/index.html')
        list_.assert_called_once_with(mock.ANY, all_tenants=False)
        rows = res.context['table'].data
        self.assertEqual(['soon', 'capped', 'late'], [r.name for r in rows])
        soon = rows[0]
        self.assertContains(res, reverse('horizon:project:instances:detail',
                                         args=[soon.instance_id]))
        self.assertContains(res, 'in 2 days')
        self.assertContains(res, 'Warning sent; last warning on')
        self.assertContains(res, 'Cap reached')
        self.assertContains(res, 'more days possible (cap')
        # The user's own servers show the user's name, others the id.
        owners = {r.name: r.get('owner_name') for r in rows}
        self.assertEqual(self.user.name, owners['late'])
        self.assertIsNone(owners['soon'])

    @mock.patch(CLIENT + 'vmexpire_list')
    def test_api_down_is_an_error_not_an_empty_table(self, list_):
        list_.side_effect = client.VmExpireUnavailable(
            None, 'unavailable',
            'The expiration service is unavailable (ConnectFailure).')
        res = self.client.get(INDEX_URL)
        self.assertEqual(200, res.status_code)
        self.assertContains(res, 'Unable to retrieve expirations')
        self.assertContains(res, 'ConnectFailure')
        self.assertNotContains(res, 'No server of this project has')
        self.assertMessageCount(res, error=1)

    @mock.patch(CLIENT + 'vmexpire_list')
    def test_filter_on_name(self, list_):
        list_.return_value = self.records()
        res = self.client.post(INDEX_URL, {'vmexpires__filter__q': 'soo'})
        self.assertEqual(['soon'], [
            r.name for r in res.context['table'].filtered_data])

    @mock.patch(CLIENT + 'vmexpire_extend')
    @mock.patch(CLIENT + 'vmexpire_list')
    def test_batch_extend_uses_longest_extension(self, list_, extend):
        records = self.records()
        list_.return_value = records
        late, soon, capped = records
        extend.return_value = soon
        res = self.client.post(INDEX_URL, {
            'action': 'vmexpires__batch_extend',
            'object_ids': [soon.id, capped.id]})
        self.assertRedirectsNoFollow(res, INDEX_URL)
        extend.assert_has_calls([mock.call(mock.ANY, soon.id, 30),
                                 mock.call(mock.ANY, capped.id, 20)],
                                any_order=True)

    @mock.patch(CLIENT + 'vmexpire_extend')
    @mock.patch(CLIENT + 'vmexpire_list')
    def test_batch_extend_shows_the_api_reason(self, list_, extend):
        records = self.records()
        list_.return_value = records
        extend.side_effect = refusal()
        res = self.client.post(INDEX_URL, {
            'action': 'vmexpires__batch_extend',
            'object_ids': [records[1].id]}, follow=True)
        messages = [str(m) for m in res.context['messages']]
        self.assertIn('Unable to extend soon: The expiry is already at its '
                      'cap.', messages)
        self.assertFalse(any(m.startswith('Extended') for m in messages))

    @mock.patch(CLIENT + 'vmexpire_list')
    def test_excluded_rows_cannot_be_extended(self, list_):
        record = helpers.make_record('kept', 5, self.tenant.id,
                                     excluded=True)
        list_.return_value = [record]
        res = self.client.get(INDEX_URL)
        self.assertContains(res, 'Excluded: never deleted')
        self.assertNotContains(
            res, reverse('horizon:project:vmexpire:extend',
                         args=[record.id]))


class PanelVisibilityTests(helpers.TestCase):
    def _panel(self):
        import horizon
        return horizon.get_dashboard('project').get_panel('vmexpire')

    def test_hidden_without_vmexpire_in_catalog(self):
        self.setActiveUser(
            id=self.user.id, token=self.token, username=self.user.name,
            tenant_id=self.tenant.id,
            service_catalog=[s for s in self.service_catalog
                             if s['type'] != 'vmexpire'],
            roles=[{'id': '2', 'name': 'member'}],
            authorized_tenants=self.tenants.list())
        res = self.client.get(INDEX_URL)
        self.assertNotEqual(200, res.status_code)

    def test_shown_in_compute_group(self):
        import horizon
        dash = horizon.get_dashboard('project')
        group = dash.get_panel_group('compute')
        self.assertIn('vmexpire', [p.slug for p in group])


@override_settings(POLICY_CHECK_FUNCTION='openstack_auth.policy.check')
class PolicyTests(helpers.TestCase):
    @mock.patch(CLIENT + 'vmexpire_list')
    def test_reader_sees_no_extend_action(self, list_):
        records = self.records()
        list_.return_value = records
        self.setActiveUser(
            id=self.user.id, token=self.token, username=self.user.name,
            tenant_id=self.tenant.id, service_catalog=self.service_catalog,
            roles=[{'id': '3', 'name': 'reader'}],
            authorized_tenants=self.tenants.list())
        res = self.client.get(INDEX_URL)
        self.assertEqual(200, res.status_code)
        self.assertNotContains(res, 'batch_extend')
        self.assertNotContains(res, reverse(
            'horizon:project:vmexpire:extend', args=[records[0].id]))

    @mock.patch(CLIENT + 'vmexpire_list')
    def test_member_may_extend(self, list_):
        records = self.records()
        list_.return_value = records
        res = self.client.get(INDEX_URL)
        self.assertContains(res, 'batch_extend')
        self.assertContains(res, reverse(
            'horizon:project:vmexpire:extend', args=[records[0].id]))


class ExtendTests(helpers.TestCase):
    def _url(self, record):
        return reverse('horizon:project:vmexpire:extend', args=[record.id])

    @mock.patch(CLIENT + 'vmexpire_get')
    def test_modal_defaults_to_the_max_and_shows_the_new_date(self, get):
        record = self.records()[0]
        get.return_value = record
        res = self.client.get(self._url(record))
        self.assertTemplateUsed(res, 'project/vmexpire/_extend.html')
        self.assertEqual(30, res.context['form'].initial['days'])
        self.assertContains(res, 'id="vmexpire-new-expiry"')
        self.assertContains(res, res.context['new_expiry'])

    @mock.patch(CLIENT + 'vmexpire_get')
    def test_default_is_capped(self, get):
        record = helpers.make_record('x', 5, self.tenant.id, cap_in_days=12)
        get.return_value = record
        res = self.client.get(self._url(record))
        self.assertEqual(12, res.context['form'].initial['days'])
        self.assertContains(res, record.max_expire_at_dt.strftime(
            '%Y-%m-%d %H:%M UTC'))

    @mock.patch(CLIENT + 'vmexpire_extend')
    @mock.patch(CLIENT + 'vmexpire_get')
    def test_extend(self, get, extend):
        record = self.records()[0]
        get.return_value = record
        extend.return_value = record
        res = self.client.post(self._url(record), {
            'vmexpire_id': record.id, 'days': 7})
        self.assertNoFormErrors(res)
        self.assertRedirectsNoFollow(res, reverse(
            'horizon:project:vmexpire:index'))
        extend.assert_called_once_with(mock.ANY, record.id, 7)

    @mock.patch(CLIENT + 'vmexpire_extend')
    @mock.patch(CLIENT + 'vmexpire_get')
    def test_refusal_reason_is_shown_as_is(self, get, extend):
        record = self.records()[0]
        get.return_value = record
        extend.side_effect = refusal(403, 'Policy does not allow this.')
        res = self.client.post(self._url(record), {
            'vmexpire_id': record.id, 'days': 7})
        self.assertFormErrors(res, 1, 'Policy does not allow this.')

    @mock.patch(CLIENT + 'vmexpire_extend')
    @mock.patch(CLIENT + 'vmexpire_get')
    def test_days_above_the_max_are_refused(self, get, extend):
        record = self.records()[0]
        get.return_value = record
        res = self.client.post(self._url(record), {
            'vmexpire_id': record.id, 'days': 31})
        self.assertFormErrors(res, 1)
        extend.assert_not_called()

    @mock.patch(CLIENT + 'vmexpire_get')
    def test_unknown_record_redirects_with_a_message(self, get):
        get.side_effect = client.VmExpireError(404, 'Not Found',
                                               'No such expiration.')
        res = self.client.get(reverse('horizon:project:vmexpire:extend',
                                      args=['nope']))
        self.assertRedirectsNoFollow(res, INDEX_URL)

    @override_settings(VMEXPIRE_MAX_EXTEND_DAYS=14)
    @mock.patch(CLIENT + 'vmexpire_get')
    def test_max_days_setting(self, get):
        record = self.records()[0]
        get.return_value = record
        res = self.client.get(self._url(record))
        self.assertEqual(14, res.context['form'].initial['days'])


class HandledErrorTests(helpers.TestCase):
    def test_api_errors_are_recoverable(self):
        self.assertTrue(issubclass(client.VmExpireError,
                                   exceptions.RecoverableError))
