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
"""Test base classes: Horizon's, with a ``vmexpire`` service in the catalog
and sample API records relative to the current time.
"""

import copy
import datetime
import uuid

from openstack_dashboard.test import helpers

from osvmexpire_dashboard.api import client

VMEXPIRE_SERVICE = {
    'type': 'vmexpire',
    'name': 'vmexpire',
    'endpoints_links': [],
    'endpoints': [
        {'region': 'RegionOne', 'interface': i,
         'url': 'http://vmexpire.example:8000/v1/p1'}
        for i in ('admin', 'internal', 'public')],
}


def iso(when: datetime.datetime) -> str:
    return when.strftime('%Y-%m-%dT%H:%M:%SZ')


def make_record(name: str, expires_in_days: float, project_id: str,
                user_id: str = 'u1', cap_in_days: float = 300,
                action: str = 'first_warning', excluded: bool = False,
                **extra) -> client.VmExpire:
    now = datetime.datetime.now(datetime.UTC)
    expire_at = now + datetime.timedelta(days=expires_in_days)
    record = {
        'id': str(uuid.uuid4()),
        'instance_id': str(uuid.uuid4()),
        'instance_name': name,
        'project_id': project_id,
        'user_id': user_id,
        'expire': int(expire_at.timestamp()),
        'expire_at': iso(expire_at),
        'delete_after': iso(expire_at),
        'max_expire_at': iso(now + datetime.timedelta(days=cap_in_days)),
        'extensions': 0,
        'notified': action != 'first_warning',
        'notified_last': action == 'delete',
        'next_action': {'action': action,
                        'at': iso(expire_at - datetime.timedelta(days=10))},
        'excluded': excluded,
        'links': [],
    }
    record.update(extra)
    return client.VmExpire(record)


class VmExpireTestMixin:
    def _setup_test_data(self):
        super()._setup_test_data()
        self.service_catalog = copy.deepcopy(self.service_catalog)
        self.service_catalog.append(copy.deepcopy(VMEXPIRE_SERVICE))

    def records(self, project_id=None):
        project_id = project_id or self.tenant.id
        return [
            make_record('late', 50, project_id, user_id=self.user.id),
            make_record('soon', 3, project_id, action='last_warning'),
            make_record('capped', 20, project_id, cap_in_days=20),
        ]


class TestCase(VmExpireTestMixin, helpers.TestCase):
    """A project member (roles member, reader) in ``self.tenant``."""


class AdminTestCase(VmExpireTestMixin, helpers.BaseAdminViewTests):
    """A cloud admin."""
