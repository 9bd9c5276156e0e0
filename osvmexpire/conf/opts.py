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
"""Entry points for oslo-config-generator (namespace osvmexpire.common.config).
"""

from oslo_config import cfg

from osvmexpire import conf as osvmexpire_conf


def list_opts():
    """Every os-vm-expire option, grouped, for the sample config."""
    result = []
    for module in osvmexpire_conf.MODULES:
        result.extend(module.list_opts())
    return result


def set_defaults(conf: cfg.ConfigOpts | None = None) -> None:
    """Defaults of library options that os-vm-expire changes."""
    from oslo_middleware import cors
    cors.set_defaults(
        allow_headers=['X-Auth-Token', 'X-Openstack-Request-Id',
                       'Content-Type', 'X-Roles', 'X-User-Id',
                       'X-Project-Id'],
        expose_headers=['X-Openstack-Request-Id'],
        allow_methods=['GET', 'PUT', 'POST', 'DELETE'])
