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
"""Configuration options, one module per group (no global CONF).

Every process builds its own ``ConfigOpts`` in
:func:`osvmexpire.service.prepare_service`, which calls
:func:`register_opts`. Nothing here parses configuration at import time.
"""

from oslo_config import cfg

from osvmexpire.conf import api
from osvmexpire.conf import cleaner
from osvmexpire.conf import default
from osvmexpire.conf import nova_notifications
from osvmexpire.conf import service_credentials
from osvmexpire.conf import smtp
from osvmexpire.conf import worker

MODULES = (default, api, cleaner, smtp, nova_notifications, worker,
           service_credentials)


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register every option group of os-vm-expire on ``conf``."""
    for module in MODULES:
        module.register_opts(conf)
