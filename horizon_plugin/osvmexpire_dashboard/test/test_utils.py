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

from django.test.utils import override_settings

from osvmexpire_dashboard import utils
from osvmexpire_dashboard.api import client
from osvmexpire_dashboard.test import helpers

NOW = datetime.datetime(2026, 3, 1, 12, 0, tzinfo=datetime.UTC)


def record(expire_days=10.0, cap_days=100.0, **extra):
    body = {
        'id': 'r', 'instance_id': 'i', 'project_id': 'p',
        'expire_at': helpers.iso(NOW + datetime.timedelta(days=expire_days)),
        'max_expire_at': helpers.iso(NOW + datetime.timedelta(
            days=cap_days)),
    }
    body.update(extra)
    return client.VmExpire(body)


class UtilsTests(helpers.TestCase):
    def test_relative_days(self):
        day = datetime.timedelta(days=1)
        self.assertEqual('in 3 days', utils.relative_days(NOW + 3.5 * day,
                                                          NOW))
        self.assertEqual('in 1 day', utils.relative_days(NOW + day, NOW))
        self.assertEqual('in 5 hours', utils.relative_days(
            NOW + datetime.timedelta(hours=5, minutes=3), NOW))
        self.assertEqual('2 days ago', utils.relative_days(NOW - 2 * day,
                                                           NOW))

    def test_expires_text(self):
        self.assertEqual('2026-03-11 12:00 UTC (in 10 days)',
                         utils.expires_text(record(), NOW))
        self.assertEqual('-', utils.expires_text(
            client.VmExpire({'id': 'r'}), NOW))

    def test_next_step_text(self):
        at = '2026-03-05T08:00:00Z'
        cases = {
            'first_warning': 'First warning on 2026-03-05 08:00 UTC',
            'last_warning': 'Warning sent; last warning on 2026-03-05 '
                            '08:00 UTC',
            'delete': 'Warnings sent; deletion after 2026-03-05 08:00 UTC',
        }
        for action, text in cases.items():
            self.assertEqual(text, utils.next_step_text(record(
                next_action={'action': action, 'at': at})))
        self.assertEqual('Excluded: never deleted', utils.next_step_text(
            record(excluded=True, next_action={'action': 'delete',
                                               'at': at})))
        self.assertEqual('-', utils.next_step_text(record()))

    def test_cap_text(self):
        self.assertEqual('90 more days possible (cap 2026-06-09 12:00 UTC)',
                         utils.cap_text(record(), NOW))
        self.assertEqual('Cap reached (2026-03-11 12:00 UTC)',
                         utils.cap_text(record(cap_days=10), NOW))
        self.assertEqual('-', utils.cap_text(record(max_expire_at=None),
                                             NOW))

    def test_default_extend_days(self):
        self.assertEqual(30, utils.default_extend_days(record(), NOW))
        self.assertEqual(8, utils.default_extend_days(
            record(cap_days=7.5), NOW))
        self.assertEqual(1, utils.default_extend_days(
            record(cap_days=-1), NOW))

    @override_settings(VMEXPIRE_MAX_EXTEND_DAYS=7)
    def test_max_extend_days_setting(self):
        self.assertEqual(7, utils.default_extend_days(record(), NOW))

    def test_extended_expiry_is_clamped_to_the_cap(self):
        self.assertEqual(NOW + datetime.timedelta(days=30),
                         utils.extended_expiry(record(), 30, NOW))
        self.assertEqual(NOW + datetime.timedelta(days=12),
                         utils.extended_expiry(record(cap_days=12), 30,
                                               NOW))
