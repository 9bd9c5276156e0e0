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
"""Django settings for the plugin's unit tests.

Horizon's own test settings, plus this plugin's enabled files applied
with ``update_dashboards`` (as Horizon applies openstack_dashboard.local's).
"""

import os

from openstack_dashboard import enabled as _os_enabled
from openstack_dashboard.test.settings import *  # noqa: F403
from openstack_dashboard.utils import settings as settings_utils

import osvmexpire_dashboard.enabled

# Horizon's test settings already applied openstack_dashboard.enabled;
# undo what that call added, then apply it again with this plugin.
_PLUGIN_APPS = HORIZON_CONFIG.pop('plugins', [])  # noqa: F405
INSTALLED_APPS = [a for a in INSTALLED_APPS  # noqa: F405
                  if a not in _PLUGIN_APPS]
HORIZON_CONFIG.pop('dashboards', None)  # noqa: F405
HORIZON_CONFIG.pop('default_dashboard', None)  # noqa: F405
settings_utils.update_dashboards(
    [_os_enabled, osvmexpire_dashboard.enabled],
    HORIZON_CONFIG,  # noqa: F405
    INSTALLED_APPS,
)
for _key in ('angular_modules', 'js_files', 'js_spec_files', 'scss_files',
             'xstatic_modules'):
    HORIZON_CONFIG[_key] = list(dict.fromkeys(  # noqa: F405
        HORIZON_CONFIG[_key]))  # noqa: F405

_CONF = os.path.join(os.path.dirname(osvmexpire_dashboard.__file__), 'conf')
POLICY_FILES = dict(POLICY_FILES)  # noqa: F405
POLICY_FILES['vmexpire'] = os.path.join(_CONF, 'vmexpire_policy.yaml')
DEFAULT_POLICY_FILES = dict(DEFAULT_POLICY_FILES)  # noqa: F405
DEFAULT_POLICY_FILES['vmexpire'] = os.path.join(
    _CONF, 'default_policies', 'vmexpire.yaml')

VMEXPIRE_MAX_EXTEND_DAYS = 30
