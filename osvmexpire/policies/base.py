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
"""Base check strings shared by the resource policies."""

from oslo_policy import policy

ADMIN = 'rule:context_is_admin'
PROJECT_MEMBER = 'rule:project_member'
PROJECT_READER = 'rule:project_reader'
ADMIN_OR_MEMBER = '%s or %s' % (ADMIN, PROJECT_MEMBER)
ADMIN_OR_READER = '%s or %s' % (ADMIN, PROJECT_READER)

RULES = [
    policy.RuleDefault('context_is_admin', 'role:admin',
                       description='Cloud administrators.'),
    policy.RuleDefault('project_member',
                       'role:member and project_id:%(project_id)s',
                       description='Members of the project owning the '
                                   'record.'),
    policy.RuleDefault('project_reader',
                       '(role:reader or role:member) and '
                       'project_id:%(project_id)s',
                       description='Readers (and members) of the project '
                                   'owning the record.'),
]


def list_rules():
    return RULES
