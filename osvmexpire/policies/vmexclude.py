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
"""Policies of /v1/{project_id}/vmexcludes (admin only)."""

from oslo_policy import policy

from osvmexpire.policies import base

PREFIX = 'vmexclude:%s'
GET = PREFIX % 'get'
CREATE = PREFIX % 'create'
DELETE = PREFIX % 'delete'

BASE = '/v1/{project_id}/vmexcludes'

RULES = [
    policy.DocumentedRuleDefault(
        GET, base.ADMIN, 'List exclusions and show one.',
        [{'method': 'GET', 'path': BASE + '/'},
         {'method': 'GET', 'path': BASE + '/{id}'}],
        scope_types=['project']),
    policy.DocumentedRuleDefault(
        CREATE, base.ADMIN,
        'Exclude a domain, project or user from expiry.',
        [{'method': 'POST', 'path': BASE + '/'}],
        scope_types=['project']),
    policy.DocumentedRuleDefault(
        DELETE, base.ADMIN, 'Delete an exclusion.',
        [{'method': 'DELETE', 'path': BASE + '/{id}'}],
        scope_types=['project']),
]


def list_rules():
    return RULES
