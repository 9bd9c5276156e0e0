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
"""os-vm-expire: expiration dates for Nova servers.

``import oslo_messaging`` makes oslo.service pick its backend, whose
default is eventlet. Every os-vm-expire process (API, worker, cleaner,
CLIs) runs on native threads, so the package names the threading backend
as the default before anything imports oslo_messaging. It is only a
default: a process that chose a backend already keeps it.
"""

from oslo_service import backend as _backend

_backend.register_backend_default_hook(
    lambda: _backend.BackendType.THREADING)
