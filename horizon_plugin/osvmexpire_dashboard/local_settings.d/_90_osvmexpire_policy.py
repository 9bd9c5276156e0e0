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
# Horizon settings snippet: copy into
# openstack_dashboard/local/local_settings.d/. It registers the packaged
# policy file for the "vmexpire" scope used by the panels' policy_rules.
# Executed by openstack_dashboard/settings.py inside its own namespace.
import os as _os

import osvmexpire_dashboard as _osvmexpire_dashboard

_CONF = _os.path.join(_os.path.dirname(_osvmexpire_dashboard.__file__),
                     'conf')
# An absolute path wins over POLICY_FILES_PATH in os.path.join().
POLICY_FILES = dict(POLICY_FILES)  # noqa: F821
POLICY_FILES['vmexpire'] = _os.path.join(_CONF, 'vmexpire_policy.yaml')
DEFAULT_POLICY_FILES = dict(DEFAULT_POLICY_FILES)  # noqa: F821
DEFAULT_POLICY_FILES['vmexpire'] = _os.path.join(
    _CONF, 'default_policies', 'vmexpire.yaml')
