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
"""[DEFAULT] options: how long a server lives. Names kept from the original."""

from oslo_config import cfg

OPTS = [
    cfg.IntOpt('max_vm_duration', default=60, min=1,
               help='Life of a new server, in days: a server reported '
                    'created by Nova expires this many days later unless '
                    'its owner extends it.'),
    cfg.IntOpt('max_vm_extend', default=30, min=1,
               help='Longest extension, in days. An extension sets the '
                    'expiry to now plus this many days (or fewer if the '
                    'owner asks for fewer), never past the total cap.'),
    cfg.IntOpt('max_vm_total_duration', default=365, min=1,
               help='Hard cap on the life of a server, in days counted '
                    'from its creation: no extension may move the expiry '
                    'past created_at plus this many days. Only an admin '
                    'with osvmexpire-manage "vm extend --force" may.'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(OPTS)


def list_opts():
    return [(None, OPTS)]
