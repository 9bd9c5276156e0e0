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
"""osvmexpire-db-manage: create and upgrade the database schema.

    osvmexpire-db-manage [--config-file F] upgrade [--revision R]
    osvmexpire-db-manage downgrade --revision R
    osvmexpire-db-manage current
    osvmexpire-db-manage history

The same commands are available as ``osvmexpire-manage db ...``.
"""

import sys

from oslo_config import cfg

from osvmexpire import service
from osvmexpire.cmd import run
from osvmexpire.db import migration


def do_upgrade(conf) -> int:
    before = migration.current()
    migration.upgrade(conf.command.revision)
    after = migration.current()
    print('database at revision %s (was %s)' % (after, before or 'empty'))
    return 0


def do_downgrade(conf) -> int:
    if not conf.command.revision:
        print('downgrade needs --revision', file=sys.stderr)
        return 2
    migration.downgrade(conf.command.revision)
    print('database at revision %s' % (migration.current() or 'base'))
    return 0


def do_current(conf) -> int:
    rev = migration.current()
    head = migration.head()
    print('%s%s' % (rev or 'empty (run "upgrade")',
                    ' (head)' if rev == head else ' (head is %s)' % head))
    return 0


def do_history(conf) -> int:
    current = migration.current()
    for rev, down, doc in migration.history():
        mark = ' (current)' if rev == current else ''
        print('%s -> %s%s, %s' % (down or '<base>', rev, mark, doc))
    return 0


COMMANDS = {'upgrade': do_upgrade, 'downgrade': do_downgrade,
            'current': do_current, 'history': do_history}


def add_command_parsers(subparsers):
    for name in ('upgrade', 'downgrade'):
        parser = subparsers.add_parser(name)
        parser.add_argument('--revision', default='head' if name ==
                            'upgrade' else None,
                            help='target revision (default: head)')
        parser.set_defaults(func=COMMANDS[name])
    for name in ('current', 'history'):
        subparsers.add_parser(name).set_defaults(func=COMMANDS[name])


def command_opt() -> cfg.SubCommandOpt:
    return cfg.SubCommandOpt('command', title='commands',
                             help='database commands',
                             handler=add_command_parsers)


@run
def main(argv: list[str] | None = None) -> int:
    conf = service.new_config()
    conf.register_cli_opt(command_opt())
    service.prepare_service(argv, conf, setup_logging=False)
    return conf.command.func(conf)


if __name__ == '__main__':
    sys.exit(main())
