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
"""``osvmexpire-manage db ...``: the same code as ``osvmexpire-db-manage``.
"""

import types

from osvmexpire.cmd import db_manage
from osvmexpire.manage import app


def _args(revision: str | None = None) -> types.SimpleNamespace:
    """What db_manage's functions read from their ConfigOpts."""
    return types.SimpleNamespace(
        command=types.SimpleNamespace(revision=revision))


class DbUpgrade(app.Command):
    """Create or upgrade the schema (alembic)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--revision', default='head',
                            help='Target revision (default: head).')
        return parser

    def take_action(self, args):
        self.app.admin_context()
        return db_manage.do_upgrade(_args(args.revision))


class DbCurrent(app.Command):
    """Revision the database is at."""

    def take_action(self, args):
        self.app.admin_context()
        return db_manage.do_current(_args())


class DbHistory(app.Command):
    """Every migration, oldest first."""

    def take_action(self, args):
        self.app.admin_context()
        return db_manage.do_history(_args())


COMMANDS = {
    'db upgrade': DbUpgrade,
    'db current': DbCurrent,
    'db history': DbHistory,
}
