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
"""[service_credentials]: keystoneauth options for calls to Keystone, Nova.

The cleaner and reconciliation call Nova (re-check, delete, list servers)
and Keystone (owner e-mail, project name, domain) with one keystoneauth1
session built from this group.
"""

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

GROUP = 'service_credentials'

OPTS = [
    cfg.StrOpt('region_name',
               help='Region of the Nova and Keystone endpoints to use.'),
    cfg.StrOpt('interface', default='public',
               choices=('public', 'internal', 'admin'),
               help='Endpoint interface taken from the catalog.'),
    cfg.StrOpt('nova_api_version', default='2.1',
               help='Compute API microversion sent to Nova.'),
]

# keystoneauth's own timeout option has no default: an unreachable service
# would block a cleaner cycle forever, so we give every call a deadline.
DEFAULT_TIMEOUT = 30


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(OPTS, group=GROUP)
    ks_loading.register_session_conf_options(conf, GROUP)
    ks_loading.register_auth_conf_options(conf, GROUP)
    conf.set_default('timeout', DEFAULT_TIMEOUT, group=GROUP)


def list_opts():
    opts = list(OPTS)
    opts += ks_loading.get_session_conf_options()
    opts += ks_loading.get_auth_common_conf_options()
    opts += ks_loading.get_auth_plugin_conf_options('password')
    seen, unique = set(), []
    for opt in opts:
        if opt.dest not in seen:
            seen.add(opt.dest)
            unique.append(opt)
    return [(GROUP, unique)]
