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
"""Policies of /v1/{project_id}/vmexpires. Rule names kept from the original.
"""

from oslo_policy import policy

from osvmexpire.policies import base

PREFIX = 'vmexpire:%s'
GET = PREFIX % 'get'
EXTEND = PREFIX % 'extend'
ADD = PREFIX % 'add'
DELETE = PREFIX % 'delete'
# Listing every project's records (?all_tenants=1).
LIST_ALL = PREFIX % 'get_all_tenants'

BASE = '/v1/{project_id}/vmexpires'

RULES = [
    policy.DocumentedRuleDefault(
        GET, base.ADMIN_OR_READER,
        'List expirations of a project, show one and its audit trail.',
        [{'method': 'GET', 'path': BASE + '/'},
         {'method': 'GET', 'path': BASE + '/{id}'},
         {'method': 'GET', 'path': BASE + '/{id}/events'}],
        scope_types=['project']),
    policy.DocumentedRuleDefault(
        LIST_ALL, base.ADMIN,
        'List expirations of every project (?all_tenants=1).',
        [{'method': 'GET', 'path': BASE + '/?all_tenants=1'}],
        scope_types=['project']),
    policy.DocumentedRuleDefault(
        EXTEND, base.ADMIN_OR_MEMBER,
        'Extend the expiry of a server.',
        [{'method': 'PUT', 'path': BASE + '/{id}'}],
        scope_types=['project']),
    policy.DocumentedRuleDefault(
        ADD, base.ADMIN,
        'Start tracking an existing server.',
        [{'method': 'POST', 'path': BASE + '/{instance_id}'}],
        scope_types=['project']),
    policy.DocumentedRuleDefault(
        DELETE, base.ADMIN,
        'Remove the expiry of a server: it is kept and never expires.',
        [{'method': 'DELETE', 'path': BASE + '/{id}'}],
        scope_types=['project']),
]


def list_rules():
    return RULES
