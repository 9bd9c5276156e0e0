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
"""osvmexpire-cleaner: warn owners, delete expired servers.

    osvmexpire-cleaner [--config-file F]          run until stopped
    osvmexpire-cleaner [--config-file F] --once   one cycle, print counts

``--once`` suits cron and tests; ``--dry-run`` overrides
``[cleaner] dry_run`` for this run.
"""

import json
import sys

from oslo_config import cfg

from osvmexpire import service
from osvmexpire.cmd import run

CLI_OPTS = [
    cfg.BoolOpt('once', default=False,
                help='Run one cleaner cycle, print its counts as JSON and '
                     'exit.'),
    cfg.BoolOpt('dry-run', default=False,
                help='Only log and record what would be done (same as '
                     '[cleaner] dry_run = true).'),
]


@run
def main(argv: list[str] | None = None) -> int:
    conf = service.new_config()
    conf.register_cli_opts(CLI_OPTS)
    service.prepare_service(argv, conf)
    if conf.dry_run:
        conf.set_override('dry_run', True, group='cleaner')
    from osvmexpire.cleaner import service as cleaner_service
    if conf.once:
        from osvmexpire.cleaner import cycle
        from osvmexpire.notifier import events
        runner = cleaner_service.Runner(conf, cycle.Cycle(
            conf, publisher=events.safe_publisher(conf)))
        result = runner.run_cycle()
        if result is None:
            return 1
        print(json.dumps(result, sort_keys=True))
        return 0
    cleaner_service.serve(conf)
    return 0


if __name__ == '__main__':
    sys.exit(main())
