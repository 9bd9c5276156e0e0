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
"""osvmexpire-worker: track Nova servers from their notifications.

    osvmexpire-worker [--config-file F] [--workers N]

Runs N listener processes (default ``[worker] workers``) that share the
``[nova_notifications] pool_name`` pool, until SIGTERM or SIGINT. The
broker is ``[oslo_messaging_notifications] transport_url`` or
``[DEFAULT] transport_url``.
"""

import sys

from oslo_config import cfg

from osvmexpire import service
from osvmexpire.cmd import run

CLI_OPTS = [
    cfg.IntOpt('workers', min=1,
               help='Listener processes to run (overrides [worker] '
                    'workers).'),
]


@run
def main(argv: list[str] | None = None) -> int:
    conf = service.new_config()
    conf.register_cli_opts(CLI_OPTS)
    service.prepare_service(argv, conf)
    # Imported after start-up: the worker package picks the threading
    # backend of oslo.service before oslo_messaging is imported.
    from osvmexpire.worker import service as worker_service
    worker_service.run(conf, conf.workers or conf.worker.workers)
    return 0


if __name__ == '__main__':
    sys.exit(main())
